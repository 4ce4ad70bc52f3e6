#pragma once
// The one mount rule for everything a user asks to run (docs/projects.md
// "Mounts"): templates, pipeline tasks, notebooks, services, experiments and
// image builds all call it when they are applied, while the caller is known.
// Runs started later (by the cron, with the creator's rights) need no check
// of their own: a spec changes only through another apply.

#include <string>
#include <vector>

#include "auth/access.h"
#include "auth/expand.h"
#include "store/records.h"

namespace quader::api {

// Admins may mount anything. Others may mount RAM (memory) and named volumes
// (pvc; each user gets their own directory in one), and host paths only where
// the project's expand volume_mount lists the same source. kPermissionDenied
// naming the entry otherwise: `FIELD[i]: "/etc" is not among the mounts of
// project "P"; an admin can add it to the project's expand`.
Status CheckMountsAllowed(const auth::Principal& who, const store::ProjectRecord& project, const std::string& field,
                          const std::vector<auth::VolumeMount>& mounts);

}  // namespace quader::api
