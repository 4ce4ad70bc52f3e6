#pragma once
// The `process` runtime: workloads as plain local processes, for machines
// without a container engine (docs/runtimes.md, "process").
//
// - A workload is `/bin/sh -c <wrapper> <marker> [bwrap ... --] command args`
//   started in its own session and process group, stdin from /dev/null and
//   stdout+stderr appended to `<state_dir>/<name>.log`. The image is ignored.
// - Isolated (the default where the server runs as root and bubblewrap
//   works): the wrapper and bwrap run as the workload's user's own host uid
//   (IdentityTable: one per Quader user, from the kLabelUser label) with a
//   fixed environment; the command runs in bwrap's user, pid, IPC and UTS
//   namespaces on a read-only system root with only its mounts writable
//   (sandbox.h), with the spec's env alone, HOME=/home/USER (private) and
//   the working dir defaulting to HOME. Writable volume mounts (Quader's own
//   directories) are handed to that uid. A cgroup pids limit (and RLIMIT_NPROC
//   per uid) stops fork bombs. The constructor probes every isolation
//   property once in a throw-away sandbox (isolation_note()).
// - Not isolated (no bwrap, not root, or a property missing): workloads run
//   as the server's user with PATH/HOME of the server and the spec's env;
//   `may_run_unisolated` decides whose workloads may still run (the server:
//   admins only), the rest get kPermissionDenied naming what is missing.
//   Without bwrap only writable binds of a path onto itself are accepted.
// - The wrapper shell records the command's exit code in `<name>.exit`
//   (through descriptor 3, which the command does not get), so the code
//   survives a server restart; it also implements the restart policy
//   (on-failure / always: run again after 1 s).
// - Crash safety: the record is saved before the process is created and
//   the new process writes its pid (`<name>.pid`) before it executes
//   anything, so a server killed in between finds, and adopts, what it
//   started instead of starting it twice.
// - Limits: a cgroup (v2, or v1 on hybrid hosts) `<root>/quader/<key>-<name>`
//   with memory and cpu limits when cgroups are writable; otherwise memory
//   becomes RLIMIT_AS (allocations fail instead of an OOM kill) and cpu is
//   not enforced. GPUs are refused.
// - Ports are not mapped: a process listens where it listens, so each
//   mapping is reported with host_port = container_port (when 0) and the
//   process must listen on 127.0.0.1:<container_port>.
// - Workload ids are spec names. State lives in `<state_dir>/<name>.json`;
//   a second runtime on the same directory (a restarted server) adopts
//   running workloads: status, logs, stats and stop work on them.
//
// Thread-safe.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/process/cgroup.h"
#include "runtime/process/identity.h"
#include "runtime/process/spawn.h"
#include "runtime/process/state_dir.h"
#include "runtime/runtime.h"

namespace quader::runtime::process {

struct ProcessRuntimeOptions {
  bool use_cgroups = true;               // false: always the rlimit fallback
  bool use_bwrap = true;                 // false: never sandbox, even when bwrap exists
  std::string cgroup_parent = "quader";  // directory created under each cgroup root
  std::string bwrap_path;                // empty: look for `bwrap` on PATH
  // Host uids of users' workloads: [uid_base, uid_base + 2^20).
  int uid_base = 2000000;
  // Process limits: per workload (cgroup pids.max) and per user's uid (RLIMIT_NPROC).
  int64_t max_pids = 4096;
  int64_t max_user_processes = 16384;
  // Host paths no workload may see (the server's data directory); the state
  // directory is always among them.
  std::vector<std::string> hidden_paths;
  // Where isolation is missing: whether `user`'s workloads may still run (as
  // the server's own user). Null: everyone's.
  std::function<bool(const std::string& user)> may_run_unisolated;
  // Images are not run here (work runs on the host's system); the files
  // Quader's own images add are mounted read-only instead, by repository
  // ("quader/predict" -> images/predict at /app).
  std::map<std::string, std::vector<Mount>> image_files;
  // quader-capture (capture_main.cpp): each workload runs under it, and its
  // log lines start with the time they were written (core/log_stamp.h).
  // Empty: none (logs are the command's output as it is).
  std::string capture_helper;
  // A workload's log stops growing here (under the capture): one line says
  // so, the rest of the output is read and dropped. 0: no limit.
  int64_t max_log_bytes = int64_t{1} << 30;
};

// quader-capture next to the running program, "" when it is not there.
std::string CaptureHelperNextToProgram();

class ProcessRuntime : public Runtime {
 public:
  // `state_dir` is created on the first Start. Probes cgroups and bwrap once.
  explicit ProcessRuntime(std::string state_dir, ProcessRuntimeOptions options = {});
  ~ProcessRuntime() override = default;
  ProcessRuntime(const ProcessRuntime&) = delete;
  ProcessRuntime& operator=(const ProcessRuntime&) = delete;

  // What the probes found; for logs, tests and docs.
  bool sandboxed() const { return !bwrap_.empty(); }
  // Workloads run as their users' own host uids in a full sandbox.
  bool isolated() const { return isolation_note_.empty(); }
  // The isolation properties missing here, "" when none.
  const std::string& isolation_note() const { return isolation_note_; }
  bool cgroups() const { return !layout_.empty(); }
  int cgroup_version() const { return layout_.version; }
  // Why cgroups or bwrap are not used ("" when they are).
  const std::string& cgroup_note() const { return cgroup_note_; }
  const std::string& bwrap_note() const { return bwrap_note_; }
  // Whether log lines are timestamped on capture (the helper is usable).
  bool stamps_logs() const { return !capture_.empty(); }

  // runtime::Runtime
  std::string kind() const override { return "process"; }
  // Besides the contract: kInvalidArgument for an empty command, a command
  // not found on the workload's PATH, gpu > 0, and mounts that need bwrap
  // when it is missing. kAlreadyExists while a workload of that name runs; a
  // finished one is replaced.
  Result<WorkloadStatus> Start(const WorkloadSpec& spec) override;
  // SIGTERM to the process group (and every process in the cgroup), SIGKILL
  // after `grace`, then removes the cgroup and the state files.
  Status Stop(const std::string& id, std::chrono::seconds grace) override;
  Result<WorkloadStatus> Inspect(const std::string& id) override;
  // Event-driven: sleeps on a pidfd of the workload's leader (its exit wakes
  // the wait at once) instead of polling; polls every 5 ms only where the
  // kernel has no pidfd_open.
  Result<WorkloadStatus> Wait(const std::string& id, std::chrono::milliseconds timeout) override;
  Result<std::vector<WorkloadStatus>> List(
      const std::map<std::string, std::string>& selector) override;
  // Reads `<name>.log`; with follow, polls it until the wrapper has ended
  // and the file is drained (or sink returns false).
  Status Logs(const std::string& id, bool follow, const LogSink& sink) override;
  // From the cgroup (memory charged, cpu usage), else summed over the live
  // members of the process group (RSS, utime+stime). cpu_cores averages
  // since the previous Stats call (since start on the first).
  Result<WorkloadStats> Stats(const std::string& id) override;
  // An ended workload's log file is linked to `path` (no copy, no new file);
  // a running one's is copied (it still grows).
  void SaveLog(const std::string& id, const std::string& path, const std::string& trailer) override;
  // With the workload's environment and working directory; when it is
  // isolated, inside its sandbox (its user, mount, pid, IPC and UTS
  // namespaces, entered with nsenter), as its uid and in its cgroup.
  Result<int> Exec(const std::string& id, const std::vector<std::string>& argv,
                   std::chrono::milliseconds timeout) override;
  // Exec's way in, on a pseudo-terminal of its own (the command's session
  // and controlling terminal), with TERM=xterm-256color.
  Result<std::unique_ptr<Terminal>> OpenTerminal(const std::string& id, const TerminalOptions& options) override;

 private:
  // How a command enters a running workload (Exec, OpenTerminal): the spawn
  // request, and the descriptors it needs open until the spawn.
  struct Entry {
    SpawnRequest req;
    std::vector<int> opened;
  };
  Result<Entry> PlanEntry(const std::string& id, const std::vector<std::string>& argv,
                          const std::vector<std::string>& extra_env);
  struct CpuSample {
    int64_t usage_usec = 0;
    std::chrono::steady_clock::time_point at;
  };

  void ProbeBwrap();
  // Sets capture_ from the options: the helper where every workload's uid
  // can execute it (a copy under /run/quader when the server is root).
  void PrepareCapture();
  // `path` as bwrap, running as `uid`:`gid`, can open it. Where a parent is
  // closed to that uid (a data directory under /root, say), the directory
  // below the deepest such parent is bound once at /run/quader/KEY-HASH
  // (passable by all, listable by none) and the path goes through there.
  // Requires mu_ held (or the constructor).
  std::string Staged(const std::string& path, int uid, int gid);
  // Runs a throw-away sandbox that checks each isolation property; sets
  // isolation_note_ to what is missing.
  void ProbeIsolation();
  // The identity `spec` runs as, and its writable volume sources handed to it.
  Result<HostIdentity> PrepareIdentity(const WorkloadSpec& spec) const;
  Status ValidateSpec(const WorkloadSpec& spec) const;
  // The command as the workload will run it (found on `path_var` when it has
  // no '/'), checked to be executable where it lives on the host.
  Result<std::string> ResolveCommand(const WorkloadSpec& spec, const std::string& path_var,
                                     const std::string& working_dir) const;
  std::vector<std::string> WrapperArgv(const WorkloadSpec& spec, const std::string& command,
                                       const std::string& working_dir,
                                       const std::map<std::string, std::string>& env,
                                       const HostIdentity* identity);
  // bubblewrap's arguments for the workload, up to and including "--".
  std::vector<std::string> SandboxArgv(const WorkloadSpec& spec, const std::string& working_dir,
                                       const std::map<std::string, std::string>& env,
                                       const HostIdentity* identity);
  // Creates the cgroup (or picks the rlimit) for a new workload.
  Result<Cgroup> MakeCgroup(const WorkloadSpec& spec, WorkloadRecord* rec) const;
  // Updates `rec` when its process has ended (reaping it when it is our
  // child) and saves it. Requires mu_ held.
  void Refresh(WorkloadRecord* rec);
  // Kills what is left of a workload and removes everything it owns.
  Status Destroy(const WorkloadRecord& rec, std::chrono::milliseconds grace);
  WorkloadStatus ToStatus(const WorkloadRecord& rec) const;
  Result<WorkloadRecord> LoadFresh(const std::string& id);

  // Constant after construction.
  const StateDir state_;
  // The records (records_ first, else the state file), requires mu_ held.
  Result<WorkloadRecord> LoadRecord(const std::string& name);
  Status Remember(const WorkloadRecord& rec, bool persist);
  void Forget(const std::string& name);
  const ProcessRuntimeOptions options_;
  CgroupPaths layout_;
  std::string cgroup_note_;
  std::string bwrap_;
  std::string bwrap_exe_;  // bwrap_ with links resolved, as /proc/PID/exe names it
  std::string bwrap_note_;
  std::string capture_;  // the capture helper workloads start under; "" none
  std::string host_path_;
  std::string host_home_;
  std::string node_;
  std::string sleep_;
  std::string cgroup_key_;
  std::string isolation_note_;
  std::map<std::string, std::string> stages_;  // guarded by mu_: host directory -> its bind under /run/quader
  std::unique_ptr<IdentityTable> identities_;

  // Serialises record writes and Start's check-then-create.
  std::mutex mu_;
  std::map<std::string, CpuSample> samples_;  // guarded by mu_
  // Guarded by mu_: the latest record of each workload this runtime has
  // seen; the state files are their crash-safe copies (what a restarted
  // server reads), written where they could not be derived again.
  std::map<std::string, WorkloadRecord> records_;
};

}  // namespace quader::runtime::process
