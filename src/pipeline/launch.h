#pragma once
// From a stored pipeline to a run: resolving its templates (as they are now)
// and its project's settings. Shared by POST /pipelines/{id}/run, the debug
// run of one task and the cron.

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

// Parses, validates and resolves a stored pipeline for a run by `runner`.
// `only_task`: a debug run of that task alone (its depends_on dropped;
// refused when its arguments use upstream outputs).
Result<NewRun> PrepareRun(store::Tx& tx, const store::PipelineRecord& pipeline, const std::string& runner,
                          const std::string& trigger, const std::string& only_task = "");

}  // namespace quader::pipeline
