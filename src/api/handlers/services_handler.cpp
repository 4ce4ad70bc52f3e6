// /api/v1/services and /api/v1/inference-services (SPEC §7, §8;
// docs/services.md), and the Service and InferenceService kinds.
#include "api/handlers/log_reply.h"
#include "api/handlers/common.h"
#include "api/handlers/handlers.h"
#include "api/handlers/mount_check.h"
#include "api/handlers/terminal_reply.h"
#include "auth/projects.h"
#include "serving/service_controller.h"
#include "serving/service_spec.h"
#include "store/projects.h"
#include "store/models.h"
#include "store/services.h"

namespace quader::api {
namespace {

// The wildcard domain when no controller runs (tests of the API alone).
constexpr const char* kDefaultServiceDomain = "service.localhost";

std::string Domain(const HandlerContext& ctx) {
  return ctx.services ? ctx.services->service_domain() : kDefaultServiceDomain;
}

struct KindInfo {
  const char* kind;        // Service, InferenceService
  const char* collection;  // services, inference-services
  const char* noun;        // service, inference service
};
constexpr KindInfo kService = {"Service", "services", "service"};
constexpr KindInfo kInference = {"InferenceService", "inference-services", "inference service"};

// Parses and validates a document of `kind`: the spec's normal form, its
// name and project, and its hosts.
struct Parsed {
  Json spec;
  std::string name, project;
  serving::ServiceHosts hosts;
  std::vector<auth::VolumeMount> mounts;
  std::vector<std::pair<std::string, std::string>> targets;  // (field, service): canary and shadow targets
};
Result<Parsed> ParseDoc(const KindInfo& k, const Json& doc, const std::string& domain) {
  Parsed p;
  if (std::string(k.kind) == "Service") {
    QUADER_ASSIGN_OR_RETURN(auto spec, serving::ParseServiceSpec(doc));
    QUADER_ASSIGN_OR_RETURN(p.hosts, serving::ResolveHosts(spec, domain));
    p.mounts = spec.container.mounts;
    p.spec = spec.ToJson();
    p.name = spec.name;
    p.project = spec.project;
  } else {
    QUADER_ASSIGN_OR_RETURN(auto spec, serving::ParseInferenceServiceSpec(doc));
    QUADER_ASSIGN_OR_RETURN(p.hosts, serving::ResolveHosts(spec, domain));
    for (const auto& [name, percent] : spec.canary) p.targets.push_back({"canary", name});
    for (const auto& [name, percent] : spec.shadow) p.targets.push_back({"shadow", name});
    p.mounts = spec.container.mounts;
    p.spec = spec.ToJson();
    p.name = spec.name;
    p.project = spec.project;
  }
  return p;
}

// ":PORT" of the gateway that serves the hosts, "" for port 80 (or unknown).
std::string GatewayPort(const HandlerContext& ctx) {
  size_t colon = ctx.gateway_url.rfind(':');
  if (colon == std::string::npos || ctx.gateway_url.find("://") == std::string::npos || colon < 6) return "";
  std::string port = ctx.gateway_url.substr(colon + 1);
  while (!port.empty() && port.back() == '/') port.pop_back();
  if (port.empty() || port == "80" || port.find_first_not_of("0123456789") != std::string::npos) return "";
  return ":" + port;
}

Json ServiceJson(const HandlerContext& ctx, store::Tx& tx, const store::ServiceRecord& s, bool detail) {
  Json j = Json::parse(s.spec, nullptr, false);
  if (!j.is_object()) j = Json::object();
  j.erase("kind");
  j["id"] = s.id;
  j["kind"] = s.kind;
  j["project"] = s.project;
  j["name"] = s.name;
  j["generation"] = s.generation;
  j["state"] = s.state;
  j["reason"] = s.reason;
  j["created_by"] = s.created_by;
  j["created_at"] = FormatRfc3339(FromUnixSeconds(s.created_at));
  j["updated_at"] = FormatRfc3339(FromUnixSeconds(s.updated_at));
  auto hosts = ParseDoc(s.kind == "Service" ? kService : kInference, Json::parse(s.spec, nullptr, false), Domain(ctx));
  if (hosts.ok()) {
    j["url"] = "http://" + hosts->hosts.production + GatewayPort(ctx) + "/";
    Json list = Json::array({hosts->hosts.production});
    if (!hosts->hosts.test.empty()) list.push_back(hosts->hosts.test);
    if (!hosts->hosts.debug.empty()) list.push_back(hosts->hosts.debug);
    j["hosts"] = list;
  }
  Json replicas = Json::array();
  if (ctx.services) {
    for (const auto& r : ctx.services->Replicas(s.id)) {
      Json replica = {{"index", r.index},
                      {"generation", r.generation},
                      {"state", r.state},
                      {"workload", r.workload},
                      {"port", r.host_port}};
      if (!r.reason.empty()) replica["reason"] = r.reason;  // e.g. why it is not ready
      replicas.push_back(replica);
    }
  }
  j["replica_states"] = replicas;
  Json external = Json::array();
  if (ctx.services) {
    for (const auto& e : ctx.services->External(s.id)) {
      Json x = {{"address", e.address}, {"container_port", e.container_port}};
      if (!e.error.empty()) x["error"] = e.error;
      external.push_back(x);
    }
  }
  j["external"] = external;
  if (s.kind == "InferenceService") {
    j["model_status"] = s.stage;
    j["debug_idle"] = s.debug_idle;
    if (s.scaled_replicas > 0) j["autoscaled_replicas"] = s.scaled_replicas;
  }
  if (detail && s.kind == "InferenceService") {
    // cube-studio's deploy_history: the last 10 deploys and clears.
    Json history = Json::array();
    auto list = store::ListServiceEvents(tx, s.id, 10, {"deploy", "clear"});
    if (list.ok()) {
      for (const auto& e : *list) history.push_back({{"at", FormatRfc3339Ms(e.at)}, {"message", e.message}});
    }
    j["deploy_history"] = history;
  }
  if (detail) {
    Json events = Json::array();
    auto list = store::ListServiceEvents(tx, s.id, 100);
    if (list.ok()) {
      for (const auto& e : *list) {
        events.push_back({{"at", FormatRfc3339Ms(e.at)}, {"kind", e.kind}, {"message", e.message}});
      }
    }
    j["events"] = events;
  }
  return j;
}

Result<store::ServiceRecord> FindParam(store::Tx& tx, const Request& req, const KindInfo& k,
                                       auth::ProjectAction action) {
  const std::string& text = req.Param("id");
  std::optional<store::ServiceRecord> rec;
  if (IsNumericId(text)) {
    auto r = store::GetService(tx, std::stoll(text));
    if (r.ok()) rec = *r;
  } else {
    auto project = store::GetProject(tx, ProjectParam(req));
    if (project.ok()) {
      QUADER_ASSIGN_OR_RETURN(rec, store::FindService(tx, project->id, text));
    }
  }
  if (!rec || rec->kind != k.kind ||
      !auth::CheckProject(tx, req.who(), rec->project, auth::ProjectAction::kView).ok()) {
    return errors::NotFound(k.noun, text);
  }
  QUADER_RETURN_IF_ERROR(auth::CheckProject(tx, req.who(), rec->project, action).status());
  return *rec;
}

// Hosts belong to projects (serving/service_spec.h): kConflict when another
// project's service claims one of `p`'s hosts. The other project is not named.
Status CheckHostsFree(store::Tx& tx, const std::string& domain, const Parsed& p) {
  QUADER_ASSIGN_OR_RETURN(auto all, store::ListServices(tx, {}, true, ""));
  std::vector<serving::HostClaim> claims;  // listed by id: oldest first
  for (const auto& s : all) {
    auto other = ParseDoc(s.kind == "Service" ? kService : kInference, Json::parse(s.spec, nullptr, false), domain);
    if (other.ok()) claims.push_back({s.project, other->hosts});
  }
  std::string taken = serving::TakenHost(p.hosts, p.project, serving::HostOwners(claims));
  if (taken.empty()) return Status::Ok();
  return errors::Conflict("host: \"" + taken + "\" belongs to another project; choose another host (or name)");
}

// `?replica=N`: which replica (-1 when not given: the lowest).
Result<int> ReplicaParam(const Request& req) {
  auto it = req.query.find("replica");
  if (it == req.query.end()) return -1;
  const std::string& v = it->second;
  if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) {
    return errors::Invalid("replica", "\"" + v + "\" is not a replica index (0, 1, ...)");
  }
  return std::stoi(v);
}

// A service the caller may change: kUse in its project, and the public rule.
Status CheckPublicService(const auth::Principal& who, const KindInfo& k, const store::ServiceRecord& s) {
  return auth::CheckPublicWrite(who, s.project, s.created_by, k.noun, s.name);
}

Result<Change> PutService(store::Tx& tx, const auth::Principal& who, const KindInfo& k, const Parsed& p,
                          const std::string& domain, bool must_be_new, int64_t now, int64_t* id) {
  QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a, auth::CheckProject(tx, who, p.project, auth::ProjectAction::kUse));
  QUADER_RETURN_IF_ERROR(CheckMountsAllowed(who, a.project, "volume_mount", p.mounts));
  QUADER_RETURN_IF_ERROR(CheckHostsFree(tx, domain, p));
  // Split and mirror targets are other inference services of the project
  // (one of another project is "no inference service", as if it did not exist).
  for (const auto& [field, target] : p.targets) {
    QUADER_ASSIGN_OR_RETURN(auto other, store::FindService(tx, a.project.id, target));
    if (!other || other->kind != "InferenceService") {
      return errors::Invalid(field, "no inference service \"" + target + "\" in project " + p.project);
    }
  }
  // A version of the model registry is one of the project's (one of
  // another project is "no such version", as if it did not exist).
  if (const std::string text = p.spec.value("model_ref", ""); !text.empty()) {
    QUADER_ASSIGN_OR_RETURN(serving::ModelRef ref, serving::ParseModelRef(text));
    QUADER_ASSIGN_OR_RETURN(auto model, store::FindModel(tx, a.project.id, ref.name));
    if (!model || !store::GetModelVersion(tx, model->id, ref.version).ok()) {
      return errors::Invalid("model_ref", "no version " + text + " in the model registry of project " + p.project);
    }
  }
  std::string text = p.spec.dump();
  QUADER_ASSIGN_OR_RETURN(auto existing, store::FindService(tx, a.project.id, p.name));
  if (existing) {
    *id = existing->id;
    if (existing->kind != k.kind) {
      return errors::AlreadyExists("service", p.name + " (a " + existing->kind + " of that name exists)");
    }
    if (must_be_new) return errors::AlreadyExists(k.noun, p.name);
    QUADER_RETURN_IF_ERROR(CheckPublicService(who, k, *existing));
    if (Json::parse(existing->spec, nullptr, false) == p.spec) return Change::kUnchanged;
    QUADER_RETURN_IF_ERROR(store::UpdateServiceSpec(tx, existing->id, text, now));
    if (existing->kind == "Service" && existing->stage == store::kStageOffline) {
      // Taken offline by a newer service on its host (gray upgrade): a
      // change deploys it again, and once live it takes the host back.
      QUADER_RETURN_IF_ERROR(store::SetServiceStage(tx, existing->id, store::kStageOnline, now));
      QUADER_RETURN_IF_ERROR(store::AddServiceEvent(tx, existing->id, now * 1000, "deploy",
                                                    "deploy prod: " + who.username + " (changed)"));
    }
    return Change::kUpdated;
  }
  store::ServiceRecord rec;
  rec.project_id = a.project.id;
  rec.kind = k.kind;
  rec.name = p.name;
  rec.spec = text;
  rec.state = "pending";
  rec.created_by = who.username;
  rec.created_at = now;
  rec.updated_at = now;
  QUADER_ASSIGN_OR_RETURN(rec, store::InsertService(tx, rec));
  *id = rec.id;
  if (rec.kind == "InferenceService") {
    // New inference services go online at once (cube-studio starts them
    // offline and waits for a deploy click; `clear` gives that state).
    QUADER_RETURN_IF_ERROR(store::AddServiceEvent(tx, rec.id, now * 1000, "deploy",
                                                  "deploy prod: " + who.username + " (created)"));
  }
  return Change::kCreated;
}

void NotifyServices(HandlerContext& ctx) {
  if (ctx.services) ctx.services->Notify();
}

// Deploy stages (SPEC §8; cube-studio's deploy/debug|test|prod and clear).
// A deploy or clear bumps the generation, so replicas are replaced one by one
// with the stage's KUBEFLOW_ENV; it is recorded in the deploy history.
Result<std::string> StageOf(const std::string& action) {
  if (action == "debug") return std::string(store::kStageDebug);
  if (action == "test") return std::string(store::kStageTest);
  if (action == "prod") return std::string(store::kStageOnline);
  return errors::Invalid("stage", "\"" + action + "\" is not one of debug, test, prod");
}

// The deploy's body: none, or {"idle": true} for debug with a shell.
Result<bool> IdleOf(Request& req, const std::string& action) {
  if (req.body.empty()) return false;
  QUADER_ASSIGN_OR_RETURN(Json body, JsonBody(req));
  for (const auto& [k, v] : body.items()) {
    if (k != "idle") return errors::Invalid(k, "unknown field (a deploy takes only idle)");
    if (!v.is_boolean()) return errors::Invalid("idle", "must be true or false");
  }
  bool idle = body.value("idle", false);
  if (idle && action != "debug") {
    return errors::Invalid("idle", "only a debug deploy can wait idle for a shell");
  }
  return idle;
}

Response ChangeStage(HandlerContext& ctx, Request& req, const std::string& action) {
  std::string stage = store::kStageOffline;
  if (action != "clear") {
    auto parsed = StageOf(action);
    if (!parsed.ok()) return ErrorReply(parsed.status());
    stage = *parsed;
  }
  auto idle = IdleOf(req, action);
  if (!idle.ok()) return ErrorReply(idle.status());
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto s, FindParam(tx, req, kInference, auth::ProjectAction::kUse));
    QUADER_RETURN_IF_ERROR(CheckPublicService(req.who(), kInference, s));
    // Production traffic is not taken away by a debug or test deploy: clear first.
    if (s.stage == store::kStageOnline && (stage == store::kStageDebug || stage == store::kStageTest)) {
      return errors::Conflict(s.name + " is online (serving production traffic): clear it before deploying it to " +
                              action);
    }
    QUADER_RETURN_IF_ERROR(store::SetServiceStage(tx, s.id, stage, ctx.now(), *idle));
    std::string message = action == "clear" ? "clear: " + req.who().username
                                            : "deploy " + action + (*idle ? " with a shell" : "") + ": " +
                                                  req.who().username;
    QUADER_RETURN_IF_ERROR(store::AddServiceEvent(tx, s.id, ctx.now_ms(), action == "clear" ? "clear" : "deploy",
                                                  message));
    QUADER_ASSIGN_OR_RETURN(s, store::GetService(tx, s.id));
    out = ServiceJson(ctx, tx, s, true);
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  NotifyServices(ctx);
  return JsonReply(out);
}

void RegisterStages(Router& router, HandlerContext& ctx, const std::string& base) {
  router.Add("POST", base + "/{id}/deploy/{stage}", Access::kSignedIn,
             [&ctx](Request& req) { return ChangeStage(ctx, req, req.Param("stage")); },
             {"Deploy an inference service to a stage: debug (one replica, debug. host), test (test. host) or "
              "prod (production host, autoscaler on). Refused for debug and test while it is online. "
              "Body {\"idle\": true} (debug only): the replica waits idle for a terminal instead of running "
              "the command.",
              "inference-services", "", "Service"});
  router.Add("POST", base + "/{id}/clear", Access::kSignedIn,
             [&ctx](Request& req) { return ChangeStage(ctx, req, "clear"); },
             {"Take an inference service offline: its replicas stop and its hosts stop answering",
              "inference-services", "", "Service"});
}

void RegisterKind(Router& router, HandlerContext& ctx, const KindInfo& k) {
  const std::string base = std::string("/api/v1/") + k.collection;
  const std::string noun = k.noun;
  router.Add("GET", base, Access::kSignedIn,
             [&ctx, k](Request& req) {
               Json items = Json::array();
               Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
                 bool all = false;
                 QUADER_ASSIGN_OR_RETURN(auto ids, VisibleProjects(tx, req, &all));
                 QUADER_ASSIGN_OR_RETURN(auto list, store::ListServices(tx, ids, all, k.kind));
                 for (const auto& s : list) items.push_back(ServiceJson(ctx, tx, s, false));
                 return Status::Ok();
               });
               return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
             },
             {"List " + noun + "s (?project=P)", k.collection, "", "List:Service"});
  router.Add("POST", base, Access::kSignedIn,
             [&ctx, k](Request& req) {
               auto body = JsonBody(req);
               if (!body.ok()) return ErrorReply(body.status());
               auto parsed = ParseDoc(k, *body, Domain(ctx));
               if (!parsed.ok()) return ErrorReply(parsed.status());
               Json out;
               Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
                 int64_t id = 0;
                 QUADER_RETURN_IF_ERROR(PutService(tx, req.who(), k, *parsed, Domain(ctx), true, ctx.now(), &id).status());
                 QUADER_ASSIGN_OR_RETURN(auto rec, store::GetService(tx, id));
                 out = ServiceJson(ctx, tx, rec, true);
                 return Status::Ok();
               });
               if (!st.ok()) return ErrorReply(st);
               NotifyServices(ctx);
               return JsonReply(out, 201);
             },
             {"Create a " + noun + " (its replicas start at once)", k.collection, "Service", "Service", 201});
  router.Add("GET", base + "/{id}", Access::kSignedIn,
             [&ctx, k](Request& req) {
               Json out;
               Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(auto s, FindParam(tx, req, k, auth::ProjectAction::kView));
                 out = ServiceJson(ctx, tx, s, true);
                 return Status::Ok();
               });
               return st.ok() ? JsonReply(out) : ErrorReply(st);
             },
             {"A " + noun + " with its replicas, hosts and events (id, or name with ?project=P)", k.collection, "",
              "Service"});
  router.Add("GET", base + "/{id}/logs", Access::kSignedIn,
             [&ctx, k](Request& req) {
               int64_t id = 0;
               Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(auto s, FindParam(tx, req, k, auth::ProjectAction::kView));
                 id = s.id;
                 return Status::Ok();
               });
               if (!st.ok()) return ErrorReply(st);
               if (!ctx.services) return ErrorReply(errors::Unavailable("services are not run by this server"));
               auto replica = ReplicaParam(req);
               if (!replica.ok()) return ErrorReply(replica.status());
               const int index = *replica;
               bool previous = FlagParam(req, "previous");
               bool follow = FlagParam(req, "follow") && !previous;
               // Looked for before the answer starts (reading one chunk), so a
               // missing log is a 404, not an empty 200.
               serving::ServiceController* services = ctx.services;
               Status found = services->Logs(id, index, previous, false, [](std::string_view) { return false; });
               if (!found.ok()) return ErrorReply(found);
               return LogReply(req, [services, id, index, previous, follow](const ChunkWriter& write) {
                 (void)services->Logs(id, index, previous, follow, write);
               });
             },
             {"The log of a " + noun + "'s replica (?replica=N, default the lowest; ?previous=1 its last instance "
              "that ended, kept after a restart; ?follow=1 streams; ?timestamps=1 keeps each line's capture time)", k.collection, "", "Text"});
  router.Add("GET", base + "/{id}/terminal", Access::kSignedIn,
             [&ctx, k](Request& req) {
               int64_t id = 0;
               Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(auto s, FindParam(tx, req, k, auth::ProjectAction::kUse));
                 id = s.id;
                 return CheckTerminalUser(req.who(), s.created_by, std::string(k.noun) + " " + s.name);
               });
               if (!st.ok()) return ErrorReply(st);
               if (!ctx.services) return ErrorReply(errors::Unavailable("services are not run by this server"));
               auto replica = ReplicaParam(req);
               if (!replica.ok()) return ErrorReply(replica.status());
               const int index = *replica;
               serving::ServiceController* services = ctx.services;
               return TerminalReply(req, [services, id, index](const runtime::TerminalOptions& o) {
                 return services->OpenTerminal(id, index, o);
               });
             },
             {"A terminal in a " + noun + "'s replica (?replica=N): a WebSocket (docs/api.md \"Terminals\"); only "
              "its creator, whom it runs as, or an admin", k.collection, "", ""});
  router.Add("GET", base + "/{id}/manifests", Access::kSignedIn,
             [&ctx, k](Request& req) {
               std::optional<store::ServiceRecord> rec;
               auth::ProjectSettings project;
               Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(rec, FindParam(tx, req, k, auth::ProjectAction::kView));
                 QUADER_ASSIGN_OR_RETURN(project, auth::StoredProjectSettings(tx, rec->project_id));
                 return Status::Ok();
               });
               if (!st.ok()) return ErrorReply(st);
               return ManifestsReply(ctx, req, [&](const render::RenderOptions& o) {
                 return render::RenderService(*rec, project, o);
               });
             },
             {"The Kubernetes manifests of a " + noun + " (`quader render`; ?namespace=NS, ?istio=1)", k.collection,
              "", ""});
  router.Add("PUT", base + "/{id}", Access::kSignedIn,
             [&ctx, k](Request& req) {
               auto body = JsonBody(req);
               if (!body.ok()) return ErrorReply(body.status());
               Json out;
               Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(auto s, FindParam(tx, req, k, auth::ProjectAction::kUse));
                 Json doc = *body;
                 for (const char* f : {"id", "kind", "generation", "state", "reason", "created_by", "created_at",
                                       "updated_at", "url", "hosts", "replica_states", "events", "external",
                                       "model_status", "autoscaled_replicas", "deploy_history"}) {
                   doc.erase(f);
                 }
                 if (!doc.contains("project")) doc["project"] = s.project;
                 if (std::string(k.kind) == "Service" && !doc.contains("name")) doc["name"] = s.name;
                 QUADER_ASSIGN_OR_RETURN(auto parsed, ParseDoc(k, doc, Domain(ctx)));
                 if (parsed.name != s.name || parsed.project != s.project) {
                   return errors::Invalid("name", "a " + std::string(k.noun) +
                                                      " cannot be renamed or moved; create a new one");
                 }
                 int64_t id = 0;
                 QUADER_RETURN_IF_ERROR(PutService(tx, req.who(), k, parsed, Domain(ctx), false, ctx.now(), &id).status());
                 QUADER_ASSIGN_OR_RETURN(s, store::GetService(tx, id));
                 out = ServiceJson(ctx, tx, s, true);
                 return Status::Ok();
               });
               if (!st.ok()) return ErrorReply(st);
               NotifyServices(ctx);
               return JsonReply(out);
             },
             {"Change a " + noun + ": its replicas are replaced one by one", k.collection, "Service", "Service"});
  router.Add("DELETE", base + "/{id}", Access::kSignedIn,
             [&ctx, k](Request& req) {
               Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
                 QUADER_ASSIGN_OR_RETURN(auto s, FindParam(tx, req, k, auth::ProjectAction::kUse));
                 QUADER_RETURN_IF_ERROR(CheckPublicService(req.who(), k, s));
                 return store::DeleteService(tx, s.id);
               });
               if (!st.ok()) return ErrorReply(st);
               NotifyServices(ctx);
               Response r;
               r.status = 204;
               return r;
             },
             {"Delete a " + noun + " (its replicas are stopped)", k.collection, "", "", 204});
  if (std::string(k.kind) == "InferenceService") RegisterStages(router, ctx, base);
  ctx.kinds.Register(k.kind, /*project_scoped=*/true,
                     [&ctx, k](store::Tx& tx, const auth::Principal& who, const Json& doc, int64_t now) -> Result<Change> {
                       QUADER_ASSIGN_OR_RETURN(auto parsed, ParseDoc(k, doc, Domain(ctx)));
                       int64_t id = 0;
                       return PutService(tx, who, k, parsed, Domain(ctx), false, now, &id);
                     });
}

}  // namespace

void RegisterServiceRoutes(Router& router, HandlerContext& ctx) {
  RegisterKind(router, ctx, kService);
  RegisterKind(router, ctx, kInference);
}

}  // namespace quader::api
