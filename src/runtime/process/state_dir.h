#pragma once
// The process runtime's state directory: per workload `<name>.json` (the
// record below), `<name>.log` (stdout and stderr) and `<name>.exit` (the
// exit code, written by the wrapper shell when the command ends). These
// files are how a restarted server finds, and adopts, workloads started by
// an earlier one. Thread-compatible: the runtime serialises writers; records
// are replaced atomically (write then rename), so readers never see half a file.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/process/cgroup.h"
#include "runtime/runtime.h"

namespace quader::runtime::process {

// How a workload's memory limit is enforced.
enum class LimitKind {
  kNone,    // no limit asked for
  kCgroup,  // cgroup memory limit (OOM kills are counted by the kernel)
  kRlimit,  // RLIMIT_AS: allocations past the limit fail
};

struct WorkloadRecord {
  std::string name;
  std::map<std::string, std::string> labels;
  std::vector<PortMapping> ports;  // host_port filled in
  int pid = 0;                     // the wrapper shell: session leader, pgid == pid
  uint64_t start_ticks = 0;        // /proc/<pid>/stat starttime: tells pid reuse apart
  int64_t started_at_ms = 0;       // unix epoch milliseconds
  CgroupPaths cgroup;              // version 0: none
  LimitKind limit = LimitKind::kNone;
  int64_t memory_limit_bytes = 0;
  double cpu = 0;
  bool sandboxed = false;  // runs under bubblewrap
  // Its log's lines carry their capture times (it runs under quader-capture);
  // false: the log is the command's output as it is (records saved before
  // the capture, or a server without it).
  bool stamped = false;
  // The image the spec named when its files are not on this machine (not a
  // quader/ image, none of the runtime's image_files): a failure says so.
  std::string foreign_image;
  int uid = -1;            // the host uid it runs as; -1: the server's own
  int gid = -1;
  // Set once the end was observed.
  bool ended = false;
  std::optional<int> exit_code;
  bool oom_killed = false;
  int64_t finished_at_ms = 0;
  std::string reason;
  // Not saved: the record was written before a spawn that never happened
  // (its server was killed in between): the workload does not exist.
  bool never_started = false;
};

class StateDir {
 public:
  explicit StateDir(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string RecordPath(const std::string& name) const { return dir_ + "/" + name + ".json"; }
  std::string LogPath(const std::string& name) const { return dir_ + "/" + name + ".log"; }
  std::string ExitPath(const std::string& name) const { return dir_ + "/" + name + ".exit"; }
  // The wrapper's pid, written by the new process itself before it executes
  // anything: a record saved before the spawn (pid 0) finds its process here.
  std::string PidPath(const std::string& name) const { return dir_ + "/" + name + ".pid"; }

  // Creates the directory if missing. kInternal when it cannot.
  Status Ensure() const;
  // kNotFound when there is no record; kInternal when it is unreadable.
  Result<WorkloadRecord> Load(const std::string& name) const;
  // Writes the record atomically. kInternal on I/O failure.
  Status Save(const WorkloadRecord& rec) const;
  // Names of every recorded workload, sorted.
  std::vector<std::string> Names() const;
  // The pid the new process wrote into PidPath; nullopt when it wrote none.
  std::optional<int> ReadPid(const std::string& name) const;
  // Removes the record, log, exit and pid files; missing ones are fine.
  void Remove(const std::string& name) const;
  // The code the wrapper recorded and when (the file's mtime, epoch ms);
  // nullopt when it wrote none.
  std::optional<std::pair<int, int64_t>> ReadExit(const std::string& name) const;

 private:
  const std::string dir_;
};

}  // namespace quader::runtime::process
