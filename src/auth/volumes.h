#pragma once
// Where a user's directories and a project's `volume_mount` entries live on
// this machine, as runtime mounts (SPEC §1, §2; CONTRACT.md "Inside
// containers"). One place for every controller that starts workloads (image
// builds, tasks, notebooks, services), so `/mnt/$username` is the same
// directory wherever it is mounted.
//
// Layout under the data directory:
//   volumes/SOURCE/USER   a pvc entry SOURCE(pvc):PATH, mounted at PATH/USER
//   users/USER/work       the personal work directory, at /mnt/USER
//   users/USER/archives   the personal archive directory, at /archives/USER

#include <string>
#include <vector>

#include "auth/expand.h"
#include "runtime/runtime.h"

namespace quader::auth {

// On a cluster, the claim holding every user's work and archive directories
// (subPath USER/work, USER/archives): deploy/kubernetes/quader.yaml makes it.
inline constexpr const char* kUsersClaim = "quader-users";

// Resolves volume_mount entries for `username` to host paths under
// `data_dir` (pvc: volumes/SOURCE/USER at PATH/USER; hostpath: as given, or
// relative to the data dir; memory: tmpfs). Host directories are created.
std::vector<runtime::Mount> ResolveVolumeMounts(const std::string& data_dir, const std::vector<VolumeMount>& mounts,
                                                const std::string& username);

// The personal work directory, mounted read-write at /mnt/USER.
runtime::Mount PersonalWorkMount(const std::string& data_dir, const std::string& username);
// The personal archive directory, mounted read-write at /archives/USER.
runtime::Mount PersonalArchiveMount(const std::string& data_dir, const std::string& username);

}  // namespace quader::auth
