#include "api/handlers/mount_check.h"

#include <algorithm>

namespace quader::api {

Status CheckMountsAllowed(const auth::Principal& who, const store::ProjectRecord& project, const std::string& field,
                          const std::vector<auth::VolumeMount>& mounts) {
  if (who.is_admin || mounts.empty()) return Status::Ok();
  auto settings = auth::ParseExpand(Json::parse(project.expand, nullptr, false));
  std::vector<auth::VolumeMount> offered = settings.ok() ? settings->volume_mounts : std::vector<auth::VolumeMount>{};
  for (size_t i = 0; i < mounts.size(); ++i) {
    const auth::VolumeMount& m = mounts[i];
    if (m.kind == auth::MountKind::kMemory) continue;
    // A volume name with ".." would step out of the volumes directory.
    if (m.kind == auth::MountKind::kPvc && m.source.find("..") == std::string::npos) continue;
    bool ok = std::any_of(offered.begin(), offered.end(), [&](const auth::VolumeMount& o) {
      return o.kind == m.kind && o.source == m.source;
    });
    if (!ok) {
      return errors::Denied(field + "[" + std::to_string(i) + "]: \"" + m.source + "\" is not among the mounts of project \"" +
                            project.name + "\"; an admin can add it to the project's expand");
    }
  }
  return Status::Ok();
}

}  // namespace quader::api
