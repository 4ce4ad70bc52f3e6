#pragma once
// Starting one host process the way the process runtime needs it: in a new
// session (so its own process group, detached from any terminal), with a
// clean environment, stdin from /dev/null, stdout and stderr appended to a
// log file, inside the given cgroups before it executes anything, with an
// optional address-space limit, and with no file descriptor of the server
// leaking into it. Thread-safe: the child between fork and exec only makes
// async-signal-safe calls on data prepared beforehand.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace quader::runtime::process {

struct SpawnRequest {
  std::vector<std::string> argv;          // argv[0] is the absolute path executed
  std::vector<std::string> env;           // "NAME=value"; nothing else is inherited
  std::string cwd = "/";                  // must exist
  std::string log_path;                   // created if missing, appended to
  std::vector<std::string> cgroup_procs;  // cgroup.procs files the child joins
  int64_t address_space_limit = 0;        // RLIMIT_AS in bytes; 0: none
};

// Forks and executes `req`. Returns the child's pid (which is also its
// process group id) once execve succeeded; the caller owns the child and
// must reap it. kInvalidArgument when the program cannot be executed or cwd
// entered, kUnavailable when joining a cgroup or forking fails, kInternal
// for other failures; the child is reaped on error.
Result<int> Spawn(const SpawnRequest& req);

}  // namespace quader::runtime::process
