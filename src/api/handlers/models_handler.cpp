// /api/v1/models: the model registry (issue 19; docs/models.md). A model of
// a project has versions; a version is registered from a finished task's
// outputs (its files copied, once each by content, into the registry's blob
// store), with its framework, metrics, parameters, where it came from and a
// stage. Project membership rules as everywhere: strangers get 404.
#include <algorithm>
#include <filesystem>
#include <set>

#include "api/handlers/artifacts_reply.h"
#include "api/handlers/common.h"
#include "api/handlers/handlers.h"
#include "auth/access.h"
#include "core/names.h"
#include "experiment/experiment_controller.h"
#include "gateway/gateway.h"
#include "pipeline/run_controller.h"
#include "registry/blob_store.h"
#include "registry/register.h"
#include "serving/service_controller.h"
#include "serving/service_spec.h"
#include "store/experiments.h"
#include "store/models.h"
#include "store/pipelines.h"
#include "store/projects.h"
#include "store/services.h"
#include "store/users.h"

namespace quader::api {
namespace {

constexpr size_t kMaxDescription = 4096;

const std::set<std::string> kStages = {"none", "staging", "production", "archived"};

Json ModelJson(const store::ModelRecord& m) {
  return {{"id", m.id},
          {"project", m.project},
          {"name", m.name},
          {"description", m.description},
          {"created_by", m.created_by},
          {"created_at", FormatRfc3339(FromUnixSeconds(m.created_at))},
          {"updated_at", FormatRfc3339(FromUnixSeconds(m.updated_at))},
          {"versions", m.versions},
          {"latest_version", m.latest_version ? Json(m.latest_version) : Json(nullptr)}};
}

Json VersionJson(const store::ModelRecord& m, const store::ModelVersionRecord& v) {
  auto parsed = [](const std::string& text, Json fallback) {
    Json j = Json::parse(text, nullptr, false);
    return j.is_discarded() ? fallback : j;
  };
  return {{"model", m.name},
          {"project", m.project},
          {"version", v.version},
          {"framework", v.framework},
          {"files", parsed(v.files, Json::array())},
          {"size_bytes", v.size_bytes},
          {"metrics", parsed(v.metrics, Json::object())},
          {"params", parsed(v.params, Json::object())},
          {"source", parsed(v.source, Json::object())},
          {"stage", v.stage},
          {"description", v.description},
          {"registered_by", v.registered_by},
          {"registered_at", FormatRfc3339Ms(v.registered_at)}};
}

// {id}: a number, or a name with ?project=P. A model of a project the caller
// may not `action` in is not found.
Result<store::ModelRecord> FindModelParam(store::Tx& tx, const Request& req, auth::ProjectAction action) {
  const std::string& key = req.Param("id");
  std::optional<store::ModelRecord> m;
  if (IsNumericId(key)) {
    auto got = store::GetModel(tx, std::stoll(key));
    if (got.ok()) m = *got;
  } else {
    auto project = store::GetProject(tx, ProjectParam(req));
    if (project.ok()) {
      QUADER_ASSIGN_OR_RETURN(m, store::FindModel(tx, project->id, key));
    }
  }
  if (!m || !auth::CheckProject(tx, req.who(), m->project, action).ok()) return errors::NotFound("model", key);
  return *m;
}



// The inference services of the model's project that serve a version of
// it (their model_ref), with the version each serves.
Result<std::vector<std::pair<store::ServiceRecord, int>>> ServedBy(store::Tx& tx, const store::ModelRecord& m) {
  std::vector<std::pair<store::ServiceRecord, int>> out;
  QUADER_ASSIGN_OR_RETURN(auto services, store::ListServices(tx, {m.project_id}, false, "InferenceService"));
  for (auto& s : services) {
    Json doc = Json::parse(s.spec, nullptr, false);
    auto ref = serving::ParseModelRef(doc.is_object() ? doc.value("model_ref", "") : "");
    if (ref.ok() && ref->name == m.name) out.emplace_back(std::move(s), ref->version);
  }
  return out;
}

Response ListModels(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    bool all = false;
    QUADER_ASSIGN_OR_RETURN(auto ids, VisibleProjects(tx, req, &all));
    QUADER_ASSIGN_OR_RETURN(auto models, store::ListModels(tx, ids, all));
    for (const auto& m : models) items.push_back(ModelJson(m));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

Response CreateModel(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  auto asked = ParseNewNamedObject(*body);
  if (!asked.ok()) return ErrorReply(asked.status());
  store::ModelRecord m;
  m.name = asked->name;
  m.description = asked->description;
  m.created_by = req.who().username;
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a,
                            auth::CheckProject(tx, req.who(), asked->project, auth::ProjectAction::kUse));
    QUADER_ASSIGN_OR_RETURN(auto existing, store::FindModel(tx, a.project.id, m.name));
    if (existing) return errors::AlreadyExists("model", m.name);
    m.project_id = a.project.id;
    QUADER_ASSIGN_OR_RETURN(auto made, store::InsertModel(tx, m, ctx.now()));
    out = ModelJson(made);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out, 201) : ErrorReply(st);
}

Response GetModel(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto m, FindModelParam(tx, req, auth::ProjectAction::kView));
    out = ModelJson(m);
    Json served = Json::array();
    QUADER_ASSIGN_OR_RETURN(auto services, ServedBy(tx, m));
    for (const auto& [s, version] : services) {
      served.push_back({{"service", s.name}, {"id", s.id}, {"version", version}, {"stage", s.stage}});
    }
    out["served_by"] = std::move(served);
    Json versions = Json::array();
    QUADER_ASSIGN_OR_RETURN(auto list, store::ListModelVersions(tx, m.id));
    for (const auto& v : list) versions.push_back(VersionJson(m, v));
    out["version_list"] = std::move(versions);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

// A version (0: any) a service of the model's project serves is not deleted:
// refused naming the service.
Status RefuseInUse(store::Tx& tx, const store::ModelRecord& m, int version) {
  QUADER_ASSIGN_OR_RETURN(auto services, ServedBy(tx, m));
  for (const auto& [s, served] : services) {
    if (version == 0 || served == version) {
      return errors::Conflict("inference service \"" + s.name + "\" serves " + m.name + "@" +
                              std::to_string(served) + ": deploy another version to it, or delete it, first");
    }
  }
  return Status::Ok();
}

void Forget(HandlerContext& ctx, const std::vector<std::string>& unheld) {
  if (ctx.blobs == nullptr) return;
  registry::RemoveUnheldBlobs(ctx.store, *ctx.blobs, unheld);
}

Response DeleteModel(HandlerContext& ctx, Request& req) {
  std::vector<std::string> unheld;
  store::ModelRecord gone;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto m, FindModelParam(tx, req, auth::ProjectAction::kUse));
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), m.project, m.created_by, "model", m.name));
    QUADER_RETURN_IF_ERROR(RefuseInUse(tx, m, 0));
    QUADER_ASSIGN_OR_RETURN(unheld, store::DeleteModel(tx, m.id));
    gone = m;
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  if (ctx.blobs) {
    registry::BlobStore::Dematerialize(registry::ModelDir(ctx.blobs->data_dir(), gone.project, gone.name));
  }
  Forget(ctx, unheld);
  return JsonReply(Json::object());
}

// What a registration asks for, checked before anything is copied.
struct Registration {
  int64_t run = 0;  // a run's task, or
  std::string task;
  int64_t experiment = 0;  // an experiment's trial
  int trial = -1;
  std::string path;
  std::string framework;
  Json metrics = Json::object();
  Json params = Json::object();
  std::string description;
};

Result<int64_t> PositiveId(const Json& body, const char* field, const char* what) {
  if (!body.contains(field) || !body[field].is_number_integer() || body[field].get<int64_t>() < 1) {
    return errors::Invalid(field, std::string("must be ") + what + " (a positive number)");
  }
  return body[field].get<int64_t>();
}

Result<Registration> ParseRegistration(const Json& body) {
  Registration r;
  for (const auto& [k, v] : body.items()) {
    static const std::set<std::string> known = {"run",  "task",      "experiment", "trial",      "path",
                                                "framework", "metrics", "params", "description"};
    if (!known.count(k)) return errors::Invalid(k, "unknown field");
  }
  if (body.contains("experiment") == body.contains("run")) {
    return errors::Invalid("body", "give run and task (a task's outputs) or experiment and trial (a trial's)");
  }
  if (body.contains("run")) {
    QUADER_ASSIGN_OR_RETURN(r.run, PositiveId(body, "run", "a run id"));
    QUADER_RETURN_IF_ERROR(CheckText("task", body.value("task", Json()), 256));
    r.task = body["task"].get<std::string>();
  } else {
    QUADER_ASSIGN_OR_RETURN(r.experiment, PositiveId(body, "experiment", "an experiment id"));
    if (!body.contains("trial") || !body["trial"].is_number_integer() || body["trial"].get<int64_t>() < 0 ||
        body["trial"].get<int64_t>() > 1000000) {
      return errors::Invalid("trial", "must be a trial's sequence number (0, 1, ...)");
    }
    r.trial = static_cast<int>(body["trial"].get<int64_t>());
  }
  if (body.contains("path")) {
    QUADER_RETURN_IF_ERROR(CheckText("path", body["path"], 4096));
    r.path = body["path"].get<std::string>();
  }
  QUADER_RETURN_IF_ERROR(CheckText("framework", body.value("framework", Json()), 64));
  r.framework = body["framework"].get<std::string>();
  if (body.contains("metrics")) r.metrics = body["metrics"];
  if (body.contains("params")) r.params = body["params"];
  if (body.contains("description")) {
    QUADER_RETURN_IF_ERROR(CheckText("description", body["description"], kMaxDescription));
    r.description = body["description"].get<std::string>();
  }
  QUADER_RETURN_IF_ERROR(registry::CheckVersionFields(r.framework, r.metrics, r.params, r.description));
  return r;
}

// The run's task a registration names: of the model's project, succeeded.
// Fills the version's source and where its files are.
Status FromTask(HandlerContext& ctx, store::Tx& tx, const store::ModelRecord& model, const Registration& reg,
                registry::VersionRequest* vr) {
  auto run = store::GetRun(tx, reg.run);
  // A run of another project is not seen from here (nothing crosses a project boundary).
  if (!run.ok() || run->project_id != model.project_id) return errors::NotFound("run", std::to_string(reg.run));
  QUADER_ASSIGN_OR_RETURN(auto task, store::FindRunTask(tx, reg.run, reg.task));
  if (!task) return errors::NotFound("task", reg.task);
  if (task->state != "succeeded") {
    return errors::Conflict("task \"" + reg.task + "\" is " + task->state +
                            ": only a task that succeeded registers a version");
  }
  if (ctx.runs == nullptr) return errors::Unavailable("runs are not enabled on this server");
  vr->outputs_root = ctx.runs->OutputsDir(reg.run, reg.task);
  vr->source = {{"run", reg.run}, {"pipeline", run->pipeline_name}, {"task", reg.task}, {"attempt", task->attempt},
                {"path", reg.path.empty() ? "." : reg.path}};
  return Status::Ok();
}

// The experiment's trial a registration names: of the model's project,
// succeeded. Its parameters and final value are the version's unless the
// registration gives its own.
Status FromTrial(HandlerContext& ctx, store::Tx& tx, const store::ModelRecord& model, const Registration& reg,
                 registry::VersionRequest* vr) {
  auto e = store::GetExperiment(tx, reg.experiment);
  if (!e.ok() || e->project_id != model.project_id) return errors::NotFound("experiment", std::to_string(reg.experiment));
  QUADER_ASSIGN_OR_RETURN(auto trial, store::FindTrial(tx, reg.experiment, reg.trial));
  if (!trial) return errors::NotFound("trial", std::to_string(reg.trial));
  if (trial->state != "succeeded") {
    return errors::Conflict("trial " + std::to_string(reg.trial) + " is " + trial->state +
                            ": only a trial that succeeded registers a version");
  }
  if (ctx.experiments == nullptr) return errors::Unavailable("experiments are not enabled on this server");
  vr->outputs_root = ctx.experiments->OutputsDir(reg.experiment, reg.trial);
  if (vr->params.empty()) {
    Json params = Json::parse(trial->params, nullptr, false);
    for (const auto& [k, v] : params.is_object() ? params.items() : Json::object().items()) {
      // What the registry takes (CheckVersionFields): short names, short strings, 100 at most.
      if (k.empty() || k.size() > 128 || vr->params.size() >= 100) continue;
      if ((v.is_number() || v.is_boolean()) || (v.is_string() && v.get<std::string>().size() <= 1024)) vr->params[k] = v;
    }
  }
  if (vr->metrics.empty() && trial->final_value) {
    Json spec = Json::parse(e->spec, nullptr, false);
    vr->metrics[spec.is_object() ? spec.value("objective_metric", "default") : "default"] = *trial->final_value;
  }
  vr->source = {{"experiment", reg.experiment}, {"experiment_name", e->name}, {"trial", reg.trial},
                {"path", reg.path.empty() ? "." : reg.path}};
  return registry::CheckVersionFields(vr->framework, vr->metrics, vr->params, vr->description);
}

Response RegisterVersion(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  auto reg = ParseRegistration(*body);
  if (!reg.ok()) return ErrorReply(reg.status());
  if (ctx.blobs == nullptr) return ErrorReply(errors::Unavailable("the model registry is not enabled on this server"));
  registry::VersionRequest vr;
  vr.path = reg->path;
  vr.framework = reg->framework;
  vr.metrics = reg->metrics;
  vr.params = reg->params;
  vr.description = reg->description;
  vr.registered_by = req.who().username;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto model, FindModelParam(tx, req, auth::ProjectAction::kUse));
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), model.project, model.created_by, "model", model.name));
    vr.model_id = model.id;
    return reg->run > 0 ? FromTask(ctx, tx, model, *reg, &vr) : FromTrial(ctx, tx, model, *reg, &vr);
  });
  if (!st.ok()) return ErrorReply(st);
  // The files, outside any transaction: copied (once each by content) from
  // the outputs, which a workload wrote and nothing here trusts.
  auto done = registry::RegisterVersion(ctx.store, *ctx.blobs, ctx.now_ms(), vr);
  if (!done.ok()) return ErrorReply(done.status());
  Json out = VersionJson(done->model, done->version);
  if (!done->skipped.empty()) out["skipped"] = done->skipped;
  return JsonReply(out, 201);
}

Response GetVersion(HandlerContext& ctx, Request& req) {
  auto version = VersionParam(req, "model version");
  if (!version.ok()) return ErrorReply(version.status());
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto m, FindModelParam(tx, req, auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(auto v, store::GetModelVersion(tx, m.id, *version));
    out = VersionJson(m, v);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response UpdateVersion(HandlerContext& ctx, Request& req) {
  auto version = VersionParam(req, "model version");
  if (!version.ok()) return ErrorReply(version.status());
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  for (const auto& [k, v] : body->items()) {
    if (k != "stage") return ErrorReply(errors::Invalid(k, "unknown field (a version's stage is all that changes)"));
  }
  if (!body->contains("stage") || !(*body)["stage"].is_string() || !kStages.count((*body)["stage"].get<std::string>())) {
    return ErrorReply(errors::Invalid("stage", "must be one of none, staging, production, archived"));
  }
  const std::string stage = (*body)["stage"].get<std::string>();
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto m, FindModelParam(tx, req, auth::ProjectAction::kUse));
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), m.project, m.created_by, "model", m.name));
    QUADER_ASSIGN_OR_RETURN(auto v, store::GetModelVersion(tx, m.id, *version));
    QUADER_RETURN_IF_ERROR(store::SetModelVersionStage(tx, v.id, stage));
    QUADER_ASSIGN_OR_RETURN(v, store::GetModelVersion(tx, m.id, *version));
    out = VersionJson(m, v);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response DeleteVersion(HandlerContext& ctx, Request& req) {
  auto version = VersionParam(req, "model version");
  if (!version.ok()) return ErrorReply(version.status());
  std::vector<std::string> unheld;
  store::ModelRecord gone;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto m, FindModelParam(tx, req, auth::ProjectAction::kUse));
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), m.project, m.created_by, "model", m.name));
    QUADER_ASSIGN_OR_RETURN(auto v, store::GetModelVersion(tx, m.id, *version));
    if (v.stage == "production") {
      return errors::Conflict("version " + std::to_string(v.version) + " of " + m.name +
                              " is in production: move it to another stage first");
    }
    QUADER_RETURN_IF_ERROR(RefuseInUse(tx, m, v.version));
    QUADER_ASSIGN_OR_RETURN(unheld, store::DeleteModelVersion(tx, v.id));
    gone = m;
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  if (ctx.blobs) registry::BlobStore::Dematerialize(registry::VersionDir(ctx.blobs->data_dir(), gone.project, gone.name, *version));
  Forget(ctx, unheld);
  return JsonReply(Json::object());
}

// The inference service document that serves version `v` of `m`: the
// project's service `service` switched to it, or (`service` empty) a new
// one named by the guide's rule (the predict server, for sklearn and
// xgboost versions).
Result<Json> DeployDocument(store::Tx& tx, const store::ModelRecord& m, const store::ModelVersionRecord& v,
                            const std::string& service) {
  const std::string ref = m.name + "@" + std::to_string(v.version);
  const std::string target = "/models/" + m.name + "/" + std::to_string(v.version);
  if (!service.empty()) {
    QUADER_ASSIGN_OR_RETURN(auto svc, store::FindService(tx, m.project_id, service));
    if (!svc || svc->kind != "InferenceService") {
      return errors::NotFound("inference service", service + " (in project " + m.project + ")");
    }
    Json doc = Json::parse(svc->spec, nullptr, false);
    if (!doc.is_object()) return errors::Internal("the stored spec of " + service + " is not JSON");
    // The files it served from the registry give way to this version's.
    const std::string old_path = doc.value("model_path", "");
    if (old_path.empty() || old_path.rfind("/models/", 0) == 0) doc["model_path"] = target;
    doc["model_ref"] = ref;
    return doc;
  }
  // The predict server: joblib models (scikit-learn, XGBoost) in quader/predict:1,
  // TorchScript in quader/predict-torch:1 (the same server with torch).
  if (v.framework != "sklearn" && v.framework != "xgboost" && v.framework != "pytorch") {
    return errors::Invalid("framework", "no serving image for " + v.framework +
                                            " models here: deploy to an inference service you made for it "
                                            "({\"service\": NAME})");
  }
  const std::string image = v.framework == "pytorch" ? "quader/predict-torch:1" : "quader/predict:1";
  // Named by the guide's rule, $service_type-$model_name-$version_digits.
  std::string label = m.name;
  std::replace(label.begin(), label.end(), '.', '-');
  QUADER_ASSIGN_OR_RETURN(std::string name, gateway::InferenceServiceName("serving", label, "v" + std::to_string(v.version)));
  return Json{{"kind", "InferenceService"},
              {"name", name},
              {"project", m.project},
              {"service_type", "serving"},
              {"model_name", m.name},
              {"model_version", "v" + std::to_string(v.version)},
              {"model_ref", ref},
              {"description", "version " + std::to_string(v.version) + " of model " + m.name + " (model registry)"},
              {"image", image},
              {"command", "python3 /app/predict_server.py"},
              {"ports", Json::array({8080})},
              {"health", "8080:/health"}};
}

// Applies the deploy document as `who`: {service, project, model_ref, result}.
Result<Json> ApplyDeploy(HandlerContext& ctx, const auth::Principal& who, const Json& doc, bool created) {
  QUADER_ASSIGN_OR_RETURN(auto applied, ctx.kinds.ApplyDocuments(ctx.store, who, {doc}, ctx.now()));
  if (ctx.services) ctx.services->Notify();
  const ApplyResult& r = applied.at(0);
  return Json{{"service", r.name},
              {"project", doc.value("project", "")},
              {"model_ref", doc.value("model_ref", "")},
              {"result", created && r.change == Change::kCreated ? "created"
                         : r.change == Change::kUnchanged       ? "unchanged"
                                                                  : "updated"}};
}

// Serves a version: creates an inference service for it (the predict server
// for sklearn and xgboost), or, with {"service": NAME}, switches an inference
// service of the project to it. The switch is a new generation of the
// service, so replicas are replaced one by one once the new ones are ready
// (no failed request): deploying an earlier version is the rollback.
Response DeployVersion(HandlerContext& ctx, Request& req) {
  auto version = VersionParam(req, "model version");
  if (!version.ok()) return ErrorReply(version.status());
  Json body = Json::object();
  if (!req.body.empty()) {
    auto parsed = JsonBody(req);
    if (!parsed.ok()) return ErrorReply(parsed.status());
    body = *parsed;
  }
  for (const auto& [k, v] : body.items()) {
    if (k != "service") return ErrorReply(errors::Invalid(k, "unknown field (a deploy takes only service)"));
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 256) {
      return ErrorReply(errors::Invalid("service", "must be the name of an inference service of the model's project"));
    }
  }
  const std::string service = body.value("service", "");
  Json doc;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto m, FindModelParam(tx, req, auth::ProjectAction::kUse));
    QUADER_ASSIGN_OR_RETURN(auto v, store::GetModelVersion(tx, m.id, *version));
    QUADER_ASSIGN_OR_RETURN(doc, DeployDocument(tx, m, v, service));
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  auto done = ApplyDeploy(ctx, req.who(), doc, service.empty());
  if (!done.ok()) return ErrorReply(done.status());
  return JsonReply(*done, (*done)["result"] == "created" ? 201 : 200);
}

// One file of a version, checked against its checksum as it is sent.
Response VersionFile(HandlerContext& ctx, Request& req) {
  auto version = VersionParam(req, "model version");
  if (!version.ok()) return ErrorReply(version.status());
  std::vector<registry::BlobFile> files;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto m, FindModelParam(tx, req, auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(auto v, store::GetModelVersion(tx, m.id, *version));
    files = registry::VersionFiles(v.files);
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  return RegistryFileReply(req, ctx.blobs, files);
}

}  // namespace

Result<Json> DeployModelAs(HandlerContext& ctx, const std::string& username, const std::string& project_name,
                           const std::string& model, int version, const std::string& service) {
  auth::Principal who;
  Json doc;
  QUADER_RETURN_IF_ERROR(ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto user, store::GetUser(tx, username));
    if (!user.active) return errors::Denied("user " + username + " is deactivated");
    who.user_id = user.id;
    who.username = user.username;
    who.is_admin = user.is_admin;
    QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a, auth::CheckProject(tx, who, project_name, auth::ProjectAction::kUse));
    QUADER_ASSIGN_OR_RETURN(auto m, store::FindModel(tx, a.project.id, model));
    if (!m) return errors::NotFound("model", model + " (in project " + project_name + ")");
    if (m->latest_version == 0) return errors::NotFound("model version", model + " has no versions");
    if (version == 0) version = m->latest_version;
    QUADER_ASSIGN_OR_RETURN(auto v, store::GetModelVersion(tx, m->id, version));
    QUADER_ASSIGN_OR_RETURN(doc, DeployDocument(tx, *m, v, service));
    return Status::Ok();
  }));
  return ApplyDeploy(ctx, who, doc, service.empty());
}

void RegisterModelRoutes(Router& router, HandlerContext& ctx) {
  auto bind = [&ctx](Response (*fn)(HandlerContext&, Request&)) {
    return [&ctx, fn](Request& req) { return fn(ctx, req); };
  };
  router.Add("GET", "/api/v1/models", Access::kSignedIn, bind(ListModels),
             {"List models (?project=P)", "models", "", "List:Model"});
  router.Add("POST", "/api/v1/models", Access::kSignedIn, bind(CreateModel),
             {"Create a model: {project?, name, description?}", "models", "NewModel", "Model", 201});
  router.Add("GET", "/api/v1/models/{id}", Access::kSignedIn, bind(GetModel),
             {"A model (id, or name with ?project=P) with its versions, newest first", "models", "", "Model"});
  router.Add("DELETE", "/api/v1/models/{id}", Access::kSignedIn, bind(DeleteModel),
             {"Delete a model, its versions and the files no other version holds", "models", "", "Empty"});
  router.Add("POST", "/api/v1/models/{id}/versions", Access::kSignedIn, bind(RegisterVersion),
             {"Register a version from a succeeded task's outputs {run, task} or trial's {experiment, trial}: "
              "path?, framework, metrics?, params? (a trial's by default), description?",
              "models", "NewModelVersion", "ModelVersion", 201});
  router.Add("GET", "/api/v1/models/{id}/versions/{version}", Access::kSignedIn, bind(GetVersion),
             {"One version of a model", "models", "", "ModelVersion"});
  router.Add("PUT", "/api/v1/models/{id}/versions/{version}", Access::kSignedIn, bind(UpdateVersion),
             {"Move a version to a stage: {stage: none|staging|production|archived}", "models", "ModelVersionUpdate",
              "ModelVersion"});
  router.Add("DELETE", "/api/v1/models/{id}/versions/{version}", Access::kSignedIn, bind(DeleteVersion),
             {"Delete a version (refused while it is in production)", "models", "", "Empty"});
  router.Add("POST", "/api/v1/models/{id}/versions/{version}/deploy", Access::kSignedIn, bind(DeployVersion),
             {"Serve a version: a new inference service (sklearn, xgboost), or {service: NAME} switches one of the "
              "project's to it through the gray upgrade (the rollback is deploying an earlier version)",
              "models", "ModelDeploy", "ModelDeployResult"});
  router.Add("GET", "/api/v1/models/{id}/versions/{version}/file", Access::kSignedIn, bind(VersionFile),
             {"Download one file of a version (?path=FILE), checked against its SHA-256", "models", "", "Binary"});
}

}  // namespace quader::api
