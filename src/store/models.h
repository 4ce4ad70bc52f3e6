#pragma once
// The model registry's tables: models, model_versions, model_blobs (issue
// 19). Every function runs on a caller's Tx.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/store.h"

namespace quader::store {

struct ModelRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string project;  // filled by reads (join)
  std::string name;
  std::string description;
  std::string created_by;
  int64_t created_at = 0;  // seconds
  int64_t updated_at = 0;
  int versions = 0;        // filled by reads: how many it has
  int latest_version = 0;  // filled by reads: the highest, 0 when none
};

struct ModelVersionRecord {
  int64_t id = 0;
  int64_t model_id = 0;
  int version = 0;  // 1, 2, ... per model
  std::string framework;
  std::string files;  // JSON: [{path, size, sha256}]
  int64_t size_bytes = 0;
  std::string metrics = "{}";  // JSON object
  std::string params = "{}";   // JSON object
  std::string source = "{}";   // JSON object: {run, pipeline, task, attempt, path}
  std::string stage = "none";  // none, staging, production, archived
  std::string description;
  std::string registered_by;
  int64_t registered_at = 0;  // ms
};

Result<ModelRecord> InsertModel(Tx& tx, ModelRecord m, int64_t now);
Result<ModelRecord> GetModel(Tx& tx, int64_t id);
Result<std::optional<ModelRecord>> FindModel(Tx& tx, int64_t project_id, const std::string& name);
// Models of the given projects (every project when `project_ids` is empty and `all`), by name.
Result<std::vector<ModelRecord>> ListModels(Tx& tx, const std::vector<int64_t>& project_ids, bool all);
// Deletes the model and its versions; the blobs no version holds any more.
Result<std::vector<std::string>> DeleteModel(Tx& tx, int64_t id);

// Inserts the next version of `v.model_id` (its number is picked here) and
// records which blobs it holds (`blobs`: sha256 of each file).
Result<ModelVersionRecord> InsertModelVersion(Tx& tx, ModelVersionRecord v, const std::vector<std::string>& blobs,
                                              int64_t now_ms);
Result<std::vector<ModelVersionRecord>> ListModelVersions(Tx& tx, int64_t model_id);
Result<ModelVersionRecord> GetModelVersion(Tx& tx, int64_t model_id, int version);
Status SetModelVersionStage(Tx& tx, int64_t version_id, const std::string& stage);
// Deletes one version; the blobs no version holds any more.
Result<std::vector<std::string>> DeleteModelVersion(Tx& tx, int64_t version_id);
// The registry's blob store is shared by models and data sets
// (store/datasets.h): a blob is held by a model version, a data set version
// or an upload not yet made a version (the view registry_blob_holds).
// Every blob something holds:
Result<std::set<std::string>> HeldBlobs(Tx& tx);
// Of `hashes`, those nothing holds any more (to remove from the store).
Result<std::vector<std::string>> UnheldBlobs(Tx& tx, const std::set<std::string>& hashes);

}  // namespace quader::store
