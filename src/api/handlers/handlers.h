#pragma once
// One file per REST resource registers its routes here (STYLE.md rule 34).

#include <cstdint>

#include "api/apply.h"
#include "api/metrics.h"
#include "api/response_cache.h"
#include "api/router.h"
#include "auth/login_limiter.h"
#include "auth/password_workers.h"
#include "core/clock.h"
#include "render/render.h"
#include "store/records.h"
#include "store/store.h"

namespace quader::images {
class BuildController;
}
namespace quader::pipeline {
class RunController;
class ScheduleController;
}
namespace quader::experiment {
class ExperimentController;
}
namespace quader::serving {
class ServiceController;
}
namespace quader::notebook {
class NotebookController;
}
namespace quader::registry {
class BlobStore;
}

namespace quader::api {

class SnapshotCache;

// What handlers share. Outlives the router; every member is thread-safe.
struct HandlerContext {
  store::Store& store;
  const Clock& clock;
  Metrics& metrics;
  KindRegistry& kinds;
  ResponseCache& lists;  // rendered list bodies, per caller, until the next write
  int64_t token_ttl_seconds;
  images::BuildController* builds;  // null: builds are not run by this server
  pipeline::RunController* runs;    // null: runs are recorded but not executed (tests)
  pipeline::ScheduleController* schedules;  // null: no cron
  experiment::ExperimentController* experiments;  // null: experiments are recorded but not run (tests)
  serving::ServiceController* services;  // null: services are recorded but not run (tests)
  notebook::NotebookController* notebooks;  // null: notebooks are recorded but not run (tests)
  std::string gateway_url;  // "http://127.0.0.1:8081", where notebooks are opened; "" = unknown
  render::RenderOptions render;  // defaults of .../manifests (`quader render`)
  auth::LoginLimiter* login_limiter = nullptr;        // null: sign-ins are not limited
  auth::PasswordWorkers* password_workers = nullptr;  // null: hashing on the request's worker
  std::string metrics_token;  // a bearer token that may read /metrics; "": admins only
  std::string isolation_missing;  // what keeps users' workloads apart and is missing; "": nothing
  SnapshotCache* snapshots = nullptr;  // parsed run snapshots; null: parsed per request
  registry::BlobStore* blobs = nullptr;  // the model registry's files; null: no registry

  int64_t now() const { return ToUnixSeconds(clock.Now()); }
  int64_t now_ms() const { return ToUnixMillis(clock.Now()); }
};

void RegisterSessionRoutes(Router& router, HandlerContext& ctx);  // login, logout, me
void RegisterUserRoutes(Router& router, HandlerContext& ctx);
void RegisterProjectRoutes(Router& router, HandlerContext& ctx);
void RegisterApplyRoutes(Router& router, HandlerContext& ctx);
void RegisterImportRoutes(Router& router, HandlerContext& ctx);  // cube-studio export files
void RegisterImageRoutes(Router& router, HandlerContext& ctx);  // images, image-builds
// templates, pipelines, runs, schedules (+ the JobTemplate and Pipeline kinds)
void RegisterPipelineRoutes(Router& router, HandlerContext& ctx);
// experiments, their trials and the trial API of the `nni` module (+ the Experiment kind)
void RegisterExperimentRoutes(Router& router, HandlerContext& ctx);
// services and inference services (+ the Service and InferenceService kinds)
void RegisterServiceRoutes(Router& router, HandlerContext& ctx);
// notebooks, their reset/stop/start and logs (+ the Notebook kind)
void RegisterNotebookRoutes(Router& router, HandlerContext& ctx);
// the model registry: models, their versions and files
void RegisterModelRoutes(Router& router, HandlerContext& ctx);
// Serves `version` (0: the newest) of model `model` of project
// `project_name` as `username` (a task's deploy_model declaration): a new
// inference service, or `service` switched to it. {service, project,
// model_ref, result}.
Result<Json> DeployModelAs(HandlerContext& ctx, const std::string& username, const std::string& project_name,
                           const std::string& model, int version, const std::string& service);
// data sets: their uploads, versions, files, previews and lineage
void RegisterDatasetRoutes(Router& router, HandlerContext& ctx);
// Drops data set uploads older than a day that were never made a version,
// then removes the registry's files nothing holds (left by a project deleted
// with its models, a registration or upload cut off). Before the API serves:
// a registration copies its files before it records them. The count removed.
Result<int> SweepRegistryBlobs(store::Store& store, const registry::BlobStore& blobs, int64_t now_ms);
// /healthz, /metrics, /api/v1/openapi.json (describes every route added before it).
void RegisterSystemRoutes(Router& router, HandlerContext& ctx);

// GET .../manifests: `render` with the request's ?namespace= and ?istio=1
// applied to ctx.render; {"manifests": [...], "yaml": "..."}.
Response ManifestsReply(const HandlerContext& ctx, const Request& req,
                        const std::function<Result<std::vector<Json>>(const render::RenderOptions&)>& render);

// JSON forms of records (docs/api.md "Objects").
Json UserJson(const store::UserRecord& u);
Json ProjectJson(const store::ProjectRecord& p, const std::optional<std::string>& role);
Json MemberJson(const store::MemberRecord& m);
// {"items": [...]}
Json ListJson(Json items);

}  // namespace quader::api
