#pragma once
// The rules of stored job templates and pipelines that are not one
// document's own validity (spec.h) but relate documents to each other:
// which template a task's name reaches, that an alias names one template,
// and from when a changed schedule fires. The API's handlers and `apply`
// call these; launch.h resolves templates by the same names.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/spec.h"
#include "store/pipelines.h"
#include "store/store.h"

namespace quader::pipeline {

// The names a stored template answers to: its project, name and alias.
struct TemplateNames {
  int64_t project_id = 0;
  std::string project, name, alias;
};
TemplateNames NamesOf(const store::TemplateRecord& t);

// True when a task of a pipeline in project `pipeline_project_id` that names
// `task_template` reaches template `t` (by its name or alias, bare or
// "project/"-qualified; only the template's own project and public's are
// reachable, as LookupTemplate resolves them).
bool NamesTemplate(const std::string& task_template, int64_t pipeline_project_id, const TemplateNames& t);

// "project/name" of every stored pipeline with a task that names `t`.
Result<std::vector<std::string>> PipelinesUsing(store::Tx& tx, const store::TemplateRecord& t);

// kInvalidArgument when `spec`'s alias is the name or alias of another
// template of its project (tasks find templates by either).
Status CheckAliasFree(const std::vector<store::TemplateRecord>& project_templates, const TemplateSpec& spec);

// When the schedule of a pipeline saved at `now` (Unix seconds) counts from:
// one that fires as `before`'s did (same cron, zone and start, or both
// off) keeps `since`; a new or changed one starts `now`; none, nullopt.
std::optional<int64_t> ScheduleSince(const PipelineSpec& saved, const std::optional<PipelineSpec>& before,
                                     std::optional<int64_t> since, int64_t now);

}  // namespace quader::pipeline
