#pragma once
// The `Experiment` document (SPEC §6, docs/hpo.md "Experiments"): a trial
// workload (the fields of a JobTemplate: image, command, working_dir, env,
// volume_mount, resources, files), an NNI search space, a tuner and an
// optional assessor with their classArgs, the objective and the limits.
// cube-studio's field names are accepted as aliases (job_worker_image,
// job_worker_command, parameters, algorithm_name, objective_type,
// max_trial_count, parallel_trial_count, max_exec_duration,
// max_failed_trial_count, objective_goal, objective_metric_name,
// resource_cpu/memory/gpu); the ones that mean nothing here are kept in
// `cube_studio` (docs/cube-studio.md). Every error is
// kInvalidArgument naming the field.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/documents.h"
#include "core/status.h"
#include "hpo/assessor.h"
#include "hpo/search_space.h"
#include "hpo/tuner.h"
#include "pipeline/spec.h"
#include "workload/dataset_ref.h"
#include "workload/dataset_ref.h"

namespace quader::experiment {

struct ExperimentSpec {
  std::string project = "public";
  std::string name;
  std::string description;
  pipeline::TemplateSpec trial;   // the trial workload; files mount at /experiment
  Json search_space = Json::object();
  std::string tuner = "TPE";
  Json tuner_args = Json::object();
  std::string assessor;           // "" or "Medianstop"
  Json assessor_args = Json::object();
  hpo::OptimizeMode objective = hpo::OptimizeMode::kMaximize;
  // The experiment ends `succeeded` once a trial's final result reaches it
  // (>= when maximizing, <= when minimizing). Alias: objective_goal.
  std::optional<double> goal;
  // The key of a dict metric that is the objective (alias:
  // objective_metric_name); "" or missing: "default", as in NNI.
  std::string metric = "default";
  int max_trials = 12;            // 1..10000
  int parallelism = 3;            // 1..100
  int64_t max_duration_seconds = 3600;  // 0: none
  int max_failed_trials = 3;      // the experiment fails after more than this many failed trials
  int64_t trial_timeout_seconds = 0;    // 0: none
  uint64_t seed = 0;
  // Data set versions every trial reads at /datasets/NAME (docs/datasets.md).
  std::vector<workload::DatasetRef> datasets;
  // cube-studio's fields that mean nothing here (job_type, namespace,
  // job_json, parallel_trial_type, algorithm_setting,
  // objective_additional_metric_names, alert_status, expand,
  // node_selector, image_pull_policy), kept as given.
  Json cube_studio = Json::object();

  // True when `value` reaches the goal in the objective's direction.
  bool GoalReached(double value) const;

  // The normalised document as stored and shown.
  Json ToJson() const;
};

// Where an experiment's `files` are mounted, and the default working dir then.
inline constexpr const char* kExperimentFilesDir = "/experiment";

// Parses and validates (search space, tuner support and classArgs, assessor).
Result<ExperimentSpec> ParseExperimentSpec(const Json& doc);

// The objects the spec describes, ready to use (the spec must have parsed).
Result<std::unique_ptr<hpo::Tuner>> MakeExperimentTuner(const ExperimentSpec& spec);
Result<std::unique_ptr<hpo::Assessor>> MakeExperimentAssessor(const ExperimentSpec& spec);  // null: none

// NNI-style ids: an experiment's key (8 lower-case letters and digits) and a
// trial's id (5 letters and digits).
std::string NewExperimentKey();
std::string NewTrialKey();

// A trial's parameters as command-line arguments: `--name=value`, numbers in
// shortest round-trip form, strings as they are, objects and arrays (nested
// choice) as compact JSON.
std::vector<std::string> TrialArgs(const Json& params);

}  // namespace quader::experiment
