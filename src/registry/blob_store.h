#pragma once
// Where the model registry keeps files: once each, by content. A blob is
// named by the SHA-256 of its bytes (`<dir>/ab/abcdef…`), so a file registered
// by ten versions is stored once, and a read can tell a damaged file by its
// name. Files come in streamed (never whole in memory) and are checked on
// the way out. Thread-safe: blobs are written under a temporary name and
// renamed into place.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace quader::registry {

struct Blob {
  std::string sha256;  // 64 lowercase hex digits
  int64_t size = 0;
};

// One file of a registered version: where it sits in the version, and its blob.
struct BlobFile {
  std::string path;  // "model.joblib", "weights/layer1.bin"
  Blob blob;
};

// Where version `version` of model `model` of `project` is laid out as files
// (read-only, by hard links to its blobs) for the workloads that mount it:
// DATA/registry/versions/PROJECT/MODEL/VERSION. Names are object names
// (core/names.h), safe as path components.
std::string VersionDir(const std::string& data_dir, const std::string& project, const std::string& model, int version);
// The directory of every laid-out version of a model.
std::string ModelDir(const std::string& data_dir, const std::string& project, const std::string& model);

class BlobStore {
 public:
  explicit BlobStore(std::string dir);

  // Copies what `fd` gives until its end into the store; fails when more
  // than `max_bytes` come.
  Result<Blob> Put(int fd, int64_t max_bytes);
  // The same from `read` (the count read into the buffer, 0 at the end):
  // an upload's body as it comes.
  using Reader = std::function<Result<size_t>(char* out, size_t n)>;
  Result<Blob> Put(const Reader& read, int64_t max_bytes);
  // Put in two steps, for a caller that records a hold on the blob (an
  // upload): Stage writes and hashes the bytes (outside any lock: it may take
  // long), Place puts them where their name says, under Holding() together
  // with recording the hold, so that no RemoveUnheld comes in between. A
  // Staged dropped unplaced leaves nothing behind.
  struct Staged {
    Blob blob;
    std::shared_ptr<void> tmp;
  };
  Result<Staged> Stage(const Reader& read, int64_t max_bytes);
  Result<Blob> Place(Staged staged);
  // Held while blobs are placed and their holds recorded (shared among
  // such writers); RemoveUnheld waits for it.
  std::shared_lock<std::shared_mutex> Holding() const;
  // Removes those of `candidates` that `unheld` (a store read, run under
  // the lock Holding() shares) says nothing holds; the count removed.
  int RemoveUnheld(const std::vector<std::string>& candidates,
                   const std::function<std::vector<std::string>(const std::vector<std::string>&)>& unheld) const;
  // Sends the blob to `write` (false: stop reading) in pieces, hashing as it goes;
  // kInternal ("damaged") when its bytes no longer match its name (the piece that shows
  // it is not sent), kNotFound when it is missing.
  Status Send(const std::string& sha256, const std::function<bool(std::string_view)>& write) const;
  // Sends the blob's bytes to `read` (false: stop) without checking them
  // (a preview, which reads only what it shows).
  Status Read(const std::string& sha256, const std::function<bool(std::string_view)>& read) const;
  // Reads the whole blob and checks it (Send to nowhere).
  Status Verify(const std::string& sha256) const;
  // Removes every blob `held` says no one holds, and every temporary file
  // (at start, before anything is written); the count removed.
  int Collect(const std::function<bool(const std::string& sha256)>& held) const;

  static bool ValidName(const std::string& sha256);
  // The data directory this store is under (DATA/registry/blobs).
  std::string data_dir() const;

  // Lays `files` out under `dir` (made anew, atomically: built beside it and
  // renamed), each a hard link to its blob (a copy where links cannot be
  // made), readable by all, directories 0755.
  Status Materialize(const std::string& dir, const std::vector<BlobFile>& files) const;
  static void Dematerialize(const std::string& dir);

 private:
  std::string PathOf(const std::string& sha256) const;
  const std::string dir_;
  mutable std::shared_mutex holds_mu_;
};

// The files of a model or data set version record ([{path, size, sha256}]).
std::vector<BlobFile> VersionFiles(const std::string& files_json);

// A file's path in a version: a relative path (workload::CheckArtifactPath)
// of valid UTF-8 without control characters, at most 1024 bytes, each
// component at most 255 bytes (what a directory can hold). kInvalidArgument naming `field`.
Status CheckFileName(const std::string& field, const std::string& path);

// The files of a task's outputs at `relative` (a file, or a directory and
// everything under it), copied into `blobs`. The outputs were written by the
// workload, so nothing in them is trusted: links are never followed (left
// out, and said so in `skipped`, as are names CheckFileName refuses), the
// path is checked, and at most
// `max_files` files and `max_bytes` bytes are taken.
struct Collected {
  std::vector<BlobFile> files;
  int64_t total_bytes = 0;
  std::vector<std::string> skipped;  // links and other non-files, by path
};
Result<Collected> CollectOutputs(const std::string& outputs_root, const std::string& relative, BlobStore& blobs,
                                 size_t max_files, int64_t max_bytes);

}  // namespace quader::registry
