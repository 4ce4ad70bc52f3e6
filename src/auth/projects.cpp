#include "auth/projects.h"

#include "auth/expand.h"
#include "core/names.h"
#include "store/projects.h"
#include "store/users.h"

namespace quader::auth {
namespace {

bool IsEmptyExpand(const Json& expand) { return expand.is_null() || expand.empty(); }

Result<std::string> NormalizedExpand(const Json& expand) {
  Json normalized;
  QUADER_RETURN_IF_ERROR(ParseExpand(expand, &normalized).status());
  return normalized.dump();
}

}  // namespace

Result<ProjectSpec> ParseProjectSpec(const Json& original, bool allow_members) {
  FieldReader check(original, "");
  QUADER_RETURN_IF_ERROR(check.CheckObject());
  // cube-studio's names: `describe`; `type: org` (its project groups; its
  // other types are job-template categories and the like, not projects).
  Json body = original;
  QUADER_ASSIGN_OR_RETURN(const Json* describe, FieldOrAlias(original, "description", "describe"));
  body.erase("describe");
  if (describe) body["description"] = *describe;
  if (const Json* type = FieldOrNull(original, "type")) {
    if (*type != "org") {
      return errors::Invalid("type", "only cube-studio's project groups (type org) are projects here");
    }
    body.erase("type");
  }
  FieldReader r(body, "");
  if (allow_members) {
    QUADER_RETURN_IF_ERROR(r.CheckKnownKeys({"kind", "name", "description", "expand", "members"}));
  } else {
    QUADER_RETURN_IF_ERROR(r.CheckKnownKeys({"name", "description", "expand"}));
  }
  ProjectSpec spec;
  QUADER_ASSIGN_OR_RETURN(spec.name, r.String("name", /*required=*/false));
  if (body.contains("description")) {
    QUADER_ASSIGN_OR_RETURN(spec.description, r.String("description", false));
    if (spec.description->size() > 2000) return errors::Invalid("description", "is longer than 2000 characters");
  }
  if (body.contains("expand")) {
    spec.expand = body["expand"];
    QUADER_RETURN_IF_ERROR(ParseExpand(*spec.expand).status());
  }
  if (allow_members && body.contains("members")) {
    const Json& ms = body["members"];
    if (!ms.is_array()) return errors::Invalid("members", "must be a list of {username, role}");
    spec.members.emplace();
    for (size_t i = 0; i < ms.size(); ++i) {
      std::string path = "members[" + std::to_string(i) + "]";
      FieldReader mr(ms[i], path);
      QUADER_RETURN_IF_ERROR(mr.CheckObject());
      QUADER_RETURN_IF_ERROR(mr.CheckKnownKeys({"username", "role"}));
      MemberSpec m;
      QUADER_ASSIGN_OR_RETURN(m.username, mr.String("username", true));
      QUADER_ASSIGN_OR_RETURN(m.role, mr.String("role", false, kRoleDev));
      QUADER_RETURN_IF_ERROR(ValidateRole(path + ".role", m.role));
      spec.members->push_back(std::move(m));
    }
  }
  return spec;
}

Result<store::ProjectRecord> CreateProject(store::Tx& tx, const Principal& who,
                                           const ProjectSpec& spec, int64_t now) {
  QUADER_RETURN_IF_ERROR(ValidateObjectName("name", spec.name));
  store::ProjectRecord rec;
  rec.name = spec.name;
  rec.description = spec.description.value_or("");
  rec.created_by = who.username;
  if (spec.expand && !IsEmptyExpand(*spec.expand)) {
    QUADER_RETURN_IF_ERROR(RequireAdmin(who, "set a project's expand"));
    QUADER_ASSIGN_OR_RETURN(rec.expand, NormalizedExpand(*spec.expand));
  }
  if (store::GetProject(tx, spec.name).ok()) return errors::AlreadyExists("project", spec.name);
  QUADER_ASSIGN_OR_RETURN(rec, store::InsertProject(tx, std::move(rec), now));
  QUADER_RETURN_IF_ERROR(store::PutMember(tx, rec.id, who.user_id, kRoleCreator, now));
  return rec;
}

Result<Change> UpdateProject(store::Tx& tx, const Principal& who, const ProjectSpec& spec,
                             int64_t now) {
  QUADER_ASSIGN_OR_RETURN(ProjectAccess access,
                          CheckProject(tx, who, spec.name, ProjectAction::kManage));
  store::ProjectRecord rec = access.project;
  if (spec.description) rec.description = *spec.description;
  if (spec.expand) {
    QUADER_ASSIGN_OR_RETURN(rec.expand, NormalizedExpand(*spec.expand));
    if (Json::parse(rec.expand) != Json::parse(access.project.expand)) {
      QUADER_RETURN_IF_ERROR(RequireAdmin(who, "change a project's expand"));
    }
  }
  if (rec.description == access.project.description &&
      Json::parse(rec.expand) == Json::parse(access.project.expand)) {
    return Change::kUnchanged;
  }
  QUADER_RETURN_IF_ERROR(store::UpdateProject(tx, rec, now));
  return Change::kUpdated;
}

Result<Change> ApplyProject(store::Tx& tx, const Principal& who, const ProjectSpec& spec,
                            int64_t now) {
  QUADER_RETURN_IF_ERROR(ValidateObjectName("name", spec.name));
  Change change;
  auto existing = store::GetProject(tx, spec.name);
  if (existing.ok()) {
    ProjectSpec s = spec;
    if (!s.description) s.description = "";  // a document states the whole object
    if (!s.expand) s.expand = Json::object();
    QUADER_ASSIGN_OR_RETURN(change, UpdateProject(tx, who, s, now));
  } else if (existing.status().code() == Code::kNotFound) {
    QUADER_RETURN_IF_ERROR(CreateProject(tx, who, spec, now).status());
    change = Change::kCreated;
  } else {
    return existing.status();
  }
  if (spec.members) {
    for (const MemberSpec& m : *spec.members) {
      QUADER_ASSIGN_OR_RETURN(Change c, PutMember(tx, who, spec.name, m, false, now));
      if (c != Change::kUnchanged && change == Change::kUnchanged) change = Change::kUpdated;
    }
  }
  return change;
}

Status DeleteProject(store::Tx& tx, const Principal& who, const std::string& name) {
  QUADER_RETURN_IF_ERROR(CheckProject(tx, who, name, ProjectAction::kManage).status());
  if (name == kPublicProject) return errors::Conflict("project \"public\" cannot be deleted");
  return store::DeleteProject(tx, name);
}

Result<Change> PutMember(store::Tx& tx, const Principal& who, const std::string& project,
                         const MemberSpec& member, bool must_be_new, int64_t now) {
  QUADER_RETURN_IF_ERROR(ValidateRole("role", member.role));
  QUADER_ASSIGN_OR_RETURN(ProjectAccess access, CheckProject(tx, who, project, ProjectAction::kManage));
  auto user = store::GetUser(tx, member.username);
  if (!user.ok()) {
    if (user.status().code() == Code::kNotFound) return errors::Invalid("username", "no user named \"" + member.username + "\"");
    return user.status();
  }
  QUADER_ASSIGN_OR_RETURN(std::optional<std::string> role, store::GetRole(tx, access.project.id, user->id));
  if (role && must_be_new) {
    return errors::AlreadyExists("member", member.username + "\" of project \"" + project);
  }
  if (role == member.role) return Change::kUnchanged;
  if (role == std::string(kRoleCreator) && member.role != kRoleCreator) {
    QUADER_RETURN_IF_ERROR(RemoveMember(tx, who, project, member.username));
  }
  QUADER_RETURN_IF_ERROR(store::PutMember(tx, access.project.id, user->id, member.role, now));
  return role ? Change::kUpdated : Change::kCreated;
}

Status RemoveMember(store::Tx& tx, const Principal& who, const std::string& project,
                    const std::string& username) {
  QUADER_ASSIGN_OR_RETURN(ProjectAccess access, CheckProject(tx, who, project, ProjectAction::kManage));
  if (project == kPublicProject) {
    return errors::Conflict("every user is a member of \"public\"; members cannot be removed from it");
  }
  QUADER_ASSIGN_OR_RETURN(auto members, store::ListMembers(tx, access.project.id));
  int creators = 0;
  const store::MemberRecord* target = nullptr;
  for (const auto& m : members) {
    if (m.role == kRoleCreator) ++creators;
    if (m.username == username) target = &m;
  }
  if (!target) return errors::NotFound("member", username);
  if (target->role == kRoleCreator && creators == 1) {
    return errors::Conflict("\"" + username + "\" is the last creator of project \"" + project +
                            "\"; make someone else a creator first");
  }
  return store::DeleteMember(tx, access.project.id, target->user_id, username);
}

Result<ProjectSettings> StoredProjectSettings(store::Tx& tx, int64_t project_id) {
  QUADER_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT expand FROM projects WHERE id = ?", {project_id}));
  Json expand = rows.empty() ? Json::object() : Json::parse(rows[0].Str(0), nullptr, false);
  auto settings = ParseExpand(expand.is_discarded() ? Json::object() : expand);
  return settings.ok() ? *settings : ProjectSettings{};
}

}  // namespace quader::auth
