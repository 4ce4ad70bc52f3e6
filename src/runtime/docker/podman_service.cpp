#include "runtime/docker/podman_service.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "runtime/docker/engine_client.h"

extern char** environ;

namespace quader::runtime::docker {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string PodmanDir(const std::string& data_dir) { return data_dir + "/podman"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string LogTail(const std::string& path) {
  std::string text = ReadFile(path);
  if (text.size() > 1500) text = "..." + text.substr(text.size() - 1500);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text.empty() ? "(no output)" : text;
}

// Whether `pid` is a live `podman system service` serving `socket_path`.
bool IsOurService(pid_t pid, const std::string& socket_path) {
  std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : cmdline) {
    if (c == '\0') c = ' ';
  }
  return cmdline.find("system service") != std::string::npos &&
         cmdline.find(socket_path) != std::string::npos;
}

// A service whose server was killed keeps running with the old configuration;
// stop it so that exactly one service, ours, serves the socket.
void StopStaleService(const std::string& pid_file, const std::string& socket_path) {
  pid_t pid = static_cast<pid_t>(std::atol(ReadFile(pid_file).c_str()));
  if (pid > 1 && IsOurService(pid, socket_path)) {
    StopProcessGroup(pid, getpgid(pid), std::chrono::milliseconds(5000));
  }
  std::error_code ec;
  fs::remove(pid_file, ec);
  fs::remove(socket_path, ec);
}

// Everything the child needs, prepared before fork (the child may only make
// async-signal-safe calls).
struct SpawnPlan {
  std::vector<std::string> args;
  std::vector<std::string> env;
  int log_fd = -1;
  int null_fd = -1;
};

pid_t Spawn(SpawnPlan& plan) {
  std::vector<char*> argv, envp;
  for (auto& a : plan.args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : plan.env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);  // its own group: stopped as a whole, untouched by our terminal's signals
    dup2(plan.null_fd, 0);
    dup2(plan.log_fd, 1);
    dup2(plan.log_fd, 2);
    close_range(3, ~0U, 0);  // no listening sockets or database handles leak into podman
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  if (pid > 0) setpgid(pid, pid);  // also from the parent, so a kill right away finds the group
  return pid;
}

// Whether `pid` has exited (reaping it when it is our child).
bool HasExited(pid_t pid) {
  int wstatus = 0;
  pid_t r = waitpid(pid, &wstatus, WNOHANG);
  if (r == pid) return true;
  if (r < 0 && errno == ECHILD) return kill(pid, 0) != 0;  // not our child, or reaped elsewhere
  return false;
}

Status WaitForPing(pid_t pid, const std::string& socket_path, const std::string& log_path,
                   std::chrono::milliseconds deadline) {
  EngineClient client(socket_path);
  auto until = Clock::now() + deadline;
  Status last = errors::Unavailable("not started");
  while (Clock::now() < until) {
    if (HasExited(pid)) {
      return errors::Unavailable("podman system service exited at start: " + LogTail(log_path));
    }
    std::error_code ec;
    if (fs::exists(socket_path, ec)) {
      last = client.Ping(std::chrono::milliseconds(1000));
      if (last.ok()) return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return errors::Unavailable("podman system service did not answer on unix://" + socket_path +
                             " within " + std::to_string(deadline.count()) + " ms (" +
                             last.message() + "); its log: " + LogTail(log_path));
}

}  // namespace

std::string PodmanService::SocketPath(const std::string& data_dir) {
  return PodmanDir(data_dir) + "/podman.sock";
}

std::string PodmanService::ConfPath(const std::string& data_dir) {
  return PodmanDir(data_dir) + "/containers.conf";
}

Status PodmanService::WriteConf(const std::string& data_dir) {
  std::string dir = PodmanDir(data_dir);
  std::error_code ec;
  for (const char* sub : {"", "/networks"}) {
    fs::create_directories(dir + sub, ec);
    if (ec) return errors::Unavailable("cannot create " + dir + sub + ": " + ec.message());
  }
  std::string text =
      "# Written by Quader for its private podman service; edits are overwritten.\n"
      "[containers]\n"
      "default_ulimits = []\n"
      "[engine]\n"
      "runtime = \"runc\"\n"
      // Each exec (shell health probes, every second) keeps a conmon pair
      // alive this long after it ends: 5 s, not Docker's 5 minutes.
      "exit_command_delay = 5\n"
      "events_logger = \"file\"\n"
      "events_logfile_path = \"" +
      dir +
      "/events.log\"\n"
      "[network]\n"
      "network_config_dir = \"" +
      dir + "/networks\"\n";
  std::string path = ConfPath(data_dir);
  if (ReadFile(path) == text) return Status::Ok();
  std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return errors::Unavailable("cannot write " + temp);
  }
  fs::rename(temp, path, ec);
  if (ec) return errors::Unavailable("cannot write " + path + ": " + ec.message());
  return Status::Ok();
}

std::string PodmanService::FindPodman() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/podman";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

Result<std::unique_ptr<PodmanService>> PodmanService::Start(const std::string& data_dir,
                                                            std::chrono::milliseconds deadline) {
  std::string podman = FindPodman();
  if (podman.empty()) return errors::Unavailable("podman is not installed (not on $PATH)");
  QUADER_RETURN_IF_ERROR(WriteConf(data_dir));
  std::string dir = PodmanDir(data_dir);
  std::string socket_path = SocketPath(data_dir);
  std::string pid_file = dir + "/service.pid";
  std::string log_path = dir + "/service.log";
  if (socket_path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return errors::Unavailable("cannot serve podman on " + socket_path + ": longer than the " +
                               std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                               " bytes a unix socket path may have; use a shorter data dir");
  }
  StopStaleService(pid_file, socket_path);

  SpawnPlan plan;
  plan.args = {podman, "system", "service", "--time=0", "unix://" + socket_path};
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "CONTAINERS_CONF=", 16) != 0) plan.env.emplace_back(*e);
  }
  plan.env.push_back("CONTAINERS_CONF=" + ConfPath(data_dir));
  plan.log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  plan.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (plan.log_fd < 0 || plan.null_fd < 0) {
    if (plan.log_fd >= 0) close(plan.log_fd);
    if (plan.null_fd >= 0) close(plan.null_fd);
    return errors::Unavailable("cannot open " + log_path + ": " + std::strerror(errno));
  }
  pid_t pid = Spawn(plan);
  int spawn_errno = errno;
  close(plan.log_fd);
  close(plan.null_fd);
  if (pid < 0) {
    return errors::Unavailable(std::string("cannot start podman: ") + std::strerror(spawn_errno));
  }
  std::ofstream(pid_file, std::ios::trunc) << pid << "\n";
  // From here on the destructor stops the service, on error too.
  std::unique_ptr<PodmanService> service(new PodmanService(pid, socket_path, pid_file));
  QUADER_RETURN_IF_ERROR(WaitForPing(pid, socket_path, log_path, deadline));
  return service;
}

PodmanService::PodmanService(pid_t pid, std::string socket_path, std::string pid_file)
    : pid_(pid), socket_path_(std::move(socket_path)), pid_file_(std::move(pid_file)) {}

PodmanService::~PodmanService() {
  StopProcessGroup(pid_, pid_, std::chrono::milliseconds(5000));
  std::error_code ec;
  fs::remove(pid_file_, ec);
  fs::remove(socket_path_, ec);
}

void StopProcessGroup(pid_t pid, pid_t pgid, std::chrono::milliseconds grace) {
  if (pid <= 1 || pgid <= 1) return;
  kill(-pgid, SIGTERM);
  auto until = Clock::now() + grace;
  while (Clock::now() < until) {
    if (HasExited(pid)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pgid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace quader::runtime::docker
