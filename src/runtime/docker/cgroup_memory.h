#pragma once
// Reads the kernel's OOM-kill counter of a process's memory cgroup. The engine
// cannot always be trusted to report OOM kills (Podman 4.3 says OOMKilled=false),
// but the kernel counts them per cgroup. The cgroup disappears when the
// container exits, so this only helps while it still runs (e.g. a child process
// was OOM-killed); the DockerRuntime remembers what it saw.

#include <cstdint>
#include <optional>
#include <string>

namespace quader::runtime::docker {

// The `oom_kill` count of the memory cgroup that process `pid` belongs to:
// memory.events on cgroup v2, memory.oom_control on v1 (kernel ≥ 4.13).
// `proc_root` and `cgroup_root` are "/proc" and "/sys/fs/cgroup" except in
// tests. nullopt when the process, its cgroup or the counter cannot be read.
std::optional<int64_t> ReadOomKillCount(int pid, const std::string& proc_root = "/proc",
                                        const std::string& cgroup_root = "/sys/fs/cgroup");

}  // namespace quader::runtime::docker
