#include "workload/mounts.h"

#include <algorithm>
#include <filesystem>

namespace quader::workload {
namespace fs = std::filesystem;
namespace {

// A path without a trailing slash ("/mnt/" and "/mnt" are one target).
std::string Clean(const std::string& path) {
  std::string p = fs::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

size_t Depth(const std::string& target) { return std::count(target.begin(), target.end(), '/'); }

runtime::Mount Personal(const std::string& source, const std::string& target, const std::string& claim,
                        const std::string& sub_path) {
  runtime::Mount m;
  m.kind = runtime::MountKind::kVolume;
  m.source = source;
  m.target = target;
  m.claim = claim;
  m.sub_path = sub_path;
  return m;
}

}  // namespace

std::string PersonalWorkDir(const std::string& data_dir, const std::string& user) {
  return (fs::path(data_dir) / "users" / user / "work").string();
}

std::string PersonalArchiveDir(const std::string& data_dir, const std::string& user) {
  return (fs::path(data_dir) / "users" / user / "archives").string();
}

std::vector<runtime::Mount> ResolveMounts(const MountRequest& r) {
  const std::string work_target = "/mnt/" + r.user, archive_target = "/archives/" + r.user;
  std::vector<runtime::Mount> out;
  auto add = [&out](runtime::Mount m) {
    m.target = Clean(m.target);
    out.erase(std::remove_if(out.begin(), out.end(), [&](const runtime::Mount& x) { return x.target == m.target; }),
              out.end());
    out.push_back(std::move(m));
  };
  if (r.personal) add(Personal(PersonalWorkDir(r.data_dir, r.user), work_target, kUsersClaim, r.user + "/work"));
  if (r.archives) {
    add(Personal(PersonalArchiveDir(r.data_dir, r.user), archive_target, kUsersClaim, r.user + "/archives"));
  }
  for (const auto* layer : r.layers) {
    if (!layer) continue;
    for (const auto& v : *layer) {
      runtime::Mount m;
      m.target = Clean(v.mount_path);
      switch (v.kind) {
        case auth::MountKind::kPvc: {
          m.kind = runtime::MountKind::kVolume;
          m.target = Clean(m.target + "/" + r.user);
          m.claim = v.source;
          m.sub_path = r.user;
          // The user's own directory, kept on this claim on a cluster.
          if (m.target == work_target) m.source = PersonalWorkDir(r.data_dir, r.user);
          else if (m.target == archive_target) m.source = PersonalArchiveDir(r.data_dir, r.user);
          else m.source = (fs::path(r.data_dir) / "volumes" / v.source / r.user).string();
          break;
        }
        case auth::MountKind::kHostPath:
          m.kind = runtime::MountKind::kHostPath;
          m.source = fs::path(v.source).is_absolute() ? v.source : (fs::path(r.data_dir) / v.source).string();
          break;
        case auth::MountKind::kMemory:
          m.kind = runtime::MountKind::kMemory;
          m.size_bytes = v.size_bytes;
          break;
      }
      add(std::move(m));
    }
  }
  for (const auto& m : out) {
    if (m.kind == runtime::MountKind::kMemory) continue;
    std::error_code ec;
    fs::create_directories(m.source, ec);
  }
  // Parents first: a mount at /mnt must not cover /mnt/USER.
  std::stable_sort(out.begin(), out.end(),
                   [](const runtime::Mount& a, const runtime::Mount& b) { return Depth(a.target) < Depth(b.target); });
  return out;
}

}  // namespace quader::workload
