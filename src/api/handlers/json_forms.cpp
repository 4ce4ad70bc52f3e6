#include "api/handlers/handlers.h"
#include "api/handlers/common.h"
#include "core/names.h"

namespace quader::api {

Json UserJson(const store::UserRecord& u) {
  return {{"username", u.username},
          {"email", u.email},
          {"admin", u.is_admin},
          {"active", u.active},
          {"created_at", FormatRfc3339(FromUnixSeconds(u.created_at))},
          {"updated_at", FormatRfc3339(FromUnixSeconds(u.updated_at))}};
}

Json ProjectJson(const store::ProjectRecord& p, const std::optional<std::string>& role) {
  Json expand = Json::parse(p.expand, nullptr, false);
  if (expand.is_discarded()) expand = Json::object();
  return {{"name", p.name},
          {"description", p.description},
          {"expand", std::move(expand)},
          {"created_by", p.created_by},
          {"created_at", FormatRfc3339(FromUnixSeconds(p.created_at))},
          {"updated_at", FormatRfc3339(FromUnixSeconds(p.updated_at))},
          {"role", role ? Json(*role) : Json(nullptr)}};
}

Json MemberJson(const store::MemberRecord& m) {
  return {{"username", m.username},
          {"role", m.role},
          {"created_at", FormatRfc3339(FromUnixSeconds(m.created_at))}};
}

Json ListJson(Json items) { return {{"items", std::move(items)}}; }

}  // namespace quader::api

namespace quader::api {

Response ManifestsReply(const HandlerContext& ctx, const Request& req,
                        const std::function<Result<std::vector<Json>>(const render::RenderOptions&)>& render) {
  render::RenderOptions options = ctx.render;
  if (auto it = req.query.find("namespace"); it != req.query.end() && !it->second.empty()) {
    if (Status st = ValidateObjectName("namespace", it->second); !st.ok()) return ErrorReply(st);
    options.ns = it->second;
  }
  if (FlagParam(req, "istio")) options.istio = true;
  auto manifests = render(options);
  if (!manifests.ok()) return ErrorReply(manifests.status());
  return JsonReply({{"manifests", *manifests}, {"yaml", render::ToYaml(*manifests)}});
}

}  // namespace quader::api
