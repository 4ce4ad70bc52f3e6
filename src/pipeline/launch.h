#pragma once
// From a stored pipeline to a run: resolving its templates (as they are now)
// and its project's settings. Shared by POST /pipelines/{id}/run, the debug
// run of one task and the cron.

#include <map>
#include <string>

#include "pipeline/run_controller.h"
#include "pipeline/spec.h"
#include "store/pipelines.h"
#include "store/store.h"

namespace quader::pipeline {

// A template named by a task: "name" (the pipeline's project, then public)
// or "project/name" where project is the pipeline's own or public; in each
// project a template's name first, then its alias (cube-studio's name).
// Nothing stored: the built-in `customize` / `自定义镜像` (CustomizeTemplate).
// kNotFound naming it otherwise, also for another project's templates (no leak).
Result<TemplateSpec> LookupTemplate(store::Tx& tx, int64_t project_id, const std::string& text);

// Parameters of one run that differ from its pipeline's, without editing
// it (the body of POST /pipelines/{id}/run and /runs/{id}/rerun):
//   {"global_env": {"K": "v"}, "tasks": {"train": {"args": {"--lr": 0.1}, "env": {"K": "v"}}}}
// Each value replaces (or adds) the one of that name; the run's snapshot
// records the result, so its page shows what ran.
struct TaskOverride {
  Json args = Json::object();
  std::map<std::string, std::string> env;
};
struct RunOverrides {
  std::map<std::string, std::string> global_env;
  std::map<std::string, TaskOverride> tasks;
  // `"idle": true` (an hour) or seconds: a debug run of one task whose
  // command waits instead of working, so a user can open a terminal in the
  // task's image, env and mounts (cube-studio's "debug"). 0: not idle.
  int64_t idle_seconds = 0;
  bool empty() const { return global_env.empty() && tasks.empty() && idle_seconds == 0; }
};

// How long an idle debug run waits by default, and at most.
inline constexpr int64_t kDefaultIdleSeconds = 3600;
inline constexpr int64_t kMaxIdleSeconds = 24 * 3600;

// Reads overrides from a request body ({} or absent fields: none). Values
// of env are strings, numbers or booleans (numbers and booleans as their
// JSON text); args values anything a template argument takes. Unknown
// fields are refused by name.
inline constexpr size_t kMaxOverrideBytes = 64 * 1024;
Result<RunOverrides> ParseRunOverrides(const Json& body);

// Applies `overrides` to `spec`: kInvalidArgument naming a task it does not have.
Status ApplyOverrides(const RunOverrides& overrides, PipelineSpec* spec);

// Parses, validates and resolves a stored pipeline for a run by `runner`.
// `only_task`: a debug run of that task alone (its depends_on dropped;
// refused when its arguments use upstream outputs).
Result<NewRun> PrepareRun(store::Tx& tx, const store::PipelineRecord& pipeline, const std::string& runner,
                          const std::string& trigger, const std::string& only_task = "",
                          const RunOverrides& overrides = {});

// A new run of what an earlier run ran (its snapshot: the pipeline and
// templates as they were then; the project's settings as they are now),
// with `overrides`: POST /runs/{id}/rerun.
Result<NewRun> PrepareRerun(store::Tx& tx, const store::RunRecord& earlier, const std::string& runner,
                            const RunOverrides& overrides = {});

// A retry of an ended run from its failed tasks: PrepareRerun, with the
// tasks that succeeded carried over (state, outputs), so only the others
// run. kConflict unless `earlier` ended without succeeding (failed or stopped).
Result<NewRun> PrepareRetry(store::Tx& tx, const store::RunRecord& earlier, const std::string& runner);

}  // namespace quader::pipeline
