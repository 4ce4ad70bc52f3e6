#pragma once
// Project groups (SPEC.md §2): creating, changing and deleting projects and
// their members, with the rules of who may do what. Every function runs in
// the caller's write transaction and checks access itself.

#include <optional>
#include <string>
#include <vector>

#include "auth/access.h"
#include "auth/expand.h"
#include "core/documents.h"
#include "store/records.h"
#include "store/store.h"

namespace quader::auth {

struct MemberSpec {
  std::string username;
  std::string role = kRoleDev;
};

// What a user asks for: the body of POST /projects or a `Project` document.
struct ProjectSpec {
  std::string name;
  std::optional<std::string> description;   // nullopt: leave as is
  std::optional<Json> expand;               // nullopt: leave as is
  std::optional<std::vector<MemberSpec>> members;  // documents only: upserted
};

// Reads a spec from JSON, refusing unknown fields. `allow_members` for documents.
// cube-studio's `describe` and `type: org` are accepted (docs/cube-studio.md).
Result<ProjectSpec> ParseProjectSpec(const Json& body, bool allow_members);

// Creates the project; `who` becomes its creator. Only admins may give a
// non-empty expand. kAlreadyExists when the name is taken.
Result<store::ProjectRecord> CreateProject(store::Tx& tx, const Principal& who,
                                           const ProjectSpec& spec, int64_t now);
// Changes description and/or expand (expand: admins only). Needs kManage.
Result<Change> UpdateProject(store::Tx& tx, const Principal& who, const ProjectSpec& spec,
                             int64_t now);
// Create-or-update, as `quader apply` does; members are added or re-roled.
Result<Change> ApplyProject(store::Tx& tx, const Principal& who, const ProjectSpec& spec,
                            int64_t now);
// Deletes the project and its memberships. Needs kManage; `public` is refused.
Status DeleteProject(store::Tx& tx, const Principal& who, const std::string& name);

// Adds a member or changes their role (kManage). Returns whether anything changed.
Result<Change> PutMember(store::Tx& tx, const Principal& who, const std::string& project,
                         const MemberSpec& member, bool must_be_new, int64_t now);
// Removes a member (kManage). Refused for `public` and for the last creator.
Status RemoveMember(store::Tx& tx, const Principal& who, const std::string& project,
                    const std::string& username);

// The typed expand settings of project `project_id` as stored; a project
// that is gone or whose stored settings no longer parse gives the defaults
// (controllers keep running what they can).
Result<ProjectSettings> StoredProjectSettings(store::Tx& tx, int64_t project_id);

}  // namespace quader::auth
