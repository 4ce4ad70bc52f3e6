#pragma once
// Registering a model version from a task's outputs: the one way both the
// API (POST /models/{id}/versions) and a task's own declaration (the
// `register_model` entry of its outputs.json) go (docs/models.md).

#include <string>
#include <vector>

#include "core/documents.h"
#include "core/status.h"
#include "registry/blob_store.h"
#include "store/models.h"
#include "store/store.h"

namespace quader::registry {

// The fields a version is described by, checked: framework one of sklearn,
// pytorch, onnx, tensorflow, xgboost, custom; metrics names to numbers and
// params names to strings, numbers or booleans (100 of each at most);
// description at most 4096 bytes. Errors name the field.
Status CheckVersionFields(const std::string& framework, const Json& metrics, const Json& params,
                          const std::string& description);

struct VersionRequest {
  // The model: `model_id`, or (0) the model `model` of project `project_id`,
  // made (by `registered_by`) when it does not exist yet.
  int64_t model_id = 0;
  int64_t project_id = 0;
  std::string model;
  // The files: `path` under `outputs_root` (a task's /outputs), "" for all.
  std::string outputs_root;
  std::string path;
  std::string framework;
  Json metrics = Json::object();
  Json params = Json::object();
  std::string description;
  Json source = Json::object();  // {run, pipeline, task, attempt, path}
  std::string registered_by;
};

struct Registered {
  store::ModelRecord model;
  store::ModelVersionRecord version;
  std::vector<std::string> skipped;  // links and other non-files left out
};

// Copies the files into `blobs`, records the next version and lays it out
// for the workloads that mount it. Checks nothing about who asks (callers
// do) but the fields, the paths and the limits.
Result<Registered> RegisterVersion(store::Store& store, BlobStore& blobs, int64_t now_ms, const VersionRequest& req);

// Removes those of `hashes` (the blobs a deletion left unheld) that nothing
// holds any more, checked again under the lock against placing blobs
// (BlobStore::RemoveUnheld): an upload of the same bytes meanwhile keeps it.
void RemoveUnheldBlobs(store::Store& store, const BlobStore& blobs, const std::vector<std::string>& hashes);

// A task's declaration in its outputs.json: {"name", "path"?, "framework",
// "metrics"?, "params"?, "description"?}, checked and read into `req`.
Status ReadDeclaration(const Json& declaration, VersionRequest* req);

}  // namespace quader::registry
