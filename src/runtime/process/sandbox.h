#pragma once
// Mounts for process workloads, and the bubblewrap (bwrap) command line that
// gives a process its own view of the file system.
//
// Without namespaces a process sees the host as it is, so the only mounts
// that can be honoured are writable ones whose target is their source; the
// rest are refused, never silently dropped. With bwrap the sandbox re-creates
// the host root as is (each top-level entry bound to itself, on a fresh tmpfs
// root so that new mount points never appear on the host's /), with a new
// /proc and a minimal /dev, then adds the spec's mounts. Pure functions apart
// from ListHostRoot and ValidateMounts (which stats sources).

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/runtime.h"

namespace quader::runtime::process {

// One entry of the host's "/".
struct RootEntry {
  enum class Type { kDir, kFile, kSymlink };
  std::string name;  // "usr", "bin", ...
  Type type = Type::kDir;
  std::string link;  // kSymlink: where it points ("usr/bin")
};

// The entries of `root` ("/"), sorted by name.
std::vector<RootEntry> ListHostRoot(const std::string& root = "/");

// Checks `mounts` (spec.mounts) for the process runtime. kInvalidArgument
// naming the mount ("mounts[1].target") when a target is not an absolute
// path, is "/", repeats another or contains "..", when a source is missing,
// and, when not `sandboxed`, for every mount that needs namespaces: memory
// mounts, read-only mounts, and binds whose target differs from the source.
Status ValidateMounts(const std::vector<Mount>& mounts, bool sandboxed);

// The host path behind `path` as the workload sees it: mapped through the
// deepest mount whose target covers it, else `path` itself. nullopt when it
// lies inside a memory mount (it exists only inside the workload).
std::optional<std::string> HostPathOf(const std::string& path, const std::vector<Mount>& mounts);

// bwrap's arguments, from its first option to the closing "--" (the command
// follows): the host root re-created from `root`, then `mounts` (parents
// before children), then `working_dir` created and entered. No
// --die-with-parent: workloads outlive the server that started them.
std::vector<std::string> BwrapArgs(const std::vector<RootEntry>& root,
                                   const std::vector<Mount>& mounts,
                                   const std::string& working_dir);

}  // namespace quader::runtime::process
