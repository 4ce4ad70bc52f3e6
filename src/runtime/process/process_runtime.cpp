#include "runtime/process/process_runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/log_stamp.h"
#include "runtime/labels.h"
#include "runtime/process/proc.h"
#include "runtime/process/sandbox.h"
#include "runtime/process/spawn.h"

namespace quader::runtime::process {
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr milliseconds kPollInterval{20};
constexpr milliseconds kKillWait{5000};  // after SIGKILL, for the kernel to finish
// A record without a pid is a process still being made for this long (a
// killed server's child writes its pid within microseconds of its birth).
constexpr milliseconds kStartGrace{2000};
// How long after its start an exec waits for a workload's sandbox to be up
// (bubblewrap takes milliseconds; the wait holds the caller's thread).
constexpr milliseconds kSandboxGrace{1000};
constexpr milliseconds kLogPoll{50};

int64_t NowMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::system_clock::time_point FromMs(int64_t ms) {
  return std::chrono::system_clock::time_point(milliseconds(ms));
}

// Container-name rules (as Docker's): they become file and cgroup names.
bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 128 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

bool Executable(const std::string& path) {
  std::error_code ec;
  return access(path.c_str(), X_OK) == 0 && !fs::is_directory(path, ec);
}

// The absolute directories of a PATH value, in order.
std::vector<std::string> PathDirs(const std::string& path_var) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = path_var.find(':', start);
    std::string dir = path_var.substr(start, end == std::string::npos ? end : end - start);
    if (!dir.empty() && dir[0] == '/') {
      out.push_back(dir);
    }
    if (end == std::string::npos) {
      return out;
    }
    start = end + 1;
  }
}

std::string FindOnPath(const std::string& program, const std::string& path_var) {
  for (const std::string& dir : PathDirs(path_var)) {
    if (Executable(dir + "/" + program)) {
      return dir + "/" + program;
    }
  }
  return {};
}

// FNV-1a: a stable short key per state directory, so that two servers (or
// two test runs) using the same workload name get different cgroups.
std::string KeyOf(const std::string& text) {
  uint32_t h = 2166136261u;
  for (unsigned char c : text) {
    h = (h ^ c) * 16777619u;
  }
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", h);
  return buf;
}

// The wrapper's $0: how a restarted server recognises the process a record
// saved before the spawn refers to.
std::string Marker(const std::string& name) { return "quader-workload:" + name; }

bool HasMarker(int pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string arg;
  std::istringstream parts(text);
  while (std::getline(parts, arg, '\0')) args.push_back(arg);
  return args.size() > 3 && args[3] == Marker(name);
}

// The first directory above `path` that other users cannot pass through; "" when none.
std::string UnsearchableParent(const std::string& path) {
  for (fs::path p = fs::path(path).parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) return p.string();
  }
  return "";
}

std::string UserOf(const WorkloadSpec& spec) {
  auto it = spec.labels.find(kLabelUser);
  return it == spec.labels.end() ? "" : it->second;
}

// Gives a directory Quader made for a workload (its /mnt/$user, outputs) to
// the workload's uid, private to it. Everything below is handed over too
// when the top is not yet theirs (directories written before workloads had
// uids of their own); symbolic links are changed, never followed.
Status HandOver(const std::string& dir, int uid, int gid) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Status::Ok();
  if (st.st_uid == static_cast<uid_t>(uid) && st.st_gid == static_cast<gid_t>(gid)) return Status::Ok();
  if (lchown(dir.c_str(), uid, gid) != 0) {
    return errors::Internal("cannot give " + dir + " to uid " + std::to_string(uid) + ": " + std::strerror(errno));
  }
  chmod(dir.c_str(), 0700);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    (void)lchown(it->path().c_str(), uid, gid);
  }
  return Status::Ok();
}

std::string Reason(const WorkloadRecord& r) {
  if (r.oom_killed) {
    return "OOM-killed: memory limit " + std::to_string(r.memory_limit_bytes) + " bytes" +
           (r.limit == LimitKind::kRlimit ? " (rlimit; killed by SIGKILL)" : "");
  }
  if (!r.exit_code) {
    return "ended without recording an exit code (its wrapper was killed)";
  }
  if (*r.exit_code == 0) {
    return "";
  }
  std::string why = "exited with code " + std::to_string(*r.exit_code);
  if (*r.exit_code > 128 && *r.exit_code < 128 + NSIG) {
    const char* abbrev = sigabbrev_np(*r.exit_code - 128);  // null for real-time signals
    why += " (signal " + std::to_string(*r.exit_code - 128) +
           (abbrev != nullptr ? std::string(", SIG") + abbrev : std::string()) + ")";
  }
  if (!r.foreign_image.empty()) {
    why += "; the process runtime ran the command on this machine without image \"" + r.foreign_image +
           "\" (the image's files are not here: run it on a container engine, or use a program this "
           "machine has)";
  }
  return why;
}

// Signals what is left of a workload: its process group (unless the leader's
// pid now names an unrelated process) and every process in its cgroup.
void SignalAll(const WorkloadRecord& rec, const Cgroup& cg, int sig) {
  if (rec.pid > 0 && !PidReused(rec.pid, rec.start_ticks)) {
    kill(-rec.pid, sig);
  }
  for (int pid : cg.Pids()) {
    kill(pid, sig);
  }
}

bool AnyLeft(const WorkloadRecord& rec, const Cgroup& cg) {
  // In a cgroup, its members are every process the workload made (a process
  // cannot leave it): the leader and the cgroup say it all, with no walk
  // over every process of the machine.
  if (!cg.empty() && rec.pid > 0 && CheckLiveness(rec.pid, rec.start_ticks) == Liveness::kAlive) {
    return true;
  }
  if (cg.empty() && rec.pid > 0 && !PidReused(rec.pid, rec.start_ticks) && !GroupMembers(rec.pid).empty()) {
    return true;
  }
  for (int pid : cg.Pids()) {
    std::optional<ProcStat> s = ReadProcStat(pid);
    if (s && s->state != 'Z' && s->state != 'X') {
      return true;
    }
  }
  return false;
}

// Reaps the wrapper when it is a zombie child of this process; its exit
// status, shell style (128 + signal), when reaped here.
std::optional<int> ReapIfZombie(const WorkloadRecord& rec) {
  if (rec.pid <= 0 || CheckLiveness(rec.pid, rec.start_ticks) != Liveness::kZombie) {
    return std::nullopt;
  }
  int st = 0;
  if (waitpid(rec.pid, &st, WNOHANG) != rec.pid) {
    return std::nullopt;  // not our child: its own parent reaps it
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

bool WaitUntilGone(const WorkloadRecord& rec, const Cgroup& cg, milliseconds limit) {
  auto deadline = steady_clock::now() + limit;
  while (AnyLeft(rec, cg)) {
    ReapIfZombie(rec);
    if (steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  ReapIfZombie(rec);
  return true;
}

}  // namespace

ProcessRuntime::ProcessRuntime(std::string state_dir, ProcessRuntimeOptions options)
    : state_(fs::absolute(state_dir).lexically_normal().string()), options_(std::move(options)) {
  const char* path = std::getenv("PATH");
  const char* home = std::getenv("HOME");
  host_path_ = path != nullptr && *path != '\0' ? path : kDefaultPath;
  host_home_ = home != nullptr && *home == '/' ? home : "/";
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  node_ = host;
  sleep_ = FindOnPath("sleep", std::string(kDefaultPath) + ":" + host_path_);
  if (sleep_.empty()) {
    sleep_ = "sleep";
  }
  cgroup_key_ = KeyOf(state_.dir());
  if (options_.use_cgroups) {
    layout_ = PrepareCgroupLayout(options_.cgroup_parent, &cgroup_note_);
  } else {
    cgroup_note_ = "cgroups are turned off in the runtime's options";
  }
  identities_ = std::make_unique<IdentityTable>(state_.dir() + "/identities", options_.uid_base);
  ProbeBwrap();
  ProbeIsolation();
  PrepareCapture();
  spdlog::info("[runtime] process runtime: state {}, limits by {}, sandbox {}, isolation {}, log timestamps {}",
               state_.dir(),
               layout_.empty() ? "rlimit (" + cgroup_note_ + ")"
                               : "cgroup v" + std::to_string(layout_.version),
               bwrap_.empty() ? "none (" + bwrap_note_ + ")" : bwrap_,
               isolated() ? "per-user host uids" : "MISSING: " + isolation_note_,
               capture_.empty() ? "none (no quader-capture next to the server)" : "by " + capture_);
}

std::string CaptureHelperNextToProgram() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  fs::path helper = self.parent_path() / "quader-capture";
  return Executable(helper.string()) ? helper.string() : "";
}

void ProcessRuntime::PrepareCapture() {
  const std::string& helper = options_.capture_helper;
  if (helper.empty()) return;
  if (!Executable(helper)) {
    spdlog::warn("[runtime] {} is not executable: log lines are not timestamped", helper);
    return;
  }
  if (geteuid() != 0) {
    capture_ = helper;  // workloads run as this server's uid, which reaches it
    return;
  }
  // Workloads run as their users' uids, which may not pass through the
  // directories it is in (a build under /root): a copy of it, root's and
  // executable by all, in /run/quader (passable by all, listable by none).
  // Named by what it is (its size, time and inode), not by this server: the
  // servers of one build share one copy instead of leaving one each.
  struct stat st {};
  if (stat(helper.c_str(), &st) != 0) {
    spdlog::warn("[runtime] {}: {}: log lines are not timestamped", helper, std::strerror(errno));
    return;
  }
  const std::string copy = "/run/quader/capture-" + KeyOf(helper + ":" + std::to_string(st.st_size) + ":" +
                                                          std::to_string(st.st_mtime) + ":" + std::to_string(st.st_ino));
  if (Executable(copy)) {
    capture_ = copy;
    return;
  }
  const std::string tmp = copy + ".tmp-" + std::to_string(getpid());
  std::error_code ec;
  fs::create_directories("/run/quader", ec);
  chmod("/run/quader", 0711);
  fs::copy_file(helper, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec && chmod(tmp.c_str(), 0755) == 0 && rename(tmp.c_str(), copy.c_str()) == 0) {
    capture_ = copy;
    return;
  }
  spdlog::warn("[runtime] cannot place a copy of {} at {} ({}): log lines are not timestamped", helper, copy,
               ec ? ec.message() : std::strerror(errno));
  unlink(tmp.c_str());
}

void ProcessRuntime::ProbeBwrap() {
  if (!options_.use_bwrap) {
    bwrap_note_ = "bubblewrap is turned off in the runtime's options";
    return;
  }
  std::string bwrap = options_.bwrap_path.empty()
                          ? FindOnPath("bwrap", std::string(kDefaultPath) + ":" + host_path_)
                          : options_.bwrap_path;
  if (bwrap.empty() || !Executable(bwrap)) {
    bwrap_note_ = "bwrap is not installed (Debian package bubblewrap)";
    return;
  }
  // Run the sandbox the way workloads get it once: bwrap may be installed
  // yet unusable (no user namespaces for non-root, a locked-down kernel).
  SpawnRequest probe;
  probe.argv = {bwrap};
  SandboxOptions own;
  own.uid = static_cast<int>(geteuid());
  own.gid = static_cast<int>(getegid());
  own.env = {{"PATH", kDefaultPath}};
  for (std::string& a : BwrapArgs(ListHostRoot(), {}, "/", own)) {
    probe.argv.push_back(std::move(a));
  }
  probe.argv.push_back("/bin/true");
  probe.env = {"PATH=" + std::string(kDefaultPath)};
  probe.log_path = "/dev/null";
  Result<int> pid = Spawn(probe);
  int st = -1;
  if (pid.ok()) {
    while (waitpid(*pid, &st, 0) < 0 && errno == EINTR) {
    }
  }
  if (!pid.ok() || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    bwrap_note_ = bwrap + " is installed but cannot create a sandbox here";
    return;
  }
  bwrap_ = bwrap;
  std::error_code ec;
  bwrap_exe_ = fs::weakly_canonical(bwrap, ec).string();
}

std::string ProcessRuntime::Staged(const std::string& path, int uid, int gid) {
  if (geteuid() != 0 || !sandboxed() || uid == 0) return path;
  // The deepest parent that `uid` cannot pass through, and its child on the way to `path`.
  fs::path top;
  fs::path below;
  for (fs::path p = fs::path(path).lexically_normal(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    if (p.filename().empty()) continue;  // a trailing '/'
    fs::path parent = p.parent_path();
    struct stat st {};
    if (stat(parent.c_str(), &st) != 0) continue;
    bool passes = st.st_uid == static_cast<uid_t>(uid)   ? (st.st_mode & S_IXUSR) != 0
                  : st.st_gid == static_cast<gid_t>(gid) ? (st.st_mode & S_IXGRP) != 0
                                                         : (st.st_mode & S_IXOTH) != 0;
    if (!passes) {
      top = parent;
      below = p;
      break;
    }
  }
  if (top.empty()) return path;
  const std::string dir = below.string();
  auto it = stages_.find(dir);
  if (it == stages_.end()) {
    const std::string stage = "/run/quader/" + cgroup_key_ + "-" + KeyOf(dir);
    std::error_code ec;
    fs::create_directories(stage, ec);
    chmod("/run/quader", 0711);
    struct stat want {}, have {};
    if (ec || stat(dir.c_str(), &want) != 0 || stat(stage.c_str(), &have) != 0) {
      spdlog::warn("[runtime] cannot prepare {}: {}", stage, ec ? ec.message() : std::strerror(errno));
      return path;
    }
    // A restarted server finds its bind mount in place.
    if ((want.st_dev != have.st_dev || want.st_ino != have.st_ino) &&
        mount(dir.c_str(), stage.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      spdlog::warn("[runtime] cannot bind {} at {}: {}", dir, stage, std::strerror(errno));
      return path;
    }
    spdlog::info("[runtime] workloads reach {} through {} ({} is private)", dir, stage, top.string());
    it = stages_.emplace(dir, stage).first;
  }
  return it->second + path.substr(dir.size());
}

void ProcessRuntime::ProbeIsolation() {
  if (!sandboxed()) {
    isolation_note_ = "no sandbox (" + bwrap_note_ + ")";
    return;
  }
  if (geteuid() != 0) {
    isolation_note_ = "the server does not run as root, so workloads cannot run as host uids of their own";
    return;
  }
  Result<HostIdentity> id = identities_->Get("");
  if (!id.ok()) {
    isolation_note_ = "no host identity for workloads: " + id.status().message();
    return;
  }
  // bwrap, running as the workload's uid, opens every mount source (all of
  // them under the data directory) itself.
  if (std::string p = UnsearchableParent(Staged(id->passwd_file, id->uid, id->gid)); !p.empty()) {
    isolation_note_ = p + " is not searchable by other users, so workloads' uids cannot reach their "
                      "directories under it (chmod o+x " + p + ")";
    return;
  }
  // Each failed check prints the property it proves missing.
  std::string self_ipc;
  {
    std::error_code ec;
    self_ipc = fs::read_symlink("/proc/self/ns/ipc", ec).string();
  }
  std::string server = std::to_string(getpid());
  std::string script =
      "[ \"$(id -u)\" = " + std::to_string(id->uid) + " ] || echo 'an unprivileged host uid'\n"
      "cat /etc/shadow >/dev/null 2>&1 && echo 'no access to /etc/shadow'\n"
      "[ -e /proc/" + server + " ] && echo 'a pid namespace (the server is visible)'\n"
      "[ \"$(readlink /proc/self/ns/ipc)\" = '" + self_ipc + "' ] && echo 'an IPC namespace'\n"
      "[ \"$(cat /proc/sys/kernel/hostname)\" = quader ] || echo 'a UTS namespace'\n"
      "touch /usr/.quader-probe 2>/dev/null && echo 'a read-only system root'\n";
  std::vector<std::string> hidden = options_.hidden_paths;
  hidden.push_back(state_.dir());
  for (const std::string& h : hidden) {
    script += "[ -e '" + h + "' ] && echo 'the data directory hidden (" + h + " is visible)'\n";
  }
  script += "exit 0\n";
  SandboxOptions so;
  so.uid = id->uid;
  so.gid = id->gid;
  so.passwd_file = Staged(id->passwd_file, id->uid, id->gid);
  so.group_file = Staged(id->group_file, id->uid, id->gid);
  so.hidden = hidden;
  so.env = {{"PATH", kDefaultPath}};
  SpawnRequest probe;
  probe.argv = {bwrap_};
  for (std::string& a : BwrapArgs(ListHostRoot(), {}, "/", so)) probe.argv.push_back(std::move(a));
  probe.argv.insert(probe.argv.end(), {"/bin/sh", "-c", script});
  probe.env = {"PATH=" + std::string(kDefaultPath)};
  const std::string out = state_.dir() + "/.isolation-probe.log";
  unlink(out.c_str());
  probe.log_path = out;
  probe.uid = id->uid;
  probe.gid = id->gid;
  Result<int> pid = Spawn(probe);
  int st = -1;
  if (pid.ok()) {
    while (waitpid(*pid, &st, 0) < 0 && errno == EINTR) {
    }
  }
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unlink(out.c_str());
  if (!pid.ok()) {
    isolation_note_ = "the sandbox cannot start as an unprivileged uid: " + pid.status().message();
  } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    isolation_note_ = "the sandbox cannot start as an unprivileged uid: " + TrimSpace(text);
  } else {
    std::string missing;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) missing += (missing.empty() ? "" : "; ") + line;
    }
    isolation_note_ = missing;
  }
}

Result<HostIdentity> ProcessRuntime::PrepareIdentity(const WorkloadSpec& spec) const {
  QUADER_ASSIGN_OR_RETURN(HostIdentity id, identities_->Get(UserOf(spec)));
  for (const Mount& m : spec.mounts) {
    if (m.kind == MountKind::kVolume && !m.read_only) {
      QUADER_RETURN_IF_ERROR(HandOver(m.source, id.uid, id.gid));
    }
  }
  return id;
}

Status ProcessRuntime::ValidateSpec(const WorkloadSpec& spec) const {
  if (!ValidName(spec.name)) {
    return errors::Invalid(
        "name", "\"" + spec.name +
                    "\" must be 1 to 128 letters, digits, '_', '.' or '-', starting with a "
                    "letter or digit");
  }
  if (spec.command.empty() || spec.command[0].empty()) {
    return errors::Invalid("command",
                           "the process runtime needs a command (images, and so their "
                           "entrypoints, are ignored)");
  }
  if (spec.resources.gpu > 0) {
    return errors::Invalid("resources.gpu", "the process runtime has no GPU support");
  }
  if (spec.resources.gpu < 0 || spec.resources.cpu < 0 || spec.resources.memory_bytes < 0) {
    return errors::Invalid("resources", "cpu, memory and gpu must not be negative");
  }
  for (size_t i = 0; i < spec.ports.size(); ++i) {
    const PortMapping& p = spec.ports[i];
    const std::string field = "ports[" + std::to_string(i) + "]";
    if (p.container_port < 1 || p.container_port > 65535) {
      return errors::Invalid(field + ".container_port",
                             "must be 1 to 65535, got " + std::to_string(p.container_port));
    }
    if (p.host_port != 0 && p.host_port != p.container_port) {
      return errors::Invalid(
          field + ".host_port",
          "the process runtime cannot remap ports: use 0 or " + std::to_string(p.container_port));
    }
    if (p.protocol != "tcp" && p.protocol != "udp") {
      return errors::Invalid(field + ".protocol", "must be tcp or udp, got \"" + p.protocol + "\"");
    }
  }
  for (const auto& [k, v] : spec.env) {
    if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos) {
      return errors::Invalid("env", "bad variable name \"" + k + "\"");
    }
  }
  if (!spec.working_dir.empty() && spec.working_dir[0] != '/') {
    return errors::Invalid("working_dir",
                           "must be an absolute path, got \"" + spec.working_dir + "\"");
  }
  return ValidateMounts(spec.mounts, sandboxed());
}

Result<std::string> ProcessRuntime::ResolveCommand(const WorkloadSpec& spec,
                                                   const std::string& path_var,
                                                   const std::string& working_dir) const {
  const std::string& cmd = spec.command[0];
  // Paths are as the workload sees them; check them where they live on the host.
  auto usable = [&](const std::string& p) {
    if (sandboxed() && !VisibleInSandbox(p, spec.mounts)) return false;
    std::optional<std::string> host = HostPathOf(p, spec.mounts);
    return !host || Executable(*host);  // inside a memory mount: cannot tell yet
  };
  if (cmd.find('/') != std::string::npos) {
    std::string full = cmd[0] == '/' ? cmd : working_dir + "/" + cmd;
    if (!usable(full)) {
      return errors::Invalid("command[0]", "\"" + cmd + "\" is not an executable file" +
                                               (sandboxed() ? " the sandbox can see (the system directories "
                                                              "and the workload's mounts)"
                                                            : ""));
    }
    return cmd;
  }
  for (const std::string& dir : PathDirs(path_var)) {
    if (HostPathOf(dir, spec.mounts) && usable(dir + "/" + cmd)) {
      return dir + "/" + cmd;
    }
  }
  return errors::Invalid("command[0]", "\"" + cmd + "\" not found on PATH " + path_var);
}

std::vector<std::string> ProcessRuntime::WrapperArgv(const WorkloadSpec& spec,
                                                     const std::string& command,
                                                     const std::string& working_dir,
                                                     const std::map<std::string, std::string>& env,
                                                     const HostIdentity* identity) {
  // A sandboxed workload that runs once needs no shell: bubblewrap's own
  // monitor (the process group's leader) writes the exit code to descriptor 3,
  // the exit file, and the sandbox does not get that descriptor. A shell and a
  // fork fewer per start. The marker is the value of a variable --clearenv
  // drops, at argv[3] as in the shell's form.
  if (sandboxed() && spec.restart == RestartPolicy::kNever) {
    std::vector<std::string> argv = {bwrap_, "--setenv", "QUADER_WORKLOAD_MARKER", Marker(spec.name),
                                     "--json-status-fd", "3"};
    for (std::string& a : SandboxArgv(spec, working_dir, env, identity)) argv.push_back(std::move(a));
    argv.push_back(command);
    argv.insert(argv.end(), spec.command.begin() + 1, spec.command.end());
    argv.insert(argv.end(), spec.args.begin(), spec.args.end());
    return argv;
  }
  // Otherwise a shell wraps it: $0 is a marker naming the workload; descriptor
  // 3 the exit file, which the command does not get; "$@" the command. The
  // shell stays the process group's leader, so signals to the group reach it
  // and the command alike.
  std::string script;
  switch (spec.restart) {
    case RestartPolicy::kNever:
      script = "\"$@\" 3>&-; c=$?; echo \"$c\" >&3; exit \"$c\"";
      break;
    case RestartPolicy::kOnFailure:
      script = "while :; do \"$@\" 3>&-; c=$?; [ \"$c\" -eq 0 ] && break; " + sleep_ +
               " 1 3>&-; done; echo \"$c\" >&3; exit \"$c\"";
      break;
    case RestartPolicy::kAlways:
      script = "while :; do \"$@\" 3>&-; " + sleep_ + " 1 3>&-; done";
      break;
  }
  std::vector<std::string> argv = {"/bin/sh", "-c", script, Marker(spec.name)};
  if (sandboxed()) {
    argv.push_back(bwrap_);
    for (std::string& a : SandboxArgv(spec, working_dir, env, identity)) argv.push_back(std::move(a));
  }
  argv.push_back(command);
  argv.insert(argv.end(), spec.command.begin() + 1, spec.command.end());
  argv.insert(argv.end(), spec.args.begin(), spec.args.end());
  return argv;
}

std::vector<std::string> ProcessRuntime::SandboxArgv(const WorkloadSpec& spec, const std::string& working_dir,
                                                     const std::map<std::string, std::string>& env,
                                                     const HostIdentity* identity) {
  SandboxOptions so;
  so.uid = identity ? identity->uid : static_cast<int>(geteuid());
  so.gid = identity ? identity->gid : static_cast<int>(getegid());
  if (identity && !identity->user.empty()) so.user = identity->user;
  if (identity) {
    so.passwd_file = Staged(identity->passwd_file, so.uid, so.gid);
    so.group_file = Staged(identity->group_file, so.uid, so.gid);
  }
  for (const std::string& h : options_.hidden_paths) {
    so.hidden.push_back(h);
    so.hidden.push_back(Staged(h, so.uid, so.gid));  // as the mounts' sources are named
  }
  so.hidden.push_back(state_.dir());
  so.env = env;
  std::vector<Mount> mounts = spec.mounts;
  for (Mount& m : mounts) {
    if (m.kind != MountKind::kMemory) m.source = Staged(m.source, so.uid, so.gid);
  }
  so.spliced = SplicePoints(spec.mounts);
  return BwrapArgs(ListHostRoot(), mounts, working_dir, so);
}

Result<Cgroup> ProcessRuntime::MakeCgroup(const WorkloadSpec& spec, WorkloadRecord* rec) const {
  const Resources& r = spec.resources;
  if (!layout_.empty()) {
    Result<Cgroup> cg =
        Cgroup::Create(layout_, cgroup_key_ + "-" + spec.name, r.memory_bytes, r.cpu, options_.max_pids);
    if (cg.ok()) {
      rec->cgroup = cg->paths();
      rec->limit = r.memory_bytes > 0 ? LimitKind::kCgroup : LimitKind::kNone;
      if (r.cpu > 0 && !cg->has_cpu()) {
        spdlog::warn("[runtime] workload {}: no cpu cgroup controller, cpu {} is not enforced",
                     spec.name, r.cpu);
      }
      return cg;
    }
    if (cg.status().code() == Code::kAlreadyExists) {
      return cg.status();
    }
    spdlog::warn("[runtime] workload {}: {}; limits fall back to rlimit", spec.name,
                 cg.status().message());
  }
  rec->limit = r.memory_bytes > 0 ? LimitKind::kRlimit : LimitKind::kNone;
  if (r.cpu > 0) {
    spdlog::warn("[runtime] workload {}: cpu {} is not enforced without cgroups", spec.name, r.cpu);
  }
  return Cgroup();
}

namespace {

// "quader/predict:1" -> "quader/predict"; "host:5000/x" stays; a digest goes.
std::string RepositoryOf(std::string image) {
  image = image.substr(0, image.find('@'));
  size_t colon = image.rfind(':'), slash = image.rfind('/');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return image;
  return image.substr(0, colon);
}

}  // namespace

Result<WorkloadStatus> ProcessRuntime::Start(const WorkloadSpec& requested) {
  WorkloadSpec spec = requested;
  if (auto files = options_.image_files.find(RepositoryOf(spec.image)); files != options_.image_files.end()) {
    spec.mounts.insert(spec.mounts.begin(), files->second.begin(), files->second.end());
  }
  QUADER_RETURN_IF_ERROR(ValidateSpec(spec));
  const std::string user = UserOf(spec);
  if (!isolated() && options_.may_run_unisolated && !options_.may_run_unisolated(user)) {
    return Status(Code::kPermissionDenied,
                  "this server cannot isolate workloads from each other (missing: " + isolation_note_ +
                      "), so it runs only admins' work; see docs/security.md");
  }
  // Like a container, a workload starts from the standard PATH, not the
  // server's (a developer's pyenv shims or virtualenv must not leak into
  // tasks); a spec that sets PATH replaces it. Isolated, HOME is private.
  std::map<std::string, std::string> env = {{"PATH", kDefaultPath}, {"HOME", host_home_}};
  if (isolated()) {
    const std::string login = user.empty() ? "quader" : user;
    env = {{"PATH", kDefaultPath}, {"HOME", "/home/" + login}, {"USER", login}, {"LOGNAME", login}};
  }
  for (const auto& [k, v] : spec.env) {
    env[k] = v;
  }
  const std::string working_dir = spec.working_dir.empty() ? env["HOME"] : spec.working_dir;
  QUADER_ASSIGN_OR_RETURN(std::string command, ResolveCommand(spec, env["PATH"], working_dir));

  std::lock_guard<std::mutex> lock(mu_);
  QUADER_RETURN_IF_ERROR(state_.Ensure());
  if (Result<WorkloadRecord> old = LoadRecord(spec.name); old.ok()) {
    Refresh(&*old);
    if (!old->ended) {
      return errors::AlreadyExists("workload", spec.name);
    }
    QUADER_RETURN_IF_ERROR(Destroy(*old, milliseconds(0)));
  } else if (old.status().code() != Code::kNotFound) {
    return old.status();
  }
  Forget(spec.name);  // a stale log or exit file without a record
  if (!sandboxed()) {
    std::error_code ec;
    fs::create_directories(working_dir, ec);
    if (ec) {
      return errors::Invalid("working_dir",
                             "cannot create \"" + working_dir + "\": " + ec.message());
    }
  }
  std::optional<HostIdentity> identity;
  if (isolated()) {
    QUADER_ASSIGN_OR_RETURN(identity, PrepareIdentity(spec));
  }

  WorkloadRecord rec;
  rec.name = spec.name;
  rec.labels = spec.labels;
  rec.ports = spec.ports;
  for (PortMapping& p : rec.ports) {
    p.host_port = p.container_port;
  }
  rec.memory_limit_bytes = spec.resources.memory_bytes;
  rec.cpu = spec.resources.cpu;
  rec.sandboxed = sandboxed();
  if (!spec.image.empty() && spec.image.rfind("quader/", 0) != 0 &&
      options_.image_files.find(RepositoryOf(spec.image)) == options_.image_files.end()) {
    rec.foreign_image = spec.image;
  }
  if (identity) {
    rec.uid = identity->uid;
    rec.gid = identity->gid;
  }
  QUADER_ASSIGN_OR_RETURN(Cgroup cg, MakeCgroup(spec, &rec));

  SpawnRequest req;
  req.argv = WrapperArgv(spec, command, working_dir, env, identity ? &*identity : nullptr);
  if (!capture_.empty()) {
    // Under the capture, which stamps each line of the log; the marker is
    // its argv[3] then, where a restarted server looks for it.
    rec.stamped = true;
    std::vector<std::string> wrapped = {capture_, "--stamp", "--marker", Marker(spec.name)};
    if (options_.max_log_bytes > 0) {
      wrapped.push_back("--max-bytes");
      wrapped.push_back(std::to_string(options_.max_log_bytes));
    }
    wrapped.insert(wrapped.end(), std::make_move_iterator(req.argv.begin()), std::make_move_iterator(req.argv.end()));
    req.argv = std::move(wrapped);
  }
  if (sandboxed()) {
    req.env = {"PATH=" + std::string(kDefaultPath)};  // the workload's env is bwrap's --setenv
  } else {
    for (const auto& [k, v] : env) {
      req.env.push_back(k + "=" + v);
    }
  }
  req.cwd = sandboxed() ? "/" : working_dir;
  req.log_path = state_.LogPath(spec.name);
  req.cgroup_procs = cg.ProcsFiles();
  req.address_space_limit = rec.limit == LimitKind::kRlimit ? rec.memory_limit_bytes : 0;
  if (identity) {
    req.uid = identity->uid;
    req.gid = identity->gid;
    req.max_processes = options_.max_user_processes;
  }
  auto undo = [&](Status st) -> Status {
    (void)cg.Remove();
    Forget(spec.name);
    return st;
  };
  // The record comes first: a server killed from here on finds the process
  // through its pid file (see Refresh) instead of starting it a second time.
  rec.started_at_ms = NowMs();
  if (Status st = Remember(rec, /*persist=*/true); !st.ok()) return undo(st);
  int exit_fd = open(state_.ExitPath(spec.name).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int pid_fd = open(state_.PidPath(spec.name).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (exit_fd < 0 || pid_fd < 0) {
    int err = errno;
    if (exit_fd >= 0) close(exit_fd);
    if (pid_fd >= 0) close(pid_fd);
    return undo(errors::Internal("cannot create the state files of " + spec.name + ": " + std::strerror(err)));
  }
  req.fd3 = exit_fd;
  req.pid_fd = pid_fd;
  Result<int> pid = Spawn(req);
  close(exit_fd);
  close(pid_fd);
  if (!pid.ok()) {
    return undo(pid.status());
  }
  rec.pid = *pid;
  // Our unreaped child cannot vanish from /proc, so its start time is there.
  std::optional<ProcStat> stat = ReadProcStat(rec.pid);
  rec.start_ticks = stat ? stat->start_ticks : 0;
  // Not written again: the pid file the process wrote, with the marker in
  // its command line, is how a restarted server finds it (see Refresh); one
  // file fewer per start (creating files is slow on ext4 under this churn).
  (void)Remember(rec, /*persist=*/false);
  samples_.erase(spec.name);
  return ToStatus(rec);
}

void ProcessRuntime::Refresh(WorkloadRecord* rec) {
  if (rec->ended) {
    return;
  }
  if (rec->pid == 0) {
    // Saved before its spawn by a server that stopped before saving the
    // pid: the new process wrote it, and its marker tells it apart from a
    // later process that reused the number.
    std::optional<int> pid = state_.ReadPid(rec->name);
    // No pid yet: a killed server's child may be a moment from writing it
    // (its first act), or no process was ever made. Rare (a restart within
    // the grace of a start), so waiting here, lock held, is acceptable.
    while (!pid && NowMs() - rec->started_at_ms < kStartGrace.count()) {
      std::this_thread::sleep_for(kPollInterval);
      pid = state_.ReadPid(rec->name);
    }
    std::optional<ProcStat> stat = pid ? ReadProcStat(*pid) : std::nullopt;
    if (stat && HasMarker(*pid, rec->name)) {
      rec->pid = *pid;
      rec->start_ticks = stat->start_ticks;
      if (Status st = Remember(*rec, /*persist=*/true); !st.ok()) {
        spdlog::warn("[runtime] workload {}: {}", rec->name, st.message());
      }
    } else {
      std::optional<std::pair<int, int64_t>> recorded = state_.ReadExit(rec->name);
      if (!pid && !recorded) {
        rec->never_started = true;
        return;
      }
      rec->ended = true;
      rec->finished_at_ms = NowMs();
      rec->exit_code.reset();
      if (recorded) {
        rec->exit_code = recorded->first;
        rec->reason = Reason(*rec);
      } else {
        rec->reason = "ended without recording an exit code (its wrapper was killed)";
      }
      if (Status st = Remember(*rec, /*persist=*/true); !st.ok()) {
        spdlog::warn("[runtime] workload {}: {}", rec->name, st.message());
      }
      return;
    }
  }
  Liveness live = CheckLiveness(rec->pid, rec->start_ticks);
  if (live == Liveness::kAlive) {
    return;
  }
  std::optional<int> waited = ReapIfZombie(*rec);
  std::optional<std::pair<int, int64_t>> recorded = state_.ReadExit(rec->name);
  rec->ended = true;
  rec->finished_at_ms = NowMs();
  if (recorded) {
    rec->exit_code = recorded->first;
    // A file's mtime comes from the kernel's coarse clock, a few ms behind.
    rec->finished_at_ms =
        recorded->second > 0 ? std::max(recorded->second, rec->started_at_ms) : rec->finished_at_ms;
  } else if (waited) {
    rec->exit_code = waited;
  }
  int64_t oom_kills = Cgroup(rec->cgroup).OomKills();
  rec->oom_killed =
      oom_kills > 0 || (rec->limit == LimitKind::kRlimit && rec->exit_code == 128 + SIGKILL);
  rec->reason = Reason(*rec);
  // The exit file and the cgroup say the same after a restart: the end needs
  // writing only when it came from reaping the wrapper (no exit file).
  if (Status st = Remember(*rec, /*persist=*/!recorded); !st.ok()) {
    spdlog::warn("[runtime] workload {}: {}", rec->name, st.message());
  }
}

Result<WorkloadRecord> ProcessRuntime::LoadRecord(const std::string& name) {
  if (auto it = records_.find(name); it != records_.end()) return it->second;
  QUADER_ASSIGN_OR_RETURN(WorkloadRecord rec, state_.Load(name));
  records_[name] = rec;
  return rec;
}

Status ProcessRuntime::Remember(const WorkloadRecord& rec, bool persist) {
  records_[rec.name] = rec;
  return persist ? state_.Save(rec) : Status::Ok();
}

void ProcessRuntime::Forget(const std::string& name) {
  records_.erase(name);
  state_.Remove(name);
}

Result<WorkloadRecord> ProcessRuntime::LoadFresh(const std::string& id) {
  if (!ValidName(id)) {
    return errors::NotFound("workload", id);
  }
  QUADER_ASSIGN_OR_RETURN(WorkloadRecord rec, LoadRecord(id));
  Refresh(&rec);
  if (rec.never_started) {
    // Its server was killed between saving the record and the spawn: there
    // is no workload, so whoever adopts it starts it (it never ran).
    (void)Cgroup(rec.cgroup).Remove();
    Forget(id);
    return errors::NotFound("workload", id + " (its server stopped before starting it)");
  }
  return rec;
}

WorkloadStatus ProcessRuntime::ToStatus(const WorkloadRecord& rec) const {
  WorkloadStatus s;
  s.id = rec.name;
  s.name = rec.name;
  s.labels = rec.labels;
  s.ports = rec.ports;
  s.node = node_;
  s.started_at = FromMs(rec.started_at_ms);
  if (!rec.ended) {
    s.state = WorkloadState::kRunning;
    return s;
  }
  s.exit_code = rec.exit_code;
  s.oom_killed = rec.oom_killed;
  s.reason = rec.reason;
  s.finished_at = FromMs(rec.finished_at_ms);
  s.state =
      rec.exit_code == 0 && !rec.oom_killed ? WorkloadState::kSucceeded : WorkloadState::kFailed;
  return s;
}

Status ProcessRuntime::Destroy(const WorkloadRecord& rec, milliseconds grace) {
  Cgroup cg(rec.cgroup);
  if (AnyLeft(rec, cg)) {
    SignalAll(rec, cg, SIGTERM);
    if (!WaitUntilGone(rec, cg, grace)) {
      SignalAll(rec, cg, SIGKILL);
      WaitUntilGone(rec, cg, kKillWait);
    }
  }
  ReapIfZombie(rec);
  return cg.Remove();
}

Status ProcessRuntime::Stop(const std::string& id, std::chrono::seconds grace) {
  WorkloadRecord rec;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Result<WorkloadRecord> r = LoadFresh(id);
    if (!r.ok()) {
      return r.status().code() == Code::kNotFound ? Status::Ok() : r.status();
    }
    rec = std::move(r).value();
  }
  // The wait for a graceful exit happens without the lock held.
  QUADER_RETURN_IF_ERROR(Destroy(rec, grace));
  std::lock_guard<std::mutex> lock(mu_);
  samples_.erase(id);
  Result<WorkloadRecord> now = LoadRecord(id);
  if (now.ok() && (now->pid != rec.pid || now->start_ticks != rec.start_ticks)) {
    return Status::Ok();  // started again meanwhile: that one is not ours to remove
  }
  Forget(id);
  return Status::Ok();
}

Result<WorkloadStatus> ProcessRuntime::Inspect(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  QUADER_ASSIGN_OR_RETURN(WorkloadRecord rec, LoadFresh(id));
  return ToStatus(rec);
}

void ProcessRuntime::SaveLog(const std::string& id, const std::string& path, const std::string& trailer) {
  std::string log;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Result<WorkloadRecord> rec = LoadFresh(id);
    // A log without capture times goes through Logs (which marks its lines'
    // times unknown), never as it is.
    if (rec.ok() && rec->ended && rec->stamped) log = state_.LogPath(id);
  }
  if (!log.empty()) {
    // A second name for the same file, moved into place: no copy, and no new
    // inode (creating files is what ext4 makes slow under this churn).
    const std::string tmp = path + ".link";
    unlink(tmp.c_str());
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (link(log.c_str(), tmp.c_str()) == 0) {
      bool ok = true;
      if (!trailer.empty()) ok = AppendLogLines(tmp, trailer);
      if (ok && rename(tmp.c_str(), path.c_str()) == 0) return;
      unlink(tmp.c_str());
    }
  }
  Runtime::SaveLog(id, path, trailer);
}

Result<WorkloadStatus> ProcessRuntime::Wait(const std::string& id, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    WorkloadRecord rec;
    {
      std::lock_guard<std::mutex> lock(mu_);
      QUADER_ASSIGN_OR_RETURN(rec, LoadFresh(id));
    }
    const auto now = steady_clock::now();
    if (rec.ended || now >= deadline) return ToStatus(rec);
    auto left = std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1);
    int fd = rec.pid > 0 ? static_cast<int>(syscall(SYS_pidfd_open, rec.pid, 0)) : -1;
    // The pidfd names the process it was opened on: checked against the
    // record's start time, it cannot be a later process with the same number.
    if (fd >= 0 && CheckLiveness(rec.pid, rec.start_ticks) == Liveness::kAlive) {
      pollfd p{fd, POLLIN, 0};
      (void)poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    } else if (fd < 0) {
      std::this_thread::sleep_for(std::min(left, milliseconds(5)));
    }
    if (fd >= 0) close(fd);
  }
}

Result<std::vector<WorkloadStatus>> ProcessRuntime::List(
    const std::map<std::string, std::string>& selector) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<WorkloadStatus> out;
  for (const std::string& name : state_.Names()) {
    Result<WorkloadRecord> rec = LoadFresh(name);
    if (!rec.ok()) {
      if (rec.status().code() != Code::kNotFound) {
        spdlog::warn("[runtime] skipping workload {}: {}", name, rec.status().message());
      }
      continue;
    }
    bool match = true;
    for (const auto& [k, v] : selector) {
      auto it = rec->labels.find(k);
      match = match && it != rec->labels.end() && it->second == v;
    }
    if (match) {
      out.push_back(ToStatus(*rec));
    }
  }
  return out;
}

Status ProcessRuntime::Logs(const std::string& id, bool follow, const LogSink& sink) {
  WorkloadRecord rec;
  {
    std::lock_guard<std::mutex> lock(mu_);
    QUADER_ASSIGN_OR_RETURN(rec, LoadFresh(id));
  }
  const std::string path = state_.LogPath(id);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? Status::Ok()
                           : errors::Internal("cannot read " + path + ": " + std::strerror(errno));
  }
  std::string buf(64 * 1024, '\0');
  bool ended = rec.ended || !follow;
  auto last_sent = std::chrono::steady_clock::now();
  // A log written without capture times: each line is marked as of an
  // unknown time (the epoch), so nothing the command printed passes for one.
  LineStamper unknown;
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n > 0) {
      std::string piece = buf.substr(0, static_cast<size_t>(n));
      if (!rec.stamped) piece = unknown.Feed(piece, std::chrono::system_clock::time_point());
      if (!sink(piece)) {
        break;
      }
      last_sent = std::chrono::steady_clock::now();
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 || ended) {
      break;
    }
    // At the end of the file while the workload runs: once it is gone, one
    // more pass drains what it wrote last.
    if (CheckLiveness(rec.pid, rec.start_ticks) != Liveness::kAlive) {
      ended = true;
    } else if (std::chrono::steady_clock::now() - last_sent >= std::chrono::seconds(1)) {
      // Quiet: ask the consumer whether it still listens.
      if (!sink(std::string())) break;
      last_sent = std::chrono::steady_clock::now();
    } else {
      std::this_thread::sleep_for(kLogPoll);
    }
  }
  close(fd);
  return Status::Ok();
}

Result<WorkloadStats> ProcessRuntime::Stats(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  QUADER_ASSIGN_OR_RETURN(WorkloadRecord rec, LoadFresh(id));
  if (rec.ended) {
    return errors::NotFound("running workload", id);
  }
  Cgroup cg(rec.cgroup);
  std::optional<int64_t> memory = cg.MemoryBytes();
  std::optional<int64_t> usage = cg.CpuUsageUsec();
  if (!memory || !usage) {
    int64_t rss = 0;
    int64_t ticks = 0;
    for (const ProcStat& s : GroupMembers(rec.pid)) {
      rss += s.rss_pages;
      ticks += static_cast<int64_t>(s.cpu_ticks);
    }
    memory = memory ? memory : rss * PageSize();
    usage = usage ? usage : ticks * 1000000 / TicksPerSecond();
  }
  WorkloadStats out;
  out.memory_bytes = *memory;
  out.memory_limit_bytes = rec.memory_limit_bytes;
  auto now = steady_clock::now();
  auto prev = samples_.find(id);
  double used_us = 0;
  double wall_us = 0;
  if (prev != samples_.end()) {
    used_us = static_cast<double>(*usage - prev->second.usage_usec);
    wall_us = static_cast<double>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - prev->second.at).count());
  } else {
    used_us = static_cast<double>(*usage);
    wall_us = static_cast<double>((NowMs() - rec.started_at_ms) * 1000);
  }
  out.cpu_cores = wall_us > 0 && used_us > 0 ? used_us / wall_us : 0;
  samples_[id] = CpuSample{*usage, now};
  return out;
}

namespace {

std::string ReadLink(const std::string& path) {
  std::error_code ec;
  fs::path target = fs::read_symlink(path, ec);
  return ec ? "" : target.string();
}

// NUL-separated NAME=value entries of /proc/<pid>/environ.
std::vector<std::string> EnvironOf(int pid) {
  std::vector<std::string> env;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/environ").c_str(), "r");
  if (!f) return env;
  std::string item;
  for (int c; (c = std::fgetc(f)) != EOF;) {
    if (c == 0) {
      if (!item.empty()) env.push_back(item);
      item.clear();
    } else {
      item.push_back(static_cast<char>(c));
    }
  }
  std::fclose(f);
  return env;
}

}  // namespace

Result<ProcessRuntime::Entry> ProcessRuntime::PlanEntry(const std::string& id, const std::vector<std::string>& argv,
                                                        const std::vector<std::string>& extra_env) {
  if (argv.empty()) return errors::Invalid("argv", "empty");
  WorkloadRecord rec;
  {
    std::lock_guard<std::mutex> lock(mu_);
    QUADER_ASSIGN_OR_RETURN(rec, LoadFresh(id));
  }
  if (rec.ended) return errors::NotFound("running workload", id);
  // The innermost member of the workload: under bubblewrap, the command
  // itself (a member in the sandbox's mount namespace none of whose children
  // is; bubblewrap's own processes there have not the command's working
  // directory). Members are the cgroup's processes where there is one (a
  // process that left the group with setsid is still in it), else the
  // process group's. Only a process that runs the command, not bubblewrap,
  // is in a finished sandbox: until bubblewrap has executed the command, its
  // processes in the new namespaces may still see the host's root. So a
  // sandboxed workload that has just started is waited for (briefly: only
  // within its start's grace), and is never entered through bubblewrap's
  // processes, nor anything run outside its sandbox.
  const std::string own_ns = ReadLink("/proc/self/ns/mnt");
  const Cgroup cg(rec.cgroup);
  auto in_sandbox = [&](int pid) {
    const std::string proc = "/proc/" + std::to_string(pid);
    return ReadLink(proc + "/ns/mnt") != own_ns && (bwrap_exe_.empty() || ReadLink(proc + "/exe") != bwrap_exe_);
  };
  auto find_target = [&]() -> int {
    std::vector<ProcStat> members;
    if (!cg.empty()) {
      for (int pid : cg.Pids()) {
        if (std::optional<ProcStat> st = ReadProcStat(pid)) members.push_back(*st);
      }
    } else {
      members = GroupMembers(rec.pid);
    }
    // The first to start of those in the sandbox: the command itself, not a
    // short-lived child of it that may be gone by the time it is entered.
    const ProcStat* first = nullptr;
    for (const ProcStat& st : members) {
      if (in_sandbox(st.pid) && (first == nullptr || st.start_ticks < first->start_ticks)) first = &st;
    }
    return first ? first->pid : 0;
  };
  int target = find_target();
  while (rec.sandboxed && target == 0 && NowMs() - rec.started_at_ms < kSandboxGrace.count()) {
    std::this_thread::sleep_for(kPollInterval);
    target = find_target();
  }
  if (rec.sandboxed && target == 0) {
    return errors::Unavailable("workload \"" + id + "\" has no command running in its sandbox (still starting, "
                               "or ending); try again");
  }
  if (target == 0) target = rec.pid;
  // Pinned: a pidfd of the target now, checked again once everything of it
  // is open below, so a number reused by another process meanwhile (another
  // user's sandbox, the host) is never what a command enters.
  const int pinned = static_cast<int>(syscall(SYS_pidfd_open, target, 0));
  if (pinned < 0) return errors::Unavailable("workload \"" + id + "\" is ending; try again");
  const std::vector<int> now_in = cg.empty() ? std::vector<int>{} : cg.Pids();
  if ((rec.sandboxed && !in_sandbox(target)) ||
      (!cg.empty() && std::find(now_in.begin(), now_in.end(), target) == now_in.end())) {
    close(pinned);
    return errors::Unavailable("workload \"" + id + "\" is ending; try again");
  }
  Entry entry;
  SpawnRequest& req = entry.req;
  req.log_path = "/dev/null";
  bool other_ns = ReadLink("/proc/" + std::to_string(target) + "/ns/mnt") != own_ns;
  std::vector<int>& opened = entry.opened;  // closed once the command runs
  if (rec.sandboxed && !other_ns) {
    close(pinned);
    return errors::Unavailable("workload \"" + id + "\" is ending; try again");
  }
  if (rec.uid >= 0 && other_ns) {
    // Isolated: enter the sandbox's namespaces as its uid, in its cgroup.
    // bwrap nests the workload's user namespace in the one that owns the
    // other namespaces: enter that one first, the workload's last. Nothing
    // of the workload's env reaches a process outside the sandbox: the
    // shell that forks the command (into the pid namespace) starts clean.
    const std::string ns = "/proc/" + std::to_string(target) + "/ns/";
    auto open_dir = [&](const std::string& path, int flags) {
      int fd = open(path.c_str(), flags | O_CLOEXEC);
      if (fd >= 0) opened.push_back(fd);
      return fd;
    };
    int user = open_dir(ns + "user", O_RDONLY);
    int owner = user >= 0 ? ioctl(user, NS_GET_PARENT) : -1;
    if (owner >= 0) {
      opened.push_back(owner);
      struct stat mine {}, theirs {};
      if (stat("/proc/self/ns/user", &mine) == 0 && fstat(owner, &theirs) == 0 && mine.st_ino == theirs.st_ino) {
        owner = -1;  // not nested: the workload's own user namespace owns the rest
      }
    }
    int ipc = open_dir(ns + "ipc", O_RDONLY);
    int uts = open_dir(ns + "uts", O_RDONLY);
    int mnt = open_dir(ns + "mnt", O_RDONLY);
    int pidns = open_dir(ns + "pid", O_RDONLY);
    int root = open_dir("/proc/" + std::to_string(target) + "/root", O_PATH | O_DIRECTORY);
    int cwd = open_dir("/proc/" + std::to_string(target) + "/cwd", O_PATH | O_DIRECTORY);
    if (user < 0 || ipc < 0 || uts < 0 || mnt < 0 || pidns < 0 || root < 0 || cwd < 0) {
      for (int fd : opened) close(fd);
      close(pinned);
      return errors::Unavailable("workload \"" + id + "\" is ending; try again");
    }
    using K = EnterStep::Kind;
    req.enter = {{K::kSetns, owner >= 0 ? owner : user}, {K::kSetns, ipc},    {K::kSetns, uts},
                 {K::kSetns, mnt},                        {K::kChroot, root}, {K::kSetns, pidns}};
    if (owner >= 0) req.enter.push_back({K::kSetns, user});
    req.enter.push_back({K::kChdir, cwd});
    req.uid = rec.uid;
    req.gid = rec.gid;
    req.max_processes = options_.max_user_processes;
    req.cgroup_procs = cg.ProcsFiles();
    req.env = {"PATH=" + std::string(kDefaultPath)};
    req.argv = {"/bin/sh", "-c", "\"$@\"", "sh", "/usr/bin/env", "-i"};
    for (const std::string& e : EnvironOf(target)) req.argv.push_back(e);
    req.argv.insert(req.argv.end(), extra_env.begin(), extra_env.end());
    // env takes words with '=' for variables until the command: a command
    // whose name has one is run through a shell's exec, not taken for one.
    if (argv.front().find('=') != std::string::npos) {
      req.argv.insert(req.argv.end(), {"/bin/sh", "-c", "exec \"$@\"", "sh"});
    }
    req.argv.insert(req.argv.end(), argv.begin(), argv.end());
  } else if (other_ns) {
    req.env = EnvironOf(target);
    req.env.insert(req.env.end(), extra_env.begin(), extra_env.end());
    req.argv = {"/usr/bin/nsenter", "-t", std::to_string(target), "-m", "-w", "--"};
    req.argv.insert(req.argv.end(), argv.begin(), argv.end());
  } else {
    req.env = EnvironOf(target);
    req.env.insert(req.env.end(), extra_env.begin(), extra_env.end());
    req.argv = argv;
    std::string cwd = ReadLink("/proc/" + std::to_string(target) + "/cwd");
    if (!cwd.empty() && fs::is_directory(cwd)) req.cwd = cwd;
  }
  const bool alive = syscall(SYS_pidfd_send_signal, pinned, 0, nullptr, 0) == 0;
  close(pinned);
  if (!alive) {
    for (int fd : opened) close(fd);
    return errors::Unavailable("workload \"" + id + "\" is ending; try again");
  }
  return entry;
}

namespace {

// A command on the master side of a pty. The command leads its own session
// (Spawn's setsid) and process group, so ending the terminal is a hangup of
// that group, as closing a real one is.
class PtyTerminal final : public Terminal {
 public:
  PtyTerminal(int master, int pid) : master_(master), pid_(pid) {}
  ~PtyTerminal() override {
    if (!reaped_) {
      ::kill(-pid_, SIGHUP);
      ::kill(-pid_, SIGCONT);
      for (int i = 0; i < 50 && !Reap(WNOHANG); ++i) std::this_thread::sleep_for(milliseconds(20));
      if (!reaped_) {
        ::kill(-pid_, SIGKILL);
        Reap(0);
      }
    }
    close(master_);
  }
  int fd() const override { return master_; }
  Status Resize(int rows, int cols) override {
    winsize size{};
    size.ws_row = static_cast<unsigned short>(ClampTerminalSize(rows));
    size.ws_col = static_cast<unsigned short>(ClampTerminalSize(cols));
    if (ioctl(master_, TIOCSWINSZ, &size) != 0) return errors::Internal(std::string("resize: ") + strerror(errno));
    return Status::Ok();
  }
  std::optional<int> Finish() override {
    if (!reaped_) Reap(0);
    return code_;
  }

 private:
  // True once the command was reaped (its code kept).
  bool Reap(int flags) {
    int status = 0;
    pid_t done;
    do {
      done = waitpid(pid_, &status, flags);
    } while (done < 0 && errno == EINTR);
    if (done != pid_) return false;
    reaped_ = true;
    if (WIFEXITED(status)) code_ = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) code_ = 128 + WTERMSIG(status);
    return true;
  }

  const int master_;
  const int pid_;
  bool reaped_ = false;
  std::optional<int> code_;
};

}  // namespace

Result<std::unique_ptr<Terminal>> ProcessRuntime::OpenTerminal(const std::string& id, const TerminalOptions& options) {
  QUADER_ASSIGN_OR_RETURN(Entry entry, PlanEntry(id, options.CommandOrShell(),
                                                 {"TERM=xterm-256color"}));
  auto close_opened = [&] {
    for (int fd : entry.opened) close(fd);
  };
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  char name[128];
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, sizeof(name)) != 0) {
    int err = errno;
    if (master >= 0) close(master);
    close_opened();
    return errors::Unavailable(std::string("cannot open a pseudo-terminal: ") + strerror(err));
  }
  int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    int err = errno;
    close(master);
    close_opened();
    return errors::Unavailable(std::string("cannot open ") + name + ": " + strerror(err));
  }
  winsize size{};  // before the command starts, so it reads its size right
  size.ws_row = static_cast<unsigned short>(ClampTerminalSize(options.rows));
  size.ws_col = static_cast<unsigned short>(ClampTerminalSize(options.cols));
  (void)ioctl(master, TIOCSWINSZ, &size);
  entry.req.tty_fd = slave;
  Result<int> spawned = Spawn(entry.req);
  close(slave);
  close_opened();
  if (!spawned.ok()) {
    close(master);
    return spawned.status();
  }
  return std::unique_ptr<Terminal>(std::make_unique<PtyTerminal>(master, *spawned));
}

Result<int> ProcessRuntime::Exec(const std::string& id, const std::vector<std::string>& argv, milliseconds timeout) {
  QUADER_ASSIGN_OR_RETURN(Entry entry, PlanEntry(id, argv, {}));
  const SpawnRequest& req = entry.req;
  const std::vector<int>& opened = entry.opened;
  Result<int> spawned = Spawn(req);
  for (int fd : opened) close(fd);
  QUADER_ASSIGN_OR_RETURN(int pid, std::move(spawned));
  auto deadline = steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    if (done < 0 && errno != EINTR) return errors::Internal("waiting for the command: " + std::string(strerror(errno)));
    if (steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return errors::Unavailable("the command in \"" + id + "\" did not finish within " +
                                 std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
}

}  // namespace quader::runtime::process
