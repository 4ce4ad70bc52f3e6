// `quader model register|stage NAME ...`: the model registry (docs/models.md).
// `quader get models` lists models and `quader describe model NAME` shows
// one with its versions; `quader delete model NAME` deletes one.
//
//   quader model register NAME (--run R --task T | --experiment E --trial N) [--path P] --framework F
//                         [--metric K=V]... [--param K=V]... [-p PROJECT]
//   quader model stage NAME VERSION none|staging|production|archived [-p PROJECT]
//   quader model deploy NAME VERSION [--service SERVICE] [-p PROJECT]
#include <memory>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/output.h"

namespace quader::cli {
namespace {

struct ModelOptions {
  std::string action;  // register, stage, deploy
  std::string name;
  std::string project;
  // register: a run's task, or an experiment's trial
  int64_t run = 0;
  std::string task;
  int64_t experiment = 0;
  int trial = -1;
  std::string path;
  std::string framework;
  std::vector<std::string> metrics, params;
  std::string description;
  // stage, deploy
  int version = 0;
  std::string stage;
  std::string service;  // deploy: switch this inference service; "": a new one
};

// "K=V" pairs into an object; metrics must be numbers, params keep numbers
// and booleans as such and the rest as text.
Result<Json> Pairs(const std::string& flag, const std::vector<std::string>& pairs, bool numbers_only) {
  Json out = Json::object();
  for (const std::string& p : pairs) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) return errors::Invalid(flag, "\"" + p + "\" is not NAME=VALUE");
    const std::string key = p.substr(0, eq), text = p.substr(eq + 1);
    Json v = Json::parse(text, nullptr, false);
    if (numbers_only) {
      if (v.is_discarded() || !v.is_number()) return errors::Invalid(flag, "\"" + key + "\": \"" + text + "\" is not a number");
      out[key] = v;
    } else {
      out[key] = !v.is_discarded() && (v.is_number() || v.is_boolean()) ? v : Json(text);
    }
  }
  return out;
}

Outcome Model(const ModelOptions& opts, Io& io) {
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  const std::string query = opts.project.empty() ? "" : "?project=" + EscapeComponent(opts.project);
  const std::string base = "/models/" + EscapeComponent(opts.name);
  if (opts.action == "stage") {
    if (opts.version < 1 || opts.stage.empty()) return Outcome::Usage("quader model stage NAME VERSION STAGE");
    auto v = client->Put(base + "/versions/" + std::to_string(opts.version) + query, Json{{"stage", opts.stage}});
    if (!v.ok()) return Outcome::FromStatus(v.status());
    io.out << "model " << opts.name << " version " << v->value("version", 0) << ": " << v->value("stage", "") << "\n";
    return Outcome::Ok();
  }
  if (opts.action == "deploy") {
    if (opts.version < 1 || !opts.stage.empty()) return Outcome::Usage("quader model deploy NAME VERSION [--service S]");
    Json body = Json::object();
    if (!opts.service.empty()) body["service"] = opts.service;
    auto r = client->Post(base + "/versions/" + std::to_string(opts.version) + "/deploy" + query, body);
    if (!r.ok()) return Outcome::FromStatus(r.status());
    io.out << "inference service " << r->value("service", "") << " " << r->value("result", "") << ": serves "
           << r->value("model_ref", "") << "\n";
    if (!opts.service.empty()) {
      io.out << "its replicas are replaced one by one once the new ones are ready (quader get inference-services)\n";
    }
    return Outcome::Ok();
  }
  const bool from_trial = opts.experiment > 0 && opts.trial >= 0;
  if (opts.framework.empty() || from_trial == (opts.run > 0 && !opts.task.empty())) {
    return Outcome::Usage("quader model register NAME (--run RUN --task TASK | --experiment ID --trial N) "
                          "--framework FRAMEWORK");
  }
  auto metrics = Pairs("--metric", opts.metrics, true);
  if (!metrics.ok()) return Outcome::Usage(metrics.status().message());
  auto params = Pairs("--param", opts.params, false);
  if (!params.ok()) return Outcome::Usage(params.status().message());
  // The model is made on its first version.
  auto existing = client->Get(base + query);
  if (!existing.ok() && existing.status().code() != Code::kNotFound) return Outcome::FromStatus(existing.status());
  if (!existing.ok()) {
    Json made = {{"name", opts.name}};
    if (!opts.project.empty()) made["project"] = opts.project;
    auto created = client->Post("/models", made);
    if (!created.ok()) return Outcome::FromStatus(created.status());
    io.out << "model " << opts.name << " created\n";
  }
  Json body = {{"framework", opts.framework}, {"metrics", *metrics}, {"params", *params}};
  if (from_trial) {
    body["experiment"] = opts.experiment;
    body["trial"] = opts.trial;
  } else {
    body["run"] = opts.run;
    body["task"] = opts.task;
  }
  if (!opts.path.empty()) body["path"] = opts.path;
  if (!opts.description.empty()) body["description"] = opts.description;
  auto v = client->Post(base + "/versions" + query, body);
  if (!v.ok()) return Outcome::FromStatus(v.status());
  int64_t files = v->contains("files") && (*v)["files"].is_array() ? static_cast<int64_t>((*v)["files"].size()) : 0;
  io.out << "model " << opts.name << " version " << v->value("version", 0) << " registered: " << files
         << (files == 1 ? " file, " : " files, ") << v->value("size_bytes", int64_t{0}) << " bytes, from "
         << (from_trial ? "experiment " + std::to_string(opts.experiment) + " trial " + std::to_string(opts.trial)
                        : "run " + std::to_string(opts.run) + " task " + opts.task)
         << "\n";
  if (v->contains("skipped") && (*v)["skipped"].is_array()) {
    for (const Json& s : (*v)["skipped"]) io.out << "left out (not a regular file): " << s.get<std::string>() << "\n";
  }
  return Outcome::Ok();
}

}  // namespace

void AddModelCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<ModelOptions>();
  CLI::App* sub =
      app.add_subcommand("model", "Register a model version from a task's outputs, change its stage, or deploy it");
  sub->add_option("action", opts->action, "register, stage or deploy")
      ->required()
      ->check(CLI::IsMember({"register", "stage", "deploy"}));
  sub->add_option("name", opts->name, "Model name")->required();
  sub->add_option("version", opts->version, "stage, deploy: the version")->check(CLI::PositiveNumber);
  sub->add_option("stage", opts->stage, "stage: none, staging, production or archived")
      ->check(CLI::IsMember({"none", "staging", "production", "archived"}));
  sub->add_option("--run", opts->run, "register: the run whose task made it")->check(CLI::PositiveNumber);
  sub->add_option("--task", opts->task, "register: the task (it must have succeeded)");
  sub->add_option("--experiment", opts->experiment, "register: the experiment whose trial made it (instead of --run)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--trial", opts->trial, "register: the trial's number (it must have succeeded); its parameters and "
                                          "final value are the version's unless --param/--metric are given")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--path", opts->path, "register: a file or directory of the task's /outputs (default: all of it)");
  sub->add_option("--framework", opts->framework, "register: sklearn, pytorch, onnx, tensorflow, xgboost or custom");
  sub->add_option("--metric", opts->metrics, "register: NAME=NUMBER (repeat)");
  sub->add_option("--param", opts->params, "register: NAME=VALUE (repeat)");
  sub->add_option("--description", opts->description, "register: what this version is");
  sub->add_option("--service", opts->service,
                  "deploy: switch this inference service of the project to the version (default: a new one)");
  sub->add_option("--project,-p", opts->project, "Project of the model (default: public)");
  commands.push_back({sub, [opts, &io] { return Model(*opts, io); }});
}

}  // namespace quader::cli
