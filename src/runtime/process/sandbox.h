#pragma once
// Mounts for process workloads, and the bubblewrap (bwrap) command line that
// gives a process its own view of the file system.
//
// Without namespaces a process sees the host as it is, so the only mounts
// that can be honoured are writable ones whose target is their source; the
// rest are refused, never silently dropped.
//
// With bwrap a workload is a tenant (docs/security.md): bwrap runs as the
// workload's own unprivileged host uid (the caller switches to it first:
// bwrap started as root would map to host root) and gives it its own user,
// pid, IPC, UTS and (where possible) cgroup namespaces. On a fresh tmpfs root
// it sees the host's system directories (kSystemDirs) read-only, its own
// /etc/passwd and /etc/group, /sys read-only without the cgroup tree, a new
// /proc (its own processes only), a minimal /dev, private /tmp, /var/tmp,
// /run and /home/USER, then the spec's mounts; nothing else of the host: not
// the data directory, not other users' directories, not the server's
// processes. The environment is the spec's alone (--clearenv). Pure
// functions apart from ListHostRoot and ValidateMounts (which stats sources).

#include <map>
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

// The top-level host directories a sandboxed workload sees, read-only (the
// ones that exist; symbolic links such as /bin -> usr/bin are re-created).
inline constexpr const char* kSystemDirs[] = {"bin",   "etc",    "lib", "lib32", "lib64",
                                              "libx32", "opt",   "sbin", "usr"};

// Who a sandbox runs as and what it sees besides its mounts.
struct SandboxOptions {
  int uid = 0;  // the host uid bwrap runs as, shown as the same uid inside
  int gid = 0;
  std::string user = "quader";  // its login name: HOME is /home/USER
  std::string passwd_file;      // host files shown at /etc/passwd and /etc/group ("": the host's)
  std::string group_file;
  // Host directories to cover with an empty tmpfs where a system directory
  // would show them (the data directory, say, under /opt).
  std::vector<std::string> hidden;
  // The workload's whole environment.
  std::map<std::string, std::string> env;
  // Directories inside the read-only system directories where a mount
  // point must be made (a mount at /opt/quader/sdk when /opt/quader has no
  // sdk): each becomes a tmpfs holding read-only binds of its host entries
  // (listed here), so the mount point can be created. See SplicePoints.
  std::map<std::string, std::vector<RootEntry>> spliced;
};

// The deepest existing host directory above each mount target that lies in
// a system directory and does not exist on the host (bwrap cannot create a
// mount point inside a read-only bind). Reads the host file system.
std::map<std::string, std::vector<RootEntry>> SplicePoints(const std::vector<Mount>& mounts);

// True when `path` (absolute, as the workload sees it) lies in a system
// directory or under one of `mounts`' targets.
bool VisibleInSandbox(const std::string& path, const std::vector<Mount>& mounts);

// bwrap's arguments, from its first option to the closing "--" (the command
// follows): the namespaces and identity, the system directories from
// `root`, the private directories, `hidden` covered, then `mounts` (parents
// before children), then `working_dir` created and entered, and the
// environment. No --die-with-parent: workloads outlive the server that
// started them.
std::vector<std::string> BwrapArgs(const std::vector<RootEntry>& root,
                                   const std::vector<Mount>& mounts,
                                   const std::string& working_dir, const SandboxOptions& options);

}  // namespace quader::runtime::process
