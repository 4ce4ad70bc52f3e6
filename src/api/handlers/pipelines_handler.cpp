// /api/v1/templates, /pipelines, /runs, /schedules (SPEC §5,
// docs/pipelines.md), and the JobTemplate and Pipeline kinds.
#include <algorithm>
#include <unordered_map>

#include "api/handlers/log_reply.h"
#include "api/handlers/artifacts_reply.h"
#include "api/handlers/common.h"
#include "api/handlers/handlers.h"
#include "api/handlers/mount_check.h"
#include "api/handlers/terminal_reply.h"
#include "api/snapshot_cache.h"
#include "cron/cron_expr.h"
#include "pipeline/schedule_controller.h"
#include "pipeline/catalog.h"
#include "pipeline/launch.h"
#include "pipeline/run_controller.h"
#include "pipeline/spec.h"
#include "pipeline/states.h"
#include "store/pipelines.h"
#include "store/projects.h"

namespace quader::api {
namespace {

// --- templates

Json TemplateJson(const store::TemplateRecord& t) {
  Json j = Json::parse(t.spec, nullptr, false);
  if (!j.is_object()) j = Json::object();
  j.erase("kind");
  j["id"] = t.id;
  j["project"] = t.project;
  j["name"] = t.name;
  j["created_by"] = t.created_by;
  j["created_at"] = FormatRfc3339(FromUnixSeconds(t.created_at));
  j["updated_at"] = FormatRfc3339(FromUnixSeconds(t.updated_at));
  return j;
}

// Who may write templates: admins anywhere; members (kUse) in their own
// projects; only admins in `public`, whose templates everyone runs.
Result<auth::ProjectAccess> CheckTemplateWrite(store::Tx& tx, const auth::Principal& who, const std::string& project) {
  QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a, auth::CheckProject(tx, who, project, auth::ProjectAction::kUse));
  if (project == auth::kPublicProject) {
    QUADER_RETURN_IF_ERROR(auth::RequireAdmin(who, "change job templates of project \"public\""));
  }
  return a;
}

Result<Change> PutTemplate(store::Tx& tx, const auth::Principal& who, const pipeline::TemplateSpec& spec,
                           bool must_be_new, int64_t now, int64_t* id) {
  QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a, CheckTemplateWrite(tx, who, spec.project));
  QUADER_RETURN_IF_ERROR(CheckMountsAllowed(who, a.project, "volume_mount", spec.mounts));
  QUADER_ASSIGN_OR_RETURN(auto project_templates, store::ListTemplates(tx, {a.project.id}, false));
  QUADER_RETURN_IF_ERROR(pipeline::CheckAliasFree(project_templates, spec));
  std::string text = spec.ToJson().dump();
  QUADER_ASSIGN_OR_RETURN(auto existing, store::FindTemplate(tx, a.project.id, spec.name));
  if (existing) {
    *id = existing->id;
    if (must_be_new) return errors::AlreadyExists("job template", spec.name);
    if (Json::parse(existing->spec, nullptr, false) == Json::parse(text)) return Change::kUnchanged;
    QUADER_RETURN_IF_ERROR(store::UpdateTemplateSpec(tx, existing->id, text, now));
    return Change::kUpdated;
  }
  store::TemplateRecord rec;
  rec.project_id = a.project.id;
  rec.name = spec.name;
  rec.spec = text;
  rec.created_by = who.username;
  QUADER_ASSIGN_OR_RETURN(rec, store::InsertTemplate(tx, rec, now));
  *id = rec.id;
  return Change::kCreated;
}

// A template by {id}: its number, or its name in ?project=P; hidden unless the caller sees its project.
Result<store::TemplateRecord> FindTemplateParam(store::Tx& tx, const Request& req) {
  const std::string& text = req.Param("id");
  std::optional<store::TemplateRecord> rec;
  if (IsNumericId(text)) {
    auto r = store::GetTemplate(tx, std::stoll(text));
    if (r.ok()) rec = *r;
  } else {
    auto project = store::GetProject(tx, ProjectParam(req));
    if (project.ok()) {
      QUADER_ASSIGN_OR_RETURN(rec, store::FindTemplate(tx, project->id, text));
    }
  }
  if (!rec || !auth::CheckProject(tx, req.who(), rec->project, auth::ProjectAction::kView).ok()) {
    return errors::NotFound("job template", text);
  }
  return *rec;
}

Response ListTemplates(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    bool all = false;
    QUADER_ASSIGN_OR_RETURN(auto ids, VisibleProjects(tx, req, &all));
    // Everyone may use public's templates.
    if (!all && req.query.count("project") == 0) {
      auto pub = store::GetProject(tx, auth::kPublicProject);
      if (pub.ok() && std::find(ids.begin(), ids.end(), pub->id) == ids.end()) ids.push_back(pub->id);
    }
    QUADER_ASSIGN_OR_RETURN(auto templates, store::ListTemplates(tx, ids, all));
    for (const auto& t : templates) items.push_back(TemplateJson(t));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

Result<pipeline::TemplateSpec> TemplateBody(const Request& req) {
  QUADER_ASSIGN_OR_RETURN(Json body, JsonBody(req));
  return pipeline::ParseTemplateSpec(body);
}

Response CreateTemplate(HandlerContext& ctx, Request& req) {
  auto spec = TemplateBody(req);
  if (!spec.ok()) return ErrorReply(spec.status());
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    int64_t id = 0;
    QUADER_RETURN_IF_ERROR(PutTemplate(tx, req.who(), *spec, true, ctx.now(), &id).status());
    QUADER_ASSIGN_OR_RETURN(auto rec, store::GetTemplate(tx, id));
    out = TemplateJson(rec);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out, 201) : ErrorReply(st);
}

Response GetTemplate(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto t, FindTemplateParam(tx, req));
    out = TemplateJson(t);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response UpdateTemplate(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto t, FindTemplateParam(tx, req));
    Json doc = *body;
    doc["name"] = doc.value("name", t.name);
    doc["project"] = doc.value("project", t.project);
    if (doc["name"] != t.name || doc["project"] != t.project) {
      return errors::Invalid("name", "a template cannot be renamed or moved; create a new one");
    }
    QUADER_ASSIGN_OR_RETURN(auto spec, pipeline::ParseTemplateSpec(doc));
    int64_t id = 0;
    QUADER_RETURN_IF_ERROR(PutTemplate(tx, req.who(), spec, false, ctx.now(), &id).status());
    QUADER_ASSIGN_OR_RETURN(t, store::GetTemplate(tx, id));
    out = TemplateJson(t);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response DeleteTemplate(HandlerContext& ctx, Request& req) {
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto t, FindTemplateParam(tx, req));
    QUADER_RETURN_IF_ERROR(CheckTemplateWrite(tx, req.who(), t.project).status());
    QUADER_ASSIGN_OR_RETURN(auto users, pipeline::PipelinesUsing(tx, t));
    if (!users.empty()) {
      std::string list;
      for (const auto& u : users) list += (list.empty() ? "" : ", ") + u;
      return errors::Conflict("job template \"" + t.name + "\" is used by pipeline " + list +
                              "; change or delete those first");
    }
    return store::DeleteTemplate(tx, t.id);
  });
  return st.ok() ? JsonReply(Json::object()) : ErrorReply(st);
}

// --- pipelines

// A pipeline by {id} (or the named path parameter): its number, or its name in ?project=P.
Result<store::PipelineRecord> FindPipelineParam(store::Tx& tx, const Request& req, auth::ProjectAction action,
                                                const std::string& param = "id") {
  const std::string& text = req.Param(param);
  std::optional<store::PipelineRecord> rec;
  if (IsNumericId(text)) {
    auto r = store::GetPipeline(tx, std::stoll(text));
    if (r.ok()) rec = *r;
  } else {
    auto project = store::GetProject(tx, ProjectParam(req));
    if (project.ok()) {
      QUADER_ASSIGN_OR_RETURN(rec, store::FindPipeline(tx, project->id, text));
    }
  }
  if (!rec || !auth::CheckProject(tx, req.who(), rec->project, auth::ProjectAction::kView).ok()) {
    return errors::NotFound("pipeline", text);
  }
  QUADER_RETURN_IF_ERROR(auth::CheckProject(tx, req.who(), rec->project, action).status());
  return *rec;
}

// A pipeline the caller may change: kUse in its project, and the public rule.
Result<store::PipelineRecord> FindPipelineToChange(store::Tx& tx, const Request& req) {
  QUADER_ASSIGN_OR_RETURN(auto p, FindPipelineParam(tx, req, auth::ProjectAction::kUse));
  QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), p.project, p.created_by, "pipeline", p.name));
  return p;
}

Json PipelineJson(store::Tx& tx, const store::PipelineRecord& p) {
  Json j = Json::parse(p.spec, nullptr, false);
  if (!j.is_object()) j = Json::object();
  j.erase("kind");
  j["id"] = p.id;
  j["project"] = p.project;
  j["name"] = p.name;
  j["created_by"] = p.created_by;
  j["created_at"] = FormatRfc3339(FromUnixSeconds(p.created_at));
  j["updated_at"] = FormatRfc3339(FromUnixSeconds(p.updated_at));
  j["next_fire"] = TimeOrNull(pipeline::NextFireTime(tx, p));
  auto last = store::LastRun(tx, p.id);
  j["last_run"] = last.ok() && *last ? Json{{"id", (*last)->id}, {"state", (*last)->state}} : Json(nullptr);
  return j;
}

// The schedule fields that, when changed, restart the cron's count from now.
// Validates the pipeline fully (DAG, variables, cron, templates) without writing.
Status CheckPipeline(const HandlerContext& ctx, store::Tx& tx, const auth::Principal& who,
                     const pipeline::PipelineSpec& spec, int64_t* project_id) {
  QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a, auth::CheckProject(tx, who, spec.project, auth::ProjectAction::kUse));
  *project_id = a.project.id;
  QUADER_RETURN_IF_ERROR(pipeline::ValidatePipeline(spec));
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    QUADER_RETURN_IF_ERROR(CheckMountsAllowed(who, a.project,
                                              "tasks[" + std::to_string(i) + "] (" + spec.tasks[i].name + ").volume_mount",
                                              spec.tasks[i].mounts));
  }
  if (spec.webhook) {
    QUADER_RETURN_IF_ERROR(pipeline::CheckWebhookUrl(spec.webhook->url, ctx.runs ? ctx.runs->webhook_guard() : nullptr));
  }
  pipeline::PipelineSpec resolved = spec;
  return pipeline::ResolveTemplates(&resolved, [&](const std::string& name) {
           return pipeline::LookupTemplate(tx, a.project.id, name);
         }).status();
}

Result<Change> PutPipeline(const HandlerContext& ctx, store::Tx& tx, const auth::Principal& who, const pipeline::PipelineSpec& spec,
                           bool must_be_new, int64_t now, int64_t* id) {
  int64_t project_id = 0;
  QUADER_RETURN_IF_ERROR(CheckPipeline(ctx, tx, who, spec, &project_id));
  std::string text = spec.ToJson().dump();
  QUADER_ASSIGN_OR_RETURN(auto existing, store::FindPipeline(tx, project_id, spec.name));
  if (existing) {
    *id = existing->id;
    if (must_be_new) return errors::AlreadyExists("pipeline", spec.name);
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(who, spec.project, existing->created_by, "pipeline", spec.name));
    if (Json::parse(existing->spec, nullptr, false) == Json::parse(text)) return Change::kUnchanged;
    auto old = pipeline::ParsePipelineSpec(Json::parse(existing->spec, nullptr, false));
    auto since = pipeline::ScheduleSince(spec, old.ok() ? std::optional<pipeline::PipelineSpec>(*old) : std::nullopt,
                                         existing->schedule_since, now);
    QUADER_RETURN_IF_ERROR(store::UpdatePipeline(tx, existing->id, text, since, now));
    return Change::kUpdated;
  }
  store::PipelineRecord rec;
  rec.project_id = project_id;
  rec.name = spec.name;
  rec.spec = text;
  rec.created_by = who.username;
  rec.schedule_since = pipeline::ScheduleSince(spec, std::nullopt, std::nullopt, now);
  QUADER_ASSIGN_OR_RETURN(rec, store::InsertPipeline(tx, rec, now));
  *id = rec.id;
  return Change::kCreated;
}

Result<pipeline::PipelineSpec> PipelineBody(const Request& req) {
  QUADER_ASSIGN_OR_RETURN(Json body, JsonBody(req));
  return pipeline::ParsePipelineSpec(body);
}

void NotifySchedules(HandlerContext& ctx) {
  if (ctx.schedules) ctx.schedules->Notify();
}

Response ListPipelines(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    bool all = false;
    QUADER_ASSIGN_OR_RETURN(auto ids, VisibleProjects(tx, req, &all));
    QUADER_ASSIGN_OR_RETURN(auto pipelines, store::ListPipelines(tx, ids, all));
    for (const auto& p : pipelines) items.push_back(PipelineJson(tx, p));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

Response CreatePipeline(HandlerContext& ctx, Request& req) {
  auto spec = PipelineBody(req);
  if (!spec.ok()) return ErrorReply(spec.status());
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    int64_t id = 0;
    QUADER_RETURN_IF_ERROR(PutPipeline(ctx, tx, req.who(), *spec, true, ctx.now(), &id).status());
    QUADER_ASSIGN_OR_RETURN(auto rec, store::GetPipeline(tx, id));
    out = PipelineJson(tx, rec);
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  NotifySchedules(ctx);
  return JsonReply(out, 201);
}

Response ValidatePipelineRoute(HandlerContext& ctx, Request& req) {
  auto spec = PipelineBody(req);
  if (!spec.ok()) return ErrorReply(spec.status());
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    int64_t project_id = 0;
    return CheckPipeline(ctx, tx, req.who(), *spec, &project_id);
  });
  return st.ok() ? JsonReply({{"ok", true}}) : ErrorReply(st);
}

Response GetPipeline(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto p, FindPipelineParam(tx, req, auth::ProjectAction::kView));
    out = PipelineJson(tx, p);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response UpdatePipeline(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto p, FindPipelineToChange(tx, req));
    Json doc = *body;
    for (const char* k : {"id", "created_by", "created_at", "updated_at", "next_fire", "last_run"}) doc.erase(k);
    doc["name"] = doc.value("name", p.name);
    doc["project"] = doc.value("project", p.project);
    if (doc["name"] != p.name || doc["project"] != p.project) {
      return errors::Invalid("name", "a pipeline cannot be renamed or moved; create a new one");
    }
    QUADER_ASSIGN_OR_RETURN(auto spec, pipeline::ParsePipelineSpec(doc));
    int64_t id = 0;
    QUADER_RETURN_IF_ERROR(PutPipeline(ctx, tx, req.who(), spec, false, ctx.now(), &id).status());
    QUADER_ASSIGN_OR_RETURN(p, store::GetPipeline(tx, id));
    out = PipelineJson(tx, p);
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  NotifySchedules(ctx);
  return JsonReply(out);
}

Response DeletePipeline(HandlerContext& ctx, Request& req) {
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto p, FindPipelineToChange(tx, req));
    store::RunFilter f;
    f.all = true;
    f.pipeline_id = p.id;
    f.limit = 100000;
    QUADER_ASSIGN_OR_RETURN(auto runs, store::ListRuns(tx, f));
    for (const auto& r : runs) {
      if (pipeline::IsActiveRunWord(r.state)) QUADER_RETURN_IF_ERROR(store::RequestRunStop(tx, r.id));
    }
    return store::DeletePipeline(tx, p.id);
  });
  if (!st.ok()) return ErrorReply(st);
  if (ctx.runs) ctx.runs->Notify();
  NotifySchedules(ctx);
  return JsonReply(Json::object());
}

// --- runs

// The ?pipeline= list filter: an id, or a name in ?project=P (default public).
Result<std::optional<int64_t>> PipelineFilter(store::Tx& tx, const Request& req) {
  auto it = req.query.find("pipeline");
  if (it == req.query.end() || it->second.empty()) return std::optional<int64_t>();
  if (IsNumericId(it->second)) return std::optional<int64_t>(std::stoll(it->second));
  auto project = store::GetProject(tx, ProjectParam(req));
  if (!project.ok()) return errors::NotFound("pipeline", it->second);
  QUADER_ASSIGN_OR_RETURN(auto p, store::FindPipeline(tx, project->id, it->second));
  if (!p) return errors::NotFound("pipeline", it->second);
  return std::optional<int64_t>(p->id);
}

// `attempts`: the task's own, in order.
Json TaskRunJson(const store::RunTaskRecord& t, const pipeline::PipelineSpec* spec,
                 const std::vector<const store::AttemptRecord*>& attempts) {
  Json j = {{"name", t.name},
            {"state", t.state},
            {"attempt", t.attempt},
            {"max_attempts", t.max_attempts},
            {"reason", t.reason},
            {"exit_code", t.exit_code ? Json(*t.exit_code) : Json(nullptr)},
            {"oom_killed", t.oom_killed},
            {"runtime", t.runtime},
            {"workload", t.workload},
            {"node", t.node},
            {"image", t.image},
            {"argv", Json::parse(t.argv, nullptr, false)},
            {"ready_at", MsOrNull(t.ready_at)},
            {"started_at", MsOrNull(t.started_at)},
            {"finished_at", MsOrNull(t.finished_at)},
            {"peak_memory_bytes", t.peak_memory},
            {"outputs", Json::parse(t.outputs, nullptr, false)}};
  if (j["argv"].is_discarded()) j["argv"] = Json::array();
  if (j["outputs"].is_discarded()) j["outputs"] = Json::object();
  const pipeline::TaskSpec* ts = spec ? spec->Find(t.name) : nullptr;
  j["label"] = ts ? ts->label : "";
  j["template"] = ts ? ts->template_name : "";
  j["depends_on"] = ts ? Json(ts->depends_on) : Json::array();
  if (ts) {
    Json res = Json::object();
    if (ts->cpu) res["cpu"] = *ts->cpu;
    if (ts->memory_bytes) res["memory_bytes"] = *ts->memory_bytes;
    if (ts->gpu) res["gpu"] = *ts->gpu;
    j["resources"] = res;
    j["timeout"] = ts->timeout_seconds;
  }
  Json list = Json::array();
  for (const store::AttemptRecord* p : attempts) {
    const store::AttemptRecord& a = *p;
    list.push_back({{"attempt", a.attempt},
                    {"state", a.state},
                    {"exit_code", a.exit_code ? Json(*a.exit_code) : Json(nullptr)},
                    {"oom_killed", a.oom_killed},
                    {"reason", a.reason},
                    {"workload", a.workload},
                    {"node", a.node},
                    {"peak_memory_bytes", a.peak_memory},
                    {"started_at", MsOrNull(a.started_at)},
                    {"finished_at", MsOrNull(a.finished_at)}});
  }
  j["attempts"] = list;
  return j;
}

// Which of a run's tasks a detailed answer lists: all, a page of them, or one.
struct TaskPage {
  int64_t offset = 0;
  std::optional<int64_t> limit;  // none: every task (a big run: kBigRunPage of them)
  std::optional<std::string> task;  // only this one
  bool asked = false;  // the caller named a page or a task
};

// A run of more tasks than this answers a page of kBigRunPage tasks unless a
// page is asked for, so that polling a 10,000-task run stays cheap (docs/api.md).
constexpr int64_t kBigRun = 500;
constexpr int64_t kBigRunPage = 50;

// `?tasks_offset=N&tasks_limit=M` (docs/api.md "Runs"): a page of a big run's
// tasks; `?task=NAME`: that task alone.
Result<TaskPage> TaskPageParam(const Request& req) {
  TaskPage page;
  if (auto it = req.query.find("task"); it != req.query.end()) {
    if (it->second.empty()) return errors::Invalid("task", "must name a task");
    page.task = it->second;
    page.asked = true;
  }
  for (const char* name : {"tasks_offset", "tasks_limit"}) {
    auto it = req.query.find(name);
    if (it == req.query.end()) continue;
    int64_t v = 0;
    try {
      size_t used = 0;
      v = std::stoll(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument(name);
    } catch (const std::exception&) {
      return errors::Invalid(name, "\"" + it->second + "\" is not a whole number");
    }
    if (v < 0) return errors::Invalid(name, "must not be negative, got " + it->second);
    if (std::string(name) == "tasks_offset") page.offset = v;
    else page.limit = std::min<int64_t>(v, 1000);
    page.asked = true;
  }
  if (page.offset > 0 && !page.limit) page.limit = 1000;
  return page;
}

// `detail`: tasks with attempts (one run: all, or `page` of them); else a
// summary count per state (lists). Both carry task_count and task_states.
Result<Json> RunJson(store::Tx& tx, const store::RunRecord& r, bool detail, const TaskPage& page = {},
                     SnapshotCache* snapshots = nullptr) {
  Json j = {{"id", r.id},
            {"project", r.project},
            {"pipeline", r.pipeline_name},
            {"pipeline_id", r.pipeline_id ? Json(*r.pipeline_id) : Json(nullptr)},
            {"run_key", r.run_key},
            {"state", r.state},
            {"reason", r.reason},
            {"trigger", r.trigger},
            {"runner", r.runner},
            {"creator", r.creator},
            {"stop_requested", r.stop_requested},
            {"schedule_id", r.schedule_id ? Json(*r.schedule_id) : Json(nullptr)},
            {"created_at", FormatRfc3339Ms(r.created_at)},
            {"started_at", MsOrNull(r.started_at)},
            {"finished_at", MsOrNull(r.finished_at)}};
  std::shared_ptr<const pipeline::PipelineSpec> spec;
  if (detail) {
    SnapshotCache uncached(1);
    spec = (snapshots ? snapshots : &uncached)->Get(r.id, r.snapshot);
  }
  j["execution_date"] = pipeline::FormatExecutionDate(r.execution_date, r.timezone);
  j["timezone"] = r.timezone;
  std::vector<store::RunTaskRecord> tasks;
  std::vector<store::AttemptRecord> attempts;
  std::map<std::string, int64_t> counts;
  QUADER_ASSIGN_OR_RETURN(counts, store::CountRunTaskStates(tx, r.id));
  int64_t count = 0;
  for (const auto& [state, n] : counts) count += n;
  j["task_states"] = counts;
  j["task_count"] = count;
  if (!detail) return j;
  TaskPage shown = page;
  if (!shown.asked && count > kBigRun) shown.limit = kBigRunPage;
  if (shown.task) {
    QUADER_ASSIGN_OR_RETURN(auto one, store::FindRunTask(tx, r.id, *shown.task));
    if (!one) return errors::NotFound("task", *shown.task + " in run " + std::to_string(r.id));
    tasks.push_back(*one);
    QUADER_ASSIGN_OR_RETURN(attempts, store::ListAttempts(tx, r.id, one->position, 1));
  } else if (!shown.limit) {
    QUADER_ASSIGN_OR_RETURN(tasks, store::ListRunTasks(tx, r.id));
    QUADER_ASSIGN_OR_RETURN(attempts, store::ListAttempts(tx, r.id));
  } else {
    QUADER_ASSIGN_OR_RETURN(tasks, store::ListRunTasks(tx, r.id, shown.offset, *shown.limit));
    QUADER_ASSIGN_OR_RETURN(attempts, store::ListAttempts(tx, r.id, shown.offset, *shown.limit));
    j["tasks_offset"] = shown.offset;
    j["tasks_next_offset"] = shown.offset + *shown.limit < count ? Json(shown.offset + *shown.limit) : Json(nullptr);
  }
  Json list = Json::array();
  std::unordered_map<int64_t, std::vector<const store::AttemptRecord*>> by_task;
  for (const auto& a : attempts) by_task[a.run_task_id].push_back(&a);
  const std::vector<const store::AttemptRecord*> none;
  for (const auto& t : tasks) {
    auto it = by_task.find(t.id);
    list.push_back(TaskRunJson(t, spec.get(), it == by_task.end() ? none : it->second));
  }
  j["tasks"] = std::move(list);
  if (spec) {
    j["parallelism"] = spec->parallelism;
    j["global_env"] = spec->global_env;
  }
  return j;
}

Result<store::RunRecord> FindRun(store::Tx& tx, const Request& req, auth::ProjectAction action) {
  QUADER_ASSIGN_OR_RETURN(int64_t id, IdParam(req, "run"));
  auto run = store::GetRun(tx, id);
  if (!run.ok() || !auth::CheckProject(tx, req.who(), run->project, auth::ProjectAction::kView).ok()) {
    return errors::NotFound("run", req.Param("id"));
  }
  QUADER_RETURN_IF_ERROR(auth::CheckProject(tx, req.who(), run->project, action).status());
  return *run;
}

// A run the caller may stop or delete: kUse in its project; in public, only
// the one who started it, its pipeline's creator or an admin.
Result<store::RunRecord> FindRunToChange(store::Tx& tx, const Request& req) {
  QUADER_ASSIGN_OR_RETURN(auto r, FindRun(tx, req, auth::ProjectAction::kUse));
  if (req.who().username == r.runner) return r;
  QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), r.project, r.creator, "run", std::to_string(r.id)));
  return r;
}

// A rerun or retry uses its snapshot's templates and tasks, but the
// project's mounts as they are now: its own mounts are checked again, so
// access an admin has withdrawn is not kept by running an old run again.
Status CheckRunMounts(store::Tx& tx, const auth::Principal& who, const pipeline::NewRun& run) {
  QUADER_ASSIGN_OR_RETURN(auto project, store::GetProject(tx, run.project));
  for (const auto& [task, t] : run.templates) {
    QUADER_RETURN_IF_ERROR(CheckMountsAllowed(who, project, "templates." + t.name + ".volume_mount", t.mounts));
  }
  for (const auto& t : run.spec.tasks) {
    QUADER_RETURN_IF_ERROR(CheckMountsAllowed(who, project, "tasks." + t.name + ".volume_mount", t.mounts));
  }
  return Status::Ok();
}

// The overrides in a request's body (docs/pipelines.md "Overrides"); none for an empty body.
Result<pipeline::RunOverrides> OverridesParam(const Request& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return pipeline::RunOverrides{};
  QUADER_ASSIGN_OR_RETURN(Json body, JsonBody(req));
  return pipeline::ParseRunOverrides(body);
}

// Stores the run `prepare` makes in `tx` and answers with it: 201 Run.
// `stored` (optional) runs in the same transaction once the run has its id.
Response CreateRunReply(HandlerContext& ctx, const std::function<Result<pipeline::NewRun>(store::Tx&)>& prepare,
                        const std::function<Status(int64_t run_id)>& stored = nullptr) {
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(pipeline::NewRun run, prepare(tx));
    run.execution_date = ctx.now();
    QUADER_ASSIGN_OR_RETURN(int64_t id, pipeline::RunController::CreateRun(tx, run, ctx.now_ms()));
    if (stored) QUADER_RETURN_IF_ERROR(stored(id));
    QUADER_ASSIGN_OR_RETURN(auto rec, store::GetRun(tx, id));
    QUADER_ASSIGN_OR_RETURN(out, RunJson(tx, rec, true));
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  if (ctx.runs) ctx.runs->Notify();
  return JsonReply(out, 201);
}

Response StartRun(HandlerContext& ctx, Request& req, const std::string& only_task) {
  auto overrides = OverridesParam(req);
  if (!overrides.ok()) return ErrorReply(overrides.status());
  return CreateRunReply(ctx, [&](store::Tx& tx) -> Result<pipeline::NewRun> {
    QUADER_ASSIGN_OR_RETURN(auto p, FindPipelineToChange(tx, req));
    return pipeline::PrepareRun(tx, p, req.who().username, only_task.empty() ? "manual" : "debug", only_task,
                                *overrides);
  });
}

Response RunPipeline(HandlerContext& ctx, Request& req) { return StartRun(ctx, req, ""); }
Response RunOneTask(HandlerContext& ctx, Request& req) { return StartRun(ctx, req, req.Param("task")); }

// POST /runs/{id}/rerun: what that run ran (its snapshot), again, with the body's overrides.
Response RerunRun(HandlerContext& ctx, Request& req) {
  auto overrides = OverridesParam(req);
  if (!overrides.ok()) return ErrorReply(overrides.status());
  return CreateRunReply(ctx, [&](store::Tx& tx) -> Result<pipeline::NewRun> {
    QUADER_ASSIGN_OR_RETURN(auto earlier, FindRunToChange(tx, req));
    QUADER_ASSIGN_OR_RETURN(pipeline::NewRun run, pipeline::PrepareRerun(tx, earlier, req.who().username, *overrides));
    QUADER_RETURN_IF_ERROR(CheckRunMounts(tx, req.who(), run));
    return run;
  });
}

// POST /runs/{id}/retry: a failed or stopped run again from its failed tasks.
// The carried tasks' files are linked outside any transaction (a staging
// directory), then moved into the new run's place in the one that creates it.
Response RetryRun(HandlerContext& ctx, Request& req) {
  auto prepare = [&](store::Tx& tx) -> Result<pipeline::NewRun> {
    QUADER_ASSIGN_OR_RETURN(auto earlier, FindRunToChange(tx, req));
    QUADER_ASSIGN_OR_RETURN(pipeline::NewRun run, pipeline::PrepareRetry(tx, earlier, req.who().username));
    QUADER_RETURN_IF_ERROR(CheckRunMounts(tx, req.who(), run));
    return run;
  };
  std::vector<std::string> carried;
  int64_t earlier = 0;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(pipeline::NewRun run, prepare(tx));
    for (const auto& [name, rec] : run.carried) carried.push_back(name);
    earlier = *run.retry_of;
    return Status::Ok();
  });
  if (st.ok() && !ctx.runs && !carried.empty()) st = errors::Unavailable("runs are not executed by this server");
  if (!st.ok()) return ErrorReply(st);
  if (carried.empty()) return CreateRunReply(ctx, prepare);
  auto staged = ctx.runs->StageCarried(earlier, carried);
  if (!staged.ok()) return ErrorReply(staged.status());
  Response reply = CreateRunReply(ctx, prepare, [&](int64_t id) { return ctx.runs->AdoptStaged(*staged, id, carried); });
  ctx.runs->DropStaged(*staged);
  return reply;
}

Response ListRuns(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    store::RunFilter f;
    QUADER_ASSIGN_OR_RETURN(f.project_ids, VisibleProjects(tx, req, &f.all));
    QUADER_ASSIGN_OR_RETURN(f.pipeline_id, PipelineFilter(tx, req));
    if (auto it = req.query.find("state"); it != req.query.end()) f.state = it->second;
    if (auto it = req.query.find("limit"); it != req.query.end()) {
      try {
        f.limit = std::clamp(std::stoi(it->second), 1, 1000);
      } catch (const std::exception&) {
        return errors::Invalid("limit", "\"" + it->second + "\" is not a number");
      }
    }
    QUADER_ASSIGN_OR_RETURN(auto runs, store::ListRuns(tx, f));
    for (const auto& r : runs) {
      QUADER_ASSIGN_OR_RETURN(Json j, RunJson(tx, r, false));
      items.push_back(std::move(j));
    }
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

Response GetRun(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto r, FindRun(tx, req, auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(TaskPage page, TaskPageParam(req));
    QUADER_ASSIGN_OR_RETURN(out, RunJson(tx, r, true, page, ctx.snapshots));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response StopRun(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto r, FindRunToChange(tx, req));
    if (pipeline::IsActiveRunWord(r.state)) QUADER_RETURN_IF_ERROR(store::RequestRunStop(tx, r.id));
    QUADER_ASSIGN_OR_RETURN(r, store::GetRun(tx, r.id));
    QUADER_ASSIGN_OR_RETURN(out, RunJson(tx, r, true));
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  if (ctx.runs) ctx.runs->Notify();
  return JsonReply(out);
}

Response DeleteRun(HandlerContext& ctx, Request& req) {
  int64_t id = 0;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto r, FindRunToChange(tx, req));
    if (pipeline::IsActiveRunWord(r.state)) {
      return errors::Conflict("run " + std::to_string(r.id) + " is " + r.state + "; stop it first");
    }
    id = r.id;
    return store::DeleteRun(tx, r.id);
  });
  if (!st.ok()) return ErrorReply(st);
  if (ctx.runs) ctx.runs->RemoveRunFiles(id);
  return JsonReply(Json::object());
}

// A task of a run the caller may see, of a server that executes runs: the run's id.
Result<int64_t> FindTaskRun(HandlerContext& ctx, Request& req, const std::string& task) {
  int64_t id = 0;
  QUADER_RETURN_IF_ERROR(ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto r, FindRun(tx, req, auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(auto t, store::FindRunTask(tx, r.id, task));
    if (!t) return errors::NotFound("task", task);
    id = r.id;
    return Status::Ok();
  }));
  if (!ctx.runs) return errors::Unavailable("runs are not executed by this server");
  return id;
}

Response TaskLogs(HandlerContext& ctx, Request& req) {
  std::string task = req.Param("task");
  auto run = FindTaskRun(ctx, req, task);
  if (!run.ok()) return ErrorReply(run.status());
  int attempt = 0;
  if (auto it = req.query.find("attempt"); it != req.query.end() && !it->second.empty()) {
    try {
      attempt = std::stoi(it->second);
    } catch (const std::exception&) {
      return ErrorReply(errors::Invalid("attempt", "\"" + it->second + "\" is not a number"));
    }
  }
  bool follow = FlagParam(req, "follow");
  pipeline::RunController* runs = ctx.runs;
  return LogReply(req, [runs, id = *run, task, attempt, follow](const ChunkWriter& write) {
    (void)runs->FollowLog(id, task, attempt, follow, write);
  });
}

// GET /runs/{id}/tasks/{task}/terminal: a shell in the running task's workload.
Response TaskTerminal(HandlerContext& ctx, Request& req) {
  std::string task = req.Param("task");
  int64_t id = 0;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto r, FindRun(tx, req, auth::ProjectAction::kUse));
    QUADER_ASSIGN_OR_RETURN(auto t, store::FindRunTask(tx, r.id, task));
    if (!t) return errors::NotFound("task", task);
    QUADER_RETURN_IF_ERROR(CheckTerminalUser(req.who(), r.runner, "task " + task + " of run " + std::to_string(r.id)));
    id = r.id;
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  if (!ctx.runs) return ErrorReply(errors::Unavailable("runs are not executed by this server"));
  pipeline::RunController* runs = ctx.runs;
  return TerminalReply(req, [runs, id, task](const runtime::TerminalOptions& o) { return runs->OpenTerminal(id, task, o); });
}

// A task's /outputs: the listing, or (`file`) one file of it.
Response TaskArtifacts(HandlerContext& ctx, Request& req, bool file) {
  std::string task = req.Param("task");
  auto run = FindTaskRun(ctx, req, task);
  if (!run.ok()) return ErrorReply(run.status());
  const std::string dir = ctx.runs->OutputsDir(*run, task);
  return file ? ArtifactFileReply(req, dir) : ArtifactListReply(dir);
}

// --- schedules

Json ScheduleJson(const store::ScheduleRecord& s) {
  return {{"id", s.id},
          {"project", s.project},
          {"pipeline", s.pipeline},
          {"pipeline_id", s.pipeline_id},
          {"execution_date", FormatRfc3339(FromUnixSeconds(s.execution_date))},
          {"execution_date_local", pipeline::FormatExecutionDate(s.execution_date, s.timezone)},
          {"timezone", s.timezone},
          {"state", s.state},
          {"run_id", s.run_id ? Json(*s.run_id) : Json(nullptr)},
          {"run_state", s.run_state.empty() ? Json(nullptr) : Json(s.run_state)},
          {"created_at", FormatRfc3339Ms(s.fired_at)},
          {"fire_delay_ms", s.fired_at - s.execution_date * 1000},
          {"updated_at", FormatRfc3339Ms(s.updated_at)}};
}

Response ListSchedules(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    bool all = false;
    QUADER_ASSIGN_OR_RETURN(auto ids, VisibleProjects(tx, req, &all));
    QUADER_ASSIGN_OR_RETURN(std::optional<int64_t> pipeline_id, PipelineFilter(tx, req));
    int limit = 200;
    if (auto it = req.query.find("limit"); it != req.query.end()) {
      try {
        limit = std::clamp(std::stoi(it->second), 1, 10000);
      } catch (const std::exception&) {
        return errors::Invalid("limit", "\"" + it->second + "\" is not a number");
      }
    }
    QUADER_ASSIGN_OR_RETURN(auto records, store::ListScheduleRecords(tx, ids, all, pipeline_id, limit));
    for (const auto& s : records) items.push_back(ScheduleJson(s));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

}  // namespace

void RegisterPipelineRoutes(Router& router, HandlerContext& ctx) {
  auto bind = [&ctx](Response (*fn)(HandlerContext&, Request&)) {
    return [&ctx, fn](Request& req) { return fn(ctx, req); };
  };
  router.Add("GET", "/api/v1/templates", Access::kSignedIn, bind(ListTemplates),
             {"List job templates (?project=P; public's are always listed)", "pipelines", "", "List:Template"});
  router.Add("POST", "/api/v1/templates", Access::kSignedIn, bind(CreateTemplate),
             {"Create a job template (a JobTemplate document)", "pipelines", "Template", "Template", 201});
  router.Add("GET", "/api/v1/templates/{id}", Access::kSignedIn, bind(GetTemplate),
             {"Get a job template by id, or by name with ?project=P", "pipelines", "", "Template"});
  router.Add("PUT", "/api/v1/templates/{id}", Access::kSignedIn, bind(UpdateTemplate),
             {"Replace a job template", "pipelines", "Template", "Template"});
  router.Add("DELETE", "/api/v1/templates/{id}", Access::kSignedIn, bind(DeleteTemplate),
             {"Delete a job template no pipeline uses", "pipelines", "", "Empty"});

  router.Add("GET", "/api/v1/pipelines", Access::kSignedIn, bind(ListPipelines),
             {"List pipelines (?project=P)", "pipelines", "", "List:Pipeline"});
  router.Add("POST", "/api/v1/pipelines", Access::kSignedIn, bind(CreatePipeline),
             {"Create a pipeline (a Pipeline document)", "pipelines", "Pipeline", "Pipeline", 201});
  router.Add("POST", "/api/v1/pipelines/validate", Access::kSignedIn, bind(ValidatePipelineRoute),
             {"Check a Pipeline document without saving it", "pipelines", "Pipeline", "Object"});
  router.Add("GET", "/api/v1/pipelines/{id}", Access::kSignedIn, bind(GetPipeline),
             {"Get a pipeline by id, or by name with ?project=P", "pipelines", "", "Pipeline"});
  router.Add("PUT", "/api/v1/pipelines/{id}", Access::kSignedIn, bind(UpdatePipeline),
             {"Replace a pipeline", "pipelines", "Pipeline", "Pipeline"});
  router.Add("DELETE", "/api/v1/pipelines/{id}", Access::kSignedIn, bind(DeletePipeline),
             {"Delete a pipeline (its active runs are stopped; runs are kept)", "pipelines", "", "Empty"});
  router.Add("POST", "/api/v1/pipelines/{id}/run", Access::kSignedIn, bind(RunPipeline),
             {"Run a pipeline now; the body may override parameters for this run: {global_env, tasks: {TASK: "
              "{args, env}}}", "pipelines", "", "Run", 201});
  router.Add("POST", "/api/v1/pipelines/{id}/tasks/{task}/run", Access::kSignedIn, bind(RunOneTask),
             {"Run one task of a pipeline alone (debug)", "pipelines", "", "Run", 201});

  router.Add("GET", "/api/v1/runs", Access::kSignedIn, bind(ListRuns),
             {"List runs, newest first (?project=P&pipeline=NAME&state=S&limit=N)", "pipelines", "", "List:Run"});
  router.Add("GET", "/api/v1/runs/{id}", Access::kSignedIn, bind(GetRun),
             {"Get a run with its tasks and attempts", "pipelines", "", "Run"});
  router.Add("POST", "/api/v1/runs/{id}/stop", Access::kSignedIn, bind(StopRun),
             {"Stop a run: kills its tasks and removes their workloads", "pipelines", "", "Run"});
  router.Add("POST", "/api/v1/runs/{id}/rerun", Access::kSignedIn, bind(RerunRun),
             {"Run again what a run ran (its pipeline and templates as they were then); the body may override "
              "parameters: {global_env, tasks: {TASK: {args, env}}}",
              "pipelines", "", "Run", 201});
  router.Add("POST", "/api/v1/runs/{id}/retry", Access::kSignedIn, bind(RetryRun),
             {"Retry a failed or stopped run from its failed tasks: a new run in which the tasks that succeeded "
              "are carried over with their outputs",
              "pipelines", "", "Run", 201});
  router.Add("DELETE", "/api/v1/runs/{id}", Access::kSignedIn, bind(DeleteRun),
             {"Delete a finished run with its logs and artifacts", "pipelines", "", "Empty"});
  router.Add("GET", "/api/v1/runs/{id}/tasks/{task}/logs", Access::kSignedIn, bind(TaskLogs),
             {"A task's log (?attempt=N; ?follow=1 streams until the attempt ends; ?timestamps=1 keeps each line's capture time)", "pipelines", "", "Text"});
  router.Add("GET", "/api/v1/runs/{id}/tasks/{task}/terminal", Access::kSignedIn, bind(TaskTerminal),
             {"A terminal in the running task: a WebSocket (docs/api.md \"Terminals\"; ?command=[JSON array], "
              "?rows=&cols=); only the user it runs as, or an admin", "runs", "", ""});
  router.Add("GET", "/api/v1/runs/{id}/tasks/{task}/artifacts", Access::kSignedIn,
             [&ctx](Request& req) { return TaskArtifacts(ctx, req, false); },
             {"The files a task left in /outputs: {items: [{path, type, size, modified_at}], truncated}", "pipelines",
              "", ""});
  router.Add("GET", "/api/v1/runs/{id}/tasks/{task}/artifact", Access::kSignedIn,
             [&ctx](Request& req) { return TaskArtifacts(ctx, req, true); },
             {"One file of a task's /outputs (?path=P; ?download=1 as an attachment)", "pipelines", "", ""});

  router.Add("GET", "/api/v1/schedules", Access::kSignedIn, bind(ListSchedules),
             {"Schedule records, newest first (?project=P&pipeline=NAME&limit=N)", "pipelines", "",
              "List:ScheduleRecord"});

  if (ctx.runs || ctx.schedules) {
    auto& gauges = prometheus::BuildGauge()
                       .Name("quader_pipeline")
                       .Help("Pipeline runs and the cron: see the `what` label")
                       .Register(ctx.metrics.registry());
    auto& active = gauges.Add({{"what", "active_runs"}});
    auto& running = gauges.Add({{"what", "running_tasks"}});
    auto& started = gauges.Add({{"what", "tasks_started_total"}});
    auto& finished = gauges.Add({{"what", "tasks_finished_total"}});
    auto& runs_done = gauges.Add({{"what", "runs_finished_total"}});
    auto& fire_p99 = gauges.Add({{"what", "cron_fire_delay_p99_ms"}});
    ctx.metrics.AddRefresher([&ctx, &active, &running, &started, &finished, &runs_done, &fire_p99] {
      if (ctx.runs) {
        auto s = ctx.runs->stats();
        active.Set(static_cast<double>(s.active_runs));
        running.Set(static_cast<double>(s.running_tasks));
        started.Set(static_cast<double>(s.tasks_started));
        finished.Set(static_cast<double>(s.tasks_finished));
        runs_done.Set(static_cast<double>(s.runs_finished));
      }
      if (ctx.schedules) {
        auto errors = ctx.schedules->FireErrors();
        if (!errors.empty()) {
          size_t k = std::min(errors.size() - 1, errors.size() * 99 / 100);
          std::nth_element(errors.begin(), errors.begin() + static_cast<std::ptrdiff_t>(k), errors.end());
          fire_p99.Set(static_cast<double>(errors[k]));
        }
      }
    });
  }

  ctx.kinds.Register("JobTemplate", /*project_scoped=*/true,
                     [](store::Tx& tx, const auth::Principal& who, const Json& doc, int64_t now) -> Result<Change> {
                       QUADER_ASSIGN_OR_RETURN(auto spec, pipeline::ParseTemplateSpec(doc));
                       int64_t id = 0;
                       return PutTemplate(tx, who, spec, false, now, &id);
                     });
  ctx.kinds.Register("Pipeline", /*project_scoped=*/true,
                     // The apply route notifies the cron after its transaction commits.
                     [&ctx](store::Tx& tx, const auth::Principal& who, const Json& doc, int64_t now) -> Result<Change> {
                       QUADER_ASSIGN_OR_RETURN(auto spec, pipeline::ParsePipelineSpec(doc));
                       int64_t id = 0;
                       return PutPipeline(ctx, tx, who, spec, false, now, &id);
                     });
}

}  // namespace quader::api
