#include "store/services.h"

#include "store/sql_util.h"

namespace quader::store {
namespace {

using internal::Map;
using internal::ProjectFilter;

constexpr const char* kServiceCols =
    "s.id, s.project_id, p.name, s.kind, s.name, s.spec, s.generation, s.state, s.reason, s.created_by, "
    "s.created_at, s.updated_at, s.stage, s.scaled_replicas, s.debug_idle FROM services s JOIN projects p ON p.id = s.project_id";

ServiceRecord ServiceFromRow(const Row& r) {
  ServiceRecord s;
  s.id = r.Int(0);
  s.project_id = r.Int(1);
  s.project = r.Str(2);
  s.kind = r.Str(3);
  s.name = r.Str(4);
  s.spec = r.Str(5);
  s.generation = r.Int(6);
  s.state = r.Str(7);
  s.reason = r.Str(8);
  s.created_by = r.Str(9);
  s.created_at = r.Int(10);
  s.updated_at = r.Int(11);
  s.stage = r.Str(12);
  s.scaled_replicas = static_cast<int>(r.Int(13));
  s.debug_idle = r.Int(14) != 0;
  return s;
}

}  // namespace

Result<ServiceRecord> InsertService(Tx& tx, ServiceRecord s) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query("INSERT INTO services (project_id, kind, name, spec, generation, state, reason, created_by, "
                          "created_at, updated_at, stage) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) RETURNING id",
                          {s.project_id, s.kind, s.name, s.spec, s.state, s.reason, s.created_by, s.created_at,
                           s.updated_at, s.stage}));
  return GetService(tx, rows.at(0).Int(0));
}

Status UpdateServiceSpec(Tx& tx, int64_t id, const std::string& spec, int64_t now) {
  return tx.Exec("UPDATE services SET spec = ?, generation = generation + 1, updated_at = ? WHERE id = ?",
                 {spec, now, id});
}

Status SetServiceStage(Tx& tx, int64_t id, const std::string& stage, int64_t now, bool idle) {
  const int64_t debug_idle = idle && stage == kStageDebug ? 1 : 0;
  return tx.Exec(
      "UPDATE services SET stage = ?, debug_idle = ?, scaled_replicas = 0, generation = generation + 1, "
      "updated_at = ? WHERE id = ?",
      {stage, debug_idle, now, id});
}

Status SetScaledReplicas(Tx& tx, int64_t id, int replicas) {
  return tx.Exec("UPDATE services SET scaled_replicas = ? WHERE id = ?", {static_cast<int64_t>(replicas), id});
}

Status SetServiceState(Tx& tx, int64_t id, const std::string& state, const std::string& reason) {
  return tx.Exec("UPDATE services SET state = ?, reason = ? WHERE id = ?", {state, reason, id});
}

Result<ServiceRecord> GetService(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kServiceCols + " WHERE s.id = ?", {id}));
  if (rows.empty()) return errors::NotFound("service", std::to_string(id));
  return ServiceFromRow(rows[0]);
}

Result<std::optional<ServiceRecord>> FindService(Tx& tx, int64_t project_id, const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query(std::string("SELECT ") + kServiceCols + " WHERE s.project_id = ? AND s.name = ?",
                          {project_id, name}));
  if (rows.empty()) return std::optional<ServiceRecord>();
  return std::optional<ServiceRecord>(ServiceFromRow(rows[0]));
}

Result<std::vector<ServiceRecord>> ListServices(Tx& tx, const std::vector<int64_t>& project_ids, bool all,
                                                const std::string& kind) {
  Params params;
  std::string sql = std::string("SELECT ") + kServiceCols + ProjectFilter("s", project_ids, all, &params);
  if (!kind.empty()) {
    sql += params.empty() && all ? " WHERE s.kind = ?" : " AND s.kind = ?";
    params.push_back(kind);
  }
  return Map<ServiceRecord>(tx.Query(sql + " ORDER BY s.id", params), ServiceFromRow);
}

Status DeleteService(Tx& tx, int64_t id) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM services WHERE id = ?", {id}));
  if (tx.changes() == 0) return errors::NotFound("service", std::to_string(id));
  return Status::Ok();
}

Status AddServiceEvent(Tx& tx, int64_t service_id, int64_t at_ms, const std::string& kind, const std::string& message) {
  return tx.Exec("INSERT INTO service_events (service_id, at, kind, message) VALUES (?, ?, ?, ?)",
                 {service_id, at_ms, kind, message});
}

Result<std::vector<ServiceEventRecord>> ListServiceEvents(Tx& tx, int64_t service_id, int limit,
                                                         const std::vector<std::string>& kinds) {
  Params params{service_id};
  std::string sql = "SELECT id, service_id, at, kind, message FROM service_events WHERE service_id = ?";
  if (!kinds.empty()) {
    sql += " AND kind IN (";
    for (size_t i = 0; i < kinds.size(); ++i) {
      sql += i ? ", ?" : "?";
      params.push_back(kinds[i]);
    }
    sql += ")";
  }
  params.push_back(static_cast<int64_t>(limit));
  return Map<ServiceEventRecord>(
      tx.Query(sql + " ORDER BY id DESC LIMIT ?", params),
      [](const Row& r) { return ServiceEventRecord{r.Int(0), r.Int(1), r.Int(2), r.Str(3), r.Str(4)}; });
}

}  // namespace quader::store
