#include "pipeline/launch.h"

#include "pipeline/states.h"
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
  if (!found && BuiltinTemplate(text) != nullptr) return *BuiltinTemplate(text);
  if (!found) return errors::NotFound("job template", text);
  Json j = Json::parse(found->spec, nullptr, false);
  return ParseTemplateSpec(j);
}

namespace {

// An env value of an override: a string, or a number's or boolean's JSON text.
Result<std::string> EnvValue(const std::string& field, const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return errors::Invalid(field, "must be a string, a number or a boolean");
}

Result<std::map<std::string, std::string>> EnvOf(const std::string& field, const Json& j) {
  if (!j.is_object()) return errors::Invalid(field, "must be an object of NAME: value");
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : j.items()) {
    if (k.size() > 256) return errors::Invalid(field, "a variable name is longer than 256 characters");
    QUADER_RETURN_IF_ERROR(CheckEnvKey(field, k));
    QUADER_ASSIGN_OR_RETURN(out[k], EnvValue(field + "." + k, v));
  }
  return out;
}

}  // namespace

Result<RunOverrides> ParseRunOverrides(const Json& body) {
  RunOverrides o;
  if (body.is_null()) return o;
  if (!body.is_object()) return errors::Invalid("body", "must be a JSON object ({} for none)");
  // Overrides are parameters, not payloads: what a command line and an
  // environment can carry.
  if (body.dump().size() > kMaxOverrideBytes) {
    return errors::Invalid("body", "overrides are larger than " + std::to_string(kMaxOverrideBytes / 1024) +
                                       " KiB: keep big inputs in files");
  }
  for (const auto& [key, value] : body.items()) {
    if (key == "global_env") {
      QUADER_ASSIGN_OR_RETURN(o.global_env, EnvOf("global_env", value));
    } else if (key == "tasks") {
      if (!value.is_object()) return errors::Invalid("tasks", "must be an object of TASK: {args, env}");
      for (const auto& [task, t] : value.items()) {
        const std::string field = "tasks." + task;
        if (!t.is_object()) return errors::Invalid(field, "must be an object with args and/or env");
        TaskOverride& to = o.tasks[task];
        for (const auto& [k, v] : t.items()) {
          if (k == "args") {
            if (!v.is_object()) return errors::Invalid(field + ".args", "must be an object of ARG: value");
            to.args = v;
          } else if (k == "env") {
            QUADER_ASSIGN_OR_RETURN(to.env, EnvOf(field + ".env", v));
          } else {
            return errors::Invalid(field + "." + k, "is not an override (args, env)");
          }
        }
      }
    } else if (key == "idle") {
      if (value.is_boolean()) {
        o.idle_seconds = value.get<bool>() ? kDefaultIdleSeconds : 0;
      } else if (value.is_number_integer() && value.get<int64_t>() >= 1 && value.get<int64_t>() <= kMaxIdleSeconds) {
        o.idle_seconds = value.get<int64_t>();
      } else {
        return errors::Invalid("idle", "must be true or seconds between 1 and " + std::to_string(kMaxIdleSeconds));
      }
    } else {
      return errors::Invalid(key, "is not an override of a run (global_env, tasks, idle)");
    }
  }
  return o;
}

Status ApplyOverrides(const RunOverrides& overrides, PipelineSpec* spec) {
  for (const auto& [k, v] : overrides.global_env) spec->global_env[k] = v;
  for (const auto& [name, o] : overrides.tasks) {
    TaskSpec* task = nullptr;
    for (TaskSpec& t : spec->tasks) {
      if (t.name == name) task = &t;
    }
    if (task == nullptr) return errors::Invalid("tasks." + name, "the pipeline has no such task");
    for (const auto& [k, v] : o.args.items()) task->args[k] = v;
    for (const auto& [k, v] : o.env) task->env[k] = v;
  }
  return Status::Ok();
}

Result<NewRun> PrepareRerun(store::Tx& tx, const store::RunRecord& earlier, const std::string& runner,
                            const RunOverrides& overrides) {
  Json snapshot = Json::parse(earlier.snapshot, nullptr, false);
  if (!snapshot.is_object()) return errors::Internal("run " + std::to_string(earlier.id) + " has no snapshot");
  NewRun run;
  QUADER_ASSIGN_OR_RETURN(run.spec, ParsePipelineSpec(snapshot.value("pipeline", Json::object())));
  QUADER_RETURN_IF_ERROR(ApplyOverrides(overrides, &run.spec));
  QUADER_RETURN_IF_ERROR(ValidatePipeline(run.spec));
  const Json templates = snapshot.value("templates", Json::object());  // a named object: items() refers into it
  for (const auto& [task, t] : templates.items()) {
    QUADER_ASSIGN_OR_RETURN(TemplateSpec ts, ParseTemplateSpec(t));
    run.templates.emplace(task, std::move(ts));
  }
  run.project_id = earlier.project_id;
  run.project = earlier.project;
  // The project's settings (mounts, placement) as they are now, not as they
  // were: access an admin has withdrawn since is not kept by running again.
  QUADER_ASSIGN_OR_RETURN(store::ProjectRecord project, store::GetProject(tx, earlier.project));
  run.project_expand = project.expand;
  run.pipeline_id = earlier.pipeline_id;
  run.trigger = "rerun";
  run.runner = runner;
  run.creator = earlier.creator;
  return run;
}

Result<NewRun> PrepareRetry(store::Tx& tx, const store::RunRecord& earlier, const std::string& runner) {
  if (!IsRunState(earlier.state, RunState::kFailed) && !IsRunState(earlier.state, RunState::kStopped)) {
    return errors::Conflict("run " + std::to_string(earlier.id) + " is " + earlier.state +
                            ": only a failed or stopped run is retried from its failed tasks");
  }
  QUADER_ASSIGN_OR_RETURN(NewRun run, PrepareRerun(tx, earlier, runner));
  run.trigger = "retry";
  run.retry_of = earlier.id;
  QUADER_ASSIGN_OR_RETURN(auto tasks, store::ListRunTasks(tx, earlier.id));
  for (auto& t : tasks) {
    if (IsTaskState(t.state, TaskState::kSucceeded)) run.carried[t.name] = std::move(t);
  }
  return run;
}

Result<NewRun> PrepareRun(store::Tx& tx, const store::PipelineRecord& pipeline, const std::string& runner,
                          const std::string& trigger, const std::string& only_task,
                          const RunOverrides& overrides) {
  NewRun run;
  QUADER_ASSIGN_OR_RETURN(run.spec, ParsePipelineSpec(Json::parse(pipeline.spec, nullptr, false)));
  QUADER_RETURN_IF_ERROR(ApplyOverrides(overrides, &run.spec));
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
    if (overrides.idle_seconds > 0) {
      // The task's image, env, mounts and resources, waiting for a terminal.
      const std::string n = std::to_string(overrides.idle_seconds);
      alone.command = {"sh", "-c",
                       "echo \"debug: $KFJ_TASK_NAME waits " + n +
                           " s in its image, with its env and mounts: open a terminal in it (its Terminal button, "
                           "or quader exec task RUN/$KFJ_TASK_NAME) and stop the run when done\"; exec sleep " +
                           n};
      alone.timeout_seconds = 0;
      alone.retries = 0;
    }
    run.spec.tasks = {alone};
  } else if (overrides.idle_seconds > 0) {
    return errors::Invalid("idle", "only a debug run of one task (POST /pipelines/{id}/tasks/{task}/run) can wait idle");
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
