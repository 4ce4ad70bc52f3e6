// Benchmark: the process runtime's spawn rate. Starts N trivial workloads
// (`true`), waits until every one has finished, then stops (removes) them
// all, in each way the runtime can run a process on this machine:
//
//   process_spawn_bench [N=200]
//
// Prints one row per mode: workloads/s from the first Start to the last
// observed exit (the figure to quote), and the time Stop took for all N.
// These machines are shared and noisy: compare modes within one run.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/process/process_runtime.h"

extern char** environ;

namespace {

using quader::runtime::WorkloadSpec;
using quader::runtime::WorkloadState;
using quader::runtime::process::ProcessRuntime;
using quader::runtime::process::ProcessRuntimeOptions;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Row {
  std::string mode;
  bool ok = false;
  double start_s = 0, finish_s = 0, stop_s = 0;
};

Row RunMode(const std::string& mode, ProcessRuntimeOptions options, int n) {
  Row row{mode};
  std::string tmpl = (std::filesystem::temp_directory_path() / "quader-bench-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  ProcessRuntime rt(dir + "/state", options);
  if ((options.use_bwrap && !rt.sandboxed()) || (options.use_cgroups && !rt.cgroups())) {
    row.mode += " (unavailable)";
    std::filesystem::remove_all(dir);
    return row;
  }
  std::vector<std::string> names;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    WorkloadSpec spec;
    spec.name = "spawn-" + std::to_string(i);
    spec.command = {"true"};
    spec.working_dir = dir;
    auto st = rt.Start(spec);
    if (!st.ok()) {
      std::fprintf(stderr, "%s: start %s: %s\n", mode.c_str(), spec.name.c_str(),
                   st.status().ToString().c_str());
      break;
    }
    names.push_back(spec.name);
  }
  auto t1 = Clock::now();
  std::vector<std::string> pending = names;
  auto deadline = t1 + std::chrono::seconds(120);
  while (!pending.empty() && Clock::now() < deadline) {
    std::vector<std::string> still;
    for (const std::string& name : pending) {
      auto st = rt.Inspect(name);
      if (st.ok() && st->state == WorkloadState::kRunning) {
        still.push_back(name);
      } else if (!st.ok() || st->state != WorkloadState::kSucceeded) {
        std::fprintf(stderr, "%s: %s did not succeed\n", mode.c_str(), name.c_str());
      }
    }
    pending.swap(still);
  }
  auto t2 = Clock::now();
  for (const std::string& name : names) {
    (void)rt.Stop(name, std::chrono::seconds(1));
  }
  auto t3 = Clock::now();
  std::filesystem::remove_all(dir);
  row.ok = pending.empty() && static_cast<int>(names.size()) == n;
  row.start_s = Seconds(t1 - t0);
  row.finish_s = Seconds(t2 - t0);
  row.stop_s = Seconds(t3 - t2);
  return row;
}

double Percentile(std::vector<double> xs, double p) {
  if (xs.empty()) return 0;
  std::sort(xs.begin(), xs.end());
  size_t k = static_cast<size_t>(p / 100.0 * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(k, xs.size() - 1)];
}

// One full-isolation workload at a time (sandbox, cgroup, the user's own
// host uid): Start, Wait for its exit, Stop; milliseconds per cycle.
std::vector<double> SerialCycles(int n) {
  std::vector<double> ms;
  std::string tmpl = (std::filesystem::temp_directory_path() / "quader-bench-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  ProcessRuntime rt(dir + "/state", ProcessRuntimeOptions{});
  if (!rt.sandboxed()) {
    std::filesystem::remove_all(dir);
    return ms;
  }
  for (int i = 0; i < n; ++i) {
    WorkloadSpec spec;
    spec.name = "cycle-" + std::to_string(i);
    spec.command = {"true"};
    spec.labels = {{"quader.user", "bench"}};
    auto t0 = Clock::now();
    if (!rt.Start(spec).ok()) break;
    auto st = rt.Wait(spec.name, std::chrono::seconds(30));
    (void)rt.Stop(spec.name, std::chrono::seconds(0));
    if (!st.ok() || st->state != WorkloadState::kSucceeded) break;
    ms.push_back(Seconds(Clock::now() - t0) * 1000);
  }
  std::filesystem::remove_all(dir);
  return ms;
}

// The same sandbox started bare, one at a time: bubblewrap (namespaces, the
// read-only system, /proc, /dev, tmpfs) writing its exit status to descriptor
// 3 as the runtime's tasks do, around `true`, posix_spawn and waitpid;
// milliseconds per cycle.
std::vector<double> BareCycles(int n) {
  std::vector<std::string> args = {"/usr/bin/bwrap", "--setenv", "QUADER_WORKLOAD_MARKER", "quader-workload:bare",
                                   "--json-status-fd", "3", "--unshare-user", "--unshare-pid", "--unshare-ipc",
                                   "--unshare-uts", "--unshare-cgroup-try", "--hostname", "quader",
                                   "--symlink", "usr/bin", "/bin", "--ro-bind", "/etc", "/etc",
                                   "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                                   "--ro-bind", "/opt", "/opt", "--symlink", "usr/sbin", "/sbin",
                                   "--ro-bind", "/usr", "/usr", "--ro-bind", "/sys", "/sys",
                                   "--tmpfs", "/sys/fs/cgroup", "--proc", "/proc", "--dev", "/dev",
                                   "--tmpfs", "/tmp", "--tmpfs", "/run", "--dir", "/var",
                                   "--tmpfs", "/var/tmp", "--tmpfs", "/home", "--chdir", "/",
                                   "--clearenv", "--", "/usr/bin/true"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    pid_t pid = 0;
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 3, "/dev/null", O_WRONLY, 0);
    int failed = posix_spawn(&pid, argv[0], &files, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    if (failed != 0) break;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) break;
    ms.push_back(Seconds(Clock::now() - t0) * 1000);
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 200;
  if (n <= 0) {
    std::fprintf(stderr, "usage: %s [N=200]\n", argv[0]);
    return 2;
  }
  ProcessRuntimeOptions sandbox;  // bwrap + cgroups where available
  ProcessRuntimeOptions plain_cgroups;
  plain_cgroups.use_bwrap = false;
  ProcessRuntimeOptions plain_rlimit;
  plain_rlimit.use_bwrap = false;
  plain_rlimit.use_cgroups = false;
  std::vector<Row> rows = {RunMode("bwrap+cgroup", sandbox, n),
                           RunMode("plain+cgroup", plain_cgroups, n),
                           RunMode("plain+rlimit", plain_rlimit, n)};
  std::printf("process runtime spawn rate, N=%d trivial `true` workloads\n", n);
  std::printf("%-16s %10s %12s %14s %10s\n", "mode", "start (s)", "all done (s)", "workloads/s",
              "stop (s)");
  int failed = 0;
  for (const Row& r : rows) {
    if (r.start_s == 0 && r.finish_s == 0) {
      std::printf("%-16s %10s\n", r.mode.c_str(), "-");
      continue;
    }
    std::printf("%-16s %10.2f %12.2f %14.1f %10.2f%s\n", r.mode.c_str(), r.start_s, r.finish_s,
                n / r.finish_s, r.stop_s, r.ok ? "" : "  (FAILED)");
    failed += r.ok ? 0 : 1;
  }

  // One at a time: the latency of a full-isolation start and exit, and the
  // same sandbox started bare, alternating so both see the same machine.
  std::vector<double> full, bare;
  for (int round = 0; round < 4; ++round) {
    for (double x : SerialCycles(n / 4)) full.push_back(x);
    for (double x : BareCycles(n / 4)) bare.push_back(x);
  }
  if (full.empty() || bare.empty()) {
    std::printf("\nserial cycles: no sandbox here (bubblewrap missing or unusable)\n");
    return failed == 0 ? 0 : 1;
  }
  std::printf("\none at a time, start to observed exit (ms)   median      p99   starts/s\n");
  std::printf("%-40s %9.2f %8.2f %10.0f\n", "quader: sandbox + cgroup + own uid", Percentile(full, 50),
              Percentile(full, 99), 1000 / Percentile(full, 50));
  std::printf("%-40s %9.2f %8.2f %10.0f\n", "bare: the same bwrap", Percentile(bare, 50),
              Percentile(bare, 99), 1000 / Percentile(bare, 50));
  std::printf("quader's starts/s as a share of the bare loop: %.0f%% (goal >= 80%%); median %.2f ms (goal <= 10)\n",
              100 * Percentile(bare, 50) / Percentile(full, 50), Percentile(full, 50));
  return failed == 0 ? 0 : 1;
}
