#pragma once
// `quader render KIND NAME` (docs/kubernetes.md): the Kubernetes manifests
// for a service, an inference service or a notebook, built by the same
// functions that make the workloads Quader runs (serving::ReplicaSpec,
// notebook::NotebookWorkload, runtime/kubernetes/mapping.h).
//
// A service renders as the objects the kubernetes runtime applies for it
// (serving/cluster_objects.h); a notebook as a Deployment and a Service.

#include <string>
#include <vector>

#include "auth/expand.h"
#include "core/documents.h"
#include "core/status.h"
#include "serving/service_plan.h"
#include "store/notebooks.h"
#include "store/services.h"

namespace quader::render {

struct RenderOptions {
  std::string ns = "default";   // the namespace the objects go to
  std::string instance;         // the runtime instance label
  std::string data_dir;         // where local runtimes keep volumes (hostPath sources)
  std::string service_domain;   // SERVICE_DOMAIN
  std::string kubeflow_area = serving::kDefaultKubeflowArea;  // KUBEFLOW_AREA of inference replicas
  bool istio = false;           // add VirtualServices
  std::string istio_gateway = "istio-system/istio-ingressgateway";
};

Result<std::vector<Json>> RenderService(const store::ServiceRecord& s, const auth::ProjectSettings& project,
                                        const RenderOptions& options);
Result<std::vector<Json>> RenderNotebook(const store::NotebookRecord& n, const auth::ProjectSettings& project,
                                         const RenderOptions& options);

// The manifests as YAML documents separated by "---".
std::string ToYaml(const std::vector<Json>& manifests);

}  // namespace quader::render
