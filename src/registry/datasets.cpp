#include "registry/datasets.h"

#include <sodium.h>

#include <filesystem>
#include <map>
#include <set>

#include "core/names.h"
#include "registry/register.h"

namespace quader::registry {
namespace fs = std::filesystem;
namespace {

Json FilesJson(const std::vector<BlobFile>& files) {
  Json out = Json::array();
  for (const auto& f : files) out.push_back({{"path", f.path}, {"size", f.blob.size}, {"sha256", f.blob.sha256}});
  return out;
}

// The uploads `ids` of the data set as a version's files: each once, no
// path twice, no file where another's directory is. `taken`: their records.
Result<std::vector<BlobFile>> UploadedFiles(store::Tx& tx, int64_t dataset_id, const std::vector<int64_t>& ids,
                                            std::vector<store::DatasetUploadRecord>* taken) {
  QUADER_ASSIGN_OR_RETURN(auto uploads, store::ListDatasetUploads(tx, dataset_id));
  std::map<int64_t, const store::DatasetUploadRecord*> by_id;
  for (const auto& u : uploads) by_id[u.id] = &u;
  std::vector<BlobFile> files;
  std::set<std::string> paths;
  std::set<int64_t> seen;
  for (int64_t id : ids) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      return errors::Invalid("uploads", "no upload " + std::to_string(id) +
                                            " waits in this data set (made into a version already, or never made)");
    }
    if (!seen.insert(id).second) return errors::Invalid("uploads", "upload " + std::to_string(id) + " given twice");
    if (!paths.insert(it->second->path).second) {
      return errors::Invalid("uploads", "two uploads are both " + it->second->path + ": a version has one file per path");
    }
    files.push_back({it->second->path, {it->second->sha256, it->second->size}});
    taken->push_back(*it->second);
  }
  // "d" and "d/e" cannot both be: sorted, a directory's files follow it.
  std::vector<std::string> sorted(paths.begin(), paths.end());
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    if (sorted[i + 1].rfind(sorted[i] + "/", 0) == 0) {
      return errors::Invalid("uploads", sorted[i] + " is a file, so " + sorted[i + 1] + " cannot be under it");
    }
  }
  return files;
}

}  // namespace

std::string DatasetDir(const std::string& data_dir, const std::string& project, const std::string& dataset) {
  return (fs::path(data_dir) / "registry" / "datasets" / project / dataset).string();
}

std::string DatasetVersionDir(const std::string& data_dir, const std::string& project, const std::string& dataset,
                              const store::DatasetVersionRecord& version) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(version.files.data()), version.files.size());
  static const char* kHex = "0123456789abcdef";
  std::string name = std::to_string(version.version) + "-";
  for (int i = 0; i < 8; ++i) name += std::string{kHex[digest[i] >> 4], kHex[digest[i] & 15]};
  return (fs::path(DatasetDir(data_dir, project, dataset)) / name).string();
}

runtime::Mount RegistryMount(const std::string& data_dir, const std::string& dir, const std::string& target) {
  runtime::Mount m;
  m.kind = runtime::MountKind::kVolume;
  m.source = dir;
  m.target = target;
  m.read_only = true;
  m.claim = kRegistryClaim;
  m.sub_path = fs::path(dir).lexically_relative(fs::path(data_dir) / "registry").generic_string();
  return m;
}

Result<DatasetMounts> MountDatasets(store::Store& store, const BlobStore& blobs, const std::string& field,
                                    int64_t project_id, const std::vector<DatasetRef>& refs,
                                    const DatasetReader& reader, int64_t now_ms) {
  DatasetMounts out;
  if (refs.empty()) return out;
  std::vector<std::pair<store::DatasetRecord, store::DatasetVersionRecord>> found;
  QUADER_RETURN_IF_ERROR(store.Write([&](store::Tx& tx) -> Status {
    found.clear();
    for (const auto& ref : refs) {
      QUADER_ASSIGN_OR_RETURN(auto d, store::FindDataset(tx, project_id, ref.name));
      if (!d || d->versions == 0) {
        return errors::Invalid(field, "no data set " + ref.name + (d ? " version" : "") + " in this project" +
                                          (d ? " (it has no versions yet)" : ""));
      }
      auto v = store::GetDatasetVersion(tx, d->id, ref.version ? ref.version : d->latest_version);
      if (!v.ok()) return errors::Invalid(field, "data set " + ref.name + " has no version " + std::to_string(ref.version));
      QUADER_RETURN_IF_ERROR(store::RecordDatasetRead(tx, {v->id, reader.kind, reader.id, reader.detail, now_ms}));
      found.emplace_back(*d, *v);
    }
    return Status::Ok();
  }));
  for (const auto& [d, v] : found) {
    runtime::Mount m = RegistryMount(blobs.data_dir(), DatasetVersionDir(blobs.data_dir(), d.project, d.name, v),
                                     std::string(kDatasetsRoot) + "/" + d.name);
    std::error_code ec;
    if (!fs::is_directory(m.source, ec)) QUADER_RETURN_IF_ERROR(blobs.Materialize(m.source, VersionFiles(v.files)));
    out.mounts.push_back(m);
    out.env += (out.env.empty() ? "" : ",") + d.name + "@" + std::to_string(v.version);
  }
  return out;
}

Result<MadeDatasetVersion> MakeDatasetVersion(store::Store& store, BlobStore& blobs, int64_t now_ms,
                                              const DatasetVersionRequest& req) {
  if (req.description.size() > 4096) return errors::Invalid("description", "longer than 4096 bytes");
  // No blob collected here may be removed before the version holds it.
  auto holding = blobs.Holding();
  Collected collected;
  std::vector<store::DatasetUploadRecord> taken;
  if (req.uploads.empty()) {
    // The files first, outside any transaction; what no version comes to
    // hold goes with the next sweep.
    QUADER_ASSIGN_OR_RETURN(collected, CollectOutputs(req.root, req.path, blobs, kMaxDatasetFiles, kMaxDatasetBytes));
    if (collected.files.empty()) {
      return errors::Invalid("path", "no files at " + (req.path.empty() ? std::string("the top") : req.path));
    }
  }
  MadeDatasetVersion out;
  out.skipped = collected.skipped;
  QUADER_RETURN_IF_ERROR(store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(out.dataset, store::GetDataset(tx, req.dataset_id));
    if (!req.uploads.empty()) {
      taken.clear();
      QUADER_ASSIGN_OR_RETURN(collected.files, UploadedFiles(tx, req.dataset_id, req.uploads, &taken));
      collected.total_bytes = 0;
      for (const auto& f : collected.files) collected.total_bytes += f.blob.size;
      if (collected.files.size() > kMaxDatasetFiles || collected.total_bytes > kMaxDatasetBytes) {
        return errors::Invalid("uploads", "a version holds at most " + std::to_string(kMaxDatasetFiles) +
                                              " files and " + std::to_string(kMaxDatasetBytes >> 30) + " GiB");
      }
    }
    std::vector<std::string> hashes;
    for (const auto& f : collected.files) hashes.push_back(f.blob.sha256);
    store::DatasetVersionRecord v;
    v.dataset_id = req.dataset_id;
    v.files = FilesJson(collected.files).dump();
    v.file_count = static_cast<int>(collected.files.size());
    v.size_bytes = collected.total_bytes;
    v.source = req.source.dump();
    v.description = req.description;
    v.created_by = req.created_by;
    QUADER_ASSIGN_OR_RETURN(out.version, store::InsertDatasetVersion(tx, v, hashes, req.uploads, now_ms));
    out.dataset.versions++;
    out.dataset.latest_version = out.version.version;
    return Status::Ok();
  }));
  const std::string dir = DatasetVersionDir(blobs.data_dir(), out.dataset.project, out.dataset.name, out.version);
  if (Status laid = blobs.Materialize(dir, collected.files); !laid.ok()) {
    // Undone: the version goes, its uploads wait again.
    std::vector<std::string> unheld;
    (void)store.Write([&](store::Tx& tx) -> Status {
      for (const auto& u : taken) QUADER_RETURN_IF_ERROR(store::InsertDatasetUpload(tx, u).status());
      QUADER_ASSIGN_OR_RETURN(unheld, store::DeleteDatasetVersion(tx, out.version.id));
      return Status::Ok();
    });
    holding.unlock();
    ForgetDatasetFiles(store, blobs, dir, unheld);
    return laid;
  }
  return out;
}

Result<MadeDatasetVersion> MakeDeclaredVersion(store::Store& store, BlobStore& blobs, int64_t now_ms,
                                               const Json& d, int64_t project_id, const std::string& root,
                                               const std::string& created_by, Json source) {
  if (!d.is_object()) return errors::Invalid("register_dataset", "must be an object {name, path?, description?}");
  for (const auto& [k, v] : d.items()) {
    if (k != "name" && k != "path" && k != "description") return errors::Invalid("register_dataset." + k, "unknown field");
    if (!v.is_string() || v.get<std::string>().size() > 4096) {
      return errors::Invalid("register_dataset." + k, "must be a string of at most 4096 bytes");
    }
  }
  const std::string name = d.value("name", "");
  QUADER_RETURN_IF_ERROR(ValidateObjectName("register_dataset.name", name));
  DatasetVersionRequest req;
  req.root = root;
  req.path = d.value("path", "");
  req.description = d.value("description", "");
  req.created_by = created_by;
  source["kind"] = "task";
  source["path"] = req.path.empty() ? "." : req.path;
  req.source = std::move(source);
  QUADER_RETURN_IF_ERROR(store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto found, store::FindDataset(tx, project_id, name));
    if (!found) {
      store::DatasetRecord made;
      made.project_id = project_id;
      made.name = name;
      made.created_by = created_by;
      QUADER_ASSIGN_OR_RETURN(auto inserted, store::InsertDataset(tx, made, now_ms / 1000));
      found = std::move(inserted);
    }
    req.dataset_id = found->id;
    return Status::Ok();
  }));
  return MakeDatasetVersion(store, blobs, now_ms, req);
}

void ForgetDatasetFiles(store::Store& store, const BlobStore& blobs, const std::string& dir,
                        const std::vector<std::string>& unheld) {
  BlobStore::Dematerialize(dir);
  RemoveUnheldBlobs(store, blobs, unheld);
}

}  // namespace quader::registry
