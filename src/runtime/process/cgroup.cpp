#include "runtime/process/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace quader::runtime::process {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return {};
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Writes through write(2) so that the kernel's answer (EINVAL, EBUSY) is seen;
// returns 0 or the errno.
int WriteFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno;
  }
  ssize_t n = write(fd, text.data(), text.size());
  int err = n < 0 ? errno : 0;
  close(fd);
  return err;
}

bool HasWord(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) {
      return true;
    }
  }
  return false;
}

// The value after `key` in a "key value" per line file (cpu.stat, memory.events).
std::optional<int64_t> KeyedValue(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  int64_t v = 0;
  while (in >> k >> v) {
    if (k == key) {
      return v;
    }
  }
  return std::nullopt;
}

std::optional<int64_t> NumberIn(const std::string& path) {
  std::string text = ReadFile(path);
  if (text.empty()) {
    return std::nullopt;
  }
  return std::strtoll(text.c_str(), nullptr, 10);
}

bool MakeDir(const std::string& path) { return mkdir(path.c_str(), 0755) == 0 || errno == EEXIST; }

CgroupPaths PrepareV2(const std::string& root, const std::string& parent, std::string* why) {
  std::string dir = root + "/" + parent;
  if (!MakeDir(dir)) {
    *why = "cannot create " + dir + ": " + std::strerror(errno);
    return {};
  }
  // Children of `dir` get memory (required), cpu and pids (when offered) controllers.
  std::string offered = ReadFile(root + "/cgroup.controllers");
  for (const std::string& d : {root, dir}) {
    WriteFile(d + "/cgroup.subtree_control", "+memory");
    for (const char* c : {"cpu", "pids"}) {
      if (HasWord(offered, c)) {
        WriteFile(d + "/cgroup.subtree_control", std::string("+") + c);
      }
    }
  }
  std::string enabled = ReadFile(dir + "/cgroup.subtree_control");
  if (!HasWord(enabled, "memory")) {
    *why = "cannot enable the memory controller in " + dir;
    return {};
  }
  CgroupPaths p;
  p.version = 2;
  p.memory = p.cpuacct = dir;
  if (HasWord(enabled, "cpu")) {
    p.cpu = dir;
  }
  if (HasWord(enabled, "pids")) {
    p.pids = dir;
  }
  return p;
}

CgroupPaths PrepareV1(const CgroupMounts& m, const std::string& parent, std::string* why) {
  CgroupPaths p;
  p.version = 1;
  p.memory = m.memory + "/" + parent;
  if (!MakeDir(p.memory)) {
    *why = "cannot create " + p.memory + ": " + std::strerror(errno);
    return {};
  }
  if (!m.cpu.empty() && MakeDir(m.cpu + "/" + parent)) {
    p.cpu = m.cpu + "/" + parent;
  }
  if (!m.cpuacct.empty() && MakeDir(m.cpuacct + "/" + parent)) {
    p.cpuacct = m.cpuacct + "/" + parent;
  }
  if (!m.pids.empty() && MakeDir(m.pids + "/" + parent)) {
    p.pids = m.pids + "/" + parent;
  }
  return p;
}

// Creates `dir`, replacing a stale empty one. 0 or an errno.
int CreateLeaf(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) == 0) {
    return 0;
  }
  if (errno != EEXIST) {
    return errno;
  }
  if (rmdir(dir.c_str()) != 0) {
    return EEXIST;  // still has processes (or children)
  }
  return mkdir(dir.c_str(), 0755) == 0 ? 0 : errno;
}

}  // namespace

CgroupMounts ParseCgroupMounts(const std::string& mountinfo) {
  // "36 25 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory"
  CgroupMounts m;
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) {
      continue;
    }
    std::istringstream head(line.substr(0, dash));
    std::istringstream tail(line.substr(dash + 3));
    std::string id, parent_id, devno, root, mount_point, fstype, source, options;
    head >> id >> parent_id >> devno >> root >> mount_point;
    tail >> fstype >> source >> options;
    if (fstype == "cgroup2" && m.unified.empty()) {
      m.unified = mount_point;
    } else if (fstype == "cgroup") {
      std::istringstream opts(options);
      std::string o;
      while (std::getline(opts, o, ',')) {
        std::string* slot = o == "memory"    ? &m.memory
                            : o == "cpu"     ? &m.cpu
                            : o == "cpuacct" ? &m.cpuacct
                            : o == "pids"    ? &m.pids
                                             : nullptr;
        if (slot != nullptr && slot->empty()) {
          *slot = mount_point;
        }
      }
    }
  }
  return m;
}

CgroupPaths PrepareCgroupLayout(const std::string& parent, std::string* why) {
  std::string ignored;
  if (why == nullptr) {
    why = &ignored;
  }
  CgroupMounts m = ParseCgroupMounts(ReadFile("/proc/self/mountinfo"));
  if (!m.unified.empty() && HasWord(ReadFile(m.unified + "/cgroup.controllers"), "memory")) {
    return PrepareV2(m.unified, parent, why);
  }
  if (!m.memory.empty()) {
    return PrepareV1(m, parent, why);
  }
  *why = m.unified.empty()
             ? "no cgroup hierarchy is mounted"
             : "the cgroup v2 hierarchy at " + m.unified +
                   " offers no memory controller and no v1 memory hierarchy is mounted";
  return {};
}

Result<Cgroup> Cgroup::Create(const CgroupPaths& layout, const std::string& leaf,
                              int64_t memory_bytes, double cpu, int64_t max_pids) {
  CgroupPaths p;
  p.version = layout.version;
  auto child = [&](const std::string& parent) { return parent.empty() ? "" : parent + "/" + leaf; };
  p.memory = child(layout.memory);
  p.cpu = child(layout.cpu);
  p.cpuacct = child(layout.cpuacct);
  p.pids = child(layout.pids);
  Cgroup cg(p);
  std::vector<std::string> created;
  auto fail = [&](Status st) -> Result<Cgroup> {
    for (const std::string& d : created) {
      rmdir(d.c_str());
    }
    return st;
  };
  for (const std::string& d : cg.Dirs()) {
    if (int err = CreateLeaf(d); err != 0) {
      if (err == EEXIST) {
        return fail(Status(Code::kAlreadyExists,
                           "cgroup " + d + " already exists and still holds processes"));
      }
      return fail(errors::Unavailable("cannot create cgroup " + d + ": " + std::strerror(err)));
    }
    created.push_back(d);
  }
  bool v2 = p.version == 2;
  if (memory_bytes > 0) {
    std::string limit = std::to_string(memory_bytes);
    std::string file = p.memory + (v2 ? "/memory.max" : "/memory.limit_in_bytes");
    if (int err = WriteFile(file, limit); err != 0) {
      return fail(errors::Unavailable("cannot write " + file + ": " + std::strerror(err)));
    }
    // No swapping past the limit: the limit is meant to be hard. Best effort,
    // the files exist only where swap accounting is on.
    WriteFile(p.memory + (v2 ? "/memory.swap.max" : "/memory.memsw.limit_in_bytes"),
              v2 ? "0" : limit);
  }
  if (cpu > 0 && !p.cpu.empty()) {
    constexpr int64_t kPeriodUs = 100000;
    int64_t quota = std::max<int64_t>(1000, static_cast<int64_t>(cpu * kPeriodUs));
    int err = 0;
    if (v2) {
      err = WriteFile(p.cpu + "/cpu.max", std::to_string(quota) + " " + std::to_string(kPeriodUs));
    } else {
      err = WriteFile(p.cpu + "/cpu.cfs_period_us", std::to_string(kPeriodUs));
      err = err != 0 ? err : WriteFile(p.cpu + "/cpu.cfs_quota_us", std::to_string(quota));
    }
    if (err != 0) {
      return fail(
          errors::Unavailable("cannot set the cpu quota in " + p.cpu + ": " + std::strerror(err)));
    }
  }
  if (max_pids > 0 && !p.pids.empty()) {
    std::string file = p.pids + "/pids.max";
    if (int err = WriteFile(file, std::to_string(max_pids)); err != 0) {
      return fail(errors::Unavailable("cannot write " + file + ": " + std::strerror(err)));
    }
  }
  return cg;
}

std::vector<std::string> Cgroup::Dirs() const {
  std::vector<std::string> out;
  for (const std::string* d : {&paths_.memory, &paths_.cpu, &paths_.cpuacct, &paths_.pids}) {
    if (!d->empty() && std::find(out.begin(), out.end(), *d) == out.end()) {
      out.push_back(*d);
    }
  }
  return out;
}

std::vector<std::string> Cgroup::ProcsFiles() const {
  std::vector<std::string> out;
  for (const std::string& d : Dirs()) {
    out.push_back(d + "/cgroup.procs");
  }
  return out;
}

std::optional<int64_t> Cgroup::MemoryBytes() const {
  if (paths_.memory.empty()) {
    return std::nullopt;
  }
  return NumberIn(paths_.memory +
                  (paths_.version == 2 ? "/memory.current" : "/memory.usage_in_bytes"));
}

std::optional<int64_t> Cgroup::CpuUsageUsec() const {
  if (paths_.cpuacct.empty()) {
    return std::nullopt;
  }
  if (paths_.version == 2) {
    return KeyedValue(ReadFile(paths_.cpuacct + "/cpu.stat"), "usage_usec");
  }
  std::optional<int64_t> ns = NumberIn(paths_.cpuacct + "/cpuacct.usage");
  if (!ns) {
    return std::nullopt;
  }
  return *ns / 1000;
}

int64_t Cgroup::OomKills() const {
  if (paths_.memory.empty()) {
    return 0;
  }
  std::string file =
      paths_.memory + (paths_.version == 2 ? "/memory.events" : "/memory.oom_control");
  return KeyedValue(ReadFile(file), "oom_kill").value_or(0);
}

std::vector<int> Cgroup::Pids() const {
  std::vector<int> out;
  for (const std::string& file : ProcsFiles()) {
    std::istringstream in(ReadFile(file));
    int pid = 0;
    while (in >> pid) {
      if (std::find(out.begin(), out.end(), pid) == out.end()) {
        out.push_back(pid);
      }
    }
  }
  return out;
}

Status Cgroup::Remove(int wait_ms) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (const std::string& d : Dirs()) {
    // rmdir fails with EBUSY until the last process has left (exiting
    // processes take a moment after SIGKILL).
    while (rmdir(d.c_str()) != 0 && errno != ENOENT) {
      int err = errno;
      if (err != EBUSY || std::chrono::steady_clock::now() >= deadline) {
        return errors::Internal("cannot remove cgroup " + d + ": " + std::strerror(err));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return Status::Ok();
}

}  // namespace quader::runtime::process
