#pragma once
// Data sets (issue 19; docs/datasets.md): versions of files in the
// registry's blob store, made from uploads, from a task's outputs or from a
// path of a project volume; named by tasks (`datasets: [iris@2]`) and
// notebooks, which get each version mounted read-only at /datasets/NAME
// from a directory laid out for that version, never the store itself.

#include <string>
#include <vector>

#include "core/documents.h"
#include "core/status.h"
#include "registry/blob_store.h"
#include "runtime/runtime.h"
#include "store/datasets.h"
#include "store/store.h"
#include "workload/dataset_ref.h"

namespace quader::registry {

// The limits of one version.
inline constexpr size_t kMaxDatasetFiles = 10000;
inline constexpr int64_t kMaxDatasetBytes = int64_t{100} << 30;  // 100 GiB

using workload::DatasetRef;
using workload::kDatasetsRoot;

// Where a version is laid out for workloads:
// DATA/registry/datasets/PROJECT/NAME/VERSION-DIGEST, DIGEST naming its files
// (paths and checksums), so a directory left by a deleted data set of the
// same names can never pass for another's version. And the directory of
// every version of a data set.
std::string DatasetVersionDir(const std::string& data_dir, const std::string& project, const std::string& dataset,
                              const store::DatasetVersionRecord& version);
std::string DatasetDir(const std::string& data_dir, const std::string& project, const std::string& dataset);

// On a cluster, the claim holding the registry (DATA/registry: the blob store
// and the versions laid out from it; deploy/kubernetes/quader.yaml).
inline constexpr const char* kRegistryClaim = "quader-registry";
// A laid-out version's directory `dir` (under DATA/registry) mounted
// read-only at `target`: locally the directory itself, on a cluster the
// registry's claim with the matching sub-path.
runtime::Mount RegistryMount(const std::string& data_dir, const std::string& dir, const std::string& target);


// What reads the versions a workload names (lineage: store::DatasetReadRecord).
struct DatasetReader {
  std::string kind;  // run, experiment, notebook
  int64_t id = 0;
  std::string detail;  // the task: "train (attempt 2)"
};

struct DatasetMounts {
  std::vector<runtime::Mount> mounts;  // read-only, at /datasets/NAME
  std::string env;                     // QUADER_DATASETS: "iris@2,digits@1"
};

// Resolves `refs` in project `project_id` (a version 0 is the newest),
// records that `reader` read each, and mounts each version's directory
// (laid out again when missing). kInvalidArgument naming `field` and the
// ref when a data set or version does not exist.
Result<DatasetMounts> MountDatasets(store::Store& store, const BlobStore& blobs, const std::string& field,
                                    int64_t project_id, const std::vector<DatasetRef>& refs,
                                    const DatasetReader& reader, int64_t now_ms);

// How a new version gets its files: the uploads `uploads` of the data set,
// or what is at `path` under `root` (a task's outputs, a project volume's
// directory: nothing there is trusted, registry::CollectOutputs).
struct DatasetVersionRequest {
  int64_t dataset_id = 0;
  std::vector<int64_t> uploads;
  std::string root;
  std::string path;
  Json source = Json::object();
  std::string description;
  std::string created_by;
};

struct MadeDatasetVersion {
  store::DatasetRecord dataset;
  store::DatasetVersionRecord version;
  std::vector<std::string> skipped;  // links and other non-files left out
};

// Records the next version and lays it out. Checks the files, paths and
// limits, not who asks (callers do).
Result<MadeDatasetVersion> MakeDatasetVersion(store::Store& store, BlobStore& blobs, int64_t now_ms,
                                              const DatasetVersionRequest& req);

// A task's `register_dataset` declaration in its outputs.json ({name,
// path?, description?}): the next version of data set `name` of project
// `project_id` (made by `created_by` when it does not exist) from what is at
// `path` under `root` (the task's /outputs; all of it by default).
// kInvalidArgument naming register_dataset.FIELD for a bad declaration.
Result<MadeDatasetVersion> MakeDeclaredVersion(store::Store& store, BlobStore& blobs, int64_t now_ms,
                                               const Json& declaration, int64_t project_id, const std::string& root,
                                               const std::string& created_by, Json source);

// Removes a version's laid-out directory and the blobs `unheld`.
void ForgetDatasetFiles(store::Store& store, const BlobStore& blobs, const std::string& dir,
                        const std::vector<std::string>& unheld);

}  // namespace quader::registry
