#include "store/projects.h"

namespace quader::store {
namespace {

constexpr const char* kProjectCols =
    "p.id, p.name, p.description, p.expand, p.created_by, p.created_at, p.updated_at";

ProjectRecord ProjectFromRow(const Row& r) {
  ProjectRecord p;
  p.id = r.Int(0);
  p.name = r.Str(1);
  p.description = r.Str(2);
  p.expand = r.Str(3);
  p.created_by = r.Str(4);
  p.created_at = r.Int(5);
  p.updated_at = r.Int(6);
  return p;
}

}  // namespace

Result<ProjectRecord> InsertProject(Tx& tx, ProjectRecord p, int64_t now) {
  p.created_at = p.updated_at = now;
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query("INSERT INTO projects (name, description, expand, created_by, created_at, "
               "updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
               {p.name, p.description, p.expand, p.created_by, now, now}));
  p.id = rows.at(0).Int(0);
  return p;
}

Result<ProjectRecord> GetProject(Tx& tx, const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query(std::string("SELECT ") + kProjectCols + " FROM projects p WHERE p.name = ?", {name}));
  if (rows.empty()) return errors::NotFound("project", name);
  return ProjectFromRow(rows[0]);
}

Result<std::vector<ProjectWithRole>> ListProjects(Tx& tx, int64_t user_id, bool members_only) {
  std::string sql = std::string("SELECT ") + kProjectCols +
                    ", m.role FROM projects p LEFT JOIN project_members m "
                    "ON m.project_id = p.id AND m.user_id = ?";
  if (members_only) sql += " WHERE m.user_id IS NOT NULL";
  sql += " ORDER BY p.name";
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(sql, {user_id}));
  std::vector<ProjectWithRole> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    ProjectWithRole p{ProjectFromRow(r), std::nullopt};
    if (!r.IsNull(7)) p.role = r.Str(7);
    out.push_back(std::move(p));
  }
  return out;
}

Status UpdateProject(Tx& tx, const ProjectRecord& p, int64_t now) {
  QUADER_RETURN_IF_ERROR(
      tx.Exec("UPDATE projects SET description = ?, expand = ?, updated_at = ? WHERE id = ?",
              {p.description, p.expand, now, p.id}));
  if (tx.changes() == 0) return errors::NotFound("project", p.name);
  return Status::Ok();
}

Status DeleteProject(Tx& tx, const std::string& name) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM projects WHERE name = ?", {name}));
  if (tx.changes() == 0) return errors::NotFound("project", name);
  return Status::Ok();
}

Status PutMember(Tx& tx, int64_t project_id, int64_t user_id, const std::string& role,
                 int64_t now) {
  return tx.Exec(
      "INSERT INTO project_members (project_id, user_id, role, created_at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
      {project_id, user_id, role, now});
}

Status DeleteMember(Tx& tx, int64_t project_id, int64_t user_id, const std::string& username) {
  QUADER_RETURN_IF_ERROR(tx.Exec(
      "DELETE FROM project_members WHERE project_id = ? AND user_id = ?", {project_id, user_id}));
  if (tx.changes() == 0) return errors::NotFound("member", username);
  return Status::Ok();
}

Result<std::vector<MemberRecord>> ListMembers(Tx& tx, int64_t project_id) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query("SELECT m.project_id, m.user_id, u.username, m.role, m.created_at "
                          "FROM project_members m JOIN users u ON u.id = m.user_id "
                          "WHERE m.project_id = ? ORDER BY u.username",
                          {project_id}));
  std::vector<MemberRecord> out;
  for (const auto& r : rows) {
    out.push_back({r.Int(0), r.Int(1), r.Str(2), r.Str(3), r.Int(4)});
  }
  return out;
}

Result<std::optional<std::string>> GetRole(Tx& tx, int64_t project_id, int64_t user_id) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query("SELECT role FROM project_members WHERE project_id = ? AND user_id = ?",
                          {project_id, user_id}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].Str(0));
}

}  // namespace quader::store
