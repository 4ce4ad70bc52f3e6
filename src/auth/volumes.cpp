#include "auth/volumes.h"

#include <filesystem>

namespace quader::auth {
namespace fs = std::filesystem;
namespace {

runtime::Mount UserDir(const std::string& data_dir, const std::string& username, const char* sub,
                       const std::string& target) {
  runtime::Mount m;
  m.kind = runtime::MountKind::kVolume;
  m.source = (fs::path(data_dir) / "users" / username / sub).string();
  m.target = target;
  m.claim = kUsersClaim;
  m.sub_path = username + "/" + sub;
  std::error_code ec;
  fs::create_directories(m.source, ec);
  return m;
}

}  // namespace

std::vector<runtime::Mount> ResolveVolumeMounts(const std::string& data_dir, const std::vector<VolumeMount>& mounts,
                                                const std::string& username) {
  std::vector<runtime::Mount> out;
  for (const auto& m : mounts) {
    runtime::Mount rm;
    rm.target = m.mount_path;
    switch (m.kind) {
      case MountKind::kPvc:
        rm.kind = runtime::MountKind::kVolume;
        rm.source = (fs::path(data_dir) / "volumes" / m.source / username).string();
        rm.target = (fs::path(m.mount_path) / username).string();
        rm.claim = m.source;
        rm.sub_path = username;
        break;
      case MountKind::kHostPath:
        rm.kind = runtime::MountKind::kHostPath;
        rm.source = fs::path(m.source).is_absolute() ? m.source : (fs::path(data_dir) / m.source).string();
        break;
      case MountKind::kMemory:
        rm.kind = runtime::MountKind::kMemory;
        rm.size_bytes = m.size_bytes;
        break;
    }
    if (rm.kind != runtime::MountKind::kMemory) {
      std::error_code ec;
      fs::create_directories(rm.source, ec);
    }
    out.push_back(std::move(rm));
  }
  return out;
}

runtime::Mount PersonalWorkMount(const std::string& data_dir, const std::string& username) {
  return UserDir(data_dir, username, "work", "/mnt/" + username);
}

runtime::Mount PersonalArchiveMount(const std::string& data_dir, const std::string& username) {
  return UserDir(data_dir, username, "archives", "/archives/" + username);
}

}  // namespace quader::auth
