// Terminals in running workloads (docs/api.md "Terminals") through the real
// server on the process runtime: a shell in a task's sandbox as the task's
// user, a named command and its exit code, `quader exec`, and everyone who
// must not get one: strangers, members who are not the user the task runs
// as, plain GETs, a page of another site carrying the user's cookie, a task
// that has ended, and a server that stops.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/client.h"
#include "cli/http_client.h"
#include "cli/terminal_client.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr const char* kNapper = R"(
kind: JobTemplate
name: napper
project: team
image: quader/base:bookworm
command: ["sh", "-c", "echo napping; sleep 300"]
---
kind: Pipeline
name: naps
project: team
tasks:
  - {name: nap, template: napper}
)";

class TerminalE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "process"});
    ASSERT_TRUE(server_->Start()) << server_->error();
    tokens_["admin"] = server_->Login("admin", "admin-pass-1");
    for (const char* name : {"alice", "bob", "eve"}) {
      Call("POST", "/api/v1/users", Json({{"username", name}, {"password", std::string("password-") + name}}).dump(),
           201, "admin");
      tokens_[name] = server_->Login(name, std::string("password-") + name);
    }
    Call("POST", "/api/v1/projects", R"({"name": "team"})", 201, "alice");
    Call("POST", "/api/v1/projects/team/members", R"({"username": "bob", "role": "dev"})", 201, "alice");
    Call("POST", "/api/v1/apply", kNapper, 200, "alice");
    Json run = Call("POST", "/api/v1/pipelines/naps/run?project=team", "{}", 201, "alice");
    run_ = std::to_string(run.value("id", int64_t{0}));
    WaitRunning();
  }

  void TearDown() override {
    if (server_ && !run_.empty()) server_->Call("POST", "/api/v1/runs/" + run_ + "/stop", "{}", tokens_["admin"]);
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status,
            const std::string& who) {
    return CallJson(*server_, method, path, body, status, tokens_[who]);
  }

  void WaitRunning() {
    auto deadline = steady_clock::now() + std::chrono::seconds(30);
    while (steady_clock::now() < deadline) {
      Json run = Call("GET", "/api/v1/runs/" + run_, "", 200, "alice");
      if (run["tasks"][0].value("state", "") == "running") return;
      std::this_thread::sleep_for(milliseconds(100));
    }
    FAIL() << "the task did not start";
  }

  std::string TerminalUrl(const std::string& query = "") const {
    return server_->api() + "/api/v1/runs/" + run_ + "/tasks/nap/terminal" + query;
  }

  // Reads until one of `patterns` shows up in the output (or the terminal closes).
  static std::string ReadUntil(cli::TerminalSession& t, const std::vector<std::string>& patterns) {
    std::string out;
    auto seen = [&] {
      for (const std::string& p : patterns) {
        if (out.find(p) != std::string::npos) return true;
      }
      return false;
    };
    auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (!seen() && steady_clock::now() < deadline) {
      auto open = t.Read(&out, milliseconds(200));
      if (!open.ok() || !*open) break;
    }
    return out;
  }

  // Reads until the terminal closes; the output.
  static std::string ReadToEnd(cli::TerminalSession& t) {
    std::string out;
    auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (steady_clock::now() < deadline) {
      auto open = t.Read(&out, milliseconds(200));
      if (!open.ok() || !*open) break;
    }
    return out;
  }

  // A raw upgrade request: the status line and headers of the answer.
  std::string RawUpgrade(const std::map<std::string, std::string>& headers) {
    std::map<std::string, std::string> h = {{"Connection", "Upgrade"},
                                            {"Upgrade", "websocket"},
                                            {"Sec-WebSocket-Version", "13"},
                                            {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
    for (const auto& [k, v] : headers) h[k] = v;
    auto reply = cli::HttpRequest("GET", TerminalUrl(), "", h, 10);
    return reply.ok() ? std::to_string(reply->status) + " " + reply->body : reply.status().ToString();
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::map<std::string, std::string> tokens_;
  std::string run_;
};

TEST_F(TerminalE2ETest, AShellInTheRunningTaskAsItsUserInItsSandbox) {
  auto t = cli::TerminalSession::Open(TerminalUrl("?rows=40&cols=100"), tokens_["alice"]);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  // What the terminal echoes of the typed line must not pass for its output:
  // every awaited word is computed by the shell.
  ASSERT_TRUE((*t)->Send("echo hi-$((6*7)) uid=$(id -u) size=$(stty size); ls /outputs >/dev/null && echo in-task-$((1+1))\n").ok());
  std::string out = ReadUntil(**t, {"in-task-2"});
  EXPECT_NE(out.find("hi-42"), std::string::npos) << out;
  EXPECT_NE(out.find("size=40 100"), std::string::npos) << "the size asked for: " << out;
  EXPECT_EQ(out.find("uid=0 "), std::string::npos) << "not root: " << out;
  EXPECT_NE(out.find("in-task-2"), std::string::npos) << out;
  // The server's own files are not in the sandbox.
  ASSERT_TRUE((*t)->Send("test -e " + dir_.path() + " && echo sees-server-$((2*2)) || echo no-server-$((3*3))\n").ok());
  out = ReadUntil(**t, {"no-server-9", "sees-server-4"});
  EXPECT_NE(out.find("no-server-9"), std::string::npos) << out;
  EXPECT_EQ(out.find("sees-server-4"), std::string::npos) << out;
  ASSERT_TRUE((*t)->Resize(30, 70).ok());
  ASSERT_TRUE((*t)->Send("echo now=$(stty size)\n").ok());
  out = ReadUntil(**t, {"now=30 70"});
  EXPECT_NE(out.find("now=30 70"), std::string::npos) << out;
  ASSERT_TRUE((*t)->Send("exit 3\n").ok());
  ReadToEnd(**t);
  EXPECT_EQ((*t)->close_reason(), "exit 3");
  EXPECT_EQ((*t)->exit_code(), 3);
  // The task itself runs on.
  Json run = Call("GET", "/api/v1/runs/" + run_, "", 200, "alice");
  EXPECT_EQ(run["tasks"][0]["state"], "running");
}

TEST_F(TerminalE2ETest, ANamedCommandAndQuaderExecPassOnItsExitCode) {
  std::string command = cli::EscapeComponent(R"(["sh", "-c", "echo from-command; exit 7"])");
  auto t = cli::TerminalSession::Open(TerminalUrl("?command=" + command), tokens_["alice"]);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::string out = ReadToEnd(**t);
  EXPECT_NE(out.find("from-command"), std::string::npos) << out;
  EXPECT_EQ((*t)->exit_code(), 7);

  // quader exec, as a user types it, with piped input.
  std::string config = dir_.File("alice.config");
  std::ofstream(config) << Json({{"server", server_->api()}, {"token", tokens_["alice"]}, {"user", "alice"}}).dump();
  std::string out_file = dir_.File("exec.out");
  std::string cmd = "echo 'echo piped-$((2+2)); exit 6' | QUADER_CONFIG=" + config + " " + QUADER_BINARY +
                    " exec task " + run_ + "/nap > " + out_file + " 2>&1";
  int status = std::system(cmd.c_str());
  std::ifstream in(out_file);
  std::string printed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(WEXITSTATUS(status), 6) << printed;
  EXPECT_NE(printed.find("piped-4"), std::string::npos) << printed;
  cmd = "QUADER_CONFIG=" + config + " " + QUADER_BINARY + " exec task " + run_ +
        "/nap -- sh -c 'exit 9' < /dev/null > " + out_file + " 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 9);
}

TEST_F(TerminalE2ETest, NoTerminalForStrangersOtherMembersPlainGetsOtherSitesOrEndedTasks) {
  // A stranger does not learn the run exists; a member is told whose it is.
  auto stranger = cli::TerminalSession::Open(TerminalUrl(), tokens_["eve"]);
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.status().code(), Code::kNotFound) << stranger.status().ToString();
  auto member = cli::TerminalSession::Open(TerminalUrl(), tokens_["bob"]);
  ASSERT_FALSE(member.ok());
  EXPECT_EQ(member.status().code(), Code::kPermissionDenied) << member.status().ToString();
  EXPECT_NE(member.status().message().find("alice"), std::string::npos) << member.status().ToString();
  auto nobody = cli::TerminalSession::Open(TerminalUrl(), "");
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.status().code(), Code::kUnauthenticated);
  // An admin may.
  auto admin = cli::TerminalSession::Open(TerminalUrl("?command=%5B%22true%22%5D"), tokens_["admin"]);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  ReadToEnd(**admin);
  EXPECT_EQ((*admin)->exit_code(), 0);

  // A plain GET starts nothing.
  auto plain = server_->Call("GET", "/api/v1/runs/" + run_ + "/tasks/nap/terminal", "", tokens_["alice"]);
  EXPECT_EQ(plain.status, 400) << plain.body;
  // Bad parameters are named.
  auto bad = cli::TerminalSession::Open(TerminalUrl("?command=notjson"), tokens_["alice"]);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("command"), std::string::npos) << bad.status().ToString();
  bad = cli::TerminalSession::Open(TerminalUrl("?rows=0"), tokens_["alice"]);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("rows"), std::string::npos) << bad.status().ToString();

  // The session cookie from a page of another site is refused; from this server's own page, it opens.
  std::string cookie = "quader_session=" + tokens_["alice"];
  std::string host = server_->api().substr(std::string("http://").size());
  std::string foreign = RawUpgrade({{"Cookie", cookie}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(foreign.rfind("403", 0), 0u) << foreign;
  std::string missing = RawUpgrade({{"Cookie", cookie}});
  EXPECT_EQ(missing.rfind("403", 0), 0u) << missing;
  std::string own = RawUpgrade({{"Cookie", cookie}, {"Origin", "http://" + host}});
  EXPECT_EQ(own.rfind("101", 0), 0u) << own;

  // Once the task has ended, there is nothing to open.
  Call("POST", "/api/v1/runs/" + run_ + "/stop", "{}", 200, "alice");
  auto deadline = steady_clock::now() + std::chrono::seconds(30);
  while (steady_clock::now() < deadline &&
         Call("GET", "/api/v1/runs/" + run_, "", 200, "alice").value("state", "") != "stopped") {
    std::this_thread::sleep_for(milliseconds(100));
  }
  auto ended = cli::TerminalSession::Open(TerminalUrl(), tokens_["alice"]);
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.status().code(), Code::kNotFound) << ended.status().ToString();
}

// cube-studio's "debug" of a task: the task alone, waiting in its image
// with its env and mounts instead of running its command, for a terminal.
TEST_F(TerminalE2ETest, AnIdleDebugRunWaitsForATerminal) {
  Json run = Call("POST", "/api/v1/pipelines/naps/tasks/nap/run?project=team", R"({"idle": 60})", 201, "alice");
  const std::string id = std::to_string(run.value("id", int64_t{0}));
  EXPECT_EQ(run["trigger"], "debug");
  auto deadline = steady_clock::now() + std::chrono::seconds(30);
  while (steady_clock::now() < deadline &&
         Call("GET", "/api/v1/runs/" + id, "", 200, "alice")["tasks"][0].value("state", "") != "running") {
    std::this_thread::sleep_for(milliseconds(100));
  }
  auto t = cli::TerminalSession::Open(server_->api() + "/api/v1/runs/" + id + "/tasks/nap/terminal?command=" +
                                          cli::EscapeComponent(R"(["sh", "-c", "echo task=$KFJ_TASK_NAME; ps -o args= -p 1 2>/dev/null || cat /proc/1/cmdline"])"),
                                      tokens_["alice"]);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::string out = ReadToEnd(**t);
  EXPECT_NE(out.find("task=nap"), std::string::npos) << out;
  EXPECT_EQ(out.find("napping"), std::string::npos) << "its own command does not run: " << out;
  auto log = server_->Call("GET", "/api/v1/runs/" + id + "/tasks/nap/logs", "", tokens_["alice"]);
  EXPECT_NE(log.body.find("debug: nap waits 60 s"), std::string::npos) << log.body;
  Call("POST", "/api/v1/runs/" + id + "/stop", "{}", 200, "alice");
  // Only a debug run of one task waits; bad values are named.
  Json whole = Call("POST", "/api/v1/pipelines/naps/run?project=team", R"({"idle": true})", 400, "alice");
  EXPECT_NE(whole.dump().find("idle"), std::string::npos) << whole.dump();
  for (const char* bad : {R"({"idle": 0})", R"({"idle": "yes"})", R"({"idle": 999999})"}) {
    Json e = Call("POST", "/api/v1/pipelines/naps/tasks/nap/run?project=team", bad, 400, "alice");
    EXPECT_NE(e.dump().find("idle"), std::string::npos) << bad << ": " << e.dump();
  }
}

// Found by an outsider's attack: a task that leaves its process group
// (setsid) still has a terminal, at once; a user's terminals are counted
// before any command starts; terminal commands get the per-user process
// limit; a first message in the same packet as the upgrade is kept.
TEST_F(TerminalE2ETest, TerminalsHoldUpAgainstTheirUsers) {
  Call("POST", "/api/v1/apply", R"(
kind: JobTemplate
name: escaper
project: team
image: quader/base:bookworm
command: ["sh", "-c", "setsid sleep 300 & exec sleep 300"]
---
kind: Pipeline
name: escapes
project: team
tasks:
  - {name: away, template: escaper}
)", 200, "alice");
  Json run = Call("POST", "/api/v1/pipelines/escapes/run?project=team", "{}", 201, "alice");
  const std::string id = std::to_string(run.value("id", int64_t{0}));
  auto deadline = steady_clock::now() + std::chrono::seconds(30);
  while (steady_clock::now() < deadline &&
         Call("GET", "/api/v1/runs/" + id, "", 200, "alice")["tasks"][0].value("state", "") != "running") {
    std::this_thread::sleep_for(milliseconds(100));
  }
  std::this_thread::sleep_for(milliseconds(2500));  // past its start's grace
  auto start = steady_clock::now();
  auto t = cli::TerminalSession::Open(server_->api() + "/api/v1/runs/" + id + "/tasks/away/terminal?command=" +
                                          cli::EscapeComponent(R"j(["sh", "-c", "grep 'Max processes' /proc/self/limits"])j"),
                                      tokens_["alice"]);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(1)) << "no wait for a task that started long ago";
  std::string out = ReadToEnd(**t);
  EXPECT_NE(out.find("16384"), std::string::npos) << "the per-user process limit: " << out;
  server_->Call("POST", "/api/v1/runs/" + id + "/stop", "{}", tokens_["alice"]);

  // At most 8 terminals a user, counted before their commands start.
  std::vector<std::unique_ptr<cli::TerminalSession>> open;
  for (int i = 0; i < 8; ++i) {
    auto more = cli::TerminalSession::Open(TerminalUrl(), tokens_["alice"]);
    ASSERT_TRUE(more.ok()) << i << ": " << more.status().ToString();
    open.push_back(std::move(more).value());
  }
  auto ninth = cli::TerminalSession::Open(TerminalUrl(), tokens_["alice"]);
  ASSERT_FALSE(ninth.ok());
  EXPECT_EQ(ninth.status().code(), Code::kUnavailable) << ninth.status().ToString();
  EXPECT_NE(ninth.status().message().find("terminals"), std::string::npos) << ninth.status().ToString();
  // The admin is someone else: not held back by alice's.
  auto other = cli::TerminalSession::Open(TerminalUrl("?command=%5B%22true%22%5D"), tokens_["admin"]);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  // A client that leaves without a close frame frees its slot at once.
  open.back()->Close();
  open.pop_back();
  bool reopened = false;
  for (int i = 0; i < 30 && !reopened; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    auto again = cli::TerminalSession::Open(TerminalUrl(), tokens_["alice"]);
    if (again.ok()) {
      reopened = true;
      open.push_back(std::move(again).value());
    }
  }
  EXPECT_TRUE(reopened) << "the slot of a client that left was not given back within 3 s";
  open.clear();
  // Their slots come back as their bridges end.
  bool freed = false;
  for (int i = 0; i < 30 && !freed; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    std::vector<std::unique_ptr<cli::TerminalSession>> again;
    freed = true;
    for (int k = 0; k < 8 && freed; ++k) {
      auto t8 = cli::TerminalSession::Open(TerminalUrl("?command=%5B%22sleep%22%2C%2230%22%5D"), tokens_["alice"]);
      freed = t8.ok();
      if (freed) again.push_back(std::move(t8).value());
    }
  }
  EXPECT_TRUE(freed) << "closed terminals' slots came back";

  // A first message sent with the upgrade request, in one packet.
  std::string host = server_->api().substr(std::string("http://").size());
  const std::string line = "echo early-$((5*5)); exit\n";
  std::string frame = {static_cast<char>(0x82), static_cast<char>(0x80 | line.size()), 1, 2, 3, 4};
  for (size_t i = 0; i < line.size(); ++i) frame += static_cast<char>(line[i] ^ (1 + i % 4));
  std::string wire = "GET /api/v1/runs/" + run_ + "/tasks/nap/terminal HTTP/1.1\r\nHost: " + host +
                     "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer " + tokens_["alice"] +
                     "\r\n\r\n" + frame;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host.substr(host.rfind(':') + 1))));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::send(fd, wire.data(), wire.size(), 0), static_cast<ssize_t>(wire.size()));
  std::string got;
  for (auto until = steady_clock::now() + std::chrono::seconds(20);
       got.find("early-25") == std::string::npos && steady_clock::now() < until;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) != 1) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_NE(got.find("early-25"), std::string::npos) << got;

  // A user's streams full of followed logs: a terminal is refused, and its
  // command never starts.
  std::vector<std::thread> followers;
  std::atomic<bool> release{false};
  std::atomic<int> following{0};
  for (int i = 0; i < 16; ++i) {
    followers.emplace_back([&] {
      // Again until it is in (the terminals above may still be giving their streams back).
      for (int attempt = 0; attempt < 50 && !release.load(); ++attempt) {
        bool in = false;
        auto r = cli::HttpStreamRequest("GET", server_->api() + "/api/v1/runs/" + run_ + "/tasks/nap/logs?follow=1",
                                        {{"Authorization", "Bearer " + tokens_["alice"]}},
                                        [&](std::string_view) {
                                          if (!in) following++;
                                          in = true;
                                          return !release.load();
                                        }, 60);
        if (in) return;
        std::this_thread::sleep_for(milliseconds(100));
      }
    });
  }
  for (int i = 0; i < 100 && following.load() < 16; ++i) std::this_thread::sleep_for(milliseconds(100));
  ASSERT_EQ(following.load(), 16) << "16 followed logs open";
  auto refused = cli::TerminalSession::Open(TerminalUrl("?command=%5B%22sleep%22%2C%22777%22%5D"), tokens_["alice"]);
  EXPECT_FALSE(refused.ok());
  if (!refused.ok()) EXPECT_EQ(refused.status().code(), Code::kUnavailable) << refused.status().ToString();
  std::this_thread::sleep_for(milliseconds(300));
  int sleepers = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    std::ifstream in(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd == std::string("sleep\0777\0", 10)) sleepers++;
  }
  EXPECT_EQ(sleepers, 0) << "a refused terminal started its command";
  // The followed logs end with their task.
  release = true;
  Call("POST", "/api/v1/runs/" + run_ + "/stop", "{}", 200, "alice");
  for (auto& f : followers) f.join();
}

TEST_F(TerminalE2ETest, AServerThatStopsClosesItsTerminals) {
  auto t = cli::TerminalSession::Open(TerminalUrl(), tokens_["alice"]);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE((*t)->Send("echo ready-$((2+3))\n").ok());
  ReadUntil(**t, {"ready-5"});
  // A client that reads nothing of a flood, and keeps its connection open,
  // does not hold the server up either.
  auto flood = cli::TerminalSession::Open(TerminalUrl("?command=%5B%22yes%22%5D"), tokens_["alice"]);
  ASSERT_TRUE(flood.ok()) << flood.status().ToString();
  // Nor is it held by a followed log of a quiet task.
  std::thread follower([&] {
    (void)cli::HttpStreamRequest("GET", server_->api() + "/api/v1/runs/" + run_ + "/tasks/nap/logs?follow=1",
                                 {{"Authorization", "Bearer " + tokens_["alice"]}},
                                 [](std::string_view) { return true; }, 60);
  });
  std::this_thread::sleep_for(milliseconds(500));
  auto start = steady_clock::now();
  std::thread stopper([&] { server_->Stop(); });
  ReadToEnd(**t);
  stopper.join();
  follower.join();
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(15));
  EXPECT_EQ(server_->exit_code(), 0) << server_->Output();
  EXPECT_EQ((*t)->close_reason(), "the server is stopping");
  run_.clear();
}

}  // namespace
}  // namespace quader::testing
