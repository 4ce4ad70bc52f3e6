#include "auth/access.h"

#include "store/projects.h"

namespace quader::auth {

Status ValidateRole(const std::string& field, const std::string& role) {
  if (role == kRoleCreator || role == kRoleDev || role == kRoleOps) return Status::Ok();
  return errors::Invalid(field, "unknown role \"" + role + "\" (use creator, dev or ops)");
}

Result<ProjectAccess> CheckProject(store::Tx& tx, const Principal& who, const std::string& name,
                                   ProjectAction action) {
  auto project = store::GetProject(tx, name);
  if (!project.ok()) return project.status();
  QUADER_ASSIGN_OR_RETURN(std::optional<std::string> role,
                          store::GetRole(tx, project->id, who.user_id));
  if (!role && !who.is_admin) return errors::NotFound("project", name);
  if (action == ProjectAction::kManage && !who.is_admin && *role != kRoleCreator) {
    return errors::Denied("only the creators of project \"" + name +
                          "\" and admins may change it or its members");
  }
  return ProjectAccess{std::move(project).value(), std::move(role)};
}

Status RequireAdmin(const Principal& who, const std::string& what) {
  if (who.is_admin) return Status::Ok();
  return errors::Denied("only admins may " + what);
}

Status CheckPublicWrite(const Principal& who, const std::string& project, const std::string& created_by,
                        const std::string& kind, const std::string& name) {
  if (project != kPublicProject || who.is_admin || who.username == created_by) return Status::Ok();
  return errors::Denied("only its creator or an admin may change public " + kind + " " + name);
}

}  // namespace quader::auth
