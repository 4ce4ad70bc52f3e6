#pragma once
// The whole HTTP surface of the server: the REST API (every route from
// handlers/), health, metrics, OpenAPI, and the web UI's static files.
// Construct once, then Handle() from any thread.

#include <memory>
#include <string>

#include "api/apply.h"
#include "api/handlers/handlers.h"
#include "api/metrics.h"
#include "api/router.h"
#include "api/snapshot_cache.h"
#include "api/static_files.h"

namespace quader::api {

struct ApiOptions {
  int64_t token_ttl_seconds = 7 * 24 * 3600;
  std::string web_dir;  // built UI; empty or missing: a page explains how to build it
  images::BuildController* builds = nullptr;  // runs image builds; null: none
  pipeline::RunController* runs = nullptr;    // executes runs; null: none
  pipeline::ScheduleController* schedules = nullptr;  // the cron; null: none
  experiment::ExperimentController* experiments = nullptr;  // runs experiments; null: none
  serving::ServiceController* services = nullptr;            // runs services; null: none
  notebook::NotebookController* notebooks = nullptr;         // runs notebooks; null: none
  std::string gateway_url;  // where notebooks are opened ("http://HOST:PORT"); "" = unknown
  render::RenderOptions render;  // defaults of .../manifests (`quader render`)
  std::string metrics_token;     // --metrics-token-file: a scrape token for /metrics; "": admins only
  // What keeps workloads of different users apart is missing here ("":
  // nothing); /healthz says so (docs/security.md).
  std::string isolation_missing;
  registry::BlobStore* blobs = nullptr;  // the model registry's files; null: no registry
};

class Api {
 public:
  Api(store::Store& store, const Clock& clock, Metrics& metrics, ApiOptions options);

  // Routes /api/*, /healthz and /metrics through the router, the rest to
  // the UI. Thread-safe.
  Response Handle(Request& req, std::string* route_label);

  KindRegistry& kinds() { return kinds_; }
  // A registry version served as `username` (handlers.h DeployModelAs): what
  // a task's deploy_model declaration does (pipeline::RunController::SetModelDeployer).
  Result<Json> DeployModelAs(const std::string& username, const std::string& project, const std::string& model,
                             int version, const std::string& service) {
    return api::DeployModelAs(ctx_, username, project, model, version, service);
  }
  const Router& router() const { return router_; }
  const StaticFiles& static_files() const { return static_; }

 private:
  KindRegistry kinds_;
  ResponseCache lists_;
  auth::LoginLimiter login_limiter_;
  auth::PasswordWorkers password_workers_;
  SnapshotCache snapshots_;
  HandlerContext ctx_;
  Router router_;
  StaticFiles static_;
};

}  // namespace quader::api
