// POST /api/v1/apply: the documents `quader apply -f` sends.
#include "api/handlers/handlers.h"
#include "pipeline/schedule_controller.h"
#include "experiment/experiment_controller.h"
#include "notebook/notebook_controller.h"
#include "serving/service_controller.h"

namespace quader::api {

void RegisterApplyRoutes(Router& router, HandlerContext& ctx) {
  router.Add(
      "POST", "/api/v1/apply", Access::kSignedIn,
      [&ctx](Request& req) {
        auto results = ctx.kinds.ApplyAll(ctx.store, req.who(), req.body, ctx.now());
        if (!results.ok()) return ErrorReply(results.status());
        Json items = Json::array();
        bool pipelines_changed = false, experiments_changed = false, services_changed = false, notebooks_changed = false;
        for (const auto& r : *results) {
          pipelines_changed = pipelines_changed || (r.kind == "Pipeline" && r.change != Change::kUnchanged);
          experiments_changed = experiments_changed || (r.kind == "Experiment" && r.change != Change::kUnchanged);
          services_changed = services_changed || ((r.kind == "Service" || r.kind == "InferenceService") &&
                                                  r.change != Change::kUnchanged);
          notebooks_changed = notebooks_changed || (r.kind == "Notebook" && r.change != Change::kUnchanged);
          Json item = {{"kind", r.kind}, {"name", r.name}, {"action", ChangeName(r.change)}};
          if (!r.project.empty()) item["project"] = r.project;
          items.push_back(std::move(item));
        }
        // After the commit, so the cron sees the saved schedules.
        if (pipelines_changed && ctx.schedules) ctx.schedules->Notify();
        if (experiments_changed && ctx.experiments) ctx.experiments->Notify();
        if (services_changed && ctx.services) ctx.services->Notify();
        if (notebooks_changed && ctx.notebooks) ctx.notebooks->Notify();
        return JsonReply({{"results", std::move(items)}});
      },
      {"Apply YAML or JSON documents (kind, name, project) in one transaction", "apply",
       "Documents", "ApplyResults"});
}

}  // namespace quader::api
