// /healthz, /metrics and the OpenAPI document.
#include "api/handlers/handlers.h"
#include "api/openapi.h"

#include <mutex>

namespace quader::api {

void RegisterSystemRoutes(Router& router, HandlerContext& ctx) {
  router.Add("GET", "/healthz", Access::kPublic,
             [](Request&) { return JsonReply({{"status", "ok"}}); },
             {"Liveness and readiness: 200 once the server serves", "system", "", "Health"});
  router.Add("GET", "/metrics", Access::kPublic,
             [&ctx](Request&) {
               Response r;
               r.content_type = "text/plain; version=0.0.4; charset=utf-8";
               r.body = ctx.metrics.Render();
               return r;
             },
             {"Prometheus metrics (text format)", "system", "", "Text"});
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
