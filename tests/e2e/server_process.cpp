#include "e2e/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace quader::testing {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

ServerProcess::ServerProcess(std::string data_dir, std::vector<std::string> extra_args,
                             std::map<std::string, std::string> env)
    : data_dir_(std::move(data_dir)), args_(std::move(extra_args)), env_(std::move(env)) {
  log_path_ = data_dir_ + "/server.log";
}

namespace {

// The start time (in clock ticks after boot, field 22 of /proc/PID/stat) of
// a live process, or "" when there is none: tells a reused pid apart.
std::string StartTicksOf(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 > text.size()) return "";
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  return field;
}

// Local workloads left running by servers of this test program: killed when
// it exits. Not earlier: a test may replace its server by a new one on the
// same data directory, which adopts them.
std::vector<std::pair<int, std::string>>& Leftovers() {
  static auto* leftovers = new std::vector<std::pair<int, std::string>>;
  return *leftovers;
}

void KillLeftovers() {
  for (const auto& [pid, ticks] : Leftovers()) {
    // Each is the leader of its own process group; only the very process the
    // record named (its pid may have been reused since).
    if (StartTicksOf(pid) == ticks) kill(-pid, SIGKILL);
  }
}

}  // namespace

ServerProcess::~ServerProcess() {
  Stop();
  // Workloads outlive a server by design (the next one adopts them); at the
  // end of the program nothing will, so the local processes are noted now
  // (the data directory goes with the test) and killed at exit.
  static const bool registered = std::atexit(KillLeftovers) == 0;
  (void)registered;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir_ + "/process", ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    Json record = Json::parse(in, nullptr, false);
    if (!record.is_object() || record.value("ended", false)) continue;
    int pid = record.value("pid", 0);
    uint64_t start_ticks = record.value("start_ticks", uint64_t{0});
    if (pid <= 0) {
      // Saved before the spawn (pid 0): the process wrote its pid next to it.
      std::ifstream pid_file(entry.path().parent_path() / (entry.path().stem().string() + ".pid"));
      if (!(pid_file >> pid)) continue;
      start_ticks = 0;
    }
    if (pid <= 1) continue;
    std::string ticks = start_ticks > 0 ? std::to_string(start_ticks) : StartTicksOf(pid);  // alive now: its own
    if (!ticks.empty() && StartTicksOf(pid) == ticks) Leftovers().push_back({pid, ticks});
  }
}

bool ServerProcess::Start() {
  std::filesystem::remove(data_dir_ + "/server.json");
  std::vector<std::string> argv = {QUADER_BINARY, "server", "--data", data_dir_};
  // A free port unless the test picks one (a restart on the same address).
  if (std::find(args_.begin(), args_.end(), "--listen") == args_.end()) {
    argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
  }
  if (std::find(args_.begin(), args_.end(), "--gateway-listen") == args_.end()) {
    argv.insert(argv.end(), {"--gateway-listen", "127.0.0.1:0"});
  }
  // Hermetic by default: local processes, no container engine. Tests that
  // want the engine pass --runtime themselves.
  // IP exposure listens on fixed ports (base + 10 × id): off unless a test
  // asks, so servers of tests running side by side do not collide.
  if (std::find(args_.begin(), args_.end(), "--external-port-base") == args_.end()) {
    argv.insert(argv.end(), {"--external-port-base", "0"});
  }
  if (std::find(args_.begin(), args_.end(), "--runtime") == args_.end()) {
    argv.insert(argv.end(), {"--runtime", "process"});
  }
  argv.insert(argv.end(), args_.begin(), args_.end());
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    for (const auto& [k, v] : env_) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> cargs;
    for (auto& a : argv) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    execv(cargs[0], cargs.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      error_ = "server exited early with " + std::to_string(exit_code_) + ":\n" + Output();
      return false;
    }
    std::ifstream in(data_dir_ + "/server.json");
    if (in) {
      Json j = Json::parse(in, nullptr, false);
      if (!j.is_discarded() && j.contains("api")) {
        api_ = j["api"];
        gateway_ = j.value("gateway", "");
        auto r = cli::HttpRequest("GET", api_ + "/healthz", "", {}, 2);
        if (r.ok() && r->status == 200) return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  error_ = "server did not become healthy within 20 s:\n" + Output();
  Kill();
  return false;
}

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill();
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = -1;
  pid_ = -1;
}

std::string ServerProcess::Output() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

cli::HttpReply ServerProcess::Call(const std::string& method, const std::string& path,
                                   const std::string& body, const std::string& token,
                                   std::map<std::string, std::string> headers) const {
  if (!token.empty()) headers["Authorization"] = "Bearer " + token;
  auto r = cli::HttpRequest(method, api_ + path, body, headers, 30);
  if (!r.ok()) return cli::HttpReply{0, r.status().ToString(), {}};
  return *r;
}

std::string ServerProcess::Login(const std::string& user, const std::string& password) const {
  Json body = {{"username", user}, {"password", password}};
  auto r = Call("POST", "/api/v1/login", body.dump());
  if (r.status != 200) return "";
  return Json::parse(r.body).value("token", "");
}

Json CallJson(const ServerProcess& server, const std::string& method, const std::string& path,
              const std::string& body, int status, const std::string& token) {
  auto r = server.Call(method, path, body, token);
  EXPECT_EQ(r.status, status) << method << " " << path << ": " << r.body;
  Json j = Json::parse(r.body, nullptr, false);
  return j.is_discarded() ? Json(r.body) : j;
}

}  // namespace quader::testing
