// Benchmark: the process runtime's spawn rate. Starts N trivial workloads
// (`true`), waits until every one has finished, then stops (removes) them
// all, in each way the runtime can run a process on this machine:
//
//   process_spawn_bench [N=200]
//
// Prints one row per mode: workloads/s from the first Start to the last
// observed exit (the figure to quote), and the time Stop took for all N.
// These machines are shared and noisy: compare modes within one run.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/process/process_runtime.h"

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
  return failed == 0 ? 0 : 1;
}
