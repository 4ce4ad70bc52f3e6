// /api/v1/notebooks (SPEC §3; docs/notebooks.md) and the Notebook kind.
// Notebooks are personal: a user sees, opens and changes only their own;
// admins see and manage everyone's (but, like everyone, open only their own
// through the gateway).
#include "api/handlers/log_reply.h"
#include "api/handlers/common.h"
#include "api/handlers/handlers.h"
#include "api/handlers/mount_check.h"
#include "api/handlers/terminal_reply.h"
#include "auth/passwords.h"
#include "auth/projects.h"
#include "notebook/notebook_controller.h"
#include "notebook/notebook_spec.h"
#include "store/notebooks.h"
#include "store/projects.h"

namespace quader::api {
namespace {

Json NotebookJson(const HandlerContext& ctx, const store::NotebookRecord& n) {
  Json j = Json::parse(n.spec, nullptr, false);
  if (!j.is_object()) j = Json::object();
  j["id"] = n.id;
  j["kind"] = "Notebook";
  j["project"] = n.project;
  j["name"] = n.name;
  j["desired"] = n.desired;
  j["generation"] = n.generation;
  j["state"] = n.state;
  j["reason"] = n.reason;
  j["created_by"] = n.created_by;
  j["created_at"] = FormatRfc3339(FromUnixSeconds(n.created_at));
  j["updated_at"] = FormatRfc3339(FromUnixSeconds(n.updated_at));
  j["started_at"] = MsOrNull(n.started_at);
  j["last_activity"] = MsOrNull(n.last_activity);
  std::string path = notebook::NotebookPath(n.project, n.name);
  j["path"] = path;  // on the gateway
  j["url"] = ctx.gateway_url.empty() ? Json(nullptr) : Json(ctx.gateway_url + path);
  if (ctx.notebooks) {
    if (auto v = ctx.notebooks->View(n.id); v && !v->workload.empty()) {
      j["server"] = {{"workload", v->workload}, {"generation", v->generation}, {"ready", v->ready},
                     {"port", v->host_port}};
    }
  }
  return j;
}

// The notebook in {id} (a number, or a name with ?project=P). Other users'
// notebooks do not exist for the caller; admins see all.
Result<store::NotebookRecord> FindParam(store::Tx& tx, const Request& req) {
  const std::string& text = req.Param("id");
  std::optional<store::NotebookRecord> rec;
  if (IsNumericId(text)) {
    auto r = store::GetNotebook(tx, std::stoll(text));
    if (r.ok()) rec = *r;
  } else {
    auto project = store::GetProject(tx, ProjectParam(req));
    if (project.ok()) {
      QUADER_ASSIGN_OR_RETURN(rec, store::FindNotebook(tx, project->id, text));
    }
  }
  if (!rec || (rec->created_by != req.who().username && !req.who().is_admin)) return errors::NotFound("notebook", text);
  return *rec;
}

Result<Change> PutNotebook(store::Tx& tx, const auth::Principal& who, const notebook::NotebookSpec& spec,
                           bool must_be_new, int64_t now, int64_t* id) {
  QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a, auth::CheckProject(tx, who, spec.project, auth::ProjectAction::kUse));
  QUADER_RETURN_IF_ERROR(CheckMountsAllowed(who, a.project, "volume_mount", spec.mounts));
  Json doc = spec.ToJson();
  QUADER_ASSIGN_OR_RETURN(auto existing, store::FindNotebook(tx, a.project.id, spec.name));
  if (existing) {
    *id = existing->id;
    if (existing->created_by != who.username && !who.is_admin) {
      // Names are unique per project; someone else's notebook is not shown.
      return errors::AlreadyExists("notebook", spec.name + " (in project " + spec.project + ")");
    }
    if (must_be_new) return errors::AlreadyExists("notebook", spec.name);
    if (Json::parse(existing->spec, nullptr, false) == doc) return Change::kUnchanged;
    QUADER_RETURN_IF_ERROR(store::UpdateNotebookSpec(tx, existing->id, doc.dump(), now));
    QUADER_RETURN_IF_ERROR(store::SetNotebookState(tx, existing->id, "pending", "changed: restarting", std::nullopt));
    return Change::kUpdated;
  }
  store::NotebookRecord rec;
  rec.project_id = a.project.id;
  rec.name = spec.name;
  rec.spec = doc.dump();
  rec.state = "pending";
  rec.reason = "created";
  rec.server_token = auth::NewToken();  // the gateway gives it to the server; never shown
  rec.created_by = who.username;
  rec.created_at = now;
  rec.updated_at = now;
  QUADER_ASSIGN_OR_RETURN(rec, store::InsertNotebook(tx, rec));
  *id = rec.id;
  return Change::kCreated;
}

void NotifyNotebooks(HandlerContext& ctx) {
  if (ctx.notebooks) ctx.notebooks->Notify();
}

// reset, stop, start.
Response Action(HandlerContext& ctx, Request& req, const std::string& action) {
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto n, FindParam(tx, req));
    const std::string& who = req.who().username;
    if (action == "stop") {
      QUADER_RETURN_IF_ERROR(store::SetNotebookDesired(tx, n.id, store::kNotebookStopped, false, ctx.now()));
      QUADER_RETURN_IF_ERROR(store::SetNotebookState(tx, n.id, "stopped", "stopped by " + who, std::nullopt));
    } else {
      // reset: a new server whatever the old one's state; start: a new one
      // only when stopped (starting a running notebook changes nothing).
      bool running = n.desired == store::kNotebookRunning;
      if (action == "reset" || !running) {
        QUADER_RETURN_IF_ERROR(store::SetNotebookDesired(tx, n.id, store::kNotebookRunning, true, ctx.now()));
        QUADER_RETURN_IF_ERROR(
            store::SetNotebookState(tx, n.id, "pending", (action == "reset" ? "reset by " : "started by ") + who,
                                    std::nullopt));
      }
    }
    QUADER_ASSIGN_OR_RETURN(n, store::GetNotebook(tx, n.id));
    out = NotebookJson(ctx, n);
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  NotifyNotebooks(ctx);
  return JsonReply(out);
}

}  // namespace

void RegisterNotebookRoutes(Router& router, HandlerContext& ctx) {
  const std::string base = "/api/v1/notebooks";
  router.Add("GET", base, Access::kSignedIn,
             [&ctx](Request& req) {
               Json items = Json::array();
               Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
                 bool all = false;
                 QUADER_ASSIGN_OR_RETURN(auto ids, VisibleProjects(tx, req, &all));
                 // Everyone lists their own; admins everyone's.
                 QUADER_ASSIGN_OR_RETURN(auto list, store::ListNotebooks(tx, ids, all,
                                                                         req.who().is_admin ? "" : req.who().username));
                 for (const auto& n : list) items.push_back(NotebookJson(ctx, n));
                 return Status::Ok();
               });
               return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
             },
             {"List your notebooks (admins: everyone's; ?project=P)", "notebooks", "", "List:Notebook"});
  router.Add("POST", base, Access::kSignedIn,
             [&ctx](Request& req) {
               auto body = JsonBody(req);
               if (!body.ok()) return ErrorReply(body.status());
               auto spec = notebook::ParseNotebookSpec(*body);
               if (!spec.ok()) return ErrorReply(spec.status());
               Json out;
               Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
                 int64_t id = 0;
                 QUADER_RETURN_IF_ERROR(PutNotebook(tx, req.who(), *spec, true, ctx.now(), &id).status());
                 QUADER_ASSIGN_OR_RETURN(auto rec, store::GetNotebook(tx, id));
                 out = NotebookJson(ctx, rec);
                 return Status::Ok();
               });
               if (!st.ok()) return ErrorReply(st);
               NotifyNotebooks(ctx);
               return JsonReply(out, 201);
             },
             {"Create a notebook (its server starts at once)", "notebooks", "Notebook", "Notebook", 201});
  router.Add("GET", base + "/{id}", Access::kSignedIn,
             [&ctx](Request& req) {
               Json out;
               Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(auto n, FindParam(tx, req));
                 out = NotebookJson(ctx, n);
                 return Status::Ok();
               });
               return st.ok() ? JsonReply(out) : ErrorReply(st);
             },
             {"A notebook with its state and URL (id, or name with ?project=P)", "notebooks", "", "Notebook"});
  router.Add("GET", base + "/{id}/manifests", Access::kSignedIn,
             [&ctx](Request& req) {
               std::optional<store::NotebookRecord> rec;
               auth::ProjectSettings project;
               Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(rec, FindParam(tx, req));
                 QUADER_ASSIGN_OR_RETURN(project, auth::StoredProjectSettings(tx, rec->project_id));
                 return Status::Ok();
               });
               if (!st.ok()) return ErrorReply(st);
               return ManifestsReply(ctx, req, [&](const render::RenderOptions& o) {
                 return render::RenderNotebook(*rec, project, o);
               });
             },
             {"The Kubernetes manifests of a notebook (`quader render`; ?namespace=NS)", "notebooks", "", ""});
  router.Add("PUT", base + "/{id}", Access::kSignedIn,
             [&ctx](Request& req) {
               auto body = JsonBody(req);
               if (!body.ok()) return ErrorReply(body.status());
               Json out;
               Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(auto n, FindParam(tx, req));
                 Json doc = *body;
                 for (const char* f : {"id", "desired", "generation", "state", "reason", "created_by", "created_at",
                                       "updated_at", "started_at", "last_activity", "path", "url", "server"}) {
                   doc.erase(f);
                 }
                 if (!doc.contains("project")) doc["project"] = n.project;
                 if (!doc.contains("name")) doc["name"] = n.name;
                 QUADER_ASSIGN_OR_RETURN(auto spec, notebook::ParseNotebookSpec(doc));
                 if (spec.name != n.name || spec.project != n.project) {
                   return errors::Invalid("name", "a notebook cannot be renamed or moved; create a new one");
                 }
                 int64_t id = 0;
                 auth::Principal owner = req.who();
                 owner.username = n.created_by;  // an admin changes it for its owner
                 QUADER_RETURN_IF_ERROR(PutNotebook(tx, owner, spec, false, ctx.now(), &id).status());
                 QUADER_ASSIGN_OR_RETURN(n, store::GetNotebook(tx, id));
                 out = NotebookJson(ctx, n);
                 return Status::Ok();
               });
               if (!st.ok()) return ErrorReply(st);
               NotifyNotebooks(ctx);
               return JsonReply(out);
             },
             {"Change a notebook: its server restarts with the new settings", "notebooks", "Notebook", "Notebook"});
  router.Add("DELETE", base + "/{id}", Access::kSignedIn,
             [&ctx](Request& req) {
               Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(auto n, FindParam(tx, req));
                 return store::DeleteNotebook(tx, n.id);
               });
               if (!st.ok()) return ErrorReply(st);
               NotifyNotebooks(ctx);
               Response r;
               r.status = 204;
               return r;
             },
             {"Delete a notebook (its server is stopped; files in /mnt/$username stay)", "notebooks", "", "", 204});
  for (const char* action : {"reset", "stop", "start"}) {
    std::string what = action;
    const char* summary = what == "reset"   ? "Restart a notebook's server (a fresh one; files stay)"
                          : what == "stop" ? "Stop a notebook's server (files stay; start brings it back)"
                                           : "Start a stopped notebook";
    router.Add("POST", base + "/{id}/" + what, Access::kSignedIn,
               [&ctx, what](Request& req) { return Action(ctx, req, what); }, {summary, "notebooks", "", "Notebook"});
  }
  router.Add("GET", base + "/{id}/terminal", Access::kSignedIn,
             [&ctx](Request& req) {
               int64_t id = 0;
               Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(auto n, FindParam(tx, req));  // its owner's, or an admin
                 id = n.id;
                 return Status::Ok();
               });
               if (!st.ok()) return ErrorReply(st);
               if (!ctx.notebooks) return ErrorReply(errors::Unavailable("notebooks are not run by this server"));
               notebook::NotebookController* notebooks = ctx.notebooks;
               return TerminalReply(req, [notebooks, id](const runtime::TerminalOptions& o) { return notebooks->OpenTerminal(id, o); });
             },
             {"A terminal in the notebook's server: a WebSocket (docs/api.md \"Terminals\")", "notebooks", "", ""});
  router.Add("GET", base + "/{id}/logs", Access::kSignedIn,
             [&ctx](Request& req) {
               int64_t id = 0;
               Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(auto n, FindParam(tx, req));
                 id = n.id;
                 return Status::Ok();
               });
               if (!st.ok()) return ErrorReply(st);
               if (!ctx.notebooks) return ErrorReply(errors::Unavailable("notebooks are not run by this server"));
               // Looked for before the answer starts (one chunk read), so a missing log is a 404.
               if (Status found = ctx.notebooks->Logs(id, false, [](std::string_view) { return false; }); !found.ok()) {
                 return ErrorReply(errors::NotFound("notebook server", req.Param("id") + " (it is not running)"));
               }
               bool follow = FlagParam(req, "follow");
               notebook::NotebookController* notebooks = ctx.notebooks;
               return LogReply(req, [notebooks, id, follow](const ChunkWriter& write) {
                 (void)notebooks->Logs(id, follow, write);
               });
             },
             {"The output of a notebook's server (?follow=1 streams; ?timestamps=1 keeps each line's capture time); when none runs, the kept log of the last one that "
              "ended", "notebooks", "", "Text"});
  if (ctx.notebooks) {
    auto& gauges = prometheus::BuildGauge()
                       .Name("quader_notebooks")
                       .Help("Notebooks by state at the controller's last pass")
                       .Register(ctx.metrics.registry());
    std::map<std::string, prometheus::Gauge*> by_state;
    for (const char* state : {"pending", "running", "failed", "stopped"}) by_state[state] = &gauges.Add({{"state", state}});
    ctx.metrics.AddRefresher([&ctx, by_state] {
      for (const auto& [state, count] : ctx.notebooks->StateCounts()) {
        auto it = by_state.find(state);
        if (it != by_state.end()) it->second->Set(count);
      }
    });
  }
  ctx.kinds.Register("Notebook", /*project_scoped=*/true,
                     [](store::Tx& tx, const auth::Principal& who, const Json& doc, int64_t now) -> Result<Change> {
                       QUADER_ASSIGN_OR_RETURN(auto spec, notebook::ParseNotebookSpec(doc));
                       int64_t id = 0;
                       return PutNotebook(tx, who, spec, false, now, &id);
                     });
}

}  // namespace quader::api
