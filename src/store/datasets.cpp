#include "store/datasets.h"

#include <set>

#include "store/models.h"
#include "store/sql_util.h"

namespace quader::store {
namespace {

using internal::Map;
using internal::ProjectFilter;

constexpr const char* kDatasetCols =
    "d.id, d.project_id, p.name, d.name, d.description, d.created_by, d.created_at, d.updated_at, "
    "(SELECT COUNT(*) FROM dataset_versions v WHERE v.dataset_id = d.id), "
    "(SELECT COALESCE(MAX(v.version), 0) FROM dataset_versions v WHERE v.dataset_id = d.id) "
    "FROM datasets d JOIN projects p ON p.id = d.project_id";

constexpr const char* kVersionCols =
    "v.id, v.dataset_id, v.version, v.files, v.file_count, v.size_bytes, v.source, v.description, v.created_by, "
    "v.created_at FROM dataset_versions v";

constexpr const char* kUploadCols = "id, dataset_id, path, sha256, size, uploaded_by, uploaded_at FROM dataset_uploads";

DatasetRecord DatasetFromRow(const Row& r) {
  DatasetRecord d;
  d.id = r.Int(0);
  d.project_id = r.Int(1);
  d.project = r.Str(2);
  d.name = r.Str(3);
  d.description = r.Str(4);
  d.created_by = r.Str(5);
  d.created_at = r.Int(6);
  d.updated_at = r.Int(7);
  d.versions = static_cast<int>(r.Int(8));
  d.latest_version = static_cast<int>(r.Int(9));
  return d;
}

DatasetVersionRecord VersionFromRow(const Row& r) {
  DatasetVersionRecord v;
  v.id = r.Int(0);
  v.dataset_id = r.Int(1);
  v.version = static_cast<int>(r.Int(2));
  v.files = r.Str(3);
  v.file_count = static_cast<int>(r.Int(4));
  v.size_bytes = r.Int(5);
  v.source = r.Str(6);
  v.description = r.Str(7);
  v.created_by = r.Str(8);
  v.created_at = r.Int(9);
  return v;
}

DatasetUploadRecord UploadFromRow(const Row& r) {
  return {r.Int(0), r.Int(1), r.Str(2), r.Str(3), r.Int(4), r.Str(5), r.Int(6)};
}

DatasetReadRecord ReadFromRow(const Row& r) {
  DatasetReadRecord out;
  out.version_id = r.Int(0);
  out.reader_kind = r.Str(1);
  out.reader_id = r.Int(2);
  out.detail = r.Str(3);
  out.read_at = r.Int(4);
  return out;
}

Result<std::set<std::string>> Hashes(Tx& tx, const std::string& sql, const Params& params) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(sql, params));
  std::set<std::string> out;
  for (const Row& r : rows) out.insert(r.Str(0));
  return out;
}

}  // namespace

Result<DatasetRecord> InsertDataset(Tx& tx, DatasetRecord d, int64_t now) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query("INSERT INTO datasets (project_id, name, description, created_by, created_at, updated_at) "
                          "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                          {d.project_id, d.name, d.description, d.created_by, now, now}));
  return GetDataset(tx, rows.at(0).Int(0));
}

Result<DatasetRecord> GetDataset(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kDatasetCols + " WHERE d.id = ?", {id}));
  if (rows.empty()) return errors::NotFound("dataset", std::to_string(id));
  return DatasetFromRow(rows[0]);
}

Result<std::optional<DatasetRecord>> FindDataset(Tx& tx, int64_t project_id, const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kDatasetCols +
                                                  " WHERE d.project_id = ? AND d.name = ?",
                                              {project_id, name}));
  if (rows.empty()) return std::optional<DatasetRecord>();
  return std::optional<DatasetRecord>(DatasetFromRow(rows[0]));
}

Result<std::vector<DatasetRecord>> ListDatasets(Tx& tx, const std::vector<int64_t>& project_ids, bool all) {
  Params params;
  std::string sql = std::string("SELECT ") + kDatasetCols + ProjectFilter("d", project_ids, all, &params) +
                    " ORDER BY p.name, d.name";
  return Map<DatasetRecord>(tx.Query(sql, params), DatasetFromRow);
}

Result<std::vector<std::string>> DeleteDataset(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(std::set<std::string> held,
                          Hashes(tx,
                                 "SELECT b.sha256 FROM dataset_blobs b JOIN dataset_versions v ON v.id = b.version_id "
                                 "WHERE v.dataset_id = ? UNION SELECT sha256 FROM dataset_uploads WHERE dataset_id = ?",
                                 {id, id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM dataset_reads WHERE version_id IN "
                                 "(SELECT id FROM dataset_versions WHERE dataset_id = ?)",
                                 {id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM dataset_blobs WHERE version_id IN "
                                 "(SELECT id FROM dataset_versions WHERE dataset_id = ?)",
                                 {id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM dataset_versions WHERE dataset_id = ?", {id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM dataset_uploads WHERE dataset_id = ?", {id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM datasets WHERE id = ?", {id}));
  return UnheldBlobs(tx, held);
}

Result<DatasetUploadRecord> InsertDatasetUpload(Tx& tx, DatasetUploadRecord u) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query("INSERT INTO dataset_uploads (dataset_id, path, sha256, size, "
                                              "uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                              {u.dataset_id, u.path, u.sha256, u.size, u.uploaded_by, u.uploaded_at}));
  u.id = rows.at(0).Int(0);
  return u;
}

Result<std::vector<DatasetUploadRecord>> ListDatasetUploads(Tx& tx, int64_t dataset_id) {
  return Map<DatasetUploadRecord>(
      tx.Query(std::string("SELECT ") + kUploadCols + " WHERE dataset_id = ? ORDER BY id", {dataset_id}),
      UploadFromRow);
}

Result<std::vector<std::string>> DropDatasetUploads(Tx& tx, int64_t before_ms) {
  QUADER_ASSIGN_OR_RETURN(std::set<std::string> held,
                          Hashes(tx, "SELECT sha256 FROM dataset_uploads WHERE uploaded_at < ?", {before_ms}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM dataset_uploads WHERE uploaded_at < ?", {before_ms}));
  return UnheldBlobs(tx, held);
}

Result<DatasetVersionRecord> InsertDatasetVersion(Tx& tx, DatasetVersionRecord v, const std::vector<std::string>& blobs,
                                                  const std::vector<int64_t>& taken, int64_t now_ms) {
  QUADER_ASSIGN_OR_RETURN(Rows next, tx.Query("SELECT COALESCE(MAX(version), 0) + 1 FROM dataset_versions "
                                              "WHERE dataset_id = ?",
                                              {v.dataset_id}));
  v.version = static_cast<int>(next.at(0).Int(0));
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query("INSERT INTO dataset_versions (dataset_id, version, files, file_count, size_bytes, source, "
                          "description, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                          {v.dataset_id, static_cast<int64_t>(v.version), v.files, static_cast<int64_t>(v.file_count),
                           v.size_bytes, v.source, v.description, v.created_by, now_ms}));
  const int64_t id = rows.at(0).Int(0);
  for (const std::string& h : std::set<std::string>(blobs.begin(), blobs.end())) {
    QUADER_RETURN_IF_ERROR(tx.Exec("INSERT INTO dataset_blobs (version_id, sha256) VALUES (?, ?)", {id, h}));
  }
  for (int64_t upload : taken) {
    QUADER_RETURN_IF_ERROR(
        tx.Exec("DELETE FROM dataset_uploads WHERE id = ? AND dataset_id = ?", {upload, v.dataset_id}));
  }
  QUADER_RETURN_IF_ERROR(tx.Exec("UPDATE datasets SET updated_at = ? WHERE id = ?", {now_ms / 1000, v.dataset_id}));
  return GetDatasetVersion(tx, v.dataset_id, v.version);
}

Result<std::vector<DatasetVersionRecord>> ListDatasetVersions(Tx& tx, int64_t dataset_id) {
  return Map<DatasetVersionRecord>(
      tx.Query(std::string("SELECT ") + kVersionCols + " WHERE v.dataset_id = ? ORDER BY v.version DESC",
               {dataset_id}),
      VersionFromRow);
}

Result<DatasetVersionRecord> GetDatasetVersion(Tx& tx, int64_t dataset_id, int version) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kVersionCols +
                                                  " WHERE v.dataset_id = ? AND v.version = ?",
                                              {dataset_id, static_cast<int64_t>(version)}));
  if (rows.empty()) return errors::NotFound("dataset version", std::to_string(version));
  return VersionFromRow(rows[0]);
}

Result<std::vector<std::string>> DeleteDatasetVersion(Tx& tx, int64_t version_id) {
  QUADER_ASSIGN_OR_RETURN(std::set<std::string> held,
                          Hashes(tx, "SELECT sha256 FROM dataset_blobs WHERE version_id = ?", {version_id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM dataset_reads WHERE version_id = ?", {version_id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM dataset_blobs WHERE version_id = ?", {version_id}));
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM dataset_versions WHERE id = ?", {version_id}));
  return UnheldBlobs(tx, held);
}

Result<std::vector<std::string>> BlobsOfProject(Tx& tx, int64_t project_id) {
  QUADER_ASSIGN_OR_RETURN(
      std::set<std::string> held,
      Hashes(tx,
             "SELECT b.sha256 FROM model_blobs b JOIN model_versions v ON v.id = b.version_id JOIN models m "
             "ON m.id = v.model_id WHERE m.project_id = ? "
             "UNION SELECT b.sha256 FROM dataset_blobs b JOIN dataset_versions v ON v.id = b.version_id JOIN datasets d "
             "ON d.id = v.dataset_id WHERE d.project_id = ? "
             "UNION SELECT u.sha256 FROM dataset_uploads u JOIN datasets d ON d.id = u.dataset_id WHERE d.project_id = ?",
             {project_id, project_id, project_id}));
  return std::vector<std::string>(held.begin(), held.end());
}

Status RecordDatasetRead(Tx& tx, const DatasetReadRecord& r) {
  return tx.Exec("INSERT INTO dataset_reads (version_id, reader_kind, reader_id, detail, read_at) "
                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT (version_id, reader_kind, reader_id, detail) DO NOTHING",
                 {r.version_id, r.reader_kind, r.reader_id, r.detail, r.read_at});
}

Result<std::vector<DatasetReadRecord>> ListDatasetReads(Tx& tx, int64_t version_id) {
  return Map<DatasetReadRecord>(
      tx.Query("SELECT version_id, reader_kind, reader_id, detail, read_at FROM dataset_reads WHERE version_id = ? "
               "ORDER BY read_at DESC, reader_id DESC LIMIT 1000",
               {version_id}),
      ReadFromRow);
}

Result<std::string> ActiveDatasetReader(Tx& tx, int64_t version_id) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query("SELECT 'run', x.id, x.pipeline_name FROM dataset_reads d JOIN runs x ON x.id = d.reader_id "
               "WHERE d.version_id = ? AND d.reader_kind = 'run' AND x.state IN ('pending', 'running') "
               "UNION ALL SELECT 'notebook', x.id, x.name FROM dataset_reads d JOIN notebooks x ON x.id = d.reader_id "
               "WHERE d.version_id = ? AND d.reader_kind = 'notebook' AND x.state IN ('pending', 'running') "
               "UNION ALL SELECT 'experiment', x.id, x.name FROM dataset_reads d JOIN experiments x "
               "ON x.id = d.reader_id WHERE d.version_id = ? AND d.reader_kind = 'experiment' "
               "AND x.state IN ('pending', 'running') LIMIT 1",
               {version_id, version_id, version_id}));
  if (rows.empty()) return std::string();
  const std::string kind = rows[0].Str(0);
  if (kind == "run") return "run " + std::to_string(rows[0].Int(1)) + " (" + rows[0].Str(2) + ")";
  return kind + " \"" + rows[0].Str(2) + "\"";
}

}  // namespace quader::store
