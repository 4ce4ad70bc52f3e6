// `quader trials EXPERIMENT`: the trials of a hyperparameter-search
// experiment, best first or in order, and `quader stop --experiment NAME`.
#include <algorithm>
#include <memory>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/output.h"

namespace quader::cli {
namespace {

constexpr Column kTrialColumns[] = {
    {"SEQ", "sequence"},  {"TRIAL", "trial_id"},           {"STATE", "state"},
    {"VALUE", "value"},   {"STEPS", "intermediate_count"}, {"PARAMETERS", "parameters"},
    {"REASON", "reason"},
};

struct TrialsOptions {
  std::string experiment;
  std::string project;
  std::string output = "table";
  bool best = false;
};

std::string ExperimentPath(const std::string& name, const std::string& project) {
  std::string path = "/experiments/" + EscapeComponent(name);
  if (!project.empty()) path += "?project=" + EscapeComponent(project);
  return path;
}

std::string TrialsPath(const std::string& name, const std::string& project) {
  std::string path = "/experiments/" + EscapeComponent(name) + "/trials";
  if (!project.empty()) path += "?project=" + EscapeComponent(project);
  return path;
}

Outcome ListTrials(const TrialsOptions& opts, Io& io) {
  auto format = ParseFormat(opts.output);
  if (!format.ok()) return Outcome::Usage(format.status().message());
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  auto exp = client->Get(ExperimentPath(opts.experiment, opts.project));
  if (!exp.ok()) return Outcome::FromStatus(exp.status());
  auto list = client->Get(TrialsPath(opts.experiment, opts.project));
  if (!list.ok()) return Outcome::FromStatus(list.status());
  Json items = list->value("items", Json::array());
  if (opts.best) {
    bool maximize = exp->value("objective", "maximize") != "minimize";
    std::stable_sort(items.begin(), items.end(), [maximize](const Json& a, const Json& b) {
      bool av = a.contains("value") && a["value"].is_number(), bv = b.contains("value") && b["value"].is_number();
      if (av != bv) return av;
      if (!av) return false;
      return maximize ? a["value"].get<double>() > b["value"].get<double>()
                      : a["value"].get<double>() < b["value"].get<double>();
    });
  }
  if (*format == Format::kTable) {
    const Json& counts = exp->value("trials", Json::object());
    io.out << "experiment " << exp->value("name", "") << " (" << exp->value("key", "") << "): "
           << exp->value("state", "") << ", " << counts.value("succeeded", 0) << " of " << counts.value("total", 0)
           << " trials succeeded, tuner " << exp->value("tuner", "") << ", " << exp->value("objective", "") << "\n";
  }
  io.out << Render(*format, kTrialColumns, items);
  return Outcome::Ok();
}

}  // namespace

void AddTrialsCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<TrialsOptions>();
  CLI::App* sub = app.add_subcommand("trials", "List the trials of an experiment with their values");
  sub->add_option("experiment", opts->experiment, "Experiment name (or id)")->required();
  sub->add_option("--project,-p", opts->project, "Project of the experiment (default: public)");
  sub->add_flag("--best", opts->best, "Best final value first (by the experiment's objective)");
  sub->add_option("--output,-o", opts->output, "table, json, yaml or name (trial ids)")
      ->check(CLI::IsMember(FormatNames()));
  sub->footer("Read a trial's log with `quader logs --experiment NAME SEQ`.");
  commands.push_back({sub, [opts, &io] { return ListTrials(*opts, io); }});
}

Outcome StopExperiment(const std::string& name, const std::string& project, Io& io) {
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  std::string path = "/experiments/" + EscapeComponent(name) + "/stop";
  if (!project.empty()) path += "?project=" + EscapeComponent(project);
  auto exp = client->Post(path, Json::object());
  if (!exp.ok()) return Outcome::FromStatus(exp.status());
  std::string state = exp->value("state", "");
  bool over = state == "succeeded" || state == "failed" || state == "stopped";
  io.out << "experiment " << name << " " << (over ? state : "stopping") << "\n";
  return Outcome::Ok();
}

}  // namespace quader::cli
