#pragma once
// Control groups for process workloads: limits (memory, cpu), usage and
// OOM counters, and a reliable list of a workload's processes.
//
// Both layouts are handled: the unified cgroup v2 hierarchy when its root
// offers the memory controller, else the v1 memory/cpu/cpuacct hierarchies
// (the hybrid layout of many VMs, these machines included). Each workload
// gets `<hierarchy>/<parent>/<leaf>`; the runtime records the paths in its
// state file so that a later server finds them again.
//
// Stateless apart from the paths it holds; safe to use from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace quader::runtime::process {

// Directories per controller. For a layout they are the parent directories
// under which workloads are created; for a workload, its own directories.
// On v2 every non-empty field names the same directory.
struct CgroupPaths {
  int version = 0;      // 0: no cgroup, 1 or 2
  std::string memory;   // memory limit, usage and OOM counter
  std::string cpu;      // cpu quota; empty when the controller is not available
  std::string cpuacct;  // cpu usage
  std::string pids;     // process count limit; empty when the controller is not available
  bool empty() const { return version == 0; }
};

// Where the cgroup hierarchies are mounted, as read from /proc/self/mountinfo.
struct CgroupMounts {
  std::string unified;               // cgroup2 mount point
  std::string memory, cpu, cpuacct, pids;  // cgroup v1 controller mount points
};

// Parses the text of /proc/self/mountinfo. Pure.
CgroupMounts ParseCgroupMounts(const std::string& mountinfo);

// Finds the hierarchies and creates `<root>/<parent>` in each (enabling the
// memory and cpu controllers for its children on v2). An empty layout
// (version 0) when cgroups cannot be used here: not mounted, no memory
// controller, or not writable. `why` (optional) receives the reason.
CgroupPaths PrepareCgroupLayout(const std::string& parent, std::string* why);

// One workload's cgroup.
class Cgroup {
 public:
  Cgroup() = default;
  explicit Cgroup(CgroupPaths paths) : paths_(std::move(paths)) {}

  // Creates `leaf` under each directory of `layout` and writes the limits
  // (0 = unlimited; `max_pids` only where the pids controller exists). A
  // stale empty directory of that name is replaced. kAlreadyExists when one
  // still holds processes; kUnavailable when the kernel refuses. Nothing is
  // left behind on error.
  static Result<Cgroup> Create(const CgroupPaths& layout, const std::string& leaf,
                               int64_t memory_bytes, double cpu, int64_t max_pids = 0);

  const CgroupPaths& paths() const { return paths_; }
  bool empty() const { return paths_.empty(); }
  // True when a cpu quota can be set (the cpu controller is there).
  bool has_cpu() const { return !paths_.cpu.empty(); }
  // True when a process count limit can be set (the pids controller is there).
  bool has_pids() const { return !paths_.pids.empty(); }

  // The cgroup.procs files a new process writes its pid into to join.
  std::vector<std::string> ProcsFiles() const;
  // Memory charged to the cgroup now; nullopt when unreadable.
  std::optional<int64_t> MemoryBytes() const;
  // Cpu time used since creation, in microseconds; nullopt when unreadable.
  std::optional<int64_t> CpuUsageUsec() const;
  // How many processes the kernel OOM-killed in this cgroup.
  int64_t OomKills() const;
  // Pids of the processes in the cgroup.
  std::vector<int> Pids() const;
  // Removes the directories, waiting up to `wait_ms` for exiting processes
  // to leave. Ok when already gone; kInternal when processes remain.
  Status Remove(int wait_ms = 2000) const;

 private:
  std::vector<std::string> Dirs() const;

  CgroupPaths paths_;
};

}  // namespace quader::runtime::process
