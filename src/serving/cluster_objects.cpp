#include "serving/cluster_objects.h"

#include "runtime/kubernetes/mapping.h"
#include "runtime/labels.h"

namespace quader::serving {
namespace k8s = runtime::kubernetes;
namespace {

std::string ClusterHost(const std::string& name, const std::string& ns) {
  return name + "." + ns + ".svc.cluster.local";
}

Json Metadata(const std::string& name, const std::string& ns, const std::map<std::string, std::string>& labels) {
  return {{"name", name}, {"namespace", ns}, {"labels", labels}};
}

// The readiness probe of `health`, or of a TCP connect to the first port.
Json Readiness(const Plan& p) {
  Json probe;
  if (p.health && p.health->kind == gateway::HealthSpec::Kind::kShell) {
    probe = {{"exec", {{"command", Json::array({"/bin/sh", "-c", p.health->command})}}}};
  } else if (p.health) {
    probe = {{"httpGet", {{"path", p.health->path}, {"port", p.health->port}}}};
  } else if (!p.container.ports.empty()) {
    probe = {{"tcpSocket", {{"port", p.container.ports.front()}}}};
  } else {
    return nullptr;
  }
  probe["periodSeconds"] = 2;
  probe["failureThreshold"] = 3;
  return probe;
}

Json Hpa(const std::string& name, const std::string& ns, const Plan& p,
         const std::map<std::string, std::string>& labels) {
  Json metrics = Json::array();
  auto resource = [&](const char* which, int percent) {
    metrics.push_back({{"type", "Resource"},
                       {"resource",
                        {{"name", which}, {"target", {{"type", "Utilization"}, {"averageUtilization", percent}}}}}});
  };
  if (p.hpa.cpu) resource("cpu", *p.hpa.cpu);
  if (p.hpa.mem) resource("memory", *p.hpa.mem);
  if (metrics.empty()) resource("cpu", 80);  // cube-studio's default target
  return {{"apiVersion", "autoscaling/v2"},
          {"kind", "HorizontalPodAutoscaler"},
          {"metadata", Metadata(name, ns, labels)},
          {"spec",
           {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", name}}},
            {"minReplicas", p.min_replicas},
            {"maxReplicas", p.max_replicas},
            {"metrics", metrics}}}};
}

Json VirtualService(const store::ServiceRecord& s, const std::string& ns, const Plan& p, int port,
                    const ClusterObjectOptions& options, const std::map<std::string, std::string>& labels) {
  std::vector<std::string> hosts;
  if (!p.inference || p.stage == store::kStageOnline) hosts.push_back(p.hosts.production);
  if (p.inference && p.stage == store::kStageTest) hosts.push_back(p.hosts.test);
  if (p.inference && p.stage == store::kStageDebug) hosts.push_back(p.hosts.debug);
  Json route = Json::array();
  int rest = 100;
  for (const auto& [other, weight] : p.canary) rest -= weight;
  route.push_back({{"destination", {{"host", ClusterHost(s.name, ns)}, {"port", {{"number", port}}}}},
                   {"weight", rest}});
  for (const auto& [other, weight] : p.canary) {
    route.push_back({{"destination", {{"host", ClusterHost(other, ns)}, {"port", {{"number", port}}}}},
                     {"weight", weight}});
  }
  Json http = {{"route", route}};
  // Istio mirrors each route to one destination: the first shadow (by name).
  if (!p.shadow.empty()) {
    const auto& [target, percent] = *p.shadow.begin();
    http["mirror"] = {{"host", ClusterHost(target, ns)}, {"port", {{"number", port}}}};
    http["mirrorPercentage"] = {{"value", percent}};
  }
  std::map<std::string, std::string> route_labels = labels;
  route_labels[kLabelRoute] = "true";
  return {{"apiVersion", "networking.istio.io/v1beta1"},
          {"kind", "VirtualService"},
          {"metadata", Metadata(s.name, ns, route_labels)},
          {"spec",
           {{"hosts", hosts}, {"gateways", Json::array({options.istio_gateway})}, {"http", Json::array({http})}}}};
}

}  // namespace

std::map<std::string, std::string> OwnerLabels(const store::ServiceRecord& s, const std::string& instance) {
  return {{runtime::kLabelManaged, "true"},
          {runtime::kLabelInstance, instance},
          {runtime::kLabelProject, s.project},
          {runtime::kLabelKind, "service"},
          {runtime::kLabelOwner, std::to_string(s.id)}};
}

std::vector<Json> ServiceObjects(const store::ServiceRecord& s, const Plan& p, const auth::ProjectSettings& project,
                                 const ClusterObjectOptions& options) {
  ReplicaSite site{options.data_dir, options.instance, "", false};
  runtime::WorkloadSpec w = ReplicaSpec(s, p, project, site, 0);
  w.name = s.name;
  w.labels.erase(runtime::kLabelReplica);  // every pod is alike
  w.restart = runtime::RestartPolicy::kAlways;
  const auto labels = OwnerLabels(s, options.instance);
  const std::string& ns = options.ns;
  bool autoscaled = p.inference && p.min_replicas != p.max_replicas;

  std::vector<Json> out;
  Json d = k8s::DeploymentManifest(w, ns, autoscaled ? p.min_replicas : p.replicas);
  d["spec"]["strategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 0}}}};
  Json probe = Readiness(p);
  if (!probe.is_null()) d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = probe;
  if (autoscaled) d["metadata"]["annotations"] = {{k8s::kAnnotationAutoscaled, "true"}};
  out.push_back(d);
  Json svc = k8s::ServiceManifest(w, ns, s.name);
  if (!svc.is_null()) {
    svc["metadata"]["labels"] = labels;
    out.push_back(svc);
    if (!project.external_ips.empty()) {
      Json ext = svc;
      ext["metadata"]["name"] = s.name + "-external";
      ext["spec"]["externalIPs"] = project.external_ips;
      out.push_back(ext);
    }
  }
  if (autoscaled) out.push_back(Hpa(s.name, ns, p, labels));
  if (options.istio && !p.container.ports.empty()) {
    out.push_back(VirtualService(s, ns, p, p.container.ports.front(), options, labels));
  }
  return out;
}

}  // namespace quader::serving
