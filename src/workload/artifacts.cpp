#include "workload/artifacts.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace quader::workload {
namespace {

constexpr int kMaxDepth = 32;
constexpr size_t kMaxCarriedEntries = 100'000;

int64_t MillisOf(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

ArtifactEntry::Type TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return ArtifactEntry::Type::kFile;
  if (S_ISDIR(mode)) return ArtifactEntry::Type::kDirectory;
  if (S_ISLNK(mode)) return ArtifactEntry::Type::kLink;
  return ArtifactEntry::Type::kOther;
}

// What a listing may hold: entries, and the bytes of their paths (a tree of
// long names must not make a listing, or its JSON, huge).
struct Budget {
  size_t entries;
  size_t path_bytes;
};

// Lists the directory open at `dir` (owned: closed here) into `out` under
// `prefix`, descending into subdirectories; false once the budget is spent.
bool ListDir(int dir, const std::string& prefix, int depth, Budget& budget, ArtifactList* out) {
  DIR* d = fdopendir(dir);
  if (d == nullptr) {
    close(dir);
    return true;
  }
  std::vector<std::string> names;
  size_t name_bytes = 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    name_bytes += name.size();
    if (names.size() > budget.entries || name_bytes > budget.path_bytes) {  // only these could be listed anyway
      out->truncated = true;
      break;
    }
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  bool more = true;
  for (const std::string& name : names) {
    const size_t cost = prefix.size() + name.size();
    if (budget.entries == 0 || cost > budget.path_bytes) {
      out->truncated = true;
      more = false;
      break;
    }
    struct stat st {};
    if (fstatat(dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    budget.entries--;
    budget.path_bytes -= cost;
    ArtifactEntry entry;
    entry.path = prefix + name;
    entry.type = TypeOf(st.st_mode);
    entry.size = entry.type == ArtifactEntry::Type::kFile ? static_cast<int64_t>(st.st_size) : 0;
    entry.modified_ms = MillisOf(st);
    out->total_bytes += entry.size;
    out->entries.push_back(entry);
    if (entry.type != ArtifactEntry::Type::kDirectory) continue;
    if (depth + 1 >= kMaxDepth) {
      out->truncated = true;  // what is deeper is not listed
      continue;
    }
    int sub = openat(dirfd(d), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) continue;  // replaced by a link meanwhile: not followed
    if (!ListDir(sub, entry.path + "/", depth + 1, budget, out)) {
      more = false;
      break;
    }
  }
  closedir(d);
  return more;
}

// Recreates the directory open at `from` in the one open at `to` (both owned:
// closed here), entry by entry as read (nothing collected), spending
// `*entries`; an error names the entry (`prefix` + name).
Status LinkDir(int from, int to, const std::string& prefix, int depth, size_t* entries) {
  DIR* d = fdopendir(from);
  if (d == nullptr) {
    close(from);
    close(to);
    return errors::Internal("cannot read " + prefix);
  }
  Status st = Status::Ok();
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if ((*entries)-- == 0) {
      st = errors::Invalid("outputs", "more than " + std::to_string(kMaxCarriedEntries) +
                                          " files and directories: too many to carry over");
      break;
    }
    struct stat sb {};
    if (fstatat(dirfd(d), name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(sb.st_mode)) {
      if (depth + 1 >= kMaxDepth) {
        st = errors::Invalid(prefix + name, "lies deeper than " + std::to_string(kMaxDepth) + " directories");
        break;
      }
      if (mkdirat(to, name.c_str(), 0755) != 0 && errno != EEXIST) {
        st = errors::Internal("cannot create " + prefix + name + ": " + std::strerror(errno));
        break;
      }
      int sub_from = openat(dirfd(d), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int sub_to = openat(to, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub_from < 0 || sub_to < 0) {
        if (sub_from >= 0) close(sub_from);
        if (sub_to >= 0) close(sub_to);
        continue;  // replaced meanwhile: not followed
      }
      st = LinkDir(sub_from, sub_to, prefix + name + "/", depth + 1, entries);
      if (!st.ok()) break;
    } else if (S_ISREG(sb.st_mode)) {
      // The entry itself (no AT_SYMLINK_FOLLOW), relative to open directories:
      // nothing on the way can be swapped for a link. Never a copy: a file
      // that cannot be linked (too many links already) fails the carry.
      if (linkat(dirfd(d), name.c_str(), to, name.c_str(), 0) != 0) {
        st = errors::Invalid(prefix + name, std::string("cannot be carried over (") + std::strerror(errno) + ")");
        break;
      }
    } else if (S_ISLNK(sb.st_mode)) {
      char target[4096];
      ssize_t n = readlinkat(dirfd(d), name.c_str(), target, sizeof(target) - 1);
      if (n > 0) (void)!symlinkat(std::string(target, static_cast<size_t>(n)).c_str(), to, name.c_str());
    }
    // FIFOs, sockets, devices: left out.
  }
  closedir(d);
  close(to);
  return st;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  if (text.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[text.size() - suffix.size() + i])) != suffix[i]) return false;
  }
  return true;
}

}  // namespace

const char* ArtifactTypeName(ArtifactEntry::Type type) {
  switch (type) {
    case ArtifactEntry::Type::kFile:
      return "file";
    case ArtifactEntry::Type::kDirectory:
      return "directory";
    case ArtifactEntry::Type::kLink:
      return "link";
    case ArtifactEntry::Type::kOther:
      break;
  }
  return "other";
}

Result<ArtifactList> ListArtifacts(const std::string& root, size_t limit, size_t path_bytes) {
  ArtifactList out;
  int dir = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) {
    if (errno == ENOENT) return out;
    return errors::Internal("cannot open " + root + ": " + std::strerror(errno));
  }
  Budget budget{limit, path_bytes};
  ListDir(dir, "", 0, budget, &out);
  return out;
}

Status CheckArtifactPath(const std::string& relative) {
  if (relative.empty()) return errors::Invalid("path", "is empty");
  if (relative.size() > 4096) return errors::Invalid("path", "is longer than 4096 bytes");
  if (relative.find('\0') != std::string::npos) return errors::Invalid("path", "contains a NUL byte");
  if (relative.front() == '/') return errors::Invalid("path", "must be relative to the outputs directory");
  size_t start = 0;
  while (start <= relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string::npos) end = relative.size();
    std::string part = relative.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return errors::Invalid("path", "\"" + relative + "\" has an empty, \".\" or \"..\" component");
    }
    start = end + 1;
  }
  return Status::Ok();
}

Result<OpenedArtifact> OpenArtifact(const std::string& root, const std::string& relative) {
  QUADER_RETURN_IF_ERROR(CheckArtifactPath(relative));
  int dir = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) return errors::NotFound("artifact", relative);
  size_t start = 0;
  for (;;) {
    size_t end = relative.find('/', start);
    const bool last = end == std::string::npos;
    std::string part = relative.substr(start, last ? std::string::npos : end - start);
    // O_NOFOLLOW on every component: a link (to anywhere) is refused, not followed;
    // O_NONBLOCK: a FIFO planted by the workload does not block the open.
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY);
    int next = openat(dir, part.c_str(), flags);
    int err = errno;
    close(dir);
    if (next < 0) {
      if (err == ENOENT || err == ELOOP || err == ENOTDIR) return errors::NotFound("artifact", relative);
      return errors::Invalid("path", "\"" + relative + "\" cannot be opened: " + std::strerror(err));
    }
    if (last) {
      struct stat st {};
      if (fstat(next, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(next);
        return errors::Invalid("path", "\"" + relative + "\" is not a regular file");
      }
      int fl = fcntl(next, F_GETFL);
      if (fl >= 0) fcntl(next, F_SETFL, fl & ~O_NONBLOCK);
      return OpenedArtifact{next, static_cast<int64_t>(st.st_size)};
    }
    dir = next;
    start = end + 1;
  }
}

Status LinkArtifacts(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::create_directories(to, ec);
  if (ec) return errors::Internal("cannot create " + to + ": " + ec.message());
  int src = open(from.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0) {
    if (errno == ENOENT) return Status::Ok();  // it left nothing
    return errors::Internal("cannot open " + from + ": " + std::strerror(errno));
  }
  int dst = open(to.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0) {
    close(src);
    return errors::Internal("cannot open " + to + ": " + std::strerror(errno));
  }
  size_t entries = kMaxCarriedEntries;
  return LinkDir(src, dst, "", 0, &entries);
}

std::string ArtifactContentType(const std::string& relative) {
  struct Kind {
    const char* suffix;
    const char* type;
  };
  static constexpr Kind kKinds[] = {
      {".txt", "text/plain; charset=utf-8"}, {".log", "text/plain; charset=utf-8"},
      {".md", "text/plain; charset=utf-8"},  {".py", "text/plain; charset=utf-8"},
      {".yaml", "text/plain; charset=utf-8"}, {".yml", "text/plain; charset=utf-8"},
      {".csv", "text/csv; charset=utf-8"},   {".tsv", "text/tab-separated-values; charset=utf-8"},
      {".json", "application/json"},         {".png", "image/png"},
      {".jpg", "image/jpeg"},                {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},                 {".webp", "image/webp"},
  };
  for (const Kind& k : kKinds) {
    if (EndsWith(relative, k.suffix)) return k.type;
  }
  return "application/octet-stream";
}

}  // namespace quader::workload
