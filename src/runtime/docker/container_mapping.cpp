#include "runtime/docker/container_mapping.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <set>
#include <string>

#include "runtime/labels.h"

namespace quader::runtime::docker {
namespace {

// --- Reading engine JSON without exceptions -------------------------------

const Json* Find(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const Json& Child(const Json& object, const char* key) {
  static const Json kNull;
  const Json* found = Find(object, key);
  return found ? *found : kNull;
}

std::string StringOr(const Json& object, const char* key, std::string fallback = "") {
  const Json* found = Find(object, key);
  return found && found->is_string() ? found->get<std::string>() : fallback;
}

int64_t IntOr(const Json& object, const char* key, int64_t fallback = 0) {
  const Json* found = Find(object, key);
  if (!found || !found->is_number()) return fallback;
  return found->is_number_float() ? static_cast<int64_t>(found->get<double>())
                                  : found->get<int64_t>();
}

double DoubleOr(const Json& object, const char* key) {
  const Json* found = Find(object, key);
  return found && found->is_number() ? found->get<double>() : 0;
}

bool BoolOr(const Json& object, const char* key) {
  const Json* found = Find(object, key);
  return found && found->is_boolean() && found->get<bool>();
}

// --- Validation -----------------------------------------------------------

bool IsNameChar(char c, bool first) {
  bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || (!first && (c == '_' || c == '.' || c == '-'));
}

Status ValidateName(const std::string& name) {
  // Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (Podman accepts a superset).
  bool ok = name.size() >= 2 && name.size() <= 128;
  for (size_t i = 0; ok && i < name.size(); ++i) ok = IsNameChar(name[i], i == 0);
  if (!ok) {
    return errors::Invalid("name", "\"" + name +
                                       "\" must be 2-128 characters of [a-zA-Z0-9_.-], "
                                       "starting with a letter or digit");
  }
  return Status::Ok();
}

Status ValidateMounts(const std::vector<Mount>& mounts) {
  std::set<std::string> targets;
  for (size_t i = 0; i < mounts.size(); ++i) {
    const Mount& m = mounts[i];
    std::string field = "mounts[" + std::to_string(i) + "]";
    if (m.target.empty() || m.target[0] != '/') {
      return errors::Invalid(field + ".target", "\"" + m.target + "\" must be an absolute path");
    }
    if (!targets.insert(m.target).second) {
      return errors::Invalid(field + ".target", "\"" + m.target + "\" is mounted twice");
    }
    if (m.kind != MountKind::kMemory && (m.source.empty() || m.source[0] != '/')) {
      return errors::Invalid(field + ".source",
                             "\"" + m.source + "\" must be an absolute host path");
    }
    if (m.target.find(':') != std::string::npos || m.source.find(':') != std::string::npos) {
      return errors::Invalid(field, "paths must not contain ':'");
    }
    if (m.size_bytes < 0) {
      return errors::Invalid(field + ".size_bytes", std::to_string(m.size_bytes) + " is negative");
    }
  }
  return Status::Ok();
}

Status ValidatePorts(const std::vector<PortMapping>& ports) {
  std::set<std::string> seen;
  for (size_t i = 0; i < ports.size(); ++i) {
    const PortMapping& p = ports[i];
    std::string field = "ports[" + std::to_string(i) + "]";
    if (p.container_port < 1 || p.container_port > 65535) {
      return errors::Invalid(field + ".container_port",
                             std::to_string(p.container_port) + " is not in 1-65535");
    }
    if (p.host_port < 0 || p.host_port > 65535) {
      return errors::Invalid(field + ".host_port",
                             std::to_string(p.host_port) + " is not in 0-65535");
    }
    if (p.protocol != "tcp" && p.protocol != "udp") {
      return errors::Invalid(field + ".protocol", "\"" + p.protocol + "\" must be tcp or udp");
    }
    if (!seen.insert(PortKey(p.container_port, p.protocol)).second) {
      return errors::Invalid(field, PortKey(p.container_port, p.protocol) + " is published twice");
    }
  }
  return Status::Ok();
}

Status ValidateResources(const Resources& r) {
  if (!(r.cpu >= 0) || r.cpu > 4096) {
    return errors::Invalid("resources.cpu", std::to_string(r.cpu) + " is not a CPU count");
  }
  if (r.memory_bytes < 0) {
    return errors::Invalid("resources.memory", std::to_string(r.memory_bytes) + " is negative");
  }
  if (r.memory_bytes > 0 && r.memory_bytes < (6 << 20)) {
    // Docker refuses less than 6 MiB; say so before the engine does.
    return errors::Invalid("resources.memory",
                           std::to_string(r.memory_bytes) + " bytes is below the 6 MiB minimum");
  }
  if (!(r.gpu >= 0) || r.gpu > 1024) {
    return errors::Invalid("resources.gpu", std::to_string(r.gpu) + " is not a GPU count");
  }
  return Status::Ok();
}

// --- Building the create body ----------------------------------------------

Json MakeHostConfig(const WorkloadSpec& spec) {
  Json binds = Json::array();
  Json tmpfs = Json::object();
  for (const Mount& m : spec.mounts) {
    if (m.kind == MountKind::kMemory) {
      std::string options = "mode=1777";
      if (m.size_bytes > 0) options = "size=" + std::to_string(m.size_bytes) + "," + options;
      if (m.read_only) options += ",ro";
      tmpfs[m.target] = options;
    } else {
      binds.push_back(m.source + ":" + m.target + (m.read_only ? ":ro" : ""));
    }
  }
  Json port_bindings = Json::object();
  for (const PortMapping& p : spec.ports) {
    std::string host_port = p.host_port > 0 ? std::to_string(p.host_port) : "";
    // 127.0.0.1 only: nothing in Quader may be reachable from outside but through the gateway.
    port_bindings[PortKey(p.container_port, p.protocol)] =
        Json::array({{{"HostIp", "127.0.0.1"}, {"HostPort", host_port}}});
  }
  const char* restart = spec.restart == RestartPolicy::kAlways      ? "always"
                        : spec.restart == RestartPolicy::kOnFailure ? "on-failure"
                                                                    : "no";
  Json host = {{"Binds", binds},
               {"Tmpfs", tmpfs},
               {"PortBindings", port_bindings},
               {"RestartPolicy", {{"Name", restart}}}};
  if (spec.host_network) host["NetworkMode"] = "host";
  if (spec.resources.memory_bytes > 0) {
    host["Memory"] = spec.resources.memory_bytes;
    host["MemorySwap"] = spec.resources.memory_bytes;  // equal to Memory: no swap
  }
  if (spec.resources.cpu > 0) {
    host["NanoCpus"] = static_cast<int64_t>(std::llround(spec.resources.cpu * 1e9));
  }
  if (spec.resources.gpu > 0) {
    host["DeviceRequests"] =
        Json::array({{{"Driver", ""},
                      {"Count", static_cast<int64_t>(std::ceil(spec.resources.gpu))},
                      {"Capabilities", Json::array({Json::array({"gpu"})})}}});
  }
  return host;
}

// --- Reading inspect ---------------------------------------------------------

WorkloadState StateFromEngine(const std::string& status, int exit_code) {
  if (status == "created" || status == "configured" || status == "initialized") {
    return WorkloadState::kPending;
  }
  if (status == "running" || status == "paused" || status == "restarting") {
    return WorkloadState::kRunning;
  }
  if (status == "exited" || status == "stopped" || status == "dead") {
    return exit_code == 0 ? WorkloadState::kSucceeded : WorkloadState::kFailed;
  }
  return WorkloadState::kUnknown;
}

// "8000/tcp" → {8000, "tcp"}; false when malformed.
bool ParsePortKey(const std::string& key, int* port, std::string* protocol) {
  size_t slash = key.find('/');
  *protocol = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
  *port = std::atoi(key.substr(0, slash).c_str());
  return *port > 0;
}

// Published ports: NetworkSettings.Ports (actual host ports) while running,
// else HostConfig.PortBindings (what was asked for). NetworkSettings.Ports
// also lists the image's EXPOSEd ports that were not published (bound to
// null): those are left out, or a port the image exposes would stand before
// the published ones (the keys come sorted) with no host port.
std::vector<PortMapping> PortsFromInspect(const Json& inspect) {
  const Json* ports = Find(Child(inspect, "NetworkSettings"), "Ports");
  bool published_only = true;
  if (!ports || !ports->is_object() || ports->empty()) {
    ports = Find(Child(inspect, "HostConfig"), "PortBindings");
    published_only = false;
  }
  std::vector<PortMapping> out;
  if (!ports || !ports->is_object()) return out;
  for (const auto& [key, bindings] : ports->items()) {
    PortMapping mapping;
    if (!ParsePortKey(key, &mapping.container_port, &mapping.protocol)) continue;
    bool bound = bindings.is_array() && !bindings.empty();
    if (published_only && !bound) continue;
    if (bound) mapping.host_port = std::atoi(StringOr(bindings[0], "HostPort").c_str());
    out.push_back(mapping);
  }
  return out;
}

std::string FailureReason(const WorkloadStatus& status, int64_t memory_limit,
                          const std::string& engine_error) {
  std::string reason;
  if (status.oom_killed) {
    reason = "OOM-killed: exceeded its memory limit of " + std::to_string(memory_limit) +
             " bytes (exit code " + std::to_string(status.exit_code.value_or(0)) + ")";
  } else if (status.state == WorkloadState::kFailed && status.exit_code) {
    reason = "exited with code " + std::to_string(*status.exit_code);
  }
  if (!engine_error.empty()) reason += (reason.empty() ? "" : ": ") + engine_error;
  return reason;
}

}  // namespace

std::string PortKey(int container_port, const std::string& protocol) {
  return std::to_string(container_port) + "/" + protocol;
}

Status ValidateSpec(const WorkloadSpec& spec) {
  QUADER_RETURN_IF_ERROR(ValidateName(spec.name));
  if (spec.image.empty()) return errors::Invalid("image", "must not be empty");
  for (const auto& [key, value] : spec.env) {
    if (key.empty() || key.find('=') != std::string::npos) {
      return errors::Invalid("env", "\"" + key + "\" is not a variable name");
    }
  }
  for (const auto& [key, value] : spec.labels) {
    if (key.empty()) return errors::Invalid("labels", "a label key is empty");
  }
  if (!spec.working_dir.empty() && spec.working_dir[0] != '/') {
    return errors::Invalid("working_dir", "\"" + spec.working_dir + "\" must be an absolute path");
  }
  QUADER_RETURN_IF_ERROR(ValidateMounts(spec.mounts));
  QUADER_RETURN_IF_ERROR(ValidatePorts(spec.ports));
  return ValidateResources(spec.resources);
}

Result<Json> MakeCreateBody(const WorkloadSpec& spec) {
  QUADER_RETURN_IF_ERROR(ValidateSpec(spec));
  Json env = Json::array();
  for (const auto& [key, value] : spec.env) env.push_back(key + "=" + value);
  Json labels = Json::object();
  for (const auto& [key, value] : spec.labels) labels[key] = value;
  labels[kLabelManaged] = "true";
  Json exposed = Json::object();
  for (const PortMapping& p : spec.ports)
    exposed[PortKey(p.container_port, p.protocol)] = Json::object();

  Json body = {{"Image", spec.image},
               {"Env", env},
               {"Labels", labels},
               {"Tty", false},
               {"OpenStdin", false},
               {"AttachStdout", false},
               {"AttachStderr", false},
               {"ExposedPorts", exposed},
               {"HostConfig", MakeHostConfig(spec)}};
  if (!spec.command.empty()) {
    body["Entrypoint"] = spec.command;
    body["Cmd"] = spec.args;  // [] when empty: the image's CMD belongs to its own entrypoint
  } else if (!spec.args.empty()) {
    body["Cmd"] = spec.args;
  }
  if (!spec.working_dir.empty()) body["WorkingDir"] = spec.working_dir;
  return body;
}

WorkloadStatus StatusFromInspect(const Json& inspect, const InspectFacts& facts) {
  const Json& state = Child(inspect, "State");
  const Json& config = Child(inspect, "Config");
  WorkloadStatus status;
  status.id = StringOr(inspect, "Id");
  status.name = StringOr(inspect, "Name");
  if (!status.name.empty() && status.name[0] == '/') status.name.erase(0, 1);
  status.node = facts.node;
  if (const Json* labels = Find(config, "Labels"); labels && labels->is_object()) {
    for (const auto& [key, value] : labels->items()) {
      if (value.is_string()) status.labels[key] = value.get<std::string>();
    }
  }
  status.ports = PortsFromInspect(inspect);

  int exit_code = static_cast<int>(IntOr(state, "ExitCode"));
  status.state = StateFromEngine(StringOr(state, "Status"), exit_code);
  bool finished =
      status.state == WorkloadState::kSucceeded || status.state == WorkloadState::kFailed;
  if (finished) status.exit_code = exit_code;
  status.started_at = ParseEngineTime(StringOr(state, "StartedAt"));
  if (finished) status.finished_at = ParseEngineTime(StringOr(state, "FinishedAt"));
  if (status.started_at && status.finished_at && *status.finished_at < *status.started_at) {
    // Podman stamps StartedAt after runc returns; a process quicker than that
    // "finishes" a millisecond before it "started".
    status.started_at = status.finished_at;
  }

  int64_t memory_limit = IntOr(Child(inspect, "HostConfig"), "Memory");
  // Podman reports OOMKilled=false after an OOM kill (MACHINE-NOTES.md). A SIGKILL
  // exit under a memory limit that we did not cause by stopping is, in practice, the
  // kernel's OOM killer; an outside `podman kill -9` would be misread, and is rare.
  bool heuristic =
      finished && exit_code == kSigkillExitCode && memory_limit > 0 && !facts.stop_requested;
  status.oom_killed =
      BoolOr(state, "OOMKilled") || (finished && exit_code != 0 && facts.oom_seen) || heuristic;
  if (status.oom_killed && finished) status.state = WorkloadState::kFailed;
  status.reason = FailureReason(status, memory_limit, StringOr(state, "Error"));
  return status;
}

std::optional<std::chrono::system_clock::time_point> ParseEngineTime(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  std::tm tm{};
  int consumed = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  if (tm.tm_year <= 1) return std::nullopt;  // Go's zero time: never happened
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  size_t pos = static_cast<size_t>(consumed);
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    int64_t scale = 100000000;
    for (++pos; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos) {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
    }
  }
  int64_t offset_seconds = 0;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int hours = 0, minutes = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &hours, &minutes) != 2) return std::nullopt;
    offset_seconds = (hours * 3600 + minutes * 60) * (s[pos] == '-' ? -1 : 1);
  } else if (pos >= s.size() || s[pos] != 'Z') {
    return std::nullopt;
  }
  time_t seconds = timegm(&tm) - offset_seconds;
  // The clock counts nanoseconds in 64 bits (about 1678 to 2262): later is no engine time.
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1000000000 - 1;
  if (seconds > kMaxSeconds || seconds < -kMaxSeconds) return std::nullopt;
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)));
}

CpuCounters ReadCpuCounters(const Json& cpu_stats) {
  CpuCounters counters;
  const Json& usage = Child(cpu_stats, "cpu_usage");
  counters.container_ns = DoubleOr(usage, "total_usage");
  counters.system_ns = DoubleOr(cpu_stats, "system_cpu_usage");
  counters.online_cpus = static_cast<int>(IntOr(cpu_stats, "online_cpus"));
  if (counters.online_cpus == 0) {
    const Json* per_cpu = Find(usage, "percpu_usage");
    if (per_cpu && per_cpu->is_array()) counters.online_cpus = static_cast<int>(per_cpu->size());
  }
  return counters;
}

double CpuCores(const CpuCounters& before, const CpuCounters& after,
                std::chrono::nanoseconds wall) {
  double container = after.container_ns - before.container_ns;
  if (container <= 0) return 0;
  double system = after.system_ns - before.system_ns;
  int cpus = after.online_cpus > 0 ? after.online_cpus : before.online_cpus;
  if (before.system_ns > 0 && system > 0 && cpus > 0) return container / system * cpus;
  if (wall.count() > 0) return container / static_cast<double>(wall.count());
  return 0;
}

int64_t MemoryInUse(const Json& memory_stats) {
  int64_t usage = IntOr(memory_stats, "usage");
  const Json& detail = Child(memory_stats, "stats");
  int64_t inactive = IntOr(detail, "total_inactive_file", IntOr(detail, "inactive_file"));
  return inactive > 0 && inactive < usage ? usage - inactive : usage;
}

}  // namespace quader::runtime::docker
