#include "store/models.h"

#include <set>

#include "store/sql_util.h"

namespace quader::store {
namespace {

using internal::Map;
using internal::ProjectFilter;

constexpr const char* kModelCols =
    "m.id, m.project_id, p.name, m.name, m.description, m.created_by, m.created_at, m.updated_at, "
    "(SELECT COUNT(*) FROM model_versions v WHERE v.model_id = m.id), "
    "(SELECT COALESCE(MAX(v.version), 0) FROM model_versions v WHERE v.model_id = m.id) "
    "FROM models m JOIN projects p ON p.id = m.project_id";

constexpr const char* kVersionCols =
    "v.id, v.model_id, v.version, v.framework, v.files, v.size_bytes, v.metrics, v.params, v.source, v.stage, "
    "v.description, v.registered_by, v.registered_at FROM model_versions v";

ModelRecord ModelFromRow(const Row& r) {
  ModelRecord m;
  m.id = r.Int(0);
  m.project_id = r.Int(1);
  m.project = r.Str(2);
  m.name = r.Str(3);
  m.description = r.Str(4);
  m.created_by = r.Str(5);
  m.created_at = r.Int(6);
  m.updated_at = r.Int(7);
  m.versions = static_cast<int>(r.Int(8));
  m.latest_version = static_cast<int>(r.Int(9));
  return m;
}

ModelVersionRecord VersionFromRow(const Row& r) {
  ModelVersionRecord v;
  v.id = r.Int(0);
  v.model_id = r.Int(1);
  v.version = static_cast<int>(r.Int(2));
  v.framework = r.Str(3);
  v.files = r.Str(4);
  v.size_bytes = r.Int(5);
  v.metrics = r.Str(6);
  v.params = r.Str(7);
  v.source = r.Str(8);
  v.stage = r.Str(9);
  v.description = r.Str(10);
  v.registered_by = r.Str(11);
  v.registered_at = r.Int(12);
  return v;
}

Result<std::set<std::string>> BlobsOf(Tx& tx, const std::string& where, const Params& params) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT b.sha256 FROM model_blobs b JOIN model_versions v ON "
                                              "v.id = b.version_id WHERE " + where, params));
  std::set<std::string> out;
  for (const Row& r : rows) out.insert(r.Str(0));
  return out;
}

}  // namespace

Result<ModelRecord> InsertModel(Tx& tx, ModelRecord m, int64_t now) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query("INSERT INTO models (project_id, name, description, created_by, created_at, updated_at) "
                          "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                          {m.project_id, m.name, m.description, m.created_by, now, now}));
  return GetModel(tx, rows.at(0).Int(0));
}

Result<ModelRecord> GetModel(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kModelCols + " WHERE m.id = ?", {id}));
  if (rows.empty()) return errors::NotFound("model", std::to_string(id));
  return ModelFromRow(rows[0]);
}

Result<std::optional<ModelRecord>> FindModel(Tx& tx, int64_t project_id, const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kModelCols +
                                                  " WHERE m.project_id = ? AND m.name = ?",
                                              {project_id, name}));
  if (rows.empty()) return std::optional<ModelRecord>();
  return std::optional<ModelRecord>(ModelFromRow(rows[0]));
}

Result<std::vector<ModelRecord>> ListModels(Tx& tx, const std::vector<int64_t>& project_ids, bool all) {
  Params params;
  std::string sql = std::string("SELECT ") + kModelCols + ProjectFilter("m", project_ids, all, &params) +
                    " ORDER BY p.name, m.name";
  return Map<ModelRecord>(tx.Query(sql, params), ModelFromRow);
}

Result<std::vector<std::string>> DeleteModel(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(std::set<std::string> held, BlobsOf(tx, "v.model_id = ?", {id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM model_blobs WHERE version_id IN "
                                 "(SELECT id FROM model_versions WHERE model_id = ?)",
                                 {id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM model_versions WHERE model_id = ?", {id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM models WHERE id = ?", {id}));
  return UnheldBlobs(tx, held);
}

Result<ModelVersionRecord> InsertModelVersion(Tx& tx, ModelVersionRecord v, const std::vector<std::string>& blobs,
                                              int64_t now_ms) {
  QUADER_ASSIGN_OR_RETURN(Rows next, tx.Query("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions "
                                              "WHERE model_id = ?",
                                              {v.model_id}));
  v.version = static_cast<int>(next.at(0).Int(0));
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query("INSERT INTO model_versions (model_id, version, framework, files, size_bytes, metrics, params, source, "
               "stage, description, registered_by, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
               "RETURNING id",
               {v.model_id, static_cast<int64_t>(v.version), v.framework, v.files, v.size_bytes, v.metrics, v.params,
                v.source, v.stage, v.description, v.registered_by, now_ms}));
  const int64_t id = rows.at(0).Int(0);
  for (const std::string& h : std::set<std::string>(blobs.begin(), blobs.end())) {
    QUADER_RETURN_IF_ERROR(tx.Exec("INSERT INTO model_blobs (version_id, sha256) VALUES (?, ?)", {id, h}));
  }
  QUADER_RETURN_IF_ERROR(tx.Exec("UPDATE models SET updated_at = ? WHERE id = ?", {now_ms / 1000, v.model_id}));
  return GetModelVersion(tx, v.model_id, v.version);
}

Result<std::vector<ModelVersionRecord>> ListModelVersions(Tx& tx, int64_t model_id) {
  return Map<ModelVersionRecord>(
      tx.Query(std::string("SELECT ") + kVersionCols + " WHERE v.model_id = ? ORDER BY v.version DESC", {model_id}),
      VersionFromRow);
}

Result<ModelVersionRecord> GetModelVersion(Tx& tx, int64_t model_id, int version) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kVersionCols +
                                                  " WHERE v.model_id = ? AND v.version = ?",
                                              {model_id, static_cast<int64_t>(version)}));
  if (rows.empty()) return errors::NotFound("model version", std::to_string(version));
  return VersionFromRow(rows[0]);
}

Status SetModelVersionStage(Tx& tx, int64_t version_id, const std::string& stage) {
  return tx.Exec("UPDATE model_versions SET stage = ? WHERE id = ?", {stage, version_id});
}

Result<std::vector<std::string>> DeleteModelVersion(Tx& tx, int64_t version_id) {
  QUADER_ASSIGN_OR_RETURN(std::set<std::string> held, BlobsOf(tx, "v.id = ?", {version_id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM model_blobs WHERE version_id = ?", {version_id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM model_versions WHERE id = ?", {version_id}));
  return UnheldBlobs(tx, held);
}

Result<std::vector<std::string>> UnheldBlobs(Tx& tx, const std::set<std::string>& hashes) {
  std::vector<std::string> out;
  for (const std::string& h : hashes) {
    QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT 1 FROM registry_blob_holds WHERE sha256 = ? LIMIT 1", {h}));
    if (rows.empty()) out.push_back(h);
  }
  return out;
}

Result<std::set<std::string>> HeldBlobs(Tx& tx) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT DISTINCT sha256 FROM registry_blob_holds"));
  std::set<std::string> out;
  for (const Row& r : rows) out.insert(r.Str(0));
  return out;
}

}  // namespace quader::store
