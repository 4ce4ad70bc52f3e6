#include "registry/register.h"

#include <set>

#include "core/names.h"

namespace quader::registry {
namespace {

constexpr size_t kMaxFiles = 10000;
constexpr int64_t kMaxVersionBytes = int64_t{20} << 30;  // 20 GiB
constexpr size_t kMaxDescription = 4096;
constexpr size_t kMaxEntries = 100;

const std::set<std::string> kFrameworks = {"sklearn", "pytorch", "onnx", "tensorflow", "xgboost", "custom"};

Status CheckEntries(const std::string& field, const Json& v, bool numbers_only) {
  if (!v.is_object()) return errors::Invalid(field, "must be an object");
  if (v.size() > kMaxEntries) return errors::Invalid(field, "more than " + std::to_string(kMaxEntries) + " entries");
  for (const auto& [k, x] : v.items()) {
    if (k.empty() || k.size() > 128) return errors::Invalid(field, "a name must have 1 to 128 bytes");
    if (numbers_only ? !x.is_number() : !(x.is_number() || x.is_boolean() || x.is_string())) {
      return errors::Invalid(field + "." + k, numbers_only ? "must be a number" : "must be a string, number or boolean");
    }
    if (x.is_string() && x.get<std::string>().size() > 1024) {
      return errors::Invalid(field + "." + k, "longer than 1024 bytes");
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckVersionFields(const std::string& framework, const Json& metrics, const Json& params,
                          const std::string& description) {
  if (!kFrameworks.count(framework)) {
    return errors::Invalid("framework", "\"" + framework + "\" is not one of sklearn, pytorch, onnx, tensorflow, "
                                        "xgboost, custom");
  }
  QUADER_RETURN_IF_ERROR(CheckEntries("metrics", metrics, true));
  QUADER_RETURN_IF_ERROR(CheckEntries("params", params, false));
  if (description.size() > kMaxDescription) {
    return errors::Invalid("description", "longer than " + std::to_string(kMaxDescription) + " bytes");
  }
  return Status::Ok();
}

Status ReadDeclaration(const Json& d, VersionRequest* req) {
  if (!d.is_object()) return errors::Invalid("register_model", "must be an object {name, path, framework, ...}");
  static const std::set<std::string> known = {"name", "path", "framework", "metrics", "params", "description"};
  for (const auto& [k, v] : d.items()) {
    if (!known.count(k)) return errors::Invalid("register_model." + k, "unknown field");
  }
  auto text = [&](const char* field, std::string* out, bool required) -> Status {
    if (!d.contains(field)) return required ? errors::Invalid(std::string("register_model.") + field, "is required")
                                            : Status::Ok();
    if (!d[field].is_string() || d[field].get<std::string>().size() > 4096) {
      return errors::Invalid(std::string("register_model.") + field, "must be a string");
    }
    *out = d[field].get<std::string>();
    return Status::Ok();
  };
  QUADER_RETURN_IF_ERROR(text("name", &req->model, true));
  QUADER_RETURN_IF_ERROR(ValidateObjectName("register_model.name", req->model));
  QUADER_RETURN_IF_ERROR(text("path", &req->path, false));
  QUADER_RETURN_IF_ERROR(text("framework", &req->framework, true));
  QUADER_RETURN_IF_ERROR(text("description", &req->description, false));
  if (d.contains("metrics")) req->metrics = d["metrics"];
  if (d.contains("params")) req->params = d["params"];
  return CheckVersionFields(req->framework, req->metrics, req->params, req->description);
}

void RemoveUnheldBlobs(store::Store& store, const BlobStore& blobs, const std::vector<std::string>& hashes) {
  blobs.RemoveUnheld(hashes, [&](const std::vector<std::string>& candidates) {
    std::vector<std::string> out;
    Status st = store.Read([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(out, store::UnheldBlobs(tx, std::set<std::string>(candidates.begin(), candidates.end())));
      return Status::Ok();
    });
    if (!st.ok()) out.clear();  // kept: the start-up sweep removes them
    return out;
  });
}

Result<Registered> RegisterVersion(store::Store& store, BlobStore& blobs, int64_t now_ms, const VersionRequest& req) {
  QUADER_RETURN_IF_ERROR(CheckVersionFields(req.framework, req.metrics, req.params, req.description));
  // No blob this places may be removed before the version holds it.
  auto holding = blobs.Holding();
  // The files first, outside any transaction; what no version comes to hold
  // goes with the next sweep.
  QUADER_ASSIGN_OR_RETURN(Collected collected,
                          CollectOutputs(req.outputs_root, req.path, blobs, kMaxFiles, kMaxVersionBytes));
  Json files = Json::array();
  std::vector<std::string> hashes;
  for (const auto& f : collected.files) {
    files.push_back({{"path", f.path}, {"size", f.blob.size}, {"sha256", f.blob.sha256}});
    hashes.push_back(f.blob.sha256);
  }
  Registered out;
  out.skipped = collected.skipped;
  QUADER_RETURN_IF_ERROR(store.Write([&](store::Tx& tx) -> Status {
    if (req.model_id > 0) {
      QUADER_ASSIGN_OR_RETURN(out.model, store::GetModel(tx, req.model_id));
    } else {
      QUADER_ASSIGN_OR_RETURN(auto found, store::FindModel(tx, req.project_id, req.model));
      if (found) {
        out.model = *found;
      } else {
        store::ModelRecord m;
        m.project_id = req.project_id;
        m.name = req.model;
        m.created_by = req.registered_by;
        QUADER_ASSIGN_OR_RETURN(out.model, store::InsertModel(tx, m, now_ms / 1000));
      }
    }
    store::ModelVersionRecord v;
    v.model_id = out.model.id;
    v.framework = req.framework;
    v.files = files.dump();
    v.size_bytes = collected.total_bytes;
    v.metrics = req.metrics.dump();
    v.params = req.params.dump();
    v.source = req.source.dump();
    v.description = req.description;
    v.registered_by = req.registered_by;
    QUADER_ASSIGN_OR_RETURN(out.version, store::InsertModelVersion(tx, v, hashes, now_ms));
    return Status::Ok();
  }));
  // Laid out as files for the services that mount it (read-only).
  Status laid = blobs.Materialize(VersionDir(blobs.data_dir(), out.model.project, out.model.name, out.version.version),
                                  collected.files);
  if (!laid.ok()) {
    std::vector<std::string> unheld;
    (void)store.Write([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(unheld, store::DeleteModelVersion(tx, out.version.id));
      return Status::Ok();
    });
    holding.unlock();
    RemoveUnheldBlobs(store, blobs, unheld);
    return laid;
  }
  return out;
}

}  // namespace quader::registry
