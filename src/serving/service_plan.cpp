#include "serving/service_plan.h"

#include "registry/blob_store.h"
#include "registry/datasets.h"
#include "runtime/labels.h"
#include "runtime/probe.h"
#include "workload/mounts.h"

namespace quader::serving {

// KUBEFLOW_ENV of a stage (cube-studio: debug, test, prod).
std::string EnvName(const std::string& stage) { return stage == store::kStageOnline ? "prod" : stage; }

Result<Plan> PlanOf(const store::ServiceRecord& s, const std::string& domain, const std::string& area) {
  Json doc = Json::parse(s.spec, nullptr, false);
  if (doc.is_discarded()) return errors::Internal("the stored spec is not JSON");
  Plan p;
  if (s.kind == "InferenceService") {
    QUADER_ASSIGN_OR_RETURN(InferenceServiceSpec spec, ParseInferenceServiceSpec(doc));
    QUADER_ASSIGN_OR_RETURN(p.hosts, ResolveHosts(spec, domain));
    p.container = spec.container;
    p.health = spec.health;
    p.inference = true;
    p.canary = spec.canary;
    p.shadow = spec.shadow;
    p.stage = s.stage;
    p.min_replicas = spec.min_replicas;
    p.max_replicas = spec.max_replicas;
    p.hpa = spec.hpa;
    p.model_ref_name = spec.model_ref_name;
    p.model_ref_version = spec.model_ref_version;
    p.model_ref_target = spec.ModelRefTarget();
    // The stage decides the count: debug one, test min, online the
    // autoscaler's (between min and max), offline none.
    if (s.stage == store::kStageOffline) {
      p.replicas = 0;
    } else if (s.stage == store::kStageDebug) {
      p.replicas = 1;
      p.idle = s.debug_idle;
    } else if (s.stage == store::kStageOnline && spec.max_replicas > spec.min_replicas) {
      p.autoscaled = true;
      p.replicas = s.scaled_replicas >= spec.min_replicas && s.scaled_replicas <= spec.max_replicas
                       ? s.scaled_replicas
                       : spec.min_replicas;
    } else {
      p.replicas = spec.min_replicas;
    }
    // SPEC §8.
    p.model_env = {{"KUBEFLOW_ENV", EnvName(s.stage)},
                   {"KUBEFLOW_MODEL_PATH", spec.model_path},
                   {"KUBEFLOW_MODEL_VERSION", spec.model_version},
                   {"KUBEFLOW_MODEL_IMAGES", spec.container.image},
                   {"KUBEFLOW_MODEL_NAME", spec.model_name},
                   {"KUBEFLOW_AREA", area}};
  } else {
    QUADER_ASSIGN_OR_RETURN(ServiceSpec spec, ParseServiceSpec(doc));
    QUADER_ASSIGN_OR_RETURN(p.hosts, ResolveHosts(spec, domain));
    p.container = spec.container;
    p.health = spec.health;
    // Taken offline by a newer service on its host (serving/takeover.h).
    p.stage = s.stage == store::kStageOffline ? store::kStageOffline : store::kStageOnline;
    p.replicas = p.stage == store::kStageOffline ? 0 : spec.replicas;
  }
  return p;
}

runtime::WorkloadSpec ReplicaSpec(const store::ServiceRecord& s, const Plan& p, const auth::ProjectSettings& project,
                                  const ReplicaSite& site, int i) {
  runtime::WorkloadSpec spec;
  spec.name = "q" + site.instance.substr(0, 8) + "-v" + std::to_string(s.id) + "-g" +
              std::to_string(s.generation) + "-r" + std::to_string(i);
  spec.image = p.container.image;
  spec.command = p.container.command;
  if (p.idle) {
    // The image, env, mounts and ports of the service, waiting for a shell:
    // the user starts the server by hand in it, and once it answers its
    // health probe the debug. host routes to it.
    const std::string n = std::to_string(kDebugIdleSeconds);
    spec.command = {"sh", "-c",
                    "echo \"debug: $SERVICE_NAME waits " + n +
                        " s with its image, env and mounts, without running its command: open a terminal in it "
                        "(its replica's Terminal, or quader exec inference-service $SERVICE_NAME), start the "
                        "server there, and deploy again when done\"; exec sleep " + n};
  }
  spec.working_dir = p.container.working_dir;
  spec.env = p.container.env;
  spec.resources = {p.container.resources.cpu, p.container.resources.memory_bytes, p.container.resources.gpu};
  spec.node_selector = project.node_selector;
  spec.cluster = project.cluster;
  for (const auto& [k, v] : p.container.node_selector) spec.node_selector[k] = v;
  spec.mounts = workload::ResolveMounts(
      {site.data_dir, s.created_by, true, false, {&project.volume_mounts, &p.container.mounts}});
  if (p.model_ref_version > 0) {
    // The registry's version, laid out as files for workloads (never the
    // store itself), read-only.
    spec.mounts.push_back(registry::RegistryMount(
        site.data_dir, registry::VersionDir(site.data_dir, s.project, p.model_ref_name, p.model_ref_version),
        p.model_ref_target));
    spec.env["QUADER_MODEL_REF"] = p.model_ref_name + "@" + std::to_string(p.model_ref_version);
  }
  for (size_t k = 0; k < p.container.ports.size(); ++k) {
    int port = p.container.ports[k];
    runtime::PortMapping m;
    if (site.local_ports) {
      // A local process cannot be remapped: it listens on a free port, told by $PORT.
      int free = runtime::FreeLoopbackPort();
      m.container_port = free;
      m.host_port = free;
      spec.env["QUADER_PORT_" + std::to_string(port)] = std::to_string(free);
      if (k == 0) spec.env["PORT"] = std::to_string(free);
    } else {
      m.container_port = port;
      if (k == 0) spec.env["PORT"] = std::to_string(port);
    }
    spec.ports.push_back(m);
  }
  // Local processes share the machine's network: LISTEN_HOST tells servers
  // that read it (quader/predict's) to answer on the loopback, where the
  // gateway reaches them, not beyond the machine.
  if (site.local_ports && !spec.env.count("LISTEN_HOST")) spec.env["LISTEN_HOST"] = "127.0.0.1";
  // The K8S_* variables with their local meanings (docs/services.md).
  spec.env["USERNAME"] = s.created_by;
  spec.env["SERVICE_NAME"] = s.name;
  spec.env["K8S_POD_NAMESPACE"] = s.project;
  spec.env["K8S_POD_NAME"] = spec.name;
  spec.env["K8S_POD_IP"] = "127.0.0.1";
  spec.env["K8S_HOST_IP"] = "127.0.0.1";
  spec.env["K8S_NODE_NAME"] = site.node_name;
  for (const auto& [k, v] : p.model_env) spec.env[k] = v;
  spec.labels = {{runtime::kLabelManaged, "true"},
                 {runtime::kLabelInstance, site.instance},
                 {runtime::kLabelProject, s.project},
                 {runtime::kLabelUser, s.created_by},
                 {runtime::kLabelKind, "service"},
                 {runtime::kLabelOwner, std::to_string(s.id)},
                 {runtime::kLabelReplica, std::to_string(i)},
                 {runtime::kLabelGeneration, std::to_string(s.generation)}};
  return spec;
}

}  // namespace quader::serving
