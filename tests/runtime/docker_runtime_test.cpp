// Conformance tests of the docker-api runtime against a real engine (a private
// Podman service here; see docker_test_env.h). Every workload carries a label
// unique to its test and TearDown removes whatever carries it.

#include "runtime/docker/docker_runtime.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "fakes/log_lines.h"
#include "runtime/docker/engine_client.h"
#include "runtime/docker_test_env.h"
#include "runtime/labels.h"
#include "runtime/runtime.h"

namespace quader::runtime::docker {
namespace {

using namespace std::chrono_literals;
using testing::kTestImage;

constexpr const char* kTestLabel = "quader.test";
constexpr int64_t kMiB = 1 << 20;

// A shell command that holds ~100 MB in one shell variable (busybox has no better allocator).
constexpr const char* kAllocate100MB =
    "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo done ${#x}";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// GET `path` from 127.0.0.1:`port`; empty on any failure.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) reply.append(buf, n);
    }
  }
  close(fd);
  return reply;
}

class DockerRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = testing::OpenDockerTestEnv().release(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }

  void SetUp() override {
    QUADER_REQUIRE_DOCKER_ENV(env_);
    runtime_ = env_->runtime.get();
    label_ = "t" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  void TearDown() override {
    if (!runtime_) return;
    auto left = runtime_->List({{kTestLabel, label_}});
    ASSERT_TRUE(left.ok()) << left.status().ToString();
    for (const WorkloadStatus& w : *left) EXPECT_TRUE(runtime_->Stop(w.id, 0s).ok()) << w.id;
  }

  // A busybox workload labelled for this test, with a unique name.
  WorkloadSpec Spec(std::vector<std::string> command, std::vector<std::string> args = {}) {
    WorkloadSpec spec;
    spec.name =
        "qt-" + std::to_string(getpid()) + "-" + std::to_string(++counter_) + "-" +
        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
    spec.image = kTestImage;
    spec.command = std::move(command);
    spec.args = std::move(args);
    spec.labels = {{kLabelManaged, "true"}, {kTestLabel, label_}};
    return spec;
  }
  WorkloadSpec Shell(const std::string& script) { return Spec({"sh", "-c", script}); }

  // Polls until the workload has finished (or 30 s pass).
  WorkloadStatus WaitFinished(const std::string& id) {
    auto until = std::chrono::steady_clock::now() + 30s;
    WorkloadStatus last;
    while (std::chrono::steady_clock::now() < until) {
      auto status = runtime_->Inspect(id);
      if (!status.ok()) {
        ADD_FAILURE() << status.status().ToString();
        return last;
      }
      last = *status;
      if (last.state == WorkloadState::kSucceeded || last.state == WorkloadState::kFailed) break;
      std::this_thread::sleep_for(100ms);
    }
    return last;
  }

  std::string LogsOf(const std::string& id) {
    std::string out;
    Status st = runtime_->Logs(id, /*follow=*/false, [&](const std::string& chunk) {
      out += chunk;
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return quader::testing::Unstamped(out);  // the engine's capture times, in Quader's form
  }

  std::vector<std::string> ListIds(const std::map<std::string, std::string>& selector) {
    auto listed = runtime_->List(selector);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    std::vector<std::string> ids;
    if (listed.ok()) {
      for (const WorkloadStatus& w : *listed) ids.push_back(w.id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  static testing::DockerTestEnv* env_;
  Runtime* runtime_ = nullptr;
  std::string label_;
  int counter_ = 0;
};

testing::DockerTestEnv* DockerRuntimeTest::env_ = nullptr;

TEST_F(DockerRuntimeTest, EchoesEnvAndArgsThenSucceeds) {
  WorkloadSpec spec =
      Spec({"sh", "-c", "echo \"$GREETING\" \"$@\" in $(pwd); echo oops >&2", "sh"}, {"a1", "a 2"});
  spec.env = {{"GREETING", "hello"}};
  spec.working_dir = "/tmp";
  auto started = runtime_->Start(spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_FALSE(started->id.empty());
  EXPECT_EQ(started->name, spec.name);
  EXPECT_EQ(started->labels.at(kTestLabel), label_);
  EXPECT_EQ(started->labels.at(kLabelManaged), "true");

  WorkloadStatus done = WaitFinished(started->id);
  EXPECT_EQ(done.state, WorkloadState::kSucceeded) << done.reason;
  ASSERT_TRUE(done.exit_code.has_value());
  EXPECT_EQ(*done.exit_code, 0);
  EXPECT_FALSE(done.oom_killed);
  ASSERT_TRUE(done.started_at && done.finished_at);
  EXPECT_LE(*done.started_at, *done.finished_at);
  std::string logs = LogsOf(started->id);
  EXPECT_NE(logs.find("hello a1 a 2 in /tmp\n"), std::string::npos) << logs;
  EXPECT_NE(logs.find("oops\n"), std::string::npos) << logs;  // stderr too
}

TEST_F(DockerRuntimeTest, CommandWithoutArgsDoesNotGetTheImageCmd) {
  auto started = runtime_->Start(Spec({"echo", "only"}));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(WaitFinished(started->id).state, WorkloadState::kSucceeded);
  EXPECT_EQ(LogsOf(started->id), "only\n");  // not "only /bin/sh"
}

TEST_F(DockerRuntimeTest, NonZeroExitFailsWithItsCode) {
  auto started = runtime_->Start(Shell("exit 3"));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  WorkloadStatus done = WaitFinished(started->id);
  EXPECT_EQ(done.state, WorkloadState::kFailed);
  EXPECT_EQ(done.exit_code, std::optional<int>(3));
  EXPECT_FALSE(done.oom_killed);
  EXPECT_NE(done.reason.find("code 3"), std::string::npos) << done.reason;
}

TEST_F(DockerRuntimeTest, MemoryLimitKillsAndReportsOom) {
  // The same allocation under a roomy limit succeeds: proof it needs more than 32 MiB.
  WorkloadSpec roomy = Shell(kAllocate100MB);
  roomy.resources.memory_bytes = 512 * kMiB;
  WorkloadSpec tight = Shell(kAllocate100MB);
  tight.resources.memory_bytes = 32 * kMiB;
  auto control = runtime_->Start(roomy);
  auto victim = runtime_->Start(tight);
  ASSERT_TRUE(control.ok()) << control.status().ToString();
  ASSERT_TRUE(victim.ok()) << victim.status().ToString();

  WorkloadStatus control_done = WaitFinished(control->id);
  EXPECT_EQ(control_done.state, WorkloadState::kSucceeded) << control_done.reason;
  EXPECT_FALSE(control_done.oom_killed);
  EXPECT_NE(LogsOf(control->id).find("done 100000000"), std::string::npos);

  WorkloadStatus done = WaitFinished(victim->id);
  EXPECT_EQ(done.state, WorkloadState::kFailed);
  EXPECT_TRUE(done.oom_killed);
  EXPECT_EQ(done.exit_code, std::optional<int>(137));
  EXPECT_NE(done.reason.find("OOM"), std::string::npos) << done.reason;
  EXPECT_EQ(LogsOf(victim->id).find("done"), std::string::npos);
}

TEST_F(DockerRuntimeTest, LogsFollowLive) {
  auto started = runtime_->Start(Shell("echo first; sleep 2; echo second; sleep 1; echo third"));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::string seen;
  std::optional<WorkloadState> state_at_first;
  Status st = runtime_->Logs(started->id, /*follow=*/true, [&](const std::string& chunk) {
    seen += chunk;
    if (!state_at_first && seen.find("first\n") != std::string::npos) {
      auto now = runtime_->Inspect(started->id);
      state_at_first = now.ok() ? now->state : WorkloadState::kUnknown;
    }
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(state_at_first.has_value());
  EXPECT_EQ(*state_at_first, WorkloadState::kRunning);  // the first line came while it ran
  EXPECT_EQ(quader::testing::Unstamped(seen), "first\nsecond\nthird\n");
  // Each line keeps the time the engine captured it: "second" two seconds after "first".
  EXPECT_GE(seen.substr(seen.find("\n") + 1, 23), seen.substr(0, 23));
  EXPECT_NE(seen.substr(seen.find("\n") + 1, 19), seen.substr(0, 19)) << seen;
  // Following returns once the workload has ended.
  auto after = runtime_->Inspect(started->id);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->state, WorkloadState::kRunning);
}

TEST_F(DockerRuntimeTest, LogSinkCanStopFollowing) {
  auto started = runtime_->Start(Shell("while :; do echo tick; sleep 0.2; done"));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  int calls = 0;
  auto begin = std::chrono::steady_clock::now();
  Status st = runtime_->Logs(started->id, true, [&](const std::string&) { return ++calls < 2; });
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
}

TEST_F(DockerRuntimeTest, StopKillsAndRemoves) {
  auto started = runtime_->Start(Spec({"sleep", "300"}));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->state, WorkloadState::kRunning);
  EXPECT_EQ(ListIds({{kTestLabel, label_}}), std::vector<std::string>{started->id});

  auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(runtime_->Stop(started->id, 1s).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 15s);
  EXPECT_EQ(runtime_->Inspect(started->id).status().code(), Code::kNotFound);
  EXPECT_EQ(runtime_->Logs(started->id, false, [](const std::string&) { return true; }).code(),
            Code::kNotFound);
  EXPECT_TRUE(ListIds({{kTestLabel, label_}}).empty());
  // Stopping again, or stopping something never started, is fine.
  EXPECT_TRUE(runtime_->Stop(started->id, 0s).ok());
  EXPECT_TRUE(runtime_->Stop("quader-no-such-workload", 0s).ok());
}

TEST_F(DockerRuntimeTest, ListReturnsExactlyTheSelected) {
  std::vector<std::string> role_a;
  for (const char* role : {"a", "b", "a"}) {
    WorkloadSpec spec = Spec({"sleep", "300"});
    spec.labels["quader.role"] = role;
    auto started = runtime_->Start(spec);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    if (std::string(role) == "a") role_a.push_back(started->id);
  }
  std::sort(role_a.begin(), role_a.end());
  EXPECT_EQ(ListIds({{kTestLabel, label_}, {"quader.role", "a"}}), role_a);
  EXPECT_EQ(ListIds({{kTestLabel, label_}}).size(), 3u);
  EXPECT_TRUE(ListIds({{kTestLabel, label_}, {"quader.role", "c"}}).empty());
}

TEST_F(DockerRuntimeTest, PortIsPublishedOnLoopbackAndReachable) {
  quader::testing::TempDir www;
  std::ofstream(www.File("index.html")) << "hello from busybox\n";
  WorkloadSpec spec = Spec({"httpd", "-f", "-p", "8000", "-h", "/www"});
  spec.mounts = {{MountKind::kHostPath, www.path(), "/www", /*read_only=*/true, 0, "", ""}};
  spec.ports = {{8000, 0, "tcp"}};
  auto started = runtime_->Start(spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ASSERT_EQ(started->ports.size(), 1u);
  EXPECT_EQ(started->ports[0].container_port, 8000);
  int host_port = started->ports[0].host_port;
  ASSERT_GT(host_port, 0);

  // Bound on 127.0.0.1 only, as the engine itself reports.
  auto raw = EngineClient(env_->socket_path).Call("GET", "/containers/" + started->id + "/json");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ((*raw)["NetworkSettings"]["Ports"]["8000/tcp"][0]["HostIp"], "127.0.0.1");

  std::string reply;
  for (auto until = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(100ms)) {
    reply = HttpGet(host_port, "/index.html");
    if (reply.find("200") != std::string::npos) break;
  }
  EXPECT_NE(reply.find("hello from busybox"), std::string::npos) << reply;
}

TEST_F(DockerRuntimeTest, UnknownImageIsNotFoundAndLeavesNothing) {
  WorkloadSpec spec = Spec({"true"});
  spec.image = "localhost/quader-test:no-such-tag";
  auto started = runtime_->Start(spec);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), Code::kNotFound);
  EXPECT_NE(started.status().message().find(spec.image), std::string::npos)
      << started.status().message();
  EXPECT_TRUE(ListIds({{kTestLabel, label_}}).empty());
  EXPECT_EQ(runtime_->Inspect(spec.name).status().code(), Code::kNotFound);
}

// A missing image is pulled in the background; while the pull runs Start
// answers MissingImage (work waits). When a registry the image names cannot
// give it, Start says so, naming the image and the registry's error, and
// work fails at once; an image naming no registry may still be built here,
// so work keeps waiting (with the pull's error in its reason).
TEST_F(DockerRuntimeTest, AMissingImageIsPulledAndAFailedPullIsNamed) {
  WorkloadSpec spec = Spec({"true"});
  spec.image = "127.0.0.1:9/quader-test/nothing:1";  // the discard port: no registry there
  auto first = runtime_->Start(spec);
  ASSERT_FALSE(first.ok());
  EXPECT_TRUE(IsMissingImage(first.status())) << first.status().ToString();
  EXPECT_NE(first.status().message().find("pulling it"), std::string::npos) << first.status().ToString();
  Status last = first.status();
  for (auto until = std::chrono::steady_clock::now() + 30s;
       IsMissingImage(last) && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(200ms)) {
    last = runtime_->Start(spec).status();
  }
  EXPECT_EQ(last.code(), Code::kUnavailable) << last.ToString();
  EXPECT_NE(last.message().find("image \"" + spec.image + "\" cannot be pulled"), std::string::npos)
      << last.ToString();
  EXPECT_NE(last.message().find("127.0.0.1:9"), std::string::npos) << "names the registry: " << last.ToString();

  spec.name += "-b";
  spec.image = "quader-test-none/nothing:1";  // no registry named: could be built locally
  for (auto until = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(200ms)) {
    last = runtime_->Start(spec).status();
    if (last.message().find("pulling it failed") != std::string::npos) break;
  }
  EXPECT_TRUE(IsMissingImage(last)) << last.ToString();
  EXPECT_NE(last.message().find("pulling it failed"), std::string::npos) << last.ToString();
  EXPECT_TRUE(ListIds({{kTestLabel, label_}}).empty());
}

TEST_F(DockerRuntimeTest, UnrunnableCommandIsInvalidAndLeavesNothing) {
  WorkloadSpec spec = Spec({"/no/such/program"});
  auto started = runtime_->Start(spec);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), Code::kInvalidArgument) << started.status().ToString();
  EXPECT_TRUE(ListIds({{kTestLabel, label_}}).empty());
}

TEST_F(DockerRuntimeTest, TakenNameIsAlreadyExists) {
  WorkloadSpec spec = Spec({"sleep", "300"});
  auto first = runtime_->Start(spec);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = runtime_->Start(spec);
  EXPECT_EQ(second.status().code(), Code::kAlreadyExists) << second.status().ToString();
  auto still = runtime_->Inspect(first->id);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->state, WorkloadState::kRunning);  // the failed Start removed nothing of it
}

TEST_F(DockerRuntimeTest, BadSpecIsInvalidNamingTheField) {
  WorkloadSpec spec = Spec({"true"});
  spec.mounts = {{MountKind::kHostPath, "/tmp", "relative/target", false, 0, "", ""}};
  auto started = runtime_->Start(spec);
  EXPECT_EQ(started.status().code(), Code::kInvalidArgument);
  EXPECT_NE(started.status().message().find("mounts[0].target"), std::string::npos);
  EXPECT_TRUE(ListIds({{kTestLabel, label_}}).empty());
}

TEST_F(DockerRuntimeTest, MountsAndMemoryTmpfsAreVisibleInside) {
  quader::testing::TempDir in, volume;
  std::ofstream(in.File("data.txt")) << "input data\n";
  WorkloadSpec spec = Shell(
      "cat /in/data.txt; echo written > /vol/out.txt; df -k /dev/shm | tail -1; "
      "if touch /in/new 2>/dev/null; then echo in-rw; else echo in-ro; fi");
  spec.mounts = {{MountKind::kHostPath, in.path(), "/in", /*read_only=*/true, 0, "", ""},
                 {MountKind::kVolume, volume.path(), "/vol", false, 0, "", ""},
                 {MountKind::kMemory, "", "/dev/shm", false, 8 * kMiB, "", ""}};
  auto started = runtime_->Start(spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  WorkloadStatus done = WaitFinished(started->id);
  EXPECT_EQ(done.state, WorkloadState::kSucceeded) << done.reason;
  std::string logs = LogsOf(started->id);
  EXPECT_NE(logs.find("input data\n"), std::string::npos) << logs;
  EXPECT_NE(logs.find("tmpfs"), std::string::npos) << logs;
  EXPECT_NE(logs.find(" 8192 "), std::string::npos) << logs;  // 8 MiB in 1K blocks
  EXPECT_NE(logs.find("in-ro"), std::string::npos) << logs;
  EXPECT_EQ(ReadAll(volume.File("out.txt")), "written\n");
  EXPECT_FALSE(std::filesystem::exists(in.File("new")));
}

TEST_F(DockerRuntimeTest, StatsOfARunningWorkload) {
  WorkloadSpec spec = Shell("x=$(head -c 4000000 /dev/zero | tr '\\0' a); while :; do :; done");
  spec.resources.memory_bytes = 64 * kMiB;
  spec.resources.cpu = 1;
  auto started = runtime_->Start(spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::this_thread::sleep_for(300ms);  // let it allocate; Stats itself samples over 250 ms
  auto stats = runtime_->Stats(started->id);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_GT(stats->memory_bytes, 0);
  EXPECT_EQ(stats->memory_limit_bytes, 64 * kMiB);
  EXPECT_GT(stats->cpu_cores, 0.05);  // a busy loop; the machine is shared, so be lenient
  EXPECT_LE(stats->cpu_cores, 1.5);   // NanoCpus caps it at one core

  EXPECT_EQ(runtime_->Stats("quader-no-such-workload").status().code(), Code::kNotFound);
}

// Exec (shell health probes) runs inside the container: its files and env;
// exit codes come back; a command running too long is reported as such.
TEST_F(DockerRuntimeTest, ExecRunsInsideTheContainer) {
  WorkloadSpec spec = Shell("echo inside > /tmp/only-here; exec sleep 300");
  spec.env = {{"GREETING", "hello"}};
  auto started = runtime_->Start(spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  auto ok = [&](const std::string& script) {
    auto code = runtime_->Exec(started->id, {"/bin/sh", "-c", script}, 10s);
    EXPECT_TRUE(code.ok()) << code.status().ToString();
    return code.ok() ? *code : -1;
  };
  int code = -1;
  for (int i = 0; i < 50 && code != 0; ++i) {  // the file appears right after start
    code = ok("test -f /tmp/only-here && test \"$GREETING\" = hello");
    if (code != 0) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(code, 0);
  EXPECT_EQ(ok("exit 3"), 3);
  auto slow = runtime_->Exec(started->id, {"/bin/sh", "-c", "sleep 30"}, 500ms);
  EXPECT_EQ(slow.status().code(), Code::kUnavailable) << slow.status().ToString();
  ASSERT_TRUE(runtime_->Stop(started->id, 0s).ok());
  EXPECT_EQ(runtime_->Exec(started->id, {"/bin/true"}, 1s).status().code(), Code::kNotFound);
}

// A terminal: an exec on a Tty through the engine's hijacked connection;
// typed lines run in the container, the size is the one asked for (and a
// resize changes it), and the exit code comes back.
TEST_F(DockerRuntimeTest, ATerminalIsAShellInTheContainer) {
  WorkloadSpec spec = Shell("echo inside > /tmp/only-here; exec sleep 300");
  auto started = runtime_->Start(spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  TerminalOptions options;
  options.rows = 31;
  options.cols = 91;
  auto t = runtime_->OpenTerminal(started->id, options);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto read_until = [&](const std::string& want) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (out.find(want) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{(*t)->fd(), POLLIN, 0};
      if (poll(&p, 1, 200) != 1) continue;
      char buf[4096];
      ssize_t n = read((*t)->fd(), buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  };
  auto type = [&](const std::string& line) {
    ASSERT_EQ(write((*t)->fd(), line.data(), line.size()), static_cast<ssize_t>(line.size()));
  };
  type("cat /tmp/only-here; echo size=$(stty size) v=$((6*7))\n");
  std::string out = read_until("v=42");
  EXPECT_NE(out.find("inside"), std::string::npos) << out;
  EXPECT_NE(out.find("size=31 91"), std::string::npos) << out;
  ASSERT_TRUE((*t)->Resize(20, 60).ok());
  type("echo now=$(stty size) w=$((7*7))\n");
  out = read_until("w=49");
  EXPECT_NE(out.find("now=20 60"), std::string::npos) << out;
  type("exit 3\n");
  read_until("\x04never");  // to the end of the stream
  EXPECT_EQ((*t)->Finish(), 3);
  // Closing a terminal hangs it up: what it ran ends with it.
  t = runtime_->OpenTerminal(started->id, {{"sleep", "299"}, 24, 80});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto sleeping = [&] {
    auto code = runtime_->Exec(started->id, {"/bin/sh", "-c", "ps | grep -v grep | grep -q 'sleep 299'"}, 10s);
    return code.ok() && *code == 0;
  };
  for (int i = 0; i < 50 && !sleeping(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(sleeping());
  t->reset();
  for (int i = 0; i < 50 && sleeping(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(sleeping()) << "the terminal's command outlived it";
  ASSERT_TRUE(runtime_->Stop(started->id, 0s).ok());
  EXPECT_EQ(runtime_->OpenTerminal(started->id, {}).status().code(), Code::kNotFound);
}

TEST_F(DockerRuntimeTest, StatsOfAFinishedWorkloadIsNotFound) {
  auto started = runtime_->Start(Spec({"true"}));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  WaitFinished(started->id);
  EXPECT_EQ(runtime_->Stats(started->id).status().code(), Code::kNotFound);
}

// A server killed and restarted: the engine's service goes away with the old
// runtime, the container does not, and a new runtime on the same data dir adopts it.
TEST_F(DockerRuntimeTest, ContainersOutliveTheServiceAndAreAdopted) {
  if (std::getenv("DOCKER_HOST")) GTEST_SKIP() << "only meaningful for the private Podman service";
  quader::testing::TempDir data;
  auto first = OpenDockerRuntime(data.path());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto started = (*first)->Start(Spec({"sleep", "300"}));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  first->reset();  // stops that Podman service

  auto second = OpenDockerRuntime(data.path());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto adopted = (*second)->Inspect(started->id);
  ASSERT_TRUE(adopted.ok()) << adopted.status().ToString();
  EXPECT_EQ(adopted->state, WorkloadState::kRunning);
  EXPECT_TRUE((*second)->Stop(started->id, 0s).ok());
}

TEST_F(DockerRuntimeTest, DockerHostIsHonoured) {
  DockerRuntimeOptions options;
  options.docker_host = "unix://" + env_->socket_path;
  auto opened = OpenDockerRuntime(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->kind(), "docker");
  auto started = runtime_->Start(Spec({"sleep", "300"}));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  auto seen = (*opened)->Inspect(started->id);  // another client of the same engine
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(seen->state, WorkloadState::kRunning);
}

TEST(DockerRuntimeOpenTest, NonUnixDockerHostIsInvalid) {
  DockerRuntimeOptions options;
  options.docker_host = "tcp://127.0.0.1:2375";
  EXPECT_EQ(OpenDockerRuntime(options).status().code(), Code::kInvalidArgument);
}

TEST(DockerRuntimeOpenTest, DeadDockerHostIsUnavailableNamingIt) {
  DockerRuntimeOptions options;
  options.docker_host = "unix:///nonexistent/quader/docker.sock";
  auto opened = OpenDockerRuntime(options);
  EXPECT_EQ(opened.status().code(), Code::kUnavailable);
  EXPECT_NE(opened.status().message().find("/nonexistent/quader/docker.sock"), std::string::npos)
      << opened.status().message();
}

}  // namespace
}  // namespace quader::runtime::docker
