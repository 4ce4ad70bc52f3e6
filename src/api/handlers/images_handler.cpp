// /api/v1/images and /api/v1/image-builds (SPEC §4), and the ImageBuild kind.
#include "api/handlers/log_reply.h"
#include "api/handlers/common.h"
#include "api/handlers/handlers.h"
#include "api/handlers/mount_check.h"
#include <algorithm>

#include "auth/access.h"
#include "auth/expand.h"
#include "images/build_controller.h"
#include "images/build_spec.h"
#include "store/images.h"
#include "store/projects.h"

namespace quader::api {
namespace {

Json ImageJson(const store::ImageRecord& i) {
  return {{"id", i.id}, {"project", i.project}, {"name", i.name}, {"tag", i.tag},
          {"ref", i.name + ":" + i.tag}, {"description", i.description}, {"source", i.source},
          {"build", i.build_name ? Json(*i.build_name) : Json(nullptr)}, {"created_by", i.created_by},
          {"created_at", FormatRfc3339(FromUnixSeconds(i.created_at))},
          {"updated_at", FormatRfc3339(FromUnixSeconds(i.updated_at))}};
}

Json BuildJson(const store::ImageBuildRecord& b) {
  Json j = Json::parse(b.spec, nullptr, false);
  if (j.is_discarded()) j = Json::object();
  j["id"] = b.id;
  j["project"] = b.project;
  j["name"] = b.name;
  j["state"] = b.state;
  j["reason"] = b.reason;
  j["created_by"] = b.created_by;
  j["created_at"] = FormatRfc3339(FromUnixSeconds(b.created_at));
  j["started_at"] = TimeOrNull(b.started_at);
  j["finished_at"] = TimeOrNull(b.finished_at);
  return j;
}

// Loads a record by id and checks the caller may use its project; a
// record of a project they cannot see is "not found".
template <typename Rec, typename Get>
Result<Rec> Visible(store::Tx& tx, const Request& req, const std::string& kind, Get get) {
  QUADER_ASSIGN_OR_RETURN(int64_t id, IdParam(req, kind));
  auto rec = get(tx, id);
  if (!rec.ok()) return rec.status();
  if (!auth::CheckProject(tx, req.who(), rec->project, auth::ProjectAction::kUse).ok()) {
    return errors::NotFound(kind, req.Param("id"));
  }
  return rec;
}

Status CheckPublicImage(const auth::Principal& who, const store::ImageRecord& image) {
  return auth::CheckPublicWrite(who, image.project, image.created_by, "image", image.name + ":" + image.tag);
}

Response ListImages(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    bool all = false;
    QUADER_ASSIGN_OR_RETURN(auto ids, VisibleProjects(tx, req, &all));
    QUADER_ASSIGN_OR_RETURN(auto images, store::ListImages(tx, ids, all));
    for (const auto& i : images) items.push_back(ImageJson(i));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

Response CreateImage(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  FieldReader r(*body, "");
  Status st = r.CheckKnownKeys({"project", "ref", "description"});
  auto project = r.String("project", false, auth::kPublicProject);
  auto ref_text = r.String("ref", true);
  auto description = r.String("description", false);
  for (const Status* s : {&project.status(), &ref_text.status(), &description.status()}) {
    if (st.ok() && !s->ok()) st = *s;
  }
  if (!st.ok()) return ErrorReply(st);
  auto ref = images::ParseImageRef("ref", *ref_text);
  if (!ref.ok()) return ErrorReply(ref.status());
  Json out;
  st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a, auth::CheckProject(tx, req.who(), *project, auth::ProjectAction::kUse));
    QUADER_ASSIGN_OR_RETURN(auto existing, store::FindImage(tx, a.project.id, ref->name, ref->tag));
    if (existing) return errors::AlreadyExists("image", ref->str() + "\" in project \"" + *project);
    store::ImageRecord image;
    image.project_id = a.project.id;
    image.name = ref->name;
    image.tag = ref->tag;
    image.description = *description;
    image.source = "registry";
    image.created_by = req.who().username;
    QUADER_ASSIGN_OR_RETURN(image, store::UpsertImage(tx, image, ctx.now()));
    out = ImageJson(image);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out, 201) : ErrorReply(st);
}

Response GetImage(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto image, (Visible<store::ImageRecord>(tx, req, "image", store::GetImage)));
    out = ImageJson(image);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response UpdateImage(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  FieldReader r(*body, "");
  if (auto st = r.CheckKnownKeys({"description"}); !st.ok()) return ErrorReply(st);
  auto description = r.String("description", true);
  if (!description.ok()) return ErrorReply(description.status());
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto image, (Visible<store::ImageRecord>(tx, req, "image", store::GetImage)));
    QUADER_RETURN_IF_ERROR(CheckPublicImage(req.who(), image));
    QUADER_RETURN_IF_ERROR(store::UpdateImageDescription(tx, image.id, *description, ctx.now()));
    QUADER_ASSIGN_OR_RETURN(image, store::GetImage(tx, image.id));
    out = ImageJson(image);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response DeleteImage(HandlerContext& ctx, Request& req) {
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto image, (Visible<store::ImageRecord>(tx, req, "image", store::GetImage)));
    QUADER_RETURN_IF_ERROR(CheckPublicImage(req.who(), image));
    return store::DeleteImage(tx, image.id);
  });
  return st.ok() ? JsonReply(Json::object()) : ErrorReply(st);
}

// Creates the build, or resets it when its spec changed. Shared by POST and apply.
Result<Change> PutBuild(store::Tx& tx, const auth::Principal& who, const images::BuildSpec& spec,
                        const images::BuildController* builds, bool must_be_new, int64_t now, int64_t* id) {
  QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a, auth::CheckProject(tx, who, spec.project, auth::ProjectAction::kUse));
  QUADER_RETURN_IF_ERROR(CheckMountsAllowed(who, a.project, "config.volume_mount", spec.config.mounts));
  // Only a container engine can save a running workload: refused here, by
  // name, rather than failing once the build runs.
  if (spec.is_commit() && builds) {
    if (Status can = builds->CanCommit(); !can.ok()) return errors::Invalid("commit", can.message());
  }
  // A build replaces the image record it produces: in public, only one's own.
  QUADER_ASSIGN_OR_RETURN(auto target, store::FindImage(tx, a.project.id, spec.image.name, spec.image.tag));
  if (target) QUADER_RETURN_IF_ERROR(CheckPublicImage(who, *target));
  std::string text = spec.ToJson().dump();
  QUADER_ASSIGN_OR_RETURN(auto existing, store::FindImageBuild(tx, a.project.id, spec.name));
  if (existing) {
    *id = existing->id;
    if (must_be_new) return errors::AlreadyExists("image build", spec.name);
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(who, spec.project, existing->created_by, "image build", spec.name));
    if (Json::parse(existing->spec) == Json::parse(text)) return Change::kUnchanged;
    if (existing->state == "running") {
      return errors::Conflict("image build \"" + spec.name + "\" is running; wait for it or delete it first");
    }
    QUADER_RETURN_IF_ERROR(store::ResetImageBuild(tx, existing->id, text, now));
    return Change::kUpdated;
  }
  store::ImageBuildRecord rec;
  rec.project_id = a.project.id;
  rec.name = spec.name;
  rec.spec = text;
  rec.state = "pending";
  rec.created_by = who.username;
  QUADER_ASSIGN_OR_RETURN(rec, store::InsertImageBuild(tx, rec, now));
  *id = rec.id;
  return Change::kCreated;
}

Response ListBuilds(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    bool all = false;
    QUADER_ASSIGN_OR_RETURN(auto ids, VisibleProjects(tx, req, &all));
    QUADER_ASSIGN_OR_RETURN(auto builds, store::ListImageBuilds(tx, ids, all));
    for (const auto& b : builds) items.push_back(BuildJson(b));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

Response CreateBuild(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  if (body->contains("kind")) return ErrorReply(errors::Invalid("kind", "unknown field"));
  auto spec = images::ParseBuildSpec(*body);
  if (!spec.ok()) return ErrorReply(spec.status());
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    int64_t id = 0;
    QUADER_RETURN_IF_ERROR(PutBuild(tx, req.who(), *spec, ctx.builds, true, ctx.now(), &id).status());
    QUADER_ASSIGN_OR_RETURN(auto rec, store::GetImageBuild(tx, id));
    out = BuildJson(rec);
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  if (ctx.builds) ctx.builds->Notify();
  return JsonReply(out, 201);
}

Response GetBuild(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto b, (Visible<store::ImageBuildRecord>(tx, req, "image build", store::GetImageBuild)));
    out = BuildJson(b);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response DeleteBuild(HandlerContext& ctx, Request& req) {
  int64_t id = 0;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto b, (Visible<store::ImageBuildRecord>(tx, req, "image build", store::GetImageBuild)));
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), b.project, b.created_by, "image build", b.name));
    id = b.id;
    return store::DeleteImageBuild(tx, b.id);
  });
  if (!st.ok()) return ErrorReply(st);
  if (ctx.builds) ctx.builds->Cancel(id);
  return JsonReply(Json::object());
}

Response BuildLogs(HandlerContext& ctx, Request& req) {
  int64_t id = 0;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto b, (Visible<store::ImageBuildRecord>(tx, req, "image build", store::GetImageBuild)));
    id = b.id;
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  if (!ctx.builds) return ErrorReply(errors::Unavailable("image builds are not enabled on this server"));
  bool follow = req.query.count("follow") && req.query.at("follow") != "0" && req.query.at("follow") != "false";
  images::BuildController* builds = ctx.builds;
  return LogReply(req, [builds, id, follow](const ChunkWriter& write) { (void)builds->FollowLog(id, follow, write); });
}

}  // namespace

void RegisterImageRoutes(Router& router, HandlerContext& ctx) {
  auto bind = [&ctx](Response (*fn)(HandlerContext&, Request&)) {
    return [&ctx, fn](Request& req) { return fn(ctx, req); };
  };
  router.Add("GET", "/api/v1/images", Access::kSignedIn, bind(ListImages),
             {"List images of the caller's projects (?project=P)", "images", "", "List:Image"});
  router.Add("POST", "/api/v1/images", Access::kSignedIn, bind(CreateImage),
             {"Register an image by reference (source registry)", "images", "NewImage", "Image", 201});
  router.Add("GET", "/api/v1/images/{id}", Access::kSignedIn, bind(GetImage), {"Get an image", "images", "", "Image"});
  router.Add("PUT", "/api/v1/images/{id}", Access::kSignedIn, bind(UpdateImage),
             {"Change an image's description", "images", "ImageUpdate", "Image"});
  router.Add("DELETE", "/api/v1/images/{id}", Access::kSignedIn, bind(DeleteImage),
             {"Delete an image record", "images", "", "Empty"});
  router.Add("GET", "/api/v1/image-builds", Access::kSignedIn, bind(ListBuilds),
             {"List image builds (?project=P)", "images", "", "List:ImageBuild"});
  router.Add("POST", "/api/v1/image-builds", Access::kSignedIn, bind(CreateBuild),
             {"Start an online image build", "images", "NewImageBuild", "ImageBuild", 201});
  router.Add("GET", "/api/v1/image-builds/{id}", Access::kSignedIn, bind(GetBuild),
             {"Get an image build", "images", "", "ImageBuild"});
  router.Add("DELETE", "/api/v1/image-builds/{id}", Access::kSignedIn, bind(DeleteBuild),
             {"Delete an image build (stops it when running)", "images", "", "Empty"});
  router.Add("GET", "/api/v1/image-builds/{id}/logs", Access::kSignedIn, bind(BuildLogs),
             {"The build log; ?follow=1 streams it until the build ends; ?timestamps=1 keeps each line's time", "images", "", "Text"});

  ctx.kinds.Register("ImageBuild", /*project_scoped=*/true,
                     [&ctx](store::Tx& tx, const auth::Principal& who, const Json& doc, int64_t now) -> Result<Change> {
                       QUADER_ASSIGN_OR_RETURN(images::BuildSpec spec, images::ParseBuildSpec(doc));
                       int64_t id = 0;
                       QUADER_ASSIGN_OR_RETURN(Change c, PutBuild(tx, who, spec, ctx.builds, false, now, &id));
                       if (c != Change::kUnchanged && ctx.builds) ctx.builds->Notify();
                       return c;
                     });
}

}  // namespace quader::api
