#pragma once
// Data sets' tables: datasets, dataset_versions, dataset_blobs,
// dataset_uploads, dataset_reads (issue 19; docs/datasets.md). Their files
// sit in the model registry's blob store (store/models.h HeldBlobs). Every
// function runs on a caller's Tx.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/store.h"

namespace quader::store {

struct DatasetRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string project;  // filled by reads (join)
  std::string name;
  std::string description;
  std::string created_by;
  int64_t created_at = 0;  // seconds
  int64_t updated_at = 0;
  int versions = 0;        // filled by reads
  int latest_version = 0;  // filled by reads: the highest, 0 when none
};

struct DatasetVersionRecord {
  int64_t id = 0;
  int64_t dataset_id = 0;
  int version = 0;    // 1, 2, ... per data set
  std::string files;  // JSON: [{path, size, sha256}]
  int file_count = 0;
  int64_t size_bytes = 0;
  std::string source = "{}";  // JSON: {kind: upload|task|volume, run, pipeline, task, attempt, volume, path}
  std::string description;
  std::string created_by;
  int64_t created_at = 0;  // ms
};

// A file uploaded for a version not made yet.
struct DatasetUploadRecord {
  int64_t id = 0;
  int64_t dataset_id = 0;
  std::string path;  // where it goes in the version: "train.csv", "images/a.png"
  std::string sha256;
  int64_t size = 0;
  std::string uploaded_by;
  int64_t uploaded_at = 0;  // ms
};

// Something that read a version: a run's task ("run", run id, task name),
// an experiment's trial ("experiment", id, "trial N"), a notebook.
struct DatasetReadRecord {
  int64_t version_id = 0;
  std::string reader_kind;
  int64_t reader_id = 0;
  std::string detail;
  int64_t read_at = 0;  // ms
};

Result<DatasetRecord> InsertDataset(Tx& tx, DatasetRecord d, int64_t now);
Result<DatasetRecord> GetDataset(Tx& tx, int64_t id);
Result<std::optional<DatasetRecord>> FindDataset(Tx& tx, int64_t project_id, const std::string& name);
Result<std::vector<DatasetRecord>> ListDatasets(Tx& tx, const std::vector<int64_t>& project_ids, bool all);
// Deletes the data set, its versions and uploads; the blobs nothing holds any more.
Result<std::vector<std::string>> DeleteDataset(Tx& tx, int64_t id);

Result<DatasetUploadRecord> InsertDatasetUpload(Tx& tx, DatasetUploadRecord u);
Result<std::vector<DatasetUploadRecord>> ListDatasetUploads(Tx& tx, int64_t dataset_id);
// Drops uploads made before `before_ms` (never made a version); the blobs
// nothing holds any more.
Result<std::vector<std::string>> DropDatasetUploads(Tx& tx, int64_t before_ms);

// Inserts the next version of `v.dataset_id` (numbered here) holding
// `blobs`, and drops the uploads `taken` (now held by the version).
Result<DatasetVersionRecord> InsertDatasetVersion(Tx& tx, DatasetVersionRecord v, const std::vector<std::string>& blobs,
                                                  const std::vector<int64_t>& taken, int64_t now_ms);
Result<std::vector<DatasetVersionRecord>> ListDatasetVersions(Tx& tx, int64_t dataset_id);
Result<DatasetVersionRecord> GetDatasetVersion(Tx& tx, int64_t dataset_id, int version);
// Deletes one version; the blobs nothing holds any more.
Result<std::vector<std::string>> DeleteDatasetVersion(Tx& tx, int64_t version_id);

// Every blob the models and data sets of project `project_id` hold (what
// may become unheld when the project goes).
Result<std::vector<std::string>> BlobsOfProject(Tx& tx, int64_t project_id);

// Records a read (once per reader and detail).
Status RecordDatasetRead(Tx& tx, const DatasetReadRecord& r);
// What read version `version_id`, newest first.
Result<std::vector<DatasetReadRecord>> ListDatasetReads(Tx& tx, int64_t version_id);
// Work still going that read version `version_id` (a pending or running
// run, notebook or experiment), named for a refusal: `run 7 (iris-stats)`,
// `notebook "lab"`, `experiment "tune"`; "" when none.
Result<std::string> ActiveDatasetReader(Tx& tx, int64_t version_id);

}  // namespace quader::store
