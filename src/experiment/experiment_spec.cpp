#include "experiment/experiment_spec.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <random>

#include "core/names.h"

namespace quader::experiment {
namespace {

const char* ModeName(hpo::OptimizeMode m) { return m == hpo::OptimizeMode::kMaximize ? "maximize" : "minimize"; }

Result<int64_t> Int(const std::string& field, const Json* v, int64_t def, int64_t lo, int64_t hi) {
  if (!v) return def;
  int64_t n = 0;
  if (v->is_number_integer()) {
    n = v->get<int64_t>();
  } else if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p != s.data() + s.size()) return errors::Invalid(field, "must be a whole number");
  } else {
    return errors::Invalid(field, "must be a whole number");
  }
  if (n < lo || n > hi) return errors::Invalid(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return n;
}

Result<std::string> Str(const std::string& field, const Json* v, const std::string& def) {
  if (!v) return def;
  if (!v->is_string()) return errors::Invalid(field, "must be a string");
  return v->get<std::string>();
}

Result<Json> Object(const std::string& field, const Json* v) {
  if (!v) return Json::object();
  if (v->is_string()) {
    // cube-studio stores JSON fields as text.
    Json parsed = Json::parse(v->get<std::string>(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return errors::Invalid(field, "must be a JSON object");
    return parsed;
  }
  if (!v->is_object()) return errors::Invalid(field, "must be an object");
  return *v;
}

std::string RandomKey(size_t n, std::string_view alphabet) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (size_t i = 0; i < n; ++i) out += alphabet[pick(rng)];
  return out;
}

std::string NumberText(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, p);
}

}  // namespace

bool ExperimentSpec::GoalReached(double value) const {
  if (!goal) return false;
  return objective == hpo::OptimizeMode::kMaximize ? value >= *goal : value <= *goal;
}

Json ExperimentSpec::ToJson() const {
  Json t = trial.ToJson();
  Json out = {{"kind", "Experiment"},
          {"project", project},
          {"name", name},
          {"description", description},
          {"image", t["image"]},
          {"command", t["command"]},
          {"working_dir", t["working_dir"]},
          {"env", t["env"]},
          {"volume_mount", t["volume_mount"]},
          {"resources", t["resources"]},
          {"files", t["files"]},
          {"search_space", search_space},
          {"tuner", tuner},
          {"tuner_args", tuner_args},
          {"assessor", assessor},
          {"assessor_args", assessor_args},
          {"objective", ModeName(objective)},
          {"max_trials", max_trials},
          {"parallelism", parallelism},
          {"max_duration", max_duration_seconds},
          {"max_failed_trials", max_failed_trials},
          {"trial_timeout", trial_timeout_seconds},
          {"seed", seed}};
  // Only when set, so that documents stored before these fields compare equal.
  if (goal) out["objective_goal"] = *goal;
  if (metric != "default") out["objective_metric"] = metric;
  if (!cube_studio.empty()) out["cube_studio"] = cube_studio;
  if (!datasets.empty()) out["datasets"] = workload::DatasetRefsJson(datasets);
  return out;
}

Result<ExperimentSpec> ParseExperimentSpec(const Json& doc) {
  if (!doc.is_object()) return errors::Invalid("document", "must be an object");
  static const std::vector<std::pair<std::string, std::string>> kFields = {
      {"kind", ""}, {"name", ""}, {"project", ""}, {"description", "describe"},
      {"image", "job_worker_image"}, {"command", "job_worker_command"}, {"working_dir", ""}, {"env", ""},
      {"volume_mount", ""}, {"resources", ""}, {"files", ""},
      {"search_space", "parameters"}, {"tuner", "algorithm_name"}, {"tuner_args", ""}, {"assessor", ""},
      {"assessor_args", ""}, {"objective", "objective_type"}, {"max_trials", "max_trial_count"},
      {"parallelism", "parallel_trial_count"}, {"max_duration", "max_exec_duration"},
      {"max_failed_trials", "max_failed_trial_count"}, {"trial_timeout", ""}, {"seed", ""},
      {"objective_goal", ""}, {"objective_metric", "objective_metric_name"}, {"cube_studio", ""},
      {"datasets", ""},
  };
  static const char* const kIgnored[] = {"job_type",     "namespace",  "job_json", "parallel_trial_type",
                                         "algorithm_setting", "objective_additional_metric_names",
                                         "alert_status", "expand",     "node_selector", "image_pull_policy"};
  for (const auto& [key, value] : doc.items()) {
    bool known = key == "resource_cpu" || key == "resource_memory" || key == "resource_gpu";
    for (const char* ignored : kIgnored) known = known || key == ignored;
    for (const auto& [k, alias] : kFields) known = known || key == k || (!alias.empty() && key == alias);
    if (!known) return errors::Invalid(key, "unknown field of an Experiment");
  }

  // The trial workload is a JobTemplate's fields.
  Json trial = Json::object();
  for (const char* key : {"name", "project", "working_dir", "env", "volume_mount", "resources", "files"}) {
    if (doc.contains(key)) trial[key] = doc[key];
  }
  QUADER_ASSIGN_OR_RETURN(const Json* image, FieldOrAlias(doc, "image", "job_worker_image"));
  if (image) trial["image"] = *image;
  QUADER_ASSIGN_OR_RETURN(const Json* command, FieldOrAlias(doc, "command", "job_worker_command"));
  if (command) trial["command"] = *command;
  for (const char* what : {"cpu", "memory", "gpu"}) {
    std::string alias = std::string("resource_") + what;
    if (auto it = doc.find(alias); it != doc.end() && !it->is_null()) {
      if (trial.contains("resources") && trial["resources"].is_object() && trial["resources"].contains(what))
        return errors::Invalid(alias, std::string("is an alias of resources.") + what + "; give only one of them");
      if (!trial.contains("resources") || trial["resources"].is_null()) trial["resources"] = Json::object();
      if (trial["resources"].is_object()) trial["resources"][what] = *it;
    }
  }
  ExperimentSpec s;
  QUADER_ASSIGN_OR_RETURN(s.trial, pipeline::ParseTemplateSpec(trial));
  if (s.trial.command.empty()) return errors::Invalid("command", "is required: the trial's command, e.g. \"python3 main.py\"");
  if (!s.trial.files.empty() && s.trial.working_dir.empty()) s.trial.working_dir = kExperimentFilesDir;
  s.project = s.trial.project;
  s.name = s.trial.name;
  QUADER_ASSIGN_OR_RETURN(const Json* describe, FieldOrAlias(doc, "description", "describe"));
  QUADER_ASSIGN_OR_RETURN(s.description, Str("description", describe, ""));

  QUADER_ASSIGN_OR_RETURN(const Json* space, FieldOrAlias(doc, "search_space", "parameters"));
  if (!space) return errors::Invalid("search_space", "is required: an NNI search space");
  QUADER_ASSIGN_OR_RETURN(s.search_space, Object("search_space", space));
  if (s.search_space.empty()) return errors::Invalid("search_space", "must define at least one parameter");
  auto parsed = hpo::ParseSearchSpace(s.search_space);
  if (!parsed.ok()) return errors::Invalid("search_space", parsed.status().message());

  QUADER_ASSIGN_OR_RETURN(const Json* tuner, FieldOrAlias(doc, "tuner", "algorithm_name"));
  QUADER_ASSIGN_OR_RETURN(s.tuner, Str("tuner", tuner, "TPE"));
  QUADER_ASSIGN_OR_RETURN(s.tuner_args, Object("tuner_args", doc.contains("tuner_args") ? &doc["tuner_args"] : nullptr));
  QUADER_ASSIGN_OR_RETURN(s.assessor, Str("assessor", doc.contains("assessor") ? &doc["assessor"] : nullptr, ""));
  if (s.assessor == "none" || s.assessor == "None") s.assessor.clear();
  QUADER_ASSIGN_OR_RETURN(s.assessor_args,
                          Object("assessor_args", doc.contains("assessor_args") ? &doc["assessor_args"] : nullptr));

  QUADER_ASSIGN_OR_RETURN(const Json* objective, FieldOrAlias(doc, "objective", "objective_type"));
  QUADER_ASSIGN_OR_RETURN(std::string mode, Str("objective", objective, "maximize"));
  if (mode == "maximize") s.objective = hpo::OptimizeMode::kMaximize;
  else if (mode == "minimize") s.objective = hpo::OptimizeMode::kMinimize;
  else return errors::Invalid("objective", "\"" + mode + "\" is not maximize or minimize");
  for (const char* args : {"tuner_args", "assessor_args"}) {
    const Json& a = std::string(args) == "tuner_args" ? s.tuner_args : s.assessor_args;
    if (auto it = a.find("optimize_mode"); it != a.end() && *it != ModeName(s.objective))
      return errors::Invalid(std::string(args) + ".optimize_mode", "contradicts objective " + mode + "; set objective only");
  }

  if (const Json* goal = FieldOrNull(doc, "objective_goal")) {
    std::optional<double> g;
    if (goal->is_number()) g = goal->get<double>();
    if (goal->is_string()) {
      char* end = nullptr;
      const std::string& text = goal->get_ref<const std::string&>();
      double d = std::strtod(text.c_str(), &end);
      if (!text.empty() && end == text.c_str() + text.size()) g = d;
    }
    if (!g || !std::isfinite(*g)) return errors::Invalid("objective_goal", "must be a number, e.g. 0.99");
    s.goal = g;
  }
  QUADER_ASSIGN_OR_RETURN(const Json* metric, FieldOrAlias(doc, "objective_metric", "objective_metric_name"));
  QUADER_ASSIGN_OR_RETURN(s.metric, Str("objective_metric", metric, "default"));
  s.metric = TrimSpace(s.metric);
  if (s.metric.empty()) s.metric = "default";
  if (s.metric.size() > 100) return errors::Invalid("objective_metric", "is longer than 100 characters");
  if (const Json* cs = FieldOrNull(doc, "cube_studio")) {
    if (!cs->is_object()) return errors::Invalid("cube_studio", "must be an object");
    s.cube_studio = *cs;
  }
  for (const char* ignored : kIgnored) {
    if (doc.contains(ignored)) s.cube_studio[ignored] = doc[ignored];
  }

  QUADER_ASSIGN_OR_RETURN(const Json* v, FieldOrAlias(doc, "max_trials", "max_trial_count"));
  QUADER_ASSIGN_OR_RETURN(int64_t n, Int("max_trials", v, 12, 1, 10000));
  s.max_trials = static_cast<int>(n);
  QUADER_ASSIGN_OR_RETURN(v, FieldOrAlias(doc, "parallelism", "parallel_trial_count"));
  QUADER_ASSIGN_OR_RETURN(n, Int("parallelism", v, 3, 1, 100));
  s.parallelism = static_cast<int>(n);
  QUADER_ASSIGN_OR_RETURN(v, FieldOrAlias(doc, "max_failed_trials", "max_failed_trial_count"));
  QUADER_ASSIGN_OR_RETURN(n, Int("max_failed_trials", v, 3, 0, 10000));
  s.max_failed_trials = static_cast<int>(n);
  QUADER_ASSIGN_OR_RETURN(v, FieldOrAlias(doc, "max_duration", "max_exec_duration"));
  if (v) {
    QUADER_ASSIGN_OR_RETURN(s.max_duration_seconds, pipeline::ParseDuration("max_duration", *v));
  }
  if (auto it = doc.find("trial_timeout"); it != doc.end() && !it->is_null()) {
    QUADER_ASSIGN_OR_RETURN(s.trial_timeout_seconds, pipeline::ParseDuration("trial_timeout", *it));
  }
  QUADER_ASSIGN_OR_RETURN(n, Int("seed", doc.contains("seed") ? &doc["seed"] : nullptr, 0, 0, INT64_MAX));
  s.seed = static_cast<uint64_t>(n);
  QUADER_ASSIGN_OR_RETURN(s.datasets, workload::ParseDatasetRefs("datasets", FieldOrNull(doc, "datasets")));

  // The tuner and assessor check the space and their classArgs.
  QUADER_ASSIGN_OR_RETURN(auto made, MakeExperimentTuner(s));
  (void)made;
  QUADER_ASSIGN_OR_RETURN(auto assessor, MakeExperimentAssessor(s));
  (void)assessor;
  return s;
}

Result<std::unique_ptr<hpo::Tuner>> MakeExperimentTuner(const ExperimentSpec& spec) {
  auto space = hpo::ParseSearchSpace(spec.search_space);
  if (!space.ok()) return errors::Invalid("search_space", space.status().message());
  hpo::TunerOptions opts;
  opts.seed = spec.seed;
  opts.mode = spec.objective;
  opts.args = spec.tuner_args;
  auto tuner = hpo::MakeTuner(spec.tuner, *space, opts);
  if (!tuner.ok()) return errors::Invalid("tuner", tuner.status().message());
  return tuner;
}

Result<std::unique_ptr<hpo::Assessor>> MakeExperimentAssessor(const ExperimentSpec& spec) {
  if (spec.assessor.empty()) return std::unique_ptr<hpo::Assessor>();
  hpo::AssessorOptions opts;
  opts.mode = spec.objective;
  opts.args = spec.assessor_args;
  auto a = hpo::MakeAssessor(spec.assessor, opts);
  if (!a.ok()) return errors::Invalid("assessor", a.status().message());
  return a;
}

std::string NewExperimentKey() { return RandomKey(8, "abcdefghijklmnopqrstuvwxyz0123456789"); }

std::string NewTrialKey() {
  return RandomKey(5, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
}

std::vector<std::string> TrialArgs(const Json& params) {
  std::vector<std::string> out;
  for (const auto& [key, value] : params.items()) {
    std::string text;
    if (value.is_string()) text = value.get<std::string>();
    else if (value.is_number()) text = NumberText(value.get<double>());
    else if (value.is_boolean()) text = value.get<bool>() ? "True" : "False";
    else text = value.dump();
    out.push_back("--" + key + "=" + text);
  }
  return out;
}

}  // namespace quader::experiment
