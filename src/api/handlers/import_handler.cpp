// POST /api/v1/projects/{name}/import/cube-studio: one cube-studio export
// file (cubestudio/convert.h) applied object by object through the apply
// path, each in its own transaction, so an object is created whole or
// refused with the reason, and never half-made.
#include "api/handlers/handlers.h"
#include "pipeline/schedule_controller.h"
#include "cubestudio/convert.h"
#include "experiment/experiment_controller.h"
#include "serving/service_controller.h"

namespace quader::api {
namespace {

// `document N (Kind "x"): ` in front of an apply error says nothing here: one
// document is applied at a time.
std::string Reason(const Status& st) {
  std::string m = st.message();
  if (m.rfind("document 1 (", 0) == 0) {
    size_t end = m.find("): ");
    if (end != std::string::npos) m = m.substr(end + 3);
  }
  return m;
}

Json ImportOne(HandlerContext& ctx, const Request& req, const cubestudio::ImportItem& item, bool* changed) {
  Json out = {{"kind", item.kind}, {"name", item.name}};
  if (item.builtin) {
    out["result"] = "unchanged";
    out["reason"] = item.name == pipeline::kModelRegisterTemplate
                        ? "built in (Quader's model-register: it registers in Quader's model registry)"
                    : item.name == pipeline::kDeployServiceTemplate
                        ? "built in (Quader's deploy-service: it serves a version of Quader's model registry)"
                        : "built in (Quader's customize template)";
    return out;
  }
  if (!item.refused.empty()) {
    out["result"] = "refused";
    out["reason"] = item.refused;
    return out;
  }
  out["quader_name"] = item.document.value("name", "");
  auto results = ctx.kinds.ApplyDocuments(ctx.store, req.who(), {item.document}, ctx.now());
  if (!results.ok()) {
    out["result"] = "refused";
    out["reason"] = Reason(results.status());
    return out;
  }
  Change change = results->front().change;
  out["result"] = ChangeName(change);
  *changed = *changed || change != Change::kUnchanged;
  return out;
}

Response ImportCubeStudio(HandlerContext& ctx, Request& req) {
  const std::string& project = req.Param("name");
  // Members only: a non-member learns nothing, not even that the project exists.
  Status access = ctx.store.Read([&](store::Tx& tx) -> Status {
    return auth::CheckProject(tx, req.who(), project, auth::ProjectAction::kView).status();
  });
  if (!access.ok()) return ErrorReply(access);
  // An object or a list (cube-studio's automl export is a list).
  if (req.body.empty()) return ErrorReply(errors::Invalid("body", "is empty: send a cube-studio export file"));
  auto file = ParseJson(req.body);
  if (!file.ok()) return ErrorReply(file.status());
  auto items = cubestudio::ConvertFile(*file, project);
  if (!items.ok()) return ErrorReply(items.status());
  Json results = Json::array();
  Json counts = {{"created", 0}, {"updated", 0}, {"unchanged", 0}, {"refused", 0}};
  bool changed = false;
  for (const auto& item : *items) {
    Json r = ImportOne(ctx, req, item, &changed);
    counts[r["result"].get<std::string>()] = counts[r["result"].get<std::string>()].get<int>() + 1;
    results.push_back(std::move(r));
  }
  // After the commits, so the controllers see what was saved.
  if (changed && ctx.schedules) ctx.schedules->Notify();
  if (changed && ctx.experiments) ctx.experiments->Notify();
  if (changed && ctx.services) ctx.services->Notify();
  return JsonReply({{"results", std::move(results)}, {"counts", std::move(counts)}});
}

}  // namespace

void RegisterImportRoutes(Router& router, HandlerContext& ctx) {
  router.Add("POST", "/api/v1/projects/{name}/import/cube-studio", Access::kSignedIn,
             [&ctx](Request& req) { return ImportCubeStudio(ctx, req); },
             {"Import a cube-studio export file (job templates, pipelines, services, inference services, "
              "automl experiments) into the project: per object created, updated, unchanged or refused with "
              "the reason",
              "import", "CubeStudioFile", "ImportResults"});
}

}  // namespace quader::api
