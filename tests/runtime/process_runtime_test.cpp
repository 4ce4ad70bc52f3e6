// The process runtime against real processes: each test starts workloads in a
// fresh state directory and waits for them by polling with a deadline.

#include "runtime/process/process_runtime.h"

#include <poll.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <poll.h>
#include <nlohmann/json.hpp>

#include "core/log_stamp.h"
#include "fakes/log_lines.h"
#include "fakes/temp_dir.h"
#include "runtime/labels.h"
#include "runtime/process/proc.h"

namespace quader::runtime::process {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

constexpr int64_t kMiB = 1024 * 1024;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Polls `done` every 20 ms until it holds or `limit` passes.
template <typename Pred>
bool Eventually(Pred done, milliseconds limit = milliseconds(10000)) {
  auto deadline = steady_clock::now() + limit;
  while (!done()) {
    if (steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

bool ProcessGone(int pid) {
  std::optional<ProcStat> s = ReadProcStat(pid);
  return !s || s->state == 'Z' || s->state == 'X';
}

// Owns a runtime on a fresh state directory and stops whatever a test
// started when it ends.
class ProcessRuntimeFixture {
 protected:
  // Isolated workloads run as other uids: they must be able to pass through
  // the test's directory to their mounts.
  ProcessRuntimeFixture() {
    chmod(dir_.path().c_str(), 0711);
    fs::create_directories(Visible(""));
  }
  virtual ~ProcessRuntimeFixture() {
    for (const std::string& name : started_) {
      (void)rt_->Stop(name, seconds(0));
    }
  }

  std::unique_ptr<ProcessRuntime> MakeRuntime(ProcessRuntimeOptions options) {
    return std::make_unique<ProcessRuntime>(dir_.File("state"), std::move(options));
  }

  // A path in the directory every Shell workload has mounted read-write at
  // the same path (a sandboxed workload sees nothing else of the test's).
  std::string Visible(const std::string& name) const { return dir_.File("w/" + name); }

  // A spec running `script` with /bin/sh in the test's work directory.
  WorkloadSpec Shell(const std::string& name, const std::string& script) {
    WorkloadSpec spec;
    spec.name = name;
    spec.command = {"/bin/sh", "-c", script};
    spec.working_dir = Visible("work");
    spec.labels = {{kLabelManaged, "true"}, {kLabelKind, "task"}};
    spec.mounts.push_back({MountKind::kVolume, Visible(""), Visible(""), false, 0, "", ""});
    return spec;
  }

  WorkloadStatus StartOk(const WorkloadSpec& spec) {
    Result<WorkloadStatus> st = rt_->Start(spec);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    started_.push_back(spec.name);
    return st.ok() ? *st : WorkloadStatus{};
  }

  // Polls Inspect until the workload is no longer running.
  WorkloadStatus WaitEnded(const std::string& name, Runtime* rt = nullptr) {
    rt = rt != nullptr ? rt : rt_.get();
    WorkloadStatus last;
    bool ended = Eventually([&] {
      Result<WorkloadStatus> st = rt->Inspect(name);
      last = st.ok() ? *st : WorkloadStatus{};
      return st.ok() && last.state != WorkloadState::kRunning;
    });
    EXPECT_TRUE(ended) << name << " still " << StateName(last.state);
    return last;
  }

  // The process group the runtime recorded for `name` (host pids).
  int PgidOf(const std::string& name) { return std::atoi(ReadAll(dir_.File("state/" + name + ".pid")).c_str()); }

  // Host pids in the workload's cgroup (its memory hierarchy).
  std::vector<int> CgroupPidsOf(const std::string& name) {
    nlohmann::json rec = nlohmann::json::parse(ReadAll(dir_.File("state/" + name + ".json")), nullptr, false);
    std::vector<int> out;
    if (!rec.is_object()) return out;
    std::istringstream in(ReadAll(rec["cgroup"].value("memory", "") + "/cgroup.procs"));
    for (int pid; in >> pid;) out.push_back(pid);
    return out;
  }

  // The log as the runtime gives it: every line stamped with its capture
  // time (the epoch, "unknown", without the capture helper).
  std::string RawLogsOf(const std::string& name) {
    std::string out;
    Status st = rt_->Logs(name, false, [&](const std::string& chunk) {
      out += chunk;
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }
  // The lines as the command wrote them.
  std::string LogsOf(const std::string& name) { return quader::testing::Unstamped(RawLogsOf(name)); }

  testing::TempDir dir_;
  std::unique_ptr<ProcessRuntime> rt_;
  std::vector<std::string> started_;
};

// Behaviour that depends on this machine (cgroups, bwrap) or on one mode.
class ProcessRuntimeTest : public ProcessRuntimeFixture, public ::testing::Test {
 protected:
  ProcessRuntimeTest() { rt_ = MakeRuntime({}); }
};

// The workload lifecycle in each way the runtime can run a process.
struct Mode {
  const char* name;
  bool use_bwrap;
  bool use_cgroups;
};

void PrintTo(const Mode& m, std::ostream* os) { *os << m.name; }

class ProcessRuntimeModesTest : public ProcessRuntimeFixture,
                                public ::testing::TestWithParam<Mode> {
 protected:
  ProcessRuntimeModesTest() {
    ProcessRuntimeOptions options;
    options.use_bwrap = GetParam().use_bwrap;
    options.use_cgroups = GetParam().use_cgroups;
    rt_ = MakeRuntime(options);
  }
};

INSTANTIATE_TEST_SUITE_P(Modes, ProcessRuntimeModesTest,
                         ::testing::Values(Mode{"sandbox_cgroups", true, true},
                                           Mode{"plain_cgroups", false, true},
                                           Mode{"plain_rlimit", false, false}),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return info.param.name;
                         });

TEST_P(ProcessRuntimeModesTest, RunsCommandWithArgsAndCleanEnvAndSucceeds) {
  setenv("QUADER_TEST_SERVER_ONLY", "leaked", 1);
  WorkloadSpec spec = Shell("echo", "echo \"$1 $GREETING leak=$QUADER_TEST_SERVER_ONLY\"; pwd");
  spec.command.push_back("sh");  // $0 for the inner shell
  spec.args = {"world"};
  spec.env = {{"GREETING", "hello"}};
  WorkloadStatus started = StartOk(spec);
  EXPECT_EQ(started.id, "echo");
  EXPECT_EQ(started.state, WorkloadState::kRunning);

  WorkloadStatus st = WaitEnded("echo");
  EXPECT_EQ(st.state, WorkloadState::kSucceeded);
  EXPECT_EQ(st.exit_code, 0);
  EXPECT_FALSE(st.oom_killed);
  EXPECT_EQ(st.labels.at(kLabelKind), "task");
  ASSERT_TRUE(st.started_at && st.finished_at);
  EXPECT_LE(*st.started_at, *st.finished_at);
  std::string logs = LogsOf("echo");
  EXPECT_NE(logs.find("world hello leak=\n"), std::string::npos) << logs;
  EXPECT_NE(logs.find(Visible("work")), std::string::npos)
      << "working dir created and entered: " << logs;
}

TEST_P(ProcessRuntimeModesTest, WorkloadDoesNotInheritTheServersSignalSettings) {
  // Servers commonly ignore SIGPIPE and block SIGTERM for sigwait.
  sigset_t term, old_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old_mask);
  auto old_pipe = signal(SIGPIPE, SIG_IGN);
  StartOk(Shell("signals", "grep -E '^Sig(Blk|Ign)' /proc/self/status"));
  signal(SIGPIPE, old_pipe);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  EXPECT_EQ(WaitEnded("signals").state, WorkloadState::kSucceeded);
  // Only the standard signals 1-31 are checked: glibc reserves 32 and 33 for
  // itself, so a launcher that ignores them passes that on and nobody can undo it.
  std::string logs = LogsOf("signals");
  auto mask_of = [&](const std::string& field) -> uint64_t {
    size_t at = logs.find(field + ":\t");
    if (at == std::string::npos) return ~uint64_t{0};
    return std::stoull(logs.substr(at + field.size() + 2, 16), nullptr, 16);
  };
  const uint64_t kStandard = 0x7fffffffULL;  // bit n-1 is signal n
  EXPECT_EQ(mask_of("SigBlk") & kStandard, 0u) << logs;
  EXPECT_EQ(mask_of("SigIgn") & kStandard, 0u) << logs;
}

TEST_P(ProcessRuntimeModesTest, NonZeroExitFailsWithItsCode) {
  StartOk(Shell("three", "echo failing >&2; exit 3"));
  WorkloadStatus st = WaitEnded("three");
  EXPECT_EQ(st.state, WorkloadState::kFailed);
  EXPECT_EQ(st.exit_code, 3);
  EXPECT_FALSE(st.oom_killed);
  EXPECT_NE(st.reason.find("code 3"), std::string::npos) << st.reason;
  EXPECT_NE(LogsOf("three").find("failing"), std::string::npos);
}

TEST_P(ProcessRuntimeModesTest, MemoryLimitKillsAllocationPastIt) {
  // tail buffers a newline-free stream whole: 200 MB against a 50 MiB limit.
  WorkloadSpec spec = Shell("hog", "head -c 200000000 /dev/zero | tail");
  spec.resources.memory_bytes = 50 * kMiB;
  StartOk(spec);
  WorkloadStatus st = WaitEnded("hog");
  EXPECT_EQ(st.state, WorkloadState::kFailed);
  if (rt_->cgroups()) {
    EXPECT_TRUE(st.oom_killed) << st.reason;
    EXPECT_EQ(st.exit_code, 137);
    EXPECT_NE(st.reason.find("OOM"), std::string::npos) << st.reason;
  } else {
    // RLIMIT_AS: the allocation fails instead (no kill, so no OOM either).
    EXPECT_NE(st.exit_code, 0);
    EXPECT_NE(LogsOf("hog").find("memory exhausted"), std::string::npos) << LogsOf("hog");
  }
}

TEST_P(ProcessRuntimeModesTest, FollowedLogsArriveWhileTheProcessRuns) {
  const std::string release = Visible("release");
  StartOk(Shell("talker",
                "echo first; while [ ! -e " + release + " ]; do sleep 0.02; done; echo second"));
  std::string seen;
  bool running_at_first_line = false;
  Status st = rt_->Logs("talker", true, [&](const std::string& chunk) {
    if (seen.empty()) {
      Result<WorkloadStatus> now = rt_->Inspect("talker");
      running_at_first_line = now.ok() && now->state == WorkloadState::kRunning;
      std::ofstream(release) << "go";
    }
    seen += chunk;
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(running_at_first_line);
  EXPECT_EQ(quader::testing::Unstamped(seen), "first\nsecond\n");
}

TEST_F(ProcessRuntimeTest, WithoutTheCaptureALinesTimeIsUnknownAndNothingPrintedPassesForOne) {
  ASSERT_FALSE(rt_->stamps_logs());
  StartOk(Shell("forger", "echo '2026-12-07T17:01:13.214Z forged'; printf 'no newline'"));
  WaitEnded("forger");
  EXPECT_EQ(RawLogsOf("forger"),
            "1970-01-01T00:00:00.000Z 2026-12-07T17:01:13.214Z forged\n1970-01-01T00:00:00.000Z no newline");
  // Saved, the same: a trailer goes on a line of its own.
  const std::string saved = dir_.File("saved.log");
  rt_->SaveLog("forger", saved, "2026-12-07T17:01:14.000Z == exited\n");
  EXPECT_EQ(ReadAll(saved), "1970-01-01T00:00:00.000Z 2026-12-07T17:01:13.214Z forged\n"
                            "1970-01-01T00:00:00.000Z no newline\n2026-12-07T17:01:14.000Z == exited\n");
}

TEST_F(ProcessRuntimeTest, AFailureWithoutItsImageNamesTheImage) {
  // The process runtime ignores images: a command that needed its image's
  // files fails with the image named; quader/ images are this machine's own.
  WorkloadSpec foreign = Shell("foreign", "exit 127");
  foreign.image = "ccr.ccs.tencentyun.com/cube-studio/datax:20240501";
  StartOk(foreign);
  WorkloadSpec own = Shell("own", "exit 3");
  own.image = "quader/python:3.11";
  StartOk(own);
  WorkloadSpec fine = Shell("fine", "true");
  fine.image = foreign.image;
  StartOk(fine);
  // Event-driven Wait: returns at the exit, long before its timeout.
  auto t0 = std::chrono::steady_clock::now();
  Result<WorkloadStatus> f = rt_->Wait("foreign", std::chrono::seconds(30));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->state, WorkloadState::kFailed);
  EXPECT_EQ(f->reason.rfind("exited with code 127; the process runtime ran the command on this machine without image "
                            "\"ccr.ccs.tencentyun.com/cube-studio/datax:20240501\"", 0),
            0u)
      << f->reason;
  WorkloadStatus o = WaitEnded("own");
  EXPECT_EQ(o.reason, "exited with code 3");
  WorkloadStatus ok = WaitEnded("fine");
  EXPECT_EQ(ok.state, WorkloadState::kSucceeded);
  EXPECT_EQ(ok.reason, "");
  // A restarted server reads the same from the state files.
  rt_ = MakeRuntime({});
  EXPECT_NE(rt_->Inspect("foreign")->reason.find("without image"), std::string::npos);
}

TEST_F(ProcessRuntimeTest, FollowStopsWhenSinkDeclines) {
  StartOk(Shell("chatty", "while :; do echo line; sleep 0.02; done"));
  int chunks = 0;
  Status st = rt_->Logs("chatty", true, [&](const std::string&) { return ++chunks < 2; });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(chunks, 2);
  EXPECT_EQ(rt_->Inspect("chatty")->state, WorkloadState::kRunning);
}

TEST_P(ProcessRuntimeModesTest, StopKillsTheWholeGroupAndRemovesTheWorkload) {
  const std::string pid_file = Visible("grandchild.pid");
  StartOk(Shell("tree", "sleep 300 & echo $! > " + pid_file + "; sleep 300"));
  ASSERT_TRUE(Eventually([&] { return !ReadAll(pid_file).empty(); }));
  std::vector<ProcStat> group;
  ASSERT_TRUE(Eventually([&] {
    group = GroupMembers(PgidOf("tree"));
    return group.size() >= 4;
  })) << "wrapper, shell and both sleeps share the group";

  auto t0 = steady_clock::now();
  ASSERT_TRUE(rt_->Stop("tree", seconds(5)).ok());
  EXPECT_LT(steady_clock::now() - t0, seconds(4))
      << "SIGTERM suffices, no wait for the grace period";
  for (const ProcStat& p : group) {
    EXPECT_TRUE(Eventually([&] { return ProcessGone(p.pid); }, milliseconds(2000)))
        << "pid " << p.pid;
  }
  EXPECT_EQ(rt_->Inspect("tree").status().code(), Code::kNotFound);
  EXPECT_FALSE(fs::exists(dir_.File("state/tree.json")));
  EXPECT_FALSE(fs::exists(dir_.File("state/tree.log")));
  EXPECT_TRUE(rt_->Stop("tree", seconds(1)).ok()) << "stopping twice is fine";
  EXPECT_TRUE(rt_->Stop("never-started", seconds(1)).ok());
}

TEST_F(ProcessRuntimeTest, StopKillsProcessesThatLeftTheGroupThroughTheCgroup) {
  if (!rt_->cgroups()) {
    GTEST_SKIP() << "no cgroups: " << rt_->cgroup_note();
  }
  const std::string pid_file = Visible("escaped.pid");
  StartOk(Shell("escape", "setsid sleep 300 & echo $! > " + pid_file + "; sleep 300"));
  ASSERT_TRUE(Eventually([&] { return !ReadAll(pid_file).empty(); }));
  // Its host pid (in a sandbox $! is the pid namespace's number): the
  // member of the cgroup that is in a group of its own now.
  int escaped = 0;
  ASSERT_TRUE(Eventually([&] {
    for (int pid : CgroupPidsOf("escape")) {
      std::optional<ProcStat> s = ReadProcStat(pid);
      if (s && s->pgrp == pid && pid != PgidOf("escape")) escaped = pid;
    }
    return escaped > 0;
  }));
  ASSERT_TRUE(rt_->Stop("escape", seconds(5)).ok());
  EXPECT_TRUE(Eventually([&] { return ProcessGone(escaped); }, milliseconds(2000)));
}

TEST_F(ProcessRuntimeTest, StopEscalatesToSigkillAfterGrace) {
  StartOk(Shell("stubborn", "trap '' TERM; echo ready; while :; do sleep 0.05; done"));
  ASSERT_TRUE(Eventually([&] { return LogsOf("stubborn").find("ready") != std::string::npos; }));
  auto t0 = steady_clock::now();
  ASSERT_TRUE(rt_->Stop("stubborn", seconds(1)).ok());
  EXPECT_GE(steady_clock::now() - t0, milliseconds(900));
  EXPECT_EQ(rt_->Inspect("stubborn").status().code(), Code::kNotFound);
}

TEST_F(ProcessRuntimeTest, ListSelectsByLabels) {
  WorkloadSpec a = Shell("a-task", "true");
  WorkloadSpec b = Shell("b-notebook", "true");
  b.labels[kLabelKind] = "notebook";
  StartOk(a);
  StartOk(b);
  Result<std::vector<WorkloadStatus>> tasks = rt_->List({{kLabelKind, "task"}});
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].name, "a-task");
  Result<std::vector<WorkloadStatus>> managed = rt_->List({{kLabelManaged, "true"}});
  ASSERT_TRUE(managed.ok());
  std::vector<std::string> names;
  for (const WorkloadStatus& s : *managed) {
    names.push_back(s.name);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a-task", "b-notebook"}));
  EXPECT_TRUE(rt_->List({{kLabelKind, "service"}})->empty());
}

TEST_P(ProcessRuntimeModesTest, RestartedRuntimeAdoptsRunningWorkloadAndReportsItsExitCode) {
  const std::string release = Visible("release");
  StartOk(
      Shell("long", "echo started; while [ ! -e " + release + " ]; do sleep 0.02; done; exit 7"));
  ASSERT_TRUE(Eventually([&] { return LogsOf("long").find("started") != std::string::npos; }));
  rt_.reset();  // the server goes away; its workload keeps running

  ProcessRuntimeOptions options;
  options.use_bwrap = GetParam().use_bwrap;
  options.use_cgroups = GetParam().use_cgroups;
  rt_ = MakeRuntime(options);
  Result<WorkloadStatus> adopted = rt_->Inspect("long");
  ASSERT_TRUE(adopted.ok()) << adopted.status().ToString();
  EXPECT_EQ(adopted->state, WorkloadState::kRunning);
  ASSERT_EQ(rt_->List({{kLabelManaged, "true"}})->size(), 1u);
  std::ofstream(release) << "go";
  WorkloadStatus st = WaitEnded("long");
  EXPECT_EQ(st.state, WorkloadState::kFailed);
  EXPECT_EQ(st.exit_code, 7);
  EXPECT_NE(LogsOf("long").find("started"), std::string::npos);
}

TEST_F(ProcessRuntimeTest, AdoptsWorkloadsOfAServerProcessThatExited) {
  // A real restart: another process starts the workloads and exits, so they
  // are not this process's children and only the state files tell their fate.
  const std::string release = Visible("release");
  pid_t server = fork();
  if (server == 0) {
    ProcessRuntime rt(dir_.File("state"));
    bool ok =
        rt.Start(Shell("orphan", "while [ ! -e " + release + " ]; do sleep 0.02; done; exit 7"))
            .ok() &&
        rt.Start(Shell("victim", "sleep 300")).ok();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(server, &status, 0), server);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  started_ = {"orphan", "victim"};

  ASSERT_EQ(rt_->Inspect("orphan")->state, WorkloadState::kRunning);
  std::ofstream(release) << "go";
  WorkloadStatus orphan = WaitEnded("orphan");
  EXPECT_EQ(orphan.state, WorkloadState::kFailed);
  EXPECT_EQ(orphan.exit_code, 7) << "read from the exit file the wrapper wrote";

  // Killing the wrapper too loses the code: failed, and the reason says why.
  int pgid = std::atoi(ReadAll(dir_.File("state/victim.pid")).c_str());
  ASSERT_GT(pgid, 1);
  kill(-pgid, SIGKILL);
  WorkloadStatus victim = WaitEnded("victim");
  EXPECT_EQ(victim.state, WorkloadState::kFailed);
  EXPECT_FALSE(victim.exit_code.has_value());
  EXPECT_NE(victim.reason.find("without recording an exit code"), std::string::npos)
      << victim.reason;
}

TEST_F(ProcessRuntimeTest, RunningNameIsTakenFinishedNameIsReused) {
  StartOk(Shell("dup", "sleep 300"));
  EXPECT_EQ(rt_->Start(Shell("dup", "true")).status().code(), Code::kAlreadyExists);
  ASSERT_TRUE(rt_->Stop("dup", seconds(1)).ok());
  StartOk(Shell("again", "echo one"));
  WaitEnded("again");
  StartOk(Shell("again", "echo two"));
  EXPECT_EQ(WaitEnded("again").state, WorkloadState::kSucceeded);
  EXPECT_EQ(LogsOf("again"), "two\n") << "a new run starts a new log";
}

TEST_P(ProcessRuntimeModesTest, StatsReportUseOfARunningWorkload) {
  WorkloadSpec spec = Shell("busy", "while :; do :; done");
  spec.resources.memory_bytes = 64 * kMiB;
  StartOk(spec);
  // One busy shell uses up to one core. Without a cgroup, cpu time comes in
  // clock ticks (10 ms), so single short intervals are coarse: poll until
  // one sample lands in range.
  WorkloadStats last;
  ASSERT_TRUE(Eventually([&] {
    Result<WorkloadStats> s = rt_->Stats("busy");
    last = s.ok() ? *s : WorkloadStats{};
    return s.ok() && last.memory_bytes > 0 && last.cpu_cores > 0.2 && last.cpu_cores < 1.5;
  })) << "memory "
      << last.memory_bytes << ", cpu " << last.cpu_cores;
  EXPECT_EQ(last.memory_limit_bytes, 64 * kMiB);
  EXPECT_LT(last.memory_bytes, 64 * kMiB);
  ASSERT_TRUE(rt_->Stop("busy", seconds(0)).ok());
  EXPECT_EQ(rt_->Stats("busy").status().code(), Code::kNotFound);
}

TEST_F(ProcessRuntimeTest, OnFailureRestartsUntilSuccess) {
  const std::string count = Visible("count");
  WorkloadSpec spec = Shell("flaky", "echo x >> " + count + "; [ $(wc -l < " + count + ") -ge 2 ]");
  spec.restart = RestartPolicy::kOnFailure;
  StartOk(spec);
  WorkloadStatus st = WaitEnded("flaky");
  EXPECT_EQ(st.state, WorkloadState::kSucceeded);
  EXPECT_EQ(ReadAll(count), "x\nx\n");
}

TEST_F(ProcessRuntimeTest, HostPathMountIsVisibleAtItsTarget) {
  if (!rt_->sandboxed()) {
    GTEST_SKIP() << "no sandbox: " << rt_->bwrap_note();
  }
  fs::create_directories(dir_.File("data"));
  std::ofstream(dir_.File("data/hello.txt")) << "from the host\n";
  WorkloadSpec spec =
      Shell("mounted",
            "cat /quader-test-in/hello.txt; touch /quader-test-in/nope || echo read-only; "
            "df -k /quader-test-mem | tail -1");
  spec.mounts.push_back({MountKind::kHostPath, dir_.File("data"), "/quader-test-in", true, 0, "", ""});
  spec.mounts.push_back({MountKind::kMemory, "", "/quader-test-mem", false, 4 * kMiB, "", ""});
  StartOk(spec);
  EXPECT_EQ(WaitEnded("mounted").state, WorkloadState::kSucceeded);
  std::string logs = LogsOf("mounted");
  EXPECT_NE(logs.find("from the host"), std::string::npos) << logs;
  EXPECT_NE(logs.find("read-only"), std::string::npos) << logs;
  EXPECT_NE(logs.find(" 4096 "), std::string::npos) << "a 4 MiB tmpfs: " << logs;
  EXPECT_FALSE(fs::exists(dir_.File("data/nope")));
  EXPECT_FALSE(fs::exists("/quader-test-in")) << "mount points stay inside the sandbox";
}

// Exec (shell health probes): the command sees the workload's environment,
// working directory and, in the sandbox, its mounts; exit codes come back;
// a command running too long is killed.
TEST_P(ProcessRuntimeModesTest, ExecRunsInsideTheWorkload) {
  fs::create_directories(Visible("work"));
  WorkloadSpec spec = Shell("probed", "sleep 300");
  spec.env = {{"GREETING", "hello"}};
  bool sandboxed = GetParam().use_bwrap && rt_->sandboxed();
  if (sandboxed) {
    fs::create_directories(dir_.File("data"));
    std::ofstream(dir_.File("data/flag")) << "x";
    spec.mounts.push_back({MountKind::kHostPath, dir_.File("data"), "/quader-exec-in", true, 0, "", ""});
  }
  StartOk(spec);
  // Right after Start the sandbox may still be setting up: probes repeat.
  Result<int> code = -1;
  for (int i = 0; i < 50 && !(code.ok() && *code == 0); ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    code = rt_->Exec("probed", {"/bin/sh", "-c", "test \"$GREETING\" = hello && test \"$(pwd)\" = '" +
                                                     Visible("work") + "'"},
                     seconds(10));
  }
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
  if (sandboxed) {
    EXPECT_EQ(*rt_->Exec("probed", {"/bin/sh", "-c", "test -f /quader-exec-in/flag"}, seconds(10)), 0)
        << "the sandbox's mounts";
  }
  EXPECT_EQ(*rt_->Exec("probed", {"/bin/sh", "-c", "exit 3"}, seconds(10)), 3);
  auto start = std::chrono::steady_clock::now();
  auto slow = rt_->Exec("probed", {"/bin/sh", "-c", "sleep 30"}, std::chrono::milliseconds(300));
  EXPECT_EQ(slow.status().code(), Code::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  ASSERT_TRUE(rt_->Stop("probed", seconds(0)).ok());
  EXPECT_EQ(rt_->Exec("probed", {"/bin/true"}, seconds(1)).status().code(), Code::kNotFound);
}

TEST_F(ProcessRuntimeTest, WithoutSandboxRemappedMountsAreRefused) {
  ProcessRuntimeOptions no_bwrap;
  no_bwrap.use_bwrap = false;
  rt_ = MakeRuntime(no_bwrap);
  fs::create_directories(dir_.File("data"));
  WorkloadSpec spec = Shell("bind", "true");
  spec.mounts.push_back({MountKind::kHostPath, dir_.File("data"), "/data", false, 0, "", ""});
  Result<WorkloadStatus> st = rt_->Start(spec);
  ASSERT_EQ(st.status().code(), Code::kInvalidArgument);
  EXPECT_NE(st.status().message().find("mounts[1]"), std::string::npos) << st.status().message();
  EXPECT_TRUE(rt_->List({})->empty()) << "nothing recorded";

  spec.mounts[1].target = dir_.File("data");  // onto itself: the process sees it anyway
  StartOk(spec);
  EXPECT_EQ(WaitEnded("bind").state, WorkloadState::kSucceeded);
}

TEST_F(ProcessRuntimeTest, BadSpecsAreRefusedNamingTheField) {
  struct Row {
    const char* why;
    std::function<void(WorkloadSpec&)> edit;
    const char* field;
  };
  const std::vector<Row> rows = {
      {"gpus", [](WorkloadSpec& s) { s.resources.gpu = 1; }, "no GPU support"},
      {"no command", [](WorkloadSpec& s) { s.command.clear(); }, "command"},
      {"unknown program", [](WorkloadSpec& s) { s.command = {"no-such-program-xyz"}; },
       "command[0]"},
      {"name with a slash", [](WorkloadSpec& s) { s.name = "a/b"; }, "name"},
      {"remapped port",
       [](WorkloadSpec& s) {
         s.ports = {{8000, 9000, "tcp"}};
       },
       "ports[0].host_port"},
      {"relative mount target",
       [](WorkloadSpec& s) {
         s.mounts = {{MountKind::kMemory, "", "tmp", false, 0, "", ""}};
       },
       "mounts[0].target"},
      {"missing mount source",
       [](WorkloadSpec& s) {
         s.mounts = {{MountKind::kHostPath, "/no/such/dir", "/no/such/dir", false, 0, "", ""}};
       },
       "mounts[0].source"},
  };
  for (const Row& row : rows) {
    WorkloadSpec spec = Shell("bad", "true");
    row.edit(spec);
    Result<WorkloadStatus> st = rt_->Start(spec);
    EXPECT_EQ(st.status().code(), Code::kInvalidArgument) << row.why;
    EXPECT_NE(st.status().message().find(row.field), std::string::npos)
        << row.why << ": " << st.status().message();
  }
  EXPECT_TRUE(rt_->List({})->empty());
  EXPECT_EQ(rt_->Inspect("bad").status().code(), Code::kNotFound);
}

TEST_F(ProcessRuntimeTest, PortsAreReportedOnTheContainerPort) {
  WorkloadSpec spec = Shell("web", "true");
  spec.ports = {{8123, 0, "tcp"}};
  WorkloadStatus st = StartOk(spec);
  ASSERT_EQ(st.ports.size(), 1u);
  EXPECT_EQ(st.ports[0].host_port, 8123);
}

// ---------------------------------------------------------------------------
// Isolation (docs/security.md): what a hostile workload tries from inside.

// Log lines timestamped on capture (quader-capture, core/log_stamp.h), in
// each way the runtime can run a process.
class ProcessCaptureTest : public ProcessRuntimeFixture, public ::testing::TestWithParam<Mode> {
 protected:
  static ProcessRuntimeOptions Options() {
    ProcessRuntimeOptions options;
    options.use_bwrap = GetParam().use_bwrap;
    options.use_cgroups = GetParam().use_cgroups;
    options.capture_helper = QUADER_CAPTURE_HELPER;
    return options;
  }
  ProcessCaptureTest() { rt_ = MakeRuntime(Options()); }

  // The lines of `log`, each split into its stamp's time and its text.
  static std::vector<std::pair<system_clock::time_point, std::string>> Lines(const std::string& log) {
    std::vector<std::pair<system_clock::time_point, std::string>> out;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
      EXPECT_TRUE(StartsWithLogStamp(line + "\n")) << "not stamped: " << line;
      if (!StartsWithLogStamp(line + "\n")) continue;
      std::tm tm{};
      strptime(line.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
      auto at = system_clock::from_time_t(timegm(&tm)) + milliseconds(std::stoi(line.substr(20, 3)));
      out.emplace_back(at, line.substr(kLogStampSize));
    }
    return out;
  }
};

INSTANTIATE_TEST_SUITE_P(Modes, ProcessCaptureTest,
                         ::testing::Values(Mode{"sandbox_cgroups", true, true},
                                           Mode{"plain_cgroups", false, true},
                                           Mode{"plain_rlimit", false, false}),
                         [](const ::testing::TestParamInfo<Mode>& info) { return info.param.name; });

TEST_P(ProcessCaptureTest, EachLineIsStampedWhenWrittenAndTheExitCodeIsKept) {
  ASSERT_TRUE(rt_->stamps_logs());
  const auto before = system_clock::now() - milliseconds(5);
  StartOk(Shell("talk", "echo one; printf two-; sleep 0.4; echo three; echo err >&2; exit 3"));
  WorkloadStatus st = WaitEnded("talk");
  const auto after = system_clock::now() + milliseconds(5);
  EXPECT_EQ(st.state, WorkloadState::kFailed);
  EXPECT_EQ(st.exit_code, 3);
  auto lines = Lines(RawLogsOf("talk"));
  ASSERT_EQ(lines.size(), 3u) << RawLogsOf("talk");
  EXPECT_EQ(lines[0].second, "one");
  EXPECT_EQ(lines[1].second, "two-three") << "a line cut by a pause is stamped once, when it began";
  EXPECT_EQ(lines[2].second, "err");
  for (const auto& [at, text] : lines) {
    EXPECT_GE(at, before) << text;
    EXPECT_LE(at, after) << text;
  }
  EXPECT_GE(lines[2].first - lines[1].first, milliseconds(300)) << "each stamped when it came, not at the end";
}

TEST_P(ProcessCaptureTest, AStoppedCommandsLastWordsAreKept) {
  StartOk(Shell("polite", "trap 'echo bye; exit 4' TERM; echo up; while :; do sleep 0.05; done"));
  ASSERT_TRUE(Eventually([&] { return RawLogsOf("polite").find("up") != std::string::npos; }));
  // Stop removes the workload: its log is read while the command ends.
  std::string log;
  std::thread follow([&] {
    (void)rt_->Logs("polite", true, [&](const std::string& chunk) {
      log += chunk;
      return true;
    });
  });
  ASSERT_TRUE(rt_->Stop("polite", seconds(5)).ok());
  follow.join();
  auto lines = Lines(log);  // "up", maybe the shell's note on its killed sleep, "bye"
  ASSERT_GE(lines.size(), 2u) << log;
  EXPECT_EQ(lines.front().second, "up");
  EXPECT_EQ(lines.back().second, "bye");
}

TEST_P(ProcessCaptureTest, ALogStopsGrowingAtItsLimitAndSaysSo) {
  ProcessRuntimeOptions options = Options();
  options.max_log_bytes = 4096;
  rt_ = MakeRuntime(options);
  StartOk(Shell("flood", "yes flood | head -c 2000000; echo done-flooding"));
  WorkloadStatus st = WaitEnded("flood");
  EXPECT_EQ(st.exit_code, 0) << "the command is not blocked or killed";
  const std::string log = RawLogsOf("flood");
  EXPECT_LE(log.size(), 4096u + 200u);
  auto lines = Lines(log);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.front().second, "flood");
  EXPECT_EQ(lines.back().second.rfind("== the log is cut here: it passed its limit of 4096 bytes", 0), 0u)
      << lines.back().second;
}

TEST_P(ProcessCaptureTest, AServerStartedAgainAdoptsWorkloadsUnderTheCapture) {
  const std::string release = Visible("release");
  pid_t server = fork();
  if (server == 0) {
    ProcessRuntime rt(dir_.File("state"), Options());
    bool ok = rt.Start(Shell("orphan", "echo waiting; while [ ! -e " + release + " ]; do sleep 0.02; done; exit 7")).ok();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(server, &status, 0), server);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  started_ = {"orphan"};
  rt_ = MakeRuntime(Options());
  ASSERT_EQ(rt_->Inspect("orphan")->state, WorkloadState::kRunning);
  std::ofstream(release) << "go";
  WorkloadStatus orphan = WaitEnded("orphan");
  EXPECT_EQ(orphan.exit_code, 7);
  auto lines = Lines(RawLogsOf("orphan"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].second, "waiting");
}

class ProcessIsolationTest : public ProcessRuntimeFixture, public ::testing::Test {
 protected:
  ProcessIsolationTest() {
    ProcessRuntimeOptions options;
    options.max_pids = 64;
    options.hidden_paths = {dir_.File("secret-data")};
    fs::create_directories(dir_.File("secret-data"));
    std::ofstream(dir_.File("secret-data/quader.db")) << "the store";
    rt_ = MakeRuntime(options);
  }
  void SetUp() override {
    if (!rt_->isolated()) GTEST_SKIP() << "no isolation here: " << rt_->isolation_note();
  }

  WorkloadSpec As(const std::string& user, const std::string& name, const std::string& script) {
    WorkloadSpec spec = Shell(name, script);
    spec.labels[kLabelUser] = user;
    return spec;
  }

  // The host uid of the workload's innermost process (the command).
  int HostUidOf(const std::string& name) {
    int pgid = std::atoi(ReadAll(dir_.File("state/" + name + ".pid")).c_str());
    int uid = -1;
    for (const ProcStat& s : GroupMembers(pgid)) {
      std::istringstream status(ReadAll("/proc/" + std::to_string(s.pid) + "/status"));
      for (std::string line; std::getline(status, line);) {
        if (line.rfind("Uid:", 0) == 0) uid = std::atoi(line.c_str() + 4);
      }
    }
    return uid;
  }
};

TEST_F(ProcessIsolationTest, UnderTheCaptureEveryProcessRunsAsTheUsersUid) {
  ProcessRuntimeOptions options;
  options.max_pids = 64;
  options.capture_helper = QUADER_CAPTURE_HELPER;
  rt_ = MakeRuntime(options);
  ASSERT_TRUE(rt_->stamps_logs()) << "a copy of the capture every uid can execute";
  StartOk(As("alice", "a1", "echo uid=$(id -u); sleep 300"));
  ASSERT_TRUE(Eventually([&] { return RawLogsOf("a1").find("uid=") != std::string::npos; }));
  const std::string log = RawLogsOf("a1");
  EXPECT_TRUE(StartsWithLogStamp(log)) << log;
  EXPECT_EQ(log.find("uid=0\n"), std::string::npos) << log;
  int pgid = PgidOf("a1");
  std::vector<ProcStat> members = GroupMembers(pgid);
  ASSERT_FALSE(members.empty());
  for (const ProcStat& m : members) {
    std::istringstream status(ReadAll("/proc/" + std::to_string(m.pid) + "/status"));
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("Uid:", 0) == 0) EXPECT_NE(std::atoi(line.c_str() + 4), 0) << "pid " << m.pid << " is root";
    }
  }
}

TEST_F(ProcessIsolationTest, EachUserRunsAsAnUnprivilegedHostUidOfTheirOwn) {
  StartOk(As("alice", "a1", "sleep 300"));
  StartOk(As("alice", "a2", "sleep 300"));
  // bob gets a directory of his own (a shared one would be handed to him).
  fs::create_directories(dir_.File("bob"));
  WorkloadSpec bob = As("bob", "b1", "sleep 300");
  bob.mounts[0].source = dir_.File("bob");
  StartOk(bob);
  int a1 = -1, a2 = -1, b1 = -1;
  ASSERT_TRUE(Eventually([&] {
    a1 = HostUidOf("a1");
    a2 = HostUidOf("a2");
    b1 = HostUidOf("b1");
    return a1 > 0 && a2 > 0 && b1 > 0;
  })) << a1 << " " << a2 << " " << b1 << " " << LogsOf("a1") << LogsOf("a2") << LogsOf("b1");
  EXPECT_GE(a1, 2000000);
  EXPECT_EQ(a1, a2) << "one uid per user: their workloads share /mnt/$user";
  EXPECT_NE(a1, b1);
  // A restarted server keeps the same uids.
  rt_ = MakeRuntime({});
  bob.name = "b2";
  StartOk(bob);
  ASSERT_TRUE(Eventually([&] { return HostUidOf("b2") > 0; }));
  EXPECT_EQ(HostUidOf("b2"), b1);
}

TEST_F(ProcessIsolationTest, EscapesFromInsideATaskFail) {
  // Each line prints ESCAPE when the attack works. The test process plays
  // the server: its pid, environment and data directory must be out of reach.
  setenv("QUADER_ADMIN_PASSWORD", "server-secret", 1);
  const std::string me = std::to_string(getpid());
  const std::string data = dir_.File("secret-data");
  const std::string state = dir_.File("state");
  std::string script =
      "cat /etc/shadow >/dev/null 2>&1 && echo ESCAPE shadow\n"
      "[ \"$(id -u)\" = 0 ] && echo ESCAPE root\n"
      "[ -e /proc/" + me + " ] && echo ESCAPE sees the server process\n"
      "kill -0 " + me + " 2>/dev/null && echo ESCAPE can signal the server\n"
      "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -q server-secret && echo ESCAPE server env\n"
      "env | grep -q server-secret && echo ESCAPE inherited env\n"
      "[ -e " + data + "/quader.db ] && echo ESCAPE data directory\n"
      "ls " + state + " 2>/dev/null | grep -q . && echo ESCAPE state directory\n"
      "touch /usr/x /etc/x /bin/x 2>/dev/null && echo ESCAPE writes the system\n"
      "[ -e /root ] && echo ESCAPE sees /root\n"
      "[ -e /run/podman ] && echo ESCAPE sees /run\n"
      "[ \"$(ls -d /proc/[0-9]* | wc -l)\" -gt 6 ] && echo ESCAPE sees other processes\n"
      "[ \"$(cat /proc/sys/kernel/hostname)\" = quader ] || echo ESCAPE host name\n"
      "[ \"$(whoami)\" = alice ] || echo ESCAPE unnamed user\n"
      "echo done\n";
  StartOk(As("alice", "attacker", script));
  EXPECT_EQ(WaitEnded("attacker").state, WorkloadState::kSucceeded);
  std::string logs = LogsOf("attacker");
  EXPECT_EQ(logs.find("ESCAPE"), std::string::npos) << logs;
  EXPECT_NE(logs.find("done"), std::string::npos) << logs;
  unsetenv("QUADER_ADMIN_PASSWORD");
}

TEST_F(ProcessIsolationTest, AnotherUsersDirectoryIsOutOfReach) {
  // bob's directory exists on the host, owned by bob's uid; alice's workload
  // neither sees it nor can open it by its host path.
  const std::string bobs = dir_.File("bob-work");
  fs::create_directories(bobs);
  std::ofstream(bobs + "/model.txt") << "bob's model";
  WorkloadSpec bob = As("bob", "bob", "echo mine >> " + bobs + "/model.txt");
  bob.mounts.push_back({MountKind::kVolume, bobs, bobs, false, 0, "", ""});
  StartOk(bob);
  EXPECT_EQ(WaitEnded("bob").state, WorkloadState::kSucceeded);
  StartOk(As("alice", "thief", "cat " + bobs + "/model.txt && echo ESCAPE read; "
                               "echo x > " + bobs + "/model.txt && echo ESCAPE write; echo done"));
  EXPECT_EQ(WaitEnded("thief").state, WorkloadState::kSucceeded);
  std::string logs = LogsOf("thief");
  EXPECT_EQ(logs.find("ESCAPE"), std::string::npos) << logs;
  EXPECT_EQ(ReadAll(bobs + "/model.txt"), "bob's modelmine\n");
  struct stat st {};
  ASSERT_EQ(stat(bobs.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "handed to bob's uid, private";
}

TEST_F(ProcessIsolationTest, ForkBombIsBoundedAndStopRemovesEverything) {
  // (Python: a shell gives up at its first failed fork.)
  WorkloadSpec bomb = As("alice", "bomb", "");
  bomb.command = {"/usr/bin/python3", "-c",
                  "import os, time\n"
                  "n = 0\n"
                  "for i in range(300):\n"
                  "    try:\n"
                  "        if os.fork() == 0:\n"
                  "            time.sleep(300)\n"
                  "            os._exit(0)\n"
                  "        n += 1\n"
                  "    except OSError as e:\n"
                  "        print('fork refused:', e.strerror, flush=True)\n"
                  "        break\n"
                  "print('forked', n, flush=True)\n"
                  "time.sleep(300)\n"};
  StartOk(bomb);
  ASSERT_TRUE(Eventually([&] { return LogsOf("bomb").find("forked") != std::string::npos; }, milliseconds(30000)))
      << LogsOf("bomb");
  EXPECT_NE(LogsOf("bomb").find("fork refused"), std::string::npos) << LogsOf("bomb");
  int pgid = std::atoi(ReadAll(dir_.File("state/bomb.pid")).c_str());
  EXPECT_LE(GroupMembers(pgid).size(), 64u + 2) << "pids.max 64 (the wrapper shell and bwrap outside it)";
  ASSERT_TRUE(rt_->Stop("bomb", seconds(0)).ok());
  EXPECT_TRUE(Eventually([&] { return GroupMembers(pgid).empty(); }));
}

TEST_F(ProcessIsolationTest, ExecEntersTheSandboxAsTheWorkloadsUid) {
  StartOk(As("alice", "shell", "sleep 300"));
  const std::string state = dir_.File("state");
  Result<int> code = -1;
  for (int i = 0; i < 50 && !(code.ok() && *code == 0); ++i) {
    if (i) std::this_thread::sleep_for(milliseconds(100));
    code = rt_->Exec("shell",
                     {"/bin/sh", "-c", "[ \"$(whoami)\" = alice ] && [ ! -e " + state + " ] && "
                                       "[ ! -e /proc/" + std::to_string(getpid()) + " ] && ! cat /etc/shadow"},
                     seconds(10));
  }
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0) << "the probe ran as alice inside the sandbox";
}

// Right after a start, bubblewrap may not have finished the sandbox (its
// processes in the new namespaces still see the host's root): an exec then
// waits for the command, and never runs outside the sandbox.
TEST_F(ProcessIsolationTest, ExecRightAfterStartNeverRunsOutsideTheSandbox) {
  const std::string state = dir_.File("state");
  for (int i = 0; i < 8; ++i) {
    const std::string name = "early-" + std::to_string(i);
    StartOk(As("alice", name, "sleep 300"));
    Result<int> code = rt_->Exec(name, {"/bin/sh", "-c", "[ -e " + state + " ] && exit 42; exit 0"}, seconds(10));
    if (code.ok()) {
      EXPECT_EQ(*code, 0) << "round " << i << ": the exec saw the host";
    } else {
      EXPECT_EQ(code.status().code(), Code::kUnavailable) << code.status().ToString();
    }
    ASSERT_TRUE(rt_->Stop(name, seconds(0)).ok());
  }
}

// A terminal: the command on a pty of its own inside the sandbox, as the
// workload's user, sized as asked; ending the terminal ends the command.
TEST_F(ProcessIsolationTest, ATerminalIsAShellInsideTheSandbox) {
  StartOk(As("alice", "term", "sleep 300"));
  TerminalOptions options;
  options.rows = 33;
  options.cols = 77;
  Result<std::unique_ptr<Terminal>> t = rt_->OpenTerminal("term", options);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const std::string line = "echo who=$(whoami) size=$(stty size) host=$([ -e " + dir_.File("state") +
                           " ] && echo yes || echo no) tty=$([ -t 0 ] && echo $((1+1)))\n";
  ASSERT_EQ(write((*t)->fd(), line.data(), line.size()), static_cast<ssize_t>(line.size()));
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (out.find("tty=2") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{(*t)->fd(), POLLIN, 0};
    if (poll(&p, 1, 200) == 1) {
      char buf[4096];
      ssize_t n = read((*t)->fd(), buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  EXPECT_NE(out.find("who=alice size=33 77 host=no tty=2"), std::string::npos) << out;
  const std::string bye = "exit 4\n";
  ASSERT_EQ(write((*t)->fd(), bye.data(), bye.size()), static_cast<ssize_t>(bye.size()));
  char buf[4096];
  while (read((*t)->fd(), buf, sizeof(buf)) > 0) {
  }
  EXPECT_EQ((*t)->Finish(), 4);
  EXPECT_EQ(rt_->Inspect("term")->state, WorkloadState::kRunning) << "the workload runs on";
  // A terminal left open is ended with its owner.
  t = rt_->OpenTerminal("term", {{"/bin/sh", "-c", "sleep 300"}, 24, 80});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  t->reset();  // ends its command
  EXPECT_TRUE(rt_->OpenTerminal("missing", {}).status().code() == Code::kNotFound);
}

TEST_F(ProcessIsolationTest, ARecordSavedBeforeTheSpawnIsAdoptedNotStartedTwice) {
  // The server died between saving the record and saving the pid: the pid
  // file the new process wrote lets a restarted server adopt it.
  const std::string release = Visible("release");
  StartOk(As("alice", "racy", "echo up; while [ ! -e " + release + " ]; do sleep 0.02; done; exit 4"));
  ASSERT_TRUE(Eventually([&] { return LogsOf("racy").find("up") != std::string::npos; }));
  std::string path = dir_.File("state/racy.json");
  std::string record = ReadAll(path);
  size_t at = record.find("\"pid\":");
  size_t end = record.find(',', at);
  record.replace(at, end - at, "\"pid\": 0");
  std::ofstream(path, std::ios::trunc) << record;
  rt_ = MakeRuntime({});
  Result<WorkloadStatus> adopted = rt_->Inspect("racy");
  ASSERT_TRUE(adopted.ok()) << adopted.status().ToString();
  EXPECT_EQ(adopted->state, WorkloadState::kRunning);
  EXPECT_EQ(rt_->Start(As("alice", "racy", "true")).status().code(), Code::kAlreadyExists);
  std::ofstream(release) << "go";
  WorkloadStatus st = WaitEnded("racy");
  EXPECT_EQ(st.exit_code, 4);

  // No pid file: the process never came to be, and the record says so.
  StartOk(As("alice", "ghost", "true"));
  WaitEnded("ghost");
  std::string ghost = ReadAll(dir_.File("state/ghost.json"));
  at = ghost.find("\"pid\":");
  ghost.replace(at, ghost.find(',', at) - at, "\"pid\": 0");
  at = ghost.find("\"ended\":");
  ghost.replace(at, ghost.find(',', at) - at, "\"ended\": false");
  std::ofstream(dir_.File("state/ghost.json"), std::ios::trunc) << ghost;
  fs::remove(dir_.File("state/ghost.pid"));
  fs::remove(dir_.File("state/ghost.exit"));
  rt_ = MakeRuntime({});  // a restarted server reads the files
  Result<WorkloadStatus> g = rt_->Inspect("ghost");
  EXPECT_EQ(g.status().code(), Code::kNotFound) << "no workload: whoever adopts it starts it";
  EXPECT_NE(g.status().message().find("stopped before starting it"), std::string::npos) << g.status().ToString();
  EXPECT_FALSE(fs::exists(dir_.File("state/ghost.json"))) << "the record is gone";
  StartOk(As("alice", "ghost", "true"));  // and it can be started under its name
  EXPECT_EQ(WaitEnded("ghost").state, WorkloadState::kSucceeded);
}

TEST_F(ProcessIsolationTest, MountsUnderAPrivateParentAreReachedThroughABind) {
  // As a data directory under /root: a parent only root may pass through.
  const std::string priv = dir_.File("private");
  fs::create_directories(priv + "/data/users/alice");
  chmod(priv.c_str(), 0700);
  std::ofstream(priv + "/data/users/alice/in.txt") << "hello from a private parent\n";
  WorkloadSpec spec = As("alice", "deep", "cat /mnt/alice/in.txt && echo ok > /mnt/alice/out.txt");
  spec.mounts.push_back({MountKind::kVolume, priv + "/data/users/alice", "/mnt/alice", false, 0, "", ""});
  StartOk(spec);
  WorkloadStatus st = WaitEnded("deep");
  EXPECT_EQ(st.state, WorkloadState::kSucceeded) << LogsOf("deep");
  EXPECT_NE(LogsOf("deep").find("hello from a private parent"), std::string::npos) << LogsOf("deep");
  EXPECT_EQ(ReadAll(priv + "/data/users/alice/out.txt"), "ok\n");
  struct stat p {};
  ASSERT_EQ(stat(priv.c_str(), &p), 0);
  EXPECT_EQ(p.st_mode & 0777, 0700u) << "the private parent is left as it was";
  // The bind under /run/quader goes with the test's directory.
  std::istringstream mounts(ReadAll("/proc/self/mountinfo"));
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    if (point.rfind("/run/quader/", 0) == 0 && root.find(priv) != std::string::npos) {
      umount2(point.c_str(), MNT_DETACH);
      rmdir(point.c_str());
    }
  }
}

TEST_F(ProcessRuntimeTest, WithoutIsolationOnlyTrustedUsersRun) {
  ProcessRuntimeOptions options;
  options.use_bwrap = false;
  options.may_run_unisolated = [](const std::string& user) { return user == "admin"; };
  rt_ = MakeRuntime(options);
  EXPECT_FALSE(rt_->isolated());
  WorkloadSpec alice = Shell("alice", "true");
  alice.labels[kLabelUser] = "alice";
  Result<WorkloadStatus> st = rt_->Start(alice);
  EXPECT_EQ(st.status().code(), Code::kPermissionDenied);
  EXPECT_NE(st.status().message().find("cannot isolate"), std::string::npos) << st.status().message();
  EXPECT_NE(st.status().message().find("bubblewrap is turned off"), std::string::npos) << st.status().message();
  WorkloadSpec admin = Shell("admin", "true");
  admin.labels[kLabelUser] = "admin";
  StartOk(admin);
  EXPECT_EQ(WaitEnded("admin").state, WorkloadState::kSucceeded);
}

}  // namespace
}  // namespace quader::runtime::process
