#include "api/api.h"

#include "auth/users.h"

namespace quader::api {

Api::Api(store::Store& store, const Clock& clock, Metrics& metrics, ApiOptions options)
    : login_limiter_(clock),
      ctx_{store, clock, metrics, kinds_, lists_, options.token_ttl_seconds, options.builds,
            options.runs, options.schedules, options.experiments, options.services, options.notebooks,
            options.gateway_url, options.render, &login_limiter_, &password_workers_, options.metrics_token,
            options.isolation_missing},
      router_([&store, &clock](const Request& req) {
        bool from_cookie = false;
        return auth::Authenticate(store, clock, TokenOf(req, &from_cookie));
      }),
      static_(options.web_dir) {
  ctx_.snapshots = &snapshots_;
  ctx_.blobs = options.blobs;
  RegisterSessionRoutes(router_, ctx_);
  RegisterUserRoutes(router_, ctx_);
  RegisterProjectRoutes(router_, ctx_);
  RegisterApplyRoutes(router_, ctx_);
  RegisterImportRoutes(router_, ctx_);
  RegisterImageRoutes(router_, ctx_);
  RegisterPipelineRoutes(router_, ctx_);
  RegisterExperimentRoutes(router_, ctx_);
  RegisterServiceRoutes(router_, ctx_);
  RegisterNotebookRoutes(router_, ctx_);
  RegisterModelRoutes(router_, ctx_);
  RegisterDatasetRoutes(router_, ctx_);
  RegisterSystemRoutes(router_, ctx_);  // last: its OpenAPI document lists every route
}

Response Api::Handle(Request& req, std::string* route_label) {
  bool api = req.path.rfind("/api/", 0) == 0 || req.path == "/api" || req.path == "/healthz" ||
             req.path == "/metrics";
  if (api) return router_.Dispatch(req, route_label);
  *route_label = "static";
  return static_.Serve(req);
}

}  // namespace quader::api
