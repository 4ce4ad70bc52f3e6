#include "runtime/kubernetes/mapping.h"

#include <climits>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <set>

#include "runtime/labels.h"

namespace quader::runtime::kubernetes {
namespace {

// Downward-API variables (SPEC §8): they override the local meanings the
// controllers set.
const std::map<std::string, std::string>& FieldVariables() {
  static const std::map<std::string, std::string> vars = {{"K8S_NODE_NAME", "spec.nodeName"},
                                                          {"K8S_POD_NAMESPACE", "metadata.namespace"},
                                                          {"K8S_POD_NAME", "metadata.name"},
                                                          {"K8S_POD_IP", "status.podIP"},
                                                          {"K8S_HOST_IP", "status.hostIP"}};
  return vars;
}

std::string Cpu(double cores) {
  long milli = std::lround(cores * 1000);
  if (milli % 1000 == 0) return std::to_string(milli / 1000);
  return std::to_string(milli) + "m";
}

Json Labels(const WorkloadSpec& spec) {
  Json labels = Json::object();
  for (const auto& [k, v] : spec.labels) labels[k] = v;
  labels[kLabelWorkload] = spec.name;
  labels[kLabelShape] = IsLongLived(spec) ? "deployment" : "pod";
  return labels;
}

std::optional<std::chrono::system_clock::time_point> Time(const Json& v) {
  if (!v.is_string()) return std::nullopt;
  std::tm tm{};
  const std::string s = v.get<std::string>();
  if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  time_t seconds = timegm(&tm);
  // The clock counts nanoseconds in 64 bits (about 1678 to 2262): later is no API time.
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1000000000 - 1;
  if (seconds > kMaxSeconds || seconds < -kMaxSeconds) return std::nullopt;
  return std::chrono::system_clock::from_time_t(seconds);
}

}  // namespace

// Reading API objects without exceptions (a hostile or broken API server
// must not take the server down): a field of the wrong type counts as missing.
const Json& Child(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

const Json& ArrayOr(const Json& object, const char* key) {
  static const Json kEmpty = Json::array();
  const Json& v = Child(object, key);
  return v.is_array() ? v : kEmpty;
}

std::string StringOr(const Json& object, const char* key, const std::string& fallback) {
  const Json& v = Child(object, key);
  return v.is_string() ? v.get<std::string>() : fallback;
}

// An int field; a float, or an integer out of int's range, counts as missing.
int IntOr(const Json& object, const char* key) {
  const Json& v = Child(object, key);
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(INT_MAX) ? v.get<int>() : 0;
  if (!v.is_number_integer()) return 0;
  int64_t n = v.get<int64_t>();
  return n < INT_MIN || n > INT_MAX ? 0 : static_cast<int>(n);
}

bool IsLongLived(const WorkloadSpec& spec) {
  if (spec.restart == RestartPolicy::kAlways) return true;
  auto kind = spec.labels.find(kLabelKind);
  return kind != spec.labels.end() && (kind->second == "service" || kind->second == "notebook");
}

Json PodSpecOf(const WorkloadSpec& spec) {
  Json c = {{"name", "main"}, {"image", spec.image}, {"imagePullPolicy", "IfNotPresent"}};
  if (!spec.command.empty()) c["command"] = spec.command;
  if (!spec.args.empty()) c["args"] = spec.args;
  if (!spec.working_dir.empty()) c["workingDir"] = spec.working_dir;
  Json env = Json::array();
  for (const auto& [k, v] : spec.env) {
    if (FieldVariables().count(k)) continue;
    env.push_back({{"name", k}, {"value", v}});
  }
  for (const auto& [k, path] : FieldVariables()) {
    env.push_back({{"name", k}, {"valueFrom", {{"fieldRef", {{"fieldPath", path}}}}}});
  }
  c["env"] = env;
  if (!spec.ports.empty()) {
    Json ports = Json::array();
    for (const auto& p : spec.ports) {
      std::string proto = p.protocol == "udp" ? "UDP" : "TCP";
      ports.push_back({{"containerPort", p.container_port}, {"protocol", proto}});
    }
    c["ports"] = ports;
  }
  Json limits = Json::object(), requests = Json::object();
  if (spec.resources.cpu > 0) limits["cpu"] = requests["cpu"] = Cpu(spec.resources.cpu);
  if (spec.resources.memory_bytes > 0) {
    limits["memory"] = requests["memory"] = std::to_string(spec.resources.memory_bytes);
  }
  if (spec.resources.gpu > 0) {
    limits["nvidia.com/gpu"] = std::to_string(static_cast<long>(std::ceil(spec.resources.gpu)));
  }
  if (!limits.empty()) c["resources"] = {{"limits", limits}, {"requests", requests}};

  Json volumes = Json::array(), mounts = Json::array();
  std::map<std::string, std::string> claim_volume;  // one volume per claim, however many mounts
  // Kubernetes refuses two mounts at one path; as with bind mounts, the
  // later one wins (a project's `kubeflow-user-workspace(pvc):/mnt` is the
  // user's /mnt/$username).
  std::map<std::string, size_t> last_at;
  for (size_t i = 0; i < spec.mounts.size(); ++i) last_at[spec.mounts[i].target] = i;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const Mount& m = spec.mounts[i];
    if (last_at[m.target] != i) continue;
    Json vm = {{"mountPath", m.target}};
    if (m.read_only) vm["readOnly"] = true;
    if (m.kind == MountKind::kVolume && !m.claim.empty()) {
      auto it = claim_volume.find(m.claim);
      if (it == claim_volume.end()) {
        std::string name = "claim-" + std::to_string(claim_volume.size());
        it = claim_volume.emplace(m.claim, name).first;
        volumes.push_back({{"name", name}, {"persistentVolumeClaim", {{"claimName", m.claim}}}});
      }
      vm["name"] = it->second;
      if (!m.sub_path.empty()) vm["subPath"] = m.sub_path;
    } else {
      std::string name = "vol-" + std::to_string(i);
      Json v = {{"name", name}};
      if (m.kind == MountKind::kMemory) {
        v["emptyDir"] = {{"medium", "Memory"}};
        if (m.size_bytes > 0) v["emptyDir"]["sizeLimit"] = std::to_string(m.size_bytes);
      } else {
        v["hostPath"] = {{"path", m.source}, {"type", "DirectoryOrCreate"}};
      }
      volumes.push_back(v);
      vm["name"] = name;
    }
    mounts.push_back(vm);
  }
  if (!mounts.empty()) c["volumeMounts"] = mounts;

  Json pod = {{"containers", Json::array({c})}};
  if (!volumes.empty()) pod["volumes"] = volumes;
  if (!spec.node_selector.empty()) pod["nodeSelector"] = spec.node_selector;
  pod["restartPolicy"] = spec.restart == RestartPolicy::kAlways      ? "Always"
                         : spec.restart == RestartPolicy::kOnFailure ? "OnFailure"
                                                                     : "Never";
  if (spec.host_network) pod["hostNetwork"] = true;
  pod["enableServiceLinks"] = false;  // thousands of SERVICE_* variables otherwise
  return pod;
}

Json PodManifest(const WorkloadSpec& spec, const std::string& ns) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", spec.name}, {"namespace", ns}, {"labels", Labels(spec)}}},
          {"spec", PodSpecOf(spec)}};
}

Json DeploymentManifest(const WorkloadSpec& spec, const std::string& ns, int replicas) {
  Json labels = Labels(spec);
  labels[kLabelShape] = "deployment";
  Json pod = PodSpecOf(spec);
  pod["restartPolicy"] = "Always";  // the only policy a Deployment takes
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", spec.name}, {"namespace", ns}, {"labels", labels}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", {{kLabelWorkload, spec.name}}}}},
            {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod}}}}}};
}

Json ServiceManifest(const WorkloadSpec& spec, const std::string& ns, const std::string& name) {
  if (spec.ports.empty()) return nullptr;
  Json ports = Json::array();
  std::set<int> seen;
  for (const auto& p : spec.ports) {
    if (!seen.insert(p.container_port).second) continue;
    ports.push_back({{"name", "port-" + std::to_string(p.container_port)},
                     {"port", p.container_port},
                     {"targetPort", p.container_port},
                     {"protocol", p.protocol == "udp" ? "UDP" : "TCP"}});
  }
  Json labels = Json::object();
  for (const auto& [k, v] : spec.labels) labels[k] = v;
  labels[kLabelWorkload] = spec.name;
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
          {"spec", {{"type", "ClusterIP"}, {"selector", {{kLabelWorkload, spec.name}}}, {"ports", ports}}}};
}

std::optional<double> ParseQuantity(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) return std::nullopt;
  static const std::map<std::string, double> suffix = {
      {"", 1},      {"n", 1e-9},   {"u", 1e-6},         {"m", 1e-3},          {"k", 1e3},
      {"M", 1e6},   {"G", 1e9},    {"T", 1e12},         {"Ki", 1024.0},       {"Mi", 1048576.0},
      {"Gi", 1073741824.0},        {"Ti", 1099511627776.0}};
  auto it = suffix.find(end);
  if (it == suffix.end()) return std::nullopt;
  return v * it->second;
}

WorkloadStatus StatusOfPod(const Json& pod) {
  WorkloadStatus s;
  const Json& meta = Child(pod, "metadata");
  const Json& status = Child(pod, "status");
  const Json& spec = Child(pod, "spec");
  s.id = StringOr(meta, "name");
  const Json& labels = Child(meta, "labels");
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) {
      if (v.is_string()) s.labels[k] = v.get<std::string>();
    }
  }
  s.name = s.labels.count(kLabelWorkload) ? s.labels[kLabelWorkload] : s.id;
  s.node = StringOr(spec, "nodeName");
  s.address = StringOr(status, "podIP");
  for (const auto& c : ArrayOr(spec, "containers")) {
    for (const auto& p : ArrayOr(c, "ports")) {
      int port = IntOr(p, "containerPort");
      s.ports.push_back({port, port, StringOr(p, "protocol", "TCP") == "UDP" ? "udp" : "tcp"});
    }
  }
  s.started_at = Time(Child(status, "startTime"));
  std::string phase = StringOr(status, "phase", "Pending");
  s.state = phase == "Running"     ? WorkloadState::kRunning
            : phase == "Succeeded" ? WorkloadState::kSucceeded
            : phase == "Failed"    ? WorkloadState::kFailed
            : phase == "Pending"   ? WorkloadState::kPending
                                   : WorkloadState::kUnknown;
  s.reason = StringOr(status, "message");
  for (const auto& cs : ArrayOr(status, "containerStatuses")) {
    const Json& state = Child(cs, "state");
    if (state.contains("terminated")) {
      const Json& t = Child(state, "terminated");
      s.exit_code = IntOr(t, "exitCode");
      s.oom_killed = StringOr(t, "reason") == "OOMKilled";
      s.finished_at = Time(Child(t, "finishedAt"));
      if (s.reason.empty() && *s.exit_code != 0) {
        s.reason = StringOr(t, "reason");
        std::string message = StringOr(t, "message");
        if (!message.empty()) s.reason += (s.reason.empty() ? "" : ": ") + message;
      }
    } else if (state.contains("waiting")) {
      const Json& w = Child(state, "waiting");
      std::string why = StringOr(w, "reason");
      // Pods that cannot pull or configure their container wait forever:
      // for Quader that workload could not start.
      static const std::set<std::string> fatal = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName",
                                                  "CreateContainerConfigError", "CrashLoopBackOff",
                                                  "CreateContainerError"};
      if (fatal.count(why)) {
        s.state = WorkloadState::kFailed;
        s.reason = why + (w.contains("message") ? ": " + StringOr(w, "message") : "");
        const Json& last = Child(Child(cs, "lastState"), "terminated");
        if (last.is_object()) {
          s.exit_code = IntOr(last, "exitCode");
          s.oom_killed = StringOr(last, "reason") == "OOMKilled";
        }
      }
    }
    break;  // one container per pod
  }
  for (const auto& c : ArrayOr(status, "conditions")) {
    if (StringOr(c, "type") == "Ready") s.ready = StringOr(c, "status") == "True";
  }
  if (s.state != WorkloadState::kRunning) s.ready = false;
  if (s.state == WorkloadState::kSucceeded && !s.exit_code) s.exit_code = 0;
  if (meta.contains("deletionTimestamp") && s.state == WorkloadState::kRunning) {
    s.reason = "terminating";
    s.ready = false;
  }
  return s;
}

}  // namespace quader::runtime::kubernetes
