#include "pipeline/catalog.h"

#include "auth/projects.h"

namespace quader::pipeline {
namespace {

// What identifies a schedule's firing: enabled schedules with equal keys fire the same.
Json ScheduleKey(const PipelineSpec& spec) {
  if (!spec.schedule || !spec.schedule->enabled) return nullptr;
  return {spec.schedule->cron, spec.schedule->timezone,
          spec.schedule->start_time ? Json(*spec.schedule->start_time) : Json(nullptr)};
}

std::string AliasOf(const store::TemplateRecord& t) {
  Json spec = Json::parse(t.spec, nullptr, false);
  return spec.is_object() ? spec.value("alias", "") : "";
}

}  // namespace

TemplateNames NamesOf(const store::TemplateRecord& t) { return {t.project_id, t.project, t.name, AliasOf(t)}; }

bool NamesTemplate(const std::string& task_template, int64_t pipeline_project_id, const TemplateNames& t) {
  bool reachable = pipeline_project_id == t.project_id || t.project == auth::kPublicProject;
  if (!reachable) return false;
  return task_template == t.project + "/" + t.name || task_template == t.name ||
         (!t.alias.empty() && (task_template == t.alias || task_template == t.project + "/" + t.alias));
}

Result<std::vector<std::string>> PipelinesUsing(store::Tx& tx, const store::TemplateRecord& t) {
  QUADER_ASSIGN_OR_RETURN(auto pipelines, store::ListPipelines(tx, {}, true));
  const TemplateNames names = NamesOf(t);
  std::vector<std::string> users;
  for (const auto& p : pipelines) {
    Json spec = Json::parse(p.spec, nullptr, false);
    if (!spec.is_object() || !spec.contains("tasks") || !spec["tasks"].is_array()) continue;
    for (const auto& task : spec["tasks"]) {
      if (task.is_object() && NamesTemplate(task.value("template", ""), p.project_id, names)) {
        users.push_back(p.project + "/" + p.name);
        break;
      }
    }
  }
  return users;
}

Status CheckAliasFree(const std::vector<store::TemplateRecord>& project_templates, const TemplateSpec& spec) {
  if (spec.alias.empty()) return Status::Ok();
  for (const auto& t : project_templates) {
    if (t.name == spec.name) continue;
    if (t.name == spec.alias || AliasOf(t) == spec.alias) {
      return errors::Invalid("alias", "\"" + spec.alias + "\" already names job template " + t.name);
    }
  }
  return Status::Ok();
}

std::optional<int64_t> ScheduleSince(const PipelineSpec& saved, const std::optional<PipelineSpec>& before,
                                     std::optional<int64_t> since, int64_t now) {
  if (before && since && ScheduleKey(*before) == ScheduleKey(saved)) return since;
  return saved.schedule ? std::optional<int64_t>(now) : std::nullopt;
}

}  // namespace quader::pipeline
