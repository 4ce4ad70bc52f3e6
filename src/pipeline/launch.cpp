#include "pipeline/launch.h"

#include "store/projects.h"

namespace quader::pipeline {

namespace {

// The template of `project_id` whose alias is `alias`, if any.
Result<std::optional<store::TemplateRecord>> FindTemplateByAlias(store::Tx& tx, int64_t project_id,
                                                                 const std::string& alias) {
  QUADER_ASSIGN_OR_RETURN(auto templates, store::ListTemplates(tx, {project_id}, false));
  for (auto& t : templates) {
    Json spec = Json::parse(t.spec, nullptr, false);
    if (spec.is_object() && spec.value("alias", "") == alias) return std::optional<store::TemplateRecord>(std::move(t));
  }
  return std::optional<store::TemplateRecord>();
}

// By name, then by alias, in one project.
Result<std::optional<store::TemplateRecord>> FindIn(store::Tx& tx, int64_t project_id, const std::string& text) {
  QUADER_ASSIGN_OR_RETURN(auto found, store::FindTemplate(tx, project_id, text));
  if (found) return found;
  return FindTemplateByAlias(tx, project_id, text);
}

bool IsCustomize(const std::string& text) {
  return text == kCustomizeTemplate || text == kCustomizeTemplateAlias || text == std::string("public/") + kCustomizeTemplate ||
         text == std::string("public/") + kCustomizeTemplateAlias;
}

}  // namespace

Result<TemplateSpec> LookupTemplate(store::Tx& tx, int64_t project_id, const std::string& text) {
  std::optional<store::TemplateRecord> found;
  size_t slash = text.find('/');
  if (slash != std::string::npos) {
    // Only the pipeline's own project and public: another project's
    // templates are "not found", the same as ones that do not exist.
    auto project = store::GetProject(tx, text.substr(0, slash));
    if (project.ok() && (project->id == project_id || project->name == "public")) {
      QUADER_ASSIGN_OR_RETURN(found, FindIn(tx, project->id, text.substr(slash + 1)));
    }
  } else {
    QUADER_ASSIGN_OR_RETURN(found, FindIn(tx, project_id, text));
    if (!found) {
      auto pub = store::GetProject(tx, "public");
      if (pub.ok()) {
        QUADER_ASSIGN_OR_RETURN(found, FindIn(tx, pub->id, text));
      }
    }
  }
  if (!found && IsCustomize(text)) return CustomizeTemplate();
  if (!found) return errors::NotFound("job template", text);
  Json j = Json::parse(found->spec, nullptr, false);
  return ParseTemplateSpec(j);
}

Result<NewRun> PrepareRun(store::Tx& tx, const store::PipelineRecord& pipeline, const std::string& runner,
                          const std::string& trigger, const std::string& only_task) {
  NewRun run;
  QUADER_ASSIGN_OR_RETURN(run.spec, ParsePipelineSpec(Json::parse(pipeline.spec, nullptr, false)));
  if (!only_task.empty()) {
    const TaskSpec* task = run.spec.Find(only_task);
    if (!task) return errors::NotFound("task", only_task);
    TaskSpec alone = *task;
    for (const auto& [k, v] : alone.args.items()) {
      if (v.is_string() && v.get<std::string>().find("{{tasks.") != std::string::npos) {
        return errors::Invalid("args." + k, "uses an upstream task's outputs, so " + only_task +
                                                " cannot run alone; run the whole pipeline");
      }
    }
    alone.depends_on.clear();
    alone.skip = false;
    run.spec.tasks = {alone};
  }
  QUADER_RETURN_IF_ERROR(ValidatePipeline(run.spec));
  QUADER_ASSIGN_OR_RETURN(
      run.templates, ResolveTemplates(&run.spec, [&](const std::string& name) {
        return LookupTemplate(tx, pipeline.project_id, name);
      }));
  QUADER_ASSIGN_OR_RETURN(store::ProjectRecord project, store::GetProject(tx, pipeline.project));
  run.project_id = pipeline.project_id;
  run.project = project.name;
  run.project_expand = project.expand;
  run.pipeline_id = pipeline.id;
  run.trigger = trigger;
  run.runner = runner;
  run.creator = pipeline.created_by;
  // Manual and debug runs show their start in UTC; the cron sets the schedule's zone.
  if (trigger == "schedule" && run.spec.schedule) run.timezone = run.spec.schedule->timezone;
  return run;
}

}  // namespace quader::pipeline
