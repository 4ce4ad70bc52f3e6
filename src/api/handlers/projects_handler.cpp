// /api/v1/projects and /api/v1/projects/{name}/members: project groups.
// Access rules live in auth/projects.h; this file only translates HTTP.
#include "api/handlers/handlers.h"
#include "auth/projects.h"
#include "store/projects.h"
#include "store/experiments.h"
#include "store/pipelines.h"
#include "experiment/experiment_controller.h"
#include "pipeline/run_controller.h"
#include "registry/blob_store.h"
#include "registry/datasets.h"
#include "registry/register.h"
#include "store/datasets.h"

#include <limits>

namespace quader::api {
namespace {

// Reads the project as the caller sees it (with their role) after a change.
Result<Json> ProjectView(store::Tx& tx, const auth::Principal& who, const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess access,
                          auth::CheckProject(tx, who, name, auth::ProjectAction::kView));
  return ProjectJson(access.project, access.role);
}

Response List(HandlerContext& ctx, Request& req) {
  // The list is read far more often than projects change: serve the body
  // rendered for this caller at the current store generation if there is one.
  std::string key = "projects/" + std::to_string(req.who().user_id) + (req.who().is_admin ? "/a" : "");
  uint64_t generation = ctx.store.generation();
  if (auto cached = ctx.lists.Get(key, generation)) {
    Response r;
    r.body = *cached;
    return r;
  }
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto projects,
                            store::ListProjects(tx, req.who().user_id, !req.who().is_admin));
    for (const auto& p : projects) items.push_back(ProjectJson(p.project, p.role));
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  Response r = JsonReply(ListJson(std::move(items)));
  ctx.lists.Put(key, generation, r.body);
  return r;
}

Response Create(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  auto spec = auth::ParseProjectSpec(*body, /*allow_members=*/false);
  if (!spec.ok()) return ErrorReply(spec.status());
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_RETURN_IF_ERROR(auth::CreateProject(tx, req.who(), *spec, ctx.now()).status());
    QUADER_ASSIGN_OR_RETURN(out, ProjectView(tx, req.who(), spec->name));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out, 201) : ErrorReply(st);
}

Response Get(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(out, ProjectView(tx, req.who(), req.Param("name")));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response Update(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  if (body->contains("name") && (*body)["name"] != req.Param("name")) {
    return ErrorReply(errors::Invalid("name", "a project cannot be renamed"));
  }
  auto spec = auth::ParseProjectSpec(*body, /*allow_members=*/false);
  if (!spec.ok()) return ErrorReply(spec.status());
  spec->name = req.Param("name");
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_RETURN_IF_ERROR(auth::UpdateProject(tx, req.who(), *spec, ctx.now()).status());
    QUADER_ASSIGN_OR_RETURN(out, ProjectView(tx, req.who(), spec->name));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response Delete(HandlerContext& ctx, Request& req) {
  // The runs and experiments go with the project (their rows cascade): so do
  // their logs and artifacts, once the deletion is committed.
  std::vector<int64_t> runs, experiments;
  std::vector<std::string> blobs;  // what its models and data sets held
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    if (auto project = store::GetProject(tx, req.Param("name")); project.ok()) {
      QUADER_ASSIGN_OR_RETURN(blobs, store::BlobsOfProject(tx, project->id));
      store::RunFilter filter;
      filter.project_ids = {project->id};
      filter.limit = std::numeric_limits<int>::max();
      QUADER_ASSIGN_OR_RETURN(auto listed, store::ListRuns(tx, filter));
      for (const auto& r : listed) runs.push_back(r.id);
      QUADER_ASSIGN_OR_RETURN(auto exps, store::ListExperiments(tx, {project->id}, false));
      for (const auto& e : exps) experiments.push_back(e.id);
    }
    return auth::DeleteProject(tx, req.who(), req.Param("name"));
  });
  if (!st.ok()) return ErrorReply(st);
  for (int64_t id : runs) {
    if (ctx.runs) ctx.runs->RemoveRunFiles(id);
  }
  for (int64_t id : experiments) {
    if (ctx.experiments) ctx.experiments->RemoveExperimentFiles(id);
  }
  if (ctx.blobs) {
    // Its models' and data sets' laid-out versions, and the files nothing else holds: a
    // project of the same name made later starts with none of them.
    const std::string name = req.Param("name");
    registry::BlobStore::Dematerialize(registry::ModelDir(ctx.blobs->data_dir(), name, ""));
    registry::BlobStore::Dematerialize(registry::DatasetDir(ctx.blobs->data_dir(), name, ""));
    registry::RemoveUnheldBlobs(ctx.store, *ctx.blobs, blobs);
  }
  return JsonReply(Json::object());
}

Result<Json> MemberView(store::Tx& tx, int64_t project_id, const std::string& username) {
  QUADER_ASSIGN_OR_RETURN(auto members, store::ListMembers(tx, project_id));
  for (const auto& m : members) {
    if (m.username == username) return MemberJson(m);
  }
  return errors::NotFound("member", username);
}

Response ListMembers(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess access,
                            auth::CheckProject(tx, req.who(), req.Param("name"), auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(auto members, store::ListMembers(tx, access.project.id));
    for (const auto& m : members) items.push_back(MemberJson(m));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

// POST (add: `must_be_new`) and PUT (change role) share this.
Response PutMember(HandlerContext& ctx, Request& req, bool must_be_new) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  FieldReader r(*body, "");
  auth::MemberSpec m;
  Status st = must_be_new ? r.CheckKnownKeys({"username", "role"}) : r.CheckKnownKeys({"role", "username"});
  if (st.ok()) {
    auto username = must_be_new ? r.String("username", true) : Result<std::string>(req.Param("username"));
    auto role = r.String("role", !must_be_new, auth::kRoleDev);
    st = !username.ok() ? username.status() : role.status();
    if (st.ok()) m = {*username, *role};
    if (st.ok() && !must_be_new && body->contains("username") && (*body)["username"] != m.username) {
      st = errors::Invalid("username", "does not match the path");
    }
  }
  if (!st.ok()) return ErrorReply(st);
  Json out;
  st = ctx.store.Write([&](store::Tx& tx) -> Status {
    const std::string& project = req.Param("name");
    if (!must_be_new) {
      // Changing a role needs an existing member.
      QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess access,
                              auth::CheckProject(tx, req.who(), project, auth::ProjectAction::kView));
      QUADER_RETURN_IF_ERROR(MemberView(tx, access.project.id, m.username).status());
    }
    QUADER_RETURN_IF_ERROR(auth::PutMember(tx, req.who(), project, m, must_be_new, ctx.now()).status());
    QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess access,
                            auth::CheckProject(tx, req.who(), project, auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(out, MemberView(tx, access.project.id, m.username));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out, must_be_new ? 201 : 200) : ErrorReply(st);
}

Response RemoveMember(HandlerContext& ctx, Request& req) {
  Status st = ctx.store.Write([&](store::Tx& tx) {
    return auth::RemoveMember(tx, req.who(), req.Param("name"), req.Param("username"));
  });
  return st.ok() ? JsonReply(Json::object()) : ErrorReply(st);
}

}  // namespace

void RegisterProjectRoutes(Router& router, HandlerContext& ctx) {
  auto bind = [&ctx](Response (*fn)(HandlerContext&, Request&)) {
    return [&ctx, fn](Request& req) { return fn(ctx, req); };
  };
  router.Add("GET", "/api/v1/projects", Access::kSignedIn, bind(List),
             {"List the projects the caller belongs to (admins: all)", "projects", "", "List:Project"});
  router.Add("POST", "/api/v1/projects", Access::kSignedIn, bind(Create),
             {"Create a project; the caller becomes its creator", "projects", "NewProject", "Project", 201});
  router.Add("GET", "/api/v1/projects/{name}", Access::kSignedIn, bind(Get),
             {"Get a project", "projects", "", "Project"});
  router.Add("PUT", "/api/v1/projects/{name}", Access::kSignedIn, bind(Update),
             {"Change a project's description (creators) or expand (admins)", "projects",
              "ProjectUpdate", "Project"});
  router.Add("DELETE", "/api/v1/projects/{name}", Access::kSignedIn, bind(Delete),
             {"Delete a project (creators, admins)", "projects", "", "Empty"});
  router.Add("GET", "/api/v1/projects/{name}/members", Access::kSignedIn, bind(ListMembers),
             {"List a project's members", "projects", "", "List:Member"});
  router.Add("POST", "/api/v1/projects/{name}/members", Access::kSignedIn,
             [&ctx](Request& req) { return PutMember(ctx, req, true); },
             {"Add a member (creators, admins)", "projects", "NewMember", "Member", 201});
  router.Add("PUT", "/api/v1/projects/{name}/members/{username}", Access::kSignedIn,
             [&ctx](Request& req) { return PutMember(ctx, req, false); },
             {"Change a member's role (creators, admins)", "projects", "MemberUpdate", "Member"});
  router.Add("DELETE", "/api/v1/projects/{name}/members/{username}", Access::kSignedIn,
             bind(RemoveMember), {"Remove a member (creators, admins)", "projects", "", "Empty"});

  ctx.kinds.Register("Project", /*project_scoped=*/false,
                     [](store::Tx& tx, const auth::Principal& who, const Json& doc, int64_t now) -> Result<Change> {
                       QUADER_ASSIGN_OR_RETURN(auth::ProjectSpec spec, auth::ParseProjectSpec(doc, true));
                       return auth::ApplyProject(tx, who, spec, now);
                     });
}

}  // namespace quader::api
