#pragma once
// Reading processes through /proc: what the process runtime uses to tell a
// live workload from a finished one (pid + start time defeats pid reuse), to
// find every member of a workload's process group, and to measure use when
// there is no cgroup. Stateless; every function is thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quader::runtime::process {

// The fields of /proc/<pid>/stat the runtime needs.
struct ProcStat {
  int pid = 0;
  char state = '?';  // R, S, D, Z (zombie), T, ...
  int ppid = 0;
  int pgrp = 0;
  uint64_t cpu_ticks = 0;    // utime + stime + cutime + cstime, in clock ticks
  uint64_t start_ticks = 0;  // start time after boot, in clock ticks (field 22)
  int64_t rss_pages = 0;
};

// Parses the text of /proc/<pid>/stat. The command name may hold spaces and
// parentheses, so fields are counted from the last ')'. nullopt when malformed.
std::optional<ProcStat> ParseProcStat(const std::string& text);

// /proc/<pid>/stat of a live (or zombie) process; nullopt when there is none.
std::optional<ProcStat> ReadProcStat(int pid);

enum class Liveness {
  kAlive,   // the process with this pid and start time runs
  kZombie,  // it ended and waits to be reaped by its parent
  kGone,    // no such process (or the pid now belongs to another one)
};
Liveness CheckLiveness(int pid, uint64_t start_ticks);

// True when a process with `pid` exists but started at another time than
// `start_ticks`: the pid was reused by an unrelated process.
bool PidReused(int pid, uint64_t start_ticks);

// Members of process group `pgid` that have not ended (zombies excluded).
std::vector<ProcStat> GroupMembers(int pgid);

// Clock ticks per second and the page size, for turning stat fields into units.
int64_t TicksPerSecond();
int64_t PageSize();

}  // namespace quader::runtime::process
