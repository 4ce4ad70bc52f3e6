#include "registry/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/documents.h"
#include "workload/artifacts.h"

namespace quader::registry {
namespace fs = std::filesystem;
namespace {

constexpr size_t kChunk = 256 * 1024;

std::string Hex(const unsigned char* digest, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 15];
  }
  return out;
}

std::string RandomSuffix() {
  std::random_device rd;
  return std::to_string(rd()) + std::to_string(rd());
}

}  // namespace

BlobStore::BlobStore(std::string dir) : dir_(std::move(dir)) {}

bool BlobStore::ValidName(const std::string& sha256) {
  if (sha256.size() != 64) return false;
  for (char c : sha256) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string BlobStore::data_dir() const { return fs::path(dir_).parent_path().parent_path().string(); }

std::string BlobStore::PathOf(const std::string& sha256) const { return dir_ + "/" + sha256.substr(0, 2) + "/" + sha256; }

Result<Blob> BlobStore::Put(int fd, int64_t max_bytes) {
  return Put(
      [fd](char* out, size_t n) -> Result<size_t> {
        for (;;) {
          ssize_t got = read(fd, out, n);
          if (got >= 0) return static_cast<size_t>(got);
          if (errno != EINTR) return errors::Internal(std::string("reading the file: ") + std::strerror(errno));
        }
      },
      max_bytes);
}

Result<Blob> BlobStore::Put(const Reader& read_some, int64_t max_bytes) {
  QUADER_ASSIGN_OR_RETURN(Staged staged, Stage(read_some, max_bytes));
  return Place(std::move(staged));
}

namespace {

// The temporary file of a blob being written: closed, and removed unless
// kept, whatever happens (an error, an exception from the reader).
struct TempFile {
  std::string path;
  int fd = -1;
  bool keep = false;
  ~TempFile() {
    if (fd >= 0) close(fd);
    if (!keep && !path.empty()) unlink(path.c_str());
  }
};

Status WriteAll(int fd, const char* data, size_t n) {
  for (size_t done = 0; done < n;) {
    ssize_t w = write(fd, data + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return errors::Internal(std::string("writing the registry's store: ") + std::strerror(errno));
    done += static_cast<size_t>(w);
  }
  return Status::Ok();
}

}  // namespace

Result<BlobStore::Staged> BlobStore::Stage(const Reader& read_some, int64_t max_bytes) {
  std::error_code ec;
  fs::create_directories(dir_ + "/tmp", ec);
  if (ec) return errors::Internal("cannot create the registry's temporary directory: " + ec.message());
  auto tmp = std::make_shared<TempFile>();
  tmp->path = dir_ + "/tmp/" + RandomSuffix();
  tmp->fd = open(tmp->path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (tmp->fd < 0) return errors::Internal(std::string("cannot create a temporary file: ") + std::strerror(errno));
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::string buf(kChunk, '\0');
  int64_t size = 0;
  for (;;) {
    Result<size_t> got = errors::Internal("reading failed");
    try {
      got = read_some(buf.data(), buf.size());
    } catch (const std::exception& e) {
      got = errors::Invalid("body", std::string("reading it failed: ") + e.what());
    }
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    size += static_cast<int64_t>(*got);
    if (size > max_bytes) return errors::Invalid("files", "more than " + std::to_string(max_bytes) + " bytes");
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buf.data()), *got);
    QUADER_RETURN_IF_ERROR(WriteAll(tmp->fd, buf.data(), *got));
  }
  if (fsync(tmp->fd) != 0) return errors::Internal(std::string("fsync: ") + std::strerror(errno));
  // Readable by the workloads a version is mounted into (read-only); the
  // store's own directory is never shown to them.
  fchmod(tmp->fd, 0644);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  Staged out;
  out.blob = {Hex(digest, sizeof(digest)), size};
  out.tmp = std::move(tmp);
  return out;
}

Result<Blob> BlobStore::Place(Staged staged) {
  std::error_code ec;
  const std::string path = PathOf(staged.blob.sha256);
  fs::create_directories(fs::path(path).parent_path(), ec);
  auto* tmp = static_cast<TempFile*>(staged.tmp.get());
  close(tmp->fd);
  tmp->fd = -1;
  // Already there: the same bytes, kept once (the temporary file goes).
  if (!fs::exists(path, ec) && rename(tmp->path.c_str(), path.c_str()) == 0) tmp->keep = true;
  if (!fs::exists(path, ec)) return errors::Internal("cannot store blob " + staged.blob.sha256);
  return staged.blob;
}

std::shared_lock<std::shared_mutex> BlobStore::Holding() const { return std::shared_lock<std::shared_mutex>(holds_mu_); }

int BlobStore::RemoveUnheld(const std::vector<std::string>& candidates,
                            const std::function<std::vector<std::string>(const std::vector<std::string>&)>& unheld) const {
  if (candidates.empty()) return 0;
  std::unique_lock<std::shared_mutex> lock(holds_mu_);
  int removed = 0;
  for (const std::string& h : unheld(candidates)) {
    if (ValidName(h) && unlink(PathOf(h).c_str()) == 0) ++removed;
  }
  return removed;
}

Status BlobStore::Send(const std::string& sha256, const std::function<bool(std::string_view)>& write) const {
  if (!ValidName(sha256)) return errors::NotFound("blob", sha256);
  int fd = open(PathOf(sha256).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errors::NotFound("blob", sha256);
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::string buf(kChunk, '\0');
  std::string held;  // the last piece, sent once the next read says the bytes still match
  Status st;
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = errors::Internal(std::string("reading blob ") + sha256 + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) {
      unsigned char digest[crypto_hash_sha256_BYTES];
      crypto_hash_sha256_final(&state, digest);
      if (Hex(digest, sizeof(digest)) != sha256) {
        st = errors::Internal("blob " + sha256 + " is damaged: its bytes no longer match its checksum");
      } else if (!held.empty()) {
        (void)write(held);
      }
      break;
    }
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buf.data()), static_cast<size_t>(n));
    // A reader that stops (a client gone) ends the read: no hashing the rest for no one.
    if (!held.empty() && !write(held)) break;
    held.assign(buf.data(), static_cast<size_t>(n));
  }
  close(fd);
  return st;
}

std::string ModelDir(const std::string& data_dir, const std::string& project, const std::string& model) {
  return (fs::path(data_dir) / "registry" / "versions" / project / model).string();
}

std::string VersionDir(const std::string& data_dir, const std::string& project, const std::string& model, int version) {
  return (fs::path(ModelDir(data_dir, project, model)) / std::to_string(version)).string();
}

Status BlobStore::Materialize(const std::string& dir, const std::vector<BlobFile>& files) const {
  std::error_code ec;
  const std::string building = dir + ".building-" + RandomSuffix();
  fs::create_directories(building, ec);
  if (ec) return errors::Internal("cannot create " + building + ": " + ec.message());
  auto fail = [&](const std::string& why) {
    fs::remove_all(building, ec);
    // Not the data directory's path: the answer goes to users.
    return errors::Internal("laying out the version's files failed: " + why);
  };
  for (const BlobFile& f : files) {
    if (!workload::CheckArtifactPath(f.path).ok()) return fail("bad file name " + f.path);
    const fs::path to = fs::path(building) / f.path;
    fs::create_directories(to.parent_path(), ec);
    if (ec) return fail(ec.message());
    const std::string from = PathOf(f.blob.sha256);
    if (link(from.c_str(), to.c_str()) != 0) {
      fs::copy_file(from, to, ec);
      if (ec) return fail(ec.message());
      chmod(to.c_str(), 0644);
    }
  }
  for (fs::recursive_directory_iterator it(building, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory()) chmod(it->path().c_str(), 0755);
  }
  chmod(building.c_str(), 0755);
  fs::remove_all(dir, ec);
  fs::create_directories(fs::path(dir).parent_path(), ec);
  if (rename(building.c_str(), dir.c_str()) != 0) return fail(std::strerror(errno));
  return Status::Ok();
}

void BlobStore::Dematerialize(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

Status BlobStore::Read(const std::string& sha256, const std::function<bool(std::string_view)>& read_fn) const {
  if (!ValidName(sha256)) return errors::NotFound("blob", sha256);
  int fd = open(PathOf(sha256).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errors::NotFound("blob", sha256);
  std::string buf(kChunk, '\0');
  Status st;
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) st = errors::Internal(std::string("reading blob ") + sha256 + ": " + std::strerror(errno));
    if (n <= 0 || !read_fn(std::string_view(buf.data(), static_cast<size_t>(n)))) break;
  }
  close(fd);
  return st;
}

Status BlobStore::Verify(const std::string& sha256) const {
  return Send(sha256, [](std::string_view) { return true; });
}

int BlobStore::Collect(const std::function<bool(const std::string& sha256)>& held) const {
  int removed = 0;
  std::error_code ec;
  // What was being written when the server stopped (an upload cut off) is garbage now.
  fs::remove_all(dir_ + "/tmp", ec);
  ec.clear();
  for (fs::directory_iterator top(dir_, ec), end; !ec && top != end; top.increment(ec)) {
    if (!top->is_directory(ec) || top->path().filename() == "tmp") continue;
    for (fs::directory_iterator it(top->path(), ec), e; !ec && it != e; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (ValidName(name) && !held(name) && unlink(it->path().c_str()) == 0) ++removed;
    }
  }
  return removed;
}

std::vector<BlobFile> VersionFiles(const std::string& files_json) {
  std::vector<BlobFile> out;
  Json files = Json::parse(files_json, nullptr, false);
  if (!files.is_array()) return out;
  for (const auto& f : files) {
    if (!f.is_object()) continue;
    out.push_back({f.value("path", ""), {f.value("sha256", ""), f.value("size", int64_t{0})}});
  }
  return out;
}

Status CheckFileName(const std::string& field, const std::string& path) {
  if (Status ok = workload::CheckArtifactPath(path); !ok.ok()) return errors::Invalid(field, ok.message());
  if (path.size() > 1024) return errors::Invalid(field, "is longer than 1024 bytes");
  size_t component = 0;
  for (size_t i = 0; i < path.size();) {
    const auto c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7f) return errors::Invalid(field, "has a control character");
    component = c == '/' ? 0 : component + 1;
    if (component > 255) return errors::Invalid(field, "has a name longer than 255 bytes");
    // UTF-8: the length of the sequence from its first byte, then its continuation bytes.
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > path.size()) return errors::Invalid(field, "is not valid UTF-8");
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(path[i + k]) & 0xc0) != 0x80) return errors::Invalid(field, "is not valid UTF-8");
    }
    component += n - 1;
    i += n;
  }
  return Status::Ok();
}

Result<Collected> CollectOutputs(const std::string& outputs_root, const std::string& relative, BlobStore& blobs,
                                 size_t max_files, int64_t max_bytes) {
  const bool whole = relative.empty() || relative == ".";
  if (!whole) QUADER_RETURN_IF_ERROR(workload::CheckArtifactPath(relative));
  // The listing walks from the trusted root without following links, so a
  // link anywhere on `relative`'s way is never taken.
  QUADER_ASSIGN_OR_RETURN(workload::ArtifactList list, workload::ListArtifacts(outputs_root, max_files + 1));
  Collected out;
  bool found = false;
  const std::string prefix = whole ? "" : relative + "/";
  for (const workload::ArtifactEntry& e : list.entries) {
    const bool exact = !whole && e.path == relative;
    if (!whole && !exact && e.path.rfind(prefix, 0) != 0) continue;
    found = true;
    if (e.type == workload::ArtifactEntry::Type::kDirectory) continue;
    if (e.type != workload::ArtifactEntry::Type::kFile || !CheckFileName("path", e.path).ok()) {
      // Shown as valid UTF-8 whatever the workload named it.
      out.skipped.push_back(Json::parse(Json(e.path).dump(-1, ' ', false, Json::error_handler_t::replace)));
      continue;
    }
    if (out.files.size() >= max_files) {
      return errors::Invalid("path", "more than " + std::to_string(max_files) + " files under \"" + relative + "\"");
    }
    QUADER_ASSIGN_OR_RETURN(workload::OpenedArtifact f, workload::OpenArtifact(outputs_root, e.path));
    Result<Blob> blob = blobs.Put(f.fd, max_bytes - out.total_bytes);
    close(f.fd);
    if (!blob.ok()) return blob.status();
    out.total_bytes += blob->size;
    // A file is named in the version by where it sits under `relative`.
    std::string name = exact ? fs::path(e.path).filename().string() : whole ? e.path : e.path.substr(prefix.size());
    out.files.push_back({name, *blob});
  }
  if (whole && out.files.empty()) return errors::Invalid("path", "the task's /outputs holds no file to register");
  if (!found) return errors::NotFound("file or directory of the task's /outputs", relative);
  if (out.files.empty()) return errors::Invalid("path", "\"" + relative + "\" holds no regular file");
  return out;
}

}  // namespace quader::registry
