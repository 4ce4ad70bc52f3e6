#pragma once
// The one mount resolver: what a workload of a user mounts, for every kind of
// work (tasks, trials, notebooks, services, builds), so that `/mnt/$user` is
// the same directory wherever the user's work runs (SPEC §1, §2; CONTRACT.md
// "Inside containers").
//
// Layout under the data directory:
//   users/USER/work       the personal work directory, at /mnt/USER
//   users/USER/archives   the personal archive directory, at /archives/USER
//   volumes/SOURCE/USER   a pvc entry SOURCE(pvc):PATH, at PATH/USER
//
// A project's pvc entry at `/mnt` (the guide's `kubeflow-user-workspace(pvc):/mnt`)
// or `/archives` names where the user's own directory lives on a cluster: it
// resolves to /mnt/USER (/archives/USER) like every pvc entry, and that target
// is the personal directory: locally the same host directory as everywhere
// else, on Kubernetes the project's claim with sub-path USER. A mount at a
// parent of a personal directory (a hostpath or memory at /mnt) composes with
// it: parents are mounted before what they contain. Later layers replace
// earlier ones at the same target.

#include <string>
#include <vector>

#include "auth/expand.h"
#include "runtime/runtime.h"

namespace quader::workload {

// On a cluster, the claim holding every user's work and archive directories
// (subPath USER/work, USER/archives): deploy/kubernetes/quader.yaml makes it.
inline constexpr const char* kUsersClaim = "quader-users";

struct MountRequest {
  std::string data_dir;  // absolute
  std::string user;      // whose workload: personal directories and per-user pvc paths
  // The personal directories: /mnt/USER always (unless `personal` is false,
  // as for image builds), /archives/USER when `archives` (notebooks).
  bool personal = true;
  bool archives = false;
  // volume_mount entries, in order: the project's expand, then the template's,
  // then the task's (or the spec's own). A later entry replaces an earlier one
  // at the same target.
  std::vector<const std::vector<auth::VolumeMount>*> layers;
};

// The workload's mounts, parents before children, one per target. Host
// directories are created.
std::vector<runtime::Mount> ResolveMounts(const MountRequest& request);

// The personal directories (also what the API's file views read).
std::string PersonalWorkDir(const std::string& data_dir, const std::string& user);
std::string PersonalArchiveDir(const std::string& data_dir, const std::string& user);

}  // namespace quader::workload
