// /healthz, /metrics and the OpenAPI document.
#include "api/handlers/handlers.h"
#include "api/openapi.h"
#include "auth/passwords.h"
#include "auth/users.h"

#include <mutex>

namespace quader::api {
namespace {

// /metrics names every project's services and notebooks: only the scrape
// token (--metrics-token-file, sent as "Authorization: Bearer T") or an
// admin's token or session may read it. 401 for no or a bad token, 403 for
// a signed-in non-admin.
Status CheckMetricsAccess(HandlerContext& ctx, const Request& req) {
  bool from_cookie = false;
  std::string token = TokenOf(req, &from_cookie);
  const std::string& scrape = ctx.metrics_token;
  if (!from_cookie && !scrape.empty() && auth::SecretsEqual(token, scrape)) {
    return Status::Ok();
  }
  if (token.empty()) {
    return errors::Unauthenticated("sign in as an admin or send the metrics scrape token as a bearer token");
  }
  QUADER_ASSIGN_OR_RETURN(auth::Principal who, auth::Authenticate(ctx.store, ctx.clock, token));
  return auth::RequireAdmin(who, "read /metrics (or use the scrape token of --metrics-token-file)");
}

}  // namespace

void RegisterSystemRoutes(Router& router, HandlerContext& ctx) {
  // Still 200 without isolation (the server serves, admins' work runs), but
  // it says what is missing.
  router.Add("GET", "/healthz", Access::kPublic,
             [&ctx](Request&) {
               Json body = {{"status", "ok"}, {"isolation", ctx.isolation_missing.empty() ? "ok" : "missing"}};
               if (!ctx.isolation_missing.empty()) {
                 body["isolation_missing"] = ctx.isolation_missing;
                 body["note"] = "workloads cannot be isolated from each other here: only admins' work runs";
               }
               return JsonReply(body);
             },
             {"Liveness and readiness: 200 once the server serves", "system", "", "Health"});
  router.Add("GET", "/metrics", Access::kPublic,
             [&ctx](Request& req) {
               if (Status st = CheckMetricsAccess(ctx, req); !st.ok()) return ErrorReply(st);
               Response r;
               r.content_type = "text/plain; version=0.0.4; charset=utf-8";
               r.body = ctx.metrics.Render();
               return r;
             },
             {"Prometheus metrics (text format); an admin's token or the scrape token of --metrics-token-file",
              "system", "", "Text"});
  // Built on first use, when every route is known (routes are fixed by then).
  auto once = std::make_shared<std::once_flag>();
  auto doc = std::make_shared<std::string>();
  router.Add("GET", "/api/v1/openapi.json", Access::kPublic,
             [&router, once, doc](Request&) {
               std::call_once(*once, [&] { *doc = BuildOpenApi(router).dump(2); });
               Response r;
               r.body = *doc;
               return r;
             },
             {"This OpenAPI 3 document", "system", "", "Object"});
}

}  // namespace quader::api
