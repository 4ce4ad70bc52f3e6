#pragma once
// Pure translations between Quader's workload model (runtime/runtime.h) and the
// Docker Engine API's JSON (API 1.41, as served by Docker and by Podman's
// compat service). No I/O here: the DockerRuntime does the calls, these
// functions do the mapping, and tests check them without an engine.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/documents.h"
#include "core/status.h"
#include "runtime/runtime.h"

namespace quader::runtime::docker {

// Exit code of a process killed by SIGKILL (128 + 9): what the kernel's OOM
// killer leaves behind, and what `stop` leaves after its grace period.
inline constexpr int kSigkillExitCode = 137;

// Checks a spec against what the engine can do. kInvalidArgument names the
// field and the bad value ("mounts[1].target: must be an absolute path").
[[nodiscard]] Status ValidateSpec(const WorkloadSpec& spec);

// The body of POST /containers/create?name=<spec.name>. Validates first.
// Mapping: command → Entrypoint, args → Cmd (with a command and no args, Cmd is
// [] so the image's CMD is not appended); env → Env; labels (plus
// quader.managed=true) → Labels; hostpath and volume mounts → HostConfig.Binds
// (":ro" when read-only); memory mounts → HostConfig.Tmpfs with size and mode
// 1777; memory → Memory and MemorySwap (no swap, so a limit is a limit); cpu →
// NanoCpus; gpu → one DeviceRequest for ceil(gpu) GPUs (engines cannot share
// a GPU); ports → PortBindings on 127.0.0.1 only, host port "" (engine's
// choice) for 0; restart → RestartPolicy. node_selector is ignored: an engine
// is one node. Tty is off, so logs use the multiplexed stream format.
[[nodiscard]] Result<Json> MakeCreateBody(const WorkloadSpec& spec);

// What the runtime knows about a container beyond its inspect JSON.
struct InspectFacts {
  bool stop_requested = false;  // Stop() was called for it by this runtime
  bool oom_seen = false;        // its cgroup's oom_kill counter was seen above 0
  std::string node;             // this machine's name
};

// Maps the reply of GET /containers/{id}/json to a status.
// State: created/configured/initialized → pending; running/paused/restarting →
// running; exited/stopped/dead → succeeded (exit 0) or failed; else unknown.
// OOM: State.OOMKilled, or `facts.oom_seen`, or — because Podman reports
// OOMKilled=false after an OOM kill — the heuristic "exit code 137 with a
// memory limit set and no stop requested by us". started_at is never after
// finished_at (Podman can stamp a very short process that way).
WorkloadStatus StatusFromInspect(const Json& inspect, const InspectFacts& facts);

// Parses the engine's RFC 3339 times ("2026-11-29T03:41:06.461102963Z",
// offsets allowed). nullopt for the zero time "0001-01-01T00:00:00Z" and for
// anything unparsable.
std::optional<std::chrono::system_clock::time_point> ParseEngineTime(std::string_view text);

// The CPU counters of one stats sample (its `cpu_stats` or `precpu_stats`).
struct CpuCounters {
  double container_ns = 0;  // cpu_usage.total_usage
  double system_ns = 0;     // system_cpu_usage: host CPU time over all CPUs
  int online_cpus = 0;      // online_cpus, or the length of percpu_usage
};
CpuCounters ReadCpuCounters(const Json& cpu_stats);

// Cores used between two samples: Docker's formula (container delta / host
// delta × online CPUs) when the host counter moved, else container delta /
// `wall`. 0 when neither can be computed.
double CpuCores(const CpuCounters& before, const CpuCounters& after, std::chrono::nanoseconds wall);

// Memory in use from `memory_stats`: usage less the inactive page cache
// (stats.total_inactive_file on cgroup v1, stats.inactive_file on v2), as
// `docker stats` reports it.
int64_t MemoryInUse(const Json& memory_stats);

// The container path of a PortMapping key ("8000/tcp").
std::string PortKey(int container_port, const std::string& protocol);

}  // namespace quader::runtime::docker
