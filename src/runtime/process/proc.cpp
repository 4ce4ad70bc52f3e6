#include "runtime/process/proc.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace quader::runtime::process {
namespace {

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return {};
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::optional<ProcStat> ParseProcStat(const std::string& text) {
  // "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt
  //  majflt cmajflt utime stime cutime cstime priority nice num_threads
  //  itrealvalue starttime vsize rss ..."
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return std::nullopt;
  }
  ProcStat s;
  s.pid = std::atoi(text.substr(0, open).c_str());
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  std::string tok;
  while (f.size() < 22 && rest >> tok) {
    f.push_back(tok);
  }
  if (f.size() < 22 || f[0].empty()) {
    return std::nullopt;
  }
  auto u64 = [&](int field) { return std::strtoull(f[field - 3].c_str(), nullptr, 10); };
  s.state = f[0][0];
  s.ppid = static_cast<int>(u64(4));
  s.pgrp = static_cast<int>(u64(5));
  s.cpu_ticks = u64(14) + u64(15) + u64(16) + u64(17);
  s.start_ticks = u64(22);
  s.rss_pages = std::strtoll(f[24 - 3].c_str(), nullptr, 10);
  return s;
}

std::optional<ProcStat> ReadProcStat(int pid) {
  if (pid <= 0) {
    return std::nullopt;
  }
  std::string text = ReadSmallFile("/proc/" + std::to_string(pid) + "/stat");
  if (text.empty()) {
    return std::nullopt;
  }
  return ParseProcStat(text);
}

Liveness CheckLiveness(int pid, uint64_t start_ticks) {
  std::optional<ProcStat> s = ReadProcStat(pid);
  if (!s || s->start_ticks != start_ticks) {
    return Liveness::kGone;
  }
  // 'X' (dead) can be seen for an instant while the kernel tears a task down.
  if (s->state == 'Z' || s->state == 'X') {
    return Liveness::kZombie;
  }
  return Liveness::kAlive;
}

bool PidReused(int pid, uint64_t start_ticks) {
  std::optional<ProcStat> s = ReadProcStat(pid);
  return s && s->start_ticks != start_ticks;
}

std::vector<ProcStat> GroupMembers(int pgid) {
  std::vector<ProcStat> out;
  if (pgid <= 1) {
    return out;
  }
  DIR* dir = opendir("/proc");
  if (dir == nullptr) {
    return out;
  }
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') {
      continue;
    }
    std::optional<ProcStat> s = ReadProcStat(std::atoi(e->d_name));
    if (s && s->pgrp == pgid && s->state != 'Z' && s->state != 'X') {
      out.push_back(*s);
    }
  }
  closedir(dir);
  return out;
}

int64_t TicksPerSecond() {
  long t = sysconf(_SC_CLK_TCK);
  return t > 0 ? t : 100;
}

int64_t PageSize() {
  long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? p : 4096;
}

}  // namespace quader::runtime::process
