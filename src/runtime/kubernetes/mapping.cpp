#include "runtime/kubernetes/mapping.h"

#include <cmath>
#include <cstdlib>
#include <ctime>
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
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

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
  const Json& meta = pod.value("metadata", Json::object());
  const Json& status = pod.value("status", Json::object());
  s.id = meta.value("name", "");
  const Json labels = meta.value("labels", Json::object());
  for (const auto& [k, v] : labels.items()) {
    if (v.is_string()) s.labels[k] = v.get<std::string>();
  }
  s.name = s.labels.count(kLabelWorkload) ? s.labels[kLabelWorkload] : s.id;
  s.node = pod.value("spec", Json::object()).value("nodeName", "");
  s.address = status.value("podIP", "");
  for (const auto& c : pod.value("spec", Json::object()).value("containers", Json::array())) {
    for (const auto& p : c.value("ports", Json::array())) {
      int port = p.value("containerPort", 0);
      s.ports.push_back({port, port, p.value("protocol", "TCP") == "UDP" ? "udp" : "tcp"});
    }
  }
  s.started_at = Time(status.value("startTime", Json()));
  std::string phase = status.value("phase", "Pending");
  s.state = phase == "Running"     ? WorkloadState::kRunning
            : phase == "Succeeded" ? WorkloadState::kSucceeded
            : phase == "Failed"    ? WorkloadState::kFailed
            : phase == "Pending"   ? WorkloadState::kPending
                                   : WorkloadState::kUnknown;
  s.reason = status.value("message", "");
  for (const auto& cs : status.value("containerStatuses", Json::array())) {
    const Json& state = cs.value("state", Json::object());
    if (state.contains("terminated")) {
      const Json& t = state["terminated"];
      s.exit_code = t.value("exitCode", 0);
      s.oom_killed = t.value("reason", "") == "OOMKilled";
      s.finished_at = Time(t.value("finishedAt", Json()));
      if (s.reason.empty() && *s.exit_code != 0) {
        s.reason = t.value("reason", "");
        std::string message = t.value("message", "");
        if (!message.empty()) s.reason += (s.reason.empty() ? "" : ": ") + message;
      }
    } else if (state.contains("waiting")) {
      const Json& w = state["waiting"];
      std::string why = w.value("reason", "");
      // Pods that cannot pull or configure their container wait forever:
      // for Quader that workload could not start.
      static const std::set<std::string> fatal = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName",
                                                  "CreateContainerConfigError", "CrashLoopBackOff",
                                                  "CreateContainerError"};
      if (fatal.count(why)) {
        s.state = WorkloadState::kFailed;
        s.reason = why + (w.contains("message") ? ": " + w.value("message", "") : "");
        const Json& last = cs.value("lastState", Json::object());
        if (last.contains("terminated")) {
          s.exit_code = last["terminated"].value("exitCode", 0);
          s.oom_killed = last["terminated"].value("reason", "") == "OOMKilled";
        }
      }
    }
    break;  // one container per pod
  }
  for (const auto& c : status.value("conditions", Json::array())) {
    if (c.value("type", "") == "Ready") s.ready = c.value("status", "") == "True";
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
