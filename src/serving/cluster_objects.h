#pragma once
// A service as Kubernetes objects (docs/kubernetes.md), for the kubernetes
// runtime and for `quader render`:
// - a Deployment `$name` of all its replicas: the replica workload of
//   ReplicaSpec, a readiness probe from `health`, rolled out one new pod at
//   a time and none taken away before its successor is ready (a gray
//   upgrade); autoscaled ones start at min_replicas;
// - a ClusterIP Service `$name` over its pods;
// - `$name-external`, the same ports on the project's SERVICE_EXTERNAL_IP;
// - a HorizontalPodAutoscaler (autoscaling/v2) when min ≠ max replicas;
// - with Istio, a VirtualService for its hosts: the weighted canary split
//   and a mirror (mirrorPercentage) to its first shadow.
// Every object carries the owner labels (kind=service, owner=ID), which is
// how they are found again and deleted.

#include <map>
#include <string>
#include <vector>

#include "auth/expand.h"
#include "core/documents.h"
#include "serving/service_plan.h"
#include "store/services.h"

namespace quader::serving {

struct ClusterObjectOptions {
  std::string ns = "default";  // the namespace objects go to
  std::string instance;        // the runtime instance label
  std::string data_dir;        // hostPath sources of `hostpath` volumes relative to it
  bool istio = false;          // add VirtualServices
  std::string istio_gateway = "istio-system/istio-ingressgateway";
};

// The label only a service's VirtualService carries (to delete it alone).
inline constexpr const char* kLabelRoute = "quader.route";

// The labels that find a service's objects and pods.
std::map<std::string, std::string> OwnerLabels(const store::ServiceRecord& s, const std::string& instance);

std::vector<Json> ServiceObjects(const store::ServiceRecord& s, const Plan& p, const auth::ProjectSettings& project,
                                 const ClusterObjectOptions& options);

}  // namespace quader::serving
