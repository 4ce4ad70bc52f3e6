#include "runtime/process/sandbox.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace quader::runtime::process {
namespace fs = std::filesystem;
namespace {

// "/a/b/" → "/a/b"; "." components dropped. ".." is refused before this is used.
std::string Normal(const std::string& path) {
  std::string n = fs::path(path).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') {
    n.pop_back();
  }
  return n;
}

bool HasDotDot(const std::string& path) {
  for (const fs::path& part : fs::path(path)) {
    if (part == "..") {
      return true;
    }
  }
  return false;
}

// True when `path` is `dir` or lies below it.
bool Covers(const std::string& dir, const std::string& path) {
  if (dir == "/") {
    return true;
  }
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

size_t Depth(const std::string& path) {
  return static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

Status CheckTarget(const std::string& field, const std::string& target) {
  if (target.empty() || target[0] != '/') {
    return errors::Invalid(field, "must be an absolute path, got \"" + target + "\"");
  }
  if (HasDotDot(target)) {
    return errors::Invalid(field, "must not contain \"..\", got \"" + target + "\"");
  }
  if (Normal(target) == "/") {
    return errors::Invalid(field, "cannot mount over \"/\"");
  }
  return Status::Ok();
}

Status CheckUnsandboxed(const std::string& field, const Mount& m) {
  const std::string why = " needs bubblewrap (bwrap), which is not available on this machine";
  if (m.kind == MountKind::kMemory) {
    return errors::Invalid(field, "a memory mount at \"" + m.target + "\"" + why);
  }
  if (m.read_only) {
    return errors::Invalid(field, "a read-only mount of \"" + m.source + "\"" + why);
  }
  if (Normal(m.source) != Normal(m.target)) {
    return errors::Invalid(field, "mounting \"" + m.source + "\" at \"" + m.target + "\"" + why +
                                      " (without it only a target equal to its source works)");
  }
  return Status::Ok();
}

}  // namespace

std::vector<RootEntry> ListHostRoot(const std::string& root) {
  std::vector<RootEntry> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec)) {
    RootEntry r;
    r.name = e.path().filename().string();
    if (e.is_symlink(ec)) {
      r.type = RootEntry::Type::kSymlink;
      r.link = fs::read_symlink(e.path(), ec).string();
    } else {
      r.type = e.is_directory(ec) ? RootEntry::Type::kDir : RootEntry::Type::kFile;
    }
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(),
            [](const RootEntry& a, const RootEntry& b) { return a.name < b.name; });
  return out;
}

Status ValidateMounts(const std::vector<Mount>& mounts, bool sandboxed) {
  std::set<std::string> targets;
  for (size_t i = 0; i < mounts.size(); ++i) {
    const Mount& m = mounts[i];
    const std::string field = "mounts[" + std::to_string(i) + "]";
    QUADER_RETURN_IF_ERROR(CheckTarget(field + ".target", m.target));
    if (!targets.insert(Normal(m.target)).second) {
      return errors::Invalid(field + ".target",
                             "\"" + m.target + "\" is the target of another mount");
    }
    if (m.kind == MountKind::kMemory) {
      if (m.size_bytes < 0) {
        return errors::Invalid(field + ".size_bytes", "must not be negative");
      }
    } else {
      std::error_code ec;
      if (m.source.empty() || m.source[0] != '/') {
        return errors::Invalid(field + ".source",
                               "must be an absolute host path, got \"" + m.source + "\"");
      }
      if (!fs::exists(m.source, ec)) {
        return errors::Invalid(field + ".source", "\"" + m.source + "\" does not exist");
      }
    }
    if (!sandboxed) {
      QUADER_RETURN_IF_ERROR(CheckUnsandboxed(field, m));
    }
  }
  return Status::Ok();
}

std::optional<std::string> HostPathOf(const std::string& path, const std::vector<Mount>& mounts) {
  std::string p = Normal(path);
  const Mount* best = nullptr;
  for (const Mount& m : mounts) {
    std::string t = Normal(m.target);
    if (Covers(t, p) && (best == nullptr || t.size() > Normal(best->target).size())) {
      best = &m;
    }
  }
  if (best == nullptr) {
    return p;
  }
  if (best->kind == MountKind::kMemory) {
    return std::nullopt;
  }
  return Normal(best->source) + p.substr(Normal(best->target).size());
}

std::map<std::string, std::vector<RootEntry>> SplicePoints(const std::vector<Mount>& mounts) {
  std::map<std::string, std::vector<RootEntry>> out;
  for (const Mount& m : mounts) {
    std::string target = Normal(m.target);
    bool in_system = false;
    for (const char* d : kSystemDirs) in_system = in_system || Covers(std::string("/") + d, target);
    std::error_code ec;
    if (!in_system || fs::exists(target, ec)) continue;
    fs::path parent = fs::path(target).parent_path();
    while (!parent.empty() && parent != "/" && !fs::is_directory(parent, ec)) parent = parent.parent_path();
    if (parent.empty() || parent == "/" || out.count(parent.string())) continue;
    out[parent.string()] = ListHostRoot(parent.string());
  }
  return out;
}

bool VisibleInSandbox(const std::string& path, const std::vector<Mount>& mounts) {
  std::string p = Normal(path);
  for (const Mount& m : mounts) {
    if (Covers(Normal(m.target), p)) return true;
  }
  for (const char* d : kSystemDirs) {
    if (Covers(std::string("/") + d, p)) return true;
  }
  return false;
}

std::vector<std::string> BwrapArgs(const std::vector<RootEntry>& root,
                                   const std::vector<Mount>& mounts,
                                   const std::string& working_dir, const SandboxOptions& options) {
  std::vector<std::string> a = {"--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                                "--unshare-cgroup-try", "--uid", std::to_string(options.uid),
                                "--gid", std::to_string(options.gid), "--hostname", "quader"};
  std::vector<std::string> shown;  // the system directories bound
  for (const RootEntry& e : root) {
    if (std::find_if(std::begin(kSystemDirs), std::end(kSystemDirs),
                     [&](const char* d) { return e.name == d; }) == std::end(kSystemDirs)) {
      continue;
    }
    const std::string path = "/" + e.name;
    if (e.type == RootEntry::Type::kSymlink) {
      a.insert(a.end(), {"--symlink", e.link, path});
    } else if (e.type == RootEntry::Type::kDir) {
      a.insert(a.end(), {"--ro-bind", path, path});
      shown.push_back(path);
    }
  }
  if (!options.passwd_file.empty()) a.insert(a.end(), {"--ro-bind", options.passwd_file, "/etc/passwd"});
  if (!options.group_file.empty()) a.insert(a.end(), {"--ro-bind", options.group_file, "/etc/group"});
  for (const auto& [dir, entries] : options.spliced) {
    a.insert(a.end(), {"--tmpfs", dir});
    for (const RootEntry& e : entries) {
      const std::string path = dir + "/" + e.name;
      if (e.type == RootEntry::Type::kSymlink) {
        a.insert(a.end(), {"--symlink", e.link, path});
      } else {
        a.insert(a.end(), {"--ro-bind", path, path});
      }
    }
  }
  const std::string home = "/home/" + options.user;
  a.insert(a.end(), {"--ro-bind", "/sys", "/sys", "--tmpfs", "/sys/fs/cgroup", "--proc", "/proc", "--dev", "/dev",
                     "--tmpfs", "/tmp", "--tmpfs", "/run", "--dir", "/var", "--tmpfs", "/var/tmp", "--tmpfs",
                     "/home", "--dir", home});
  std::vector<const Mount*> sorted;
  for (const Mount& m : mounts) {
    sorted.push_back(&m);
  }
  // Parents first, so that a mount inside another lands on top of it.
  std::stable_sort(sorted.begin(), sorted.end(), [](const Mount* x, const Mount* y) {
    return Depth(Normal(x->target)) < Depth(Normal(y->target));
  });
  for (const Mount* m : sorted) {
    std::string target = Normal(m->target);
    if (m->kind == MountKind::kMemory) {
      a.insert(a.end(), {"--perms", "1777"});
      if (m->size_bytes > 0) {
        a.insert(a.end(), {"--size", std::to_string(m->size_bytes)});
      }
      a.insert(a.end(), {"--tmpfs", target});
      if (m->read_only) {
        a.insert(a.end(), {"--remount-ro", target});
      }
    } else {
      a.insert(a.end(), {m->read_only ? "--ro-bind" : "--bind", Normal(m->source), target});
    }
  }
  // Hidden host directories are covered last, wherever a system directory
  // or a mount shows them.
  for (const std::string& h : options.hidden) {
    std::string n = Normal(h);
    std::vector<std::string> at;
    if (std::any_of(shown.begin(), shown.end(), [&](const std::string& d) { return Covers(d, n); })) {
      at.push_back(n);
    }
    for (const Mount* m : sorted) {
      std::string src = Normal(m->source);
      if (m->kind != MountKind::kMemory && Covers(src, n)) {
        at.push_back(Normal(m->target) + n.substr(src == "/" ? 0 : src.size()));
      }
    }
    for (const std::string& p : at) {
      if (p != "/") a.insert(a.end(), {"--tmpfs", p});
    }
  }
  a.insert(a.end(), {"--dir", working_dir, "--chdir", working_dir, "--clearenv"});
  for (const auto& [k, v] : options.env) {
    a.insert(a.end(), {"--setenv", k, v});
  }
  a.push_back("--");
  return a;
}

}  // namespace quader::runtime::process
