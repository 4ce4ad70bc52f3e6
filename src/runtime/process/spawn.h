#pragma once
// Starting one host process the way the process runtime needs it: in a new
// session (so its own process group, detached from any terminal), with a
// clean environment, stdin from /dev/null, stdout and stderr appended to a
// log file, inside the given cgroups before it executes anything, with an
// optional address-space limit, optionally as another user (the host uid a
// sandboxed workload runs as, with no supplementary groups, no capabilities
// and no_new_privs), and with no file descriptor of the server leaking into
// it. Thread-safe: the child between fork and exec only makes raw system
// calls on data prepared beforehand (no glibc set*id wrappers: in a vfork
// child they would signal the server's threads).

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace quader::runtime::process {

// One step of entering a running sandbox (see SpawnRequest::enter).
struct EnterStep {
  enum class Kind { kSetns, kChroot, kChdir };
  Kind kind = Kind::kSetns;
  int fd = -1;  // a namespace file (kSetns) or a directory (kChroot, kChdir), opened by the caller
};

struct SpawnRequest {
  std::vector<std::string> argv;          // argv[0] is the absolute path executed
  std::vector<std::string> env;           // "NAME=value"; nothing else is inherited
  std::string cwd = "/";                  // must exist
  std::string log_path;                   // created if missing, appended to
  std::vector<std::string> cgroup_procs;  // cgroup.procs files the child joins
  int64_t address_space_limit = 0;        // RLIMIT_AS in bytes; 0: none
  // Runs as this host uid and gid (both, or neither: -1), with no
  // supplementary groups and no_new_privs set, so no setuid program can
  // give the privileges back.
  int uid = -1;
  int gid = -1;
  int64_t max_processes = 0;  // RLIMIT_NPROC (per uid); 0: unchanged
  // Opened by the caller; -1: none. `fd3` becomes the child's descriptor 3
  // (the wrapper's exit-code file). The child writes its own pid, in
  // decimal, into `pid_fd` before it executes anything (then it is closed).
  int fd3 = -1;
  int pid_fd = -1;
  // A terminal (the slave side of a pty, opened by the caller): the child's
  // stdin, stdout and stderr, and its controlling terminal, instead of
  // /dev/null and the log file.
  int tty_fd = -1;
  // After switching to `uid`, in order: setns(2) into each namespace,
  // chroot to a directory, chdir to one. A pid namespace applies to the
  // children of the new process, not to itself.
  std::vector<EnterStep> enter;
};

// Forks and executes `req`. Returns the child's pid (which is also its
// process group id) once execve succeeded; the caller owns the child and
// must reap it. kInvalidArgument when the program cannot be executed or cwd
// entered, kUnavailable when joining a cgroup or forking fails, kInternal
// for other failures; the child is reaped on error.
Result<int> Spawn(const SpawnRequest& req);

}  // namespace quader::runtime::process
