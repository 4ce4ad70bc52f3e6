#pragma once
// Who is calling, and the one access check every handler calls.
//
// Project visibility (SPEC.md §2): a user who is not a member of a project
// (and not an admin) gets kNotFound for the project and everything in it, the
// same answer as for a project that does not exist, so names do not leak.

#include <optional>
#include <string>

#include "core/status.h"
#include "store/records.h"
#include "store/store.h"

namespace quader::auth {

// The authenticated caller of one request. Immutable.
struct Principal {
  int64_t user_id = 0;
  std::string username;
  bool is_admin = false;
  std::string token_hash;  // the token this request used
};

enum class ProjectAction {
  kView,    // read the project and its objects: any member
  kUse,     // create and run things in the project: any member
  kManage,  // members, description, delete: the project's creators
};

// Project roles. Every user is a `dev` of `public`.
inline constexpr const char* kRoleCreator = "creator";
inline constexpr const char* kRoleDev = "dev";
inline constexpr const char* kRoleOps = "ops";
inline constexpr const char* kPublicProject = "public";
// kInvalidArgument unless `role` is creator, dev or ops.
Status ValidateRole(const std::string& field, const std::string& role);

struct ProjectAccess {
  store::ProjectRecord project;
  std::optional<std::string> role;  // nullopt: an admin who is not a member
};

// Checks that `who` may do `action` in project `name`. kNotFound when the
// project does not exist or `who` is neither a member nor an admin;
// kPermissionDenied when a member lacks the role for `action`.
Result<ProjectAccess> CheckProject(store::Tx& tx, const Principal& who, const std::string& name,
                                   ProjectAction action);

// kPermissionDenied unless `who` is an admin; `what` completes "only admins may ...".
Status RequireAdmin(const Principal& who, const std::string& what);

// The `public` rule (docs/projects.md): every user is a dev of `public`, so
// there an object may be changed (applied over, deleted, run, stopped,
// deployed) only by its creator or an admin. Ok outside `public`, where the
// project's roles decide. kPermissionDenied otherwise:
// "only its creator or an admin may change public KIND NAME".
Status CheckPublicWrite(const Principal& who, const std::string& project, const std::string& created_by,
                        const std::string& kind, const std::string& name);

}  // namespace quader::auth
