#include "store/notebooks.h"

#include "store/sql_util.h"

namespace quader::store {
namespace {

using internal::Map;
using internal::Nullable;
using internal::OptInt;
using internal::ProjectFilter;

constexpr const char* kNotebookCols =
    "n.id, n.project_id, p.name, n.name, n.spec, n.desired, n.generation, n.state, n.reason, n.server_token, "
    "n.created_by, n.created_at, n.updated_at, n.started_at, n.last_activity "
    "FROM notebooks n JOIN projects p ON p.id = n.project_id";

NotebookRecord NotebookFromRow(const Row& r) {
  NotebookRecord n;
  n.id = r.Int(0);
  n.project_id = r.Int(1);
  n.project = r.Str(2);
  n.name = r.Str(3);
  n.spec = r.Str(4);
  n.desired = r.Str(5);
  n.generation = r.Int(6);
  n.state = r.Str(7);
  n.reason = r.Str(8);
  n.server_token = r.Str(9);
  n.created_by = r.Str(10);
  n.created_at = r.Int(11);
  n.updated_at = r.Int(12);
  n.started_at = OptInt(r, 13);
  n.last_activity = OptInt(r, 14);
  return n;
}

}  // namespace

Result<NotebookRecord> InsertNotebook(Tx& tx, NotebookRecord n) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query("INSERT INTO notebooks (project_id, name, spec, desired, generation, state, reason, server_token, "
               "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) RETURNING id",
               {n.project_id, n.name, n.spec, n.desired, n.state, n.reason, n.server_token, n.created_by,
                n.created_at, n.updated_at}));
  return GetNotebook(tx, rows.at(0).Int(0));
}

Result<NotebookRecord> GetNotebook(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kNotebookCols + " WHERE n.id = ?", {id}));
  if (rows.empty()) return errors::NotFound("notebook", std::to_string(id));
  return NotebookFromRow(rows[0]);
}

Result<std::optional<NotebookRecord>> FindNotebook(Tx& tx, int64_t project_id, const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query(std::string("SELECT ") + kNotebookCols + " WHERE n.project_id = ? AND n.name = ?",
                          {project_id, name}));
  if (rows.empty()) return std::optional<NotebookRecord>();
  return std::optional<NotebookRecord>(NotebookFromRow(rows[0]));
}

Result<std::vector<NotebookRecord>> ListNotebooks(Tx& tx, const std::vector<int64_t>& project_ids, bool all,
                                                  const std::string& owner) {
  Params params;
  std::string filter = ProjectFilter("n", project_ids, all, &params);
  std::string sql = std::string("SELECT ") + kNotebookCols + filter;
  if (!owner.empty()) {
    sql += filter.empty() ? " WHERE n.created_by = ?" : " AND n.created_by = ?";
    params.push_back(owner);
  }
  return Map<NotebookRecord>(tx.Query(sql + " ORDER BY n.id", params), NotebookFromRow);
}

Status UpdateNotebookSpec(Tx& tx, int64_t id, const std::string& spec, int64_t now) {
  return tx.Exec("UPDATE notebooks SET spec = ?, generation = generation + 1, updated_at = ? WHERE id = ?",
                 {spec, now, id});
}

Status SetNotebookDesired(Tx& tx, int64_t id, const std::string& desired, bool new_generation, int64_t now) {
  return tx.Exec(std::string("UPDATE notebooks SET desired = ?, updated_at = ?") +
                     (new_generation ? ", generation = generation + 1" : "") + " WHERE id = ?",
                 {desired, now, id});
}

Status SetNotebookState(Tx& tx, int64_t id, const std::string& state, const std::string& reason,
                        std::optional<int64_t> started_at) {
  return tx.Exec("UPDATE notebooks SET state = ?, reason = ?, started_at = ? WHERE id = ?",
                 {state, reason, Nullable(started_at), id});
}

Status SetNotebookActivity(Tx& tx, int64_t id, int64_t at_ms) {
  return tx.Exec("UPDATE notebooks SET last_activity = ? WHERE id = ?", {at_ms, id});
}

Status DeleteNotebook(Tx& tx, int64_t id) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM notebooks WHERE id = ?", {id}));
  if (tx.changes() == 0) return errors::NotFound("notebook", std::to_string(id));
  return Status::Ok();
}

}  // namespace quader::store
