#pragma once
// What a service or inference service asks for (Plan), and the workload of
// one of its replicas: shared by the ServiceController, which starts them,
// and by `quader render`, which prints what a cluster would run.

#include <map>
#include <optional>
#include <string>

#include "auth/expand.h"
#include "gateway/gateway.h"
#include "runtime/runtime.h"
#include "serving/service_spec.h"
#include "store/services.h"

namespace quader::serving {

// What a service asks for, whichever its kind.
struct Plan {
  ContainerSpec container;
  int replicas = 1;  // the desired count now (stage and autoscaler applied)
  std::optional<gateway::HealthSpec> health;
  ServiceHosts hosts;
  bool inference = false;
  std::map<std::string, int> canary;
  std::map<std::string, int> shadow;
  std::map<std::string, std::string> model_env;  // KUBEFLOW_* (inference services)
  std::string stage = store::kStageOnline;
  int min_replicas = 1, max_replicas = 1;
  gateway::HpaSpec hpa;
  bool autoscaled = false;  // an online inference service with min < max
  // Deployed to debug with a shell (cube-studio's debug stage): the replica
  // runs an idle command, not the service's, and waits for a terminal.
  bool idle = false;
  // A version of the model registry the replicas mount read-only
  // (InferenceServiceSpec::model_ref); model_ref_version 0: none.
  std::string model_ref_name;
  int model_ref_version = 0;
  std::string model_ref_target;
};

// How long an idle debug replica waits (cube-studio's `sleep 43200`).
inline constexpr int kDebugIdleSeconds = 43200;

// KUBEFLOW_ENV of a stage (cube-studio: debug, test, prod).
std::string EnvName(const std::string& stage);

// KUBEFLOW_AREA given to inference replicas when the server sets none
// (`--kubeflow-area`; cube-studio names the region or cluster there).
inline constexpr char kDefaultKubeflowArea[] = "local";

// The plan of a stored service; kInternal when its stored spec no longer
// parses. `area` is the KUBEFLOW_AREA of inference replicas.
Result<Plan> PlanOf(const store::ServiceRecord& s, const std::string& domain,
                    const std::string& area = kDefaultKubeflowArea);

// Where replicas run.
struct ReplicaSite {
  std::string data_dir;   // the server's data directory (volumes, users' directories)
  std::string instance;   // the runtime instance label
  std::string node_name;  // K8S_NODE_NAME's local meaning
  bool local_ports = false;  // the process runtime: each replica listens on a free loopback port
};

// The workload of replica `index` of the service's current generation:
// image, command, env (SERVICE_NAME, K8S_*, KUBEFLOW_*), resources, the
// project's node selector and volumes, ports, labels.
runtime::WorkloadSpec ReplicaSpec(const store::ServiceRecord& s, const Plan& p, const auth::ProjectSettings& project,
                                  const ReplicaSite& site, int index);

}  // namespace quader::serving
