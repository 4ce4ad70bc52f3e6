#pragma once
// The projects and project_members tables. Every function runs on a caller's Tx.

#include <optional>
#include <vector>

#include "store/records.h"
#include "store/store.h"

namespace quader::store {

// Inserts `p` (id and times filled in). kAlreadyExists on a taken name.
Result<ProjectRecord> InsertProject(Tx& tx, ProjectRecord p, int64_t now);
Result<ProjectRecord> GetProject(Tx& tx, const std::string& name);
struct ProjectWithRole {
  ProjectRecord project;
  std::optional<std::string> role;  // `user_id`'s role; nullopt when not a member
};
// Projects by name with `user_id`'s role in each: all of them, or only those
// the user is a member of when `members_only`.
Result<std::vector<ProjectWithRole>> ListProjects(Tx& tx, int64_t user_id, bool members_only);
// Overwrites description and expand of the project with p.id.
Status UpdateProject(Tx& tx, const ProjectRecord& p, int64_t now);
Status DeleteProject(Tx& tx, const std::string& name);

// Adds or changes a membership (upsert on (project, user)).
Status PutMember(Tx& tx, int64_t project_id, int64_t user_id, const std::string& role, int64_t now);
// kNotFound when the user is not a member.
Status DeleteMember(Tx& tx, int64_t project_id, int64_t user_id, const std::string& username);
Result<std::vector<MemberRecord>> ListMembers(Tx& tx, int64_t project_id);
// The user's role in the project, or nullopt when not a member.
Result<std::optional<std::string>> GetRole(Tx& tx, int64_t project_id, int64_t user_id);

}  // namespace quader::store
