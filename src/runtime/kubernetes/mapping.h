#pragma once
// Workloads as Kubernetes objects, and back (docs/kubernetes.md). Pure
// functions: the runtime applies what they build, `quader render` prints it,
// and tests validate it against the official schemas.
//
// - a task or trial (restart Never / OnFailure) is a Pod;
// - a long-lived workload (a notebook server, a service replica, or any
//   with restart Always) is a Deployment of one replica plus a ClusterIP
//   Service;
// - mounts: a named claim is a persistentVolumeClaim with its subPath (the
//   user's directory), a host path a hostPath, memory an emptyDir with
//   medium Memory and sizeLimit;
// - GPUs are `nvidia.com/gpu` limits (fractions round up: Kubernetes
//   counts whole devices); K8S_* variables come from the downward API.

#include <map>
#include <string>

#include "core/documents.h"
#include "runtime/runtime.h"

namespace quader::runtime::kubernetes {

// The label every pod of a workload carries: the WorkloadSpec's name.
inline constexpr const char* kLabelWorkload = "quader.workload";
// The label telling how a workload was made: "pod" or "deployment".
inline constexpr const char* kLabelShape = "quader.shape";

// On a Deployment whose replicas a HorizontalPodAutoscaler sets: a
// replacement keeps the current count.
inline constexpr const char* kAnnotationAutoscaled = "quader.io/autoscaled";

// True when `spec` becomes a Deployment (+ Service) rather than a Pod.
bool IsLongLived(const WorkloadSpec& spec);

// The pod spec (spec of a Pod, template.spec of a Deployment).
Json PodSpecOf(const WorkloadSpec& spec);
// A Pod named spec.name in `ns`.
Json PodManifest(const WorkloadSpec& spec, const std::string& ns);
// A Deployment named spec.name of `replicas` pods, selected by kLabelWorkload.
Json DeploymentManifest(const WorkloadSpec& spec, const std::string& ns, int replicas = 1);
// A ClusterIP Service named `name` for spec's ports (null when it has none).
Json ServiceManifest(const WorkloadSpec& spec, const std::string& ns, const std::string& name);

// A Kubernetes quantity ("500m", "2", "1Gi", "128974848") as a number (cores,
// bytes); nullopt when malformed.
std::optional<double> ParseQuantity(const std::string& text);

// Reading API objects without exceptions (a hostile or broken API server
// must not take the server down): a field of the wrong type counts as missing.
// The child `key` of an object (null when missing or `object` is no object).
const Json& Child(const Json& object, const char* key);
// An array child, or an empty array.
const Json& ArrayOr(const Json& object, const char* key);
// A string child, or `fallback`.
std::string StringOr(const Json& object, const char* key, const std::string& fallback = "");
// An int child; a float, or an integer out of int's range, counts as missing (0).
int IntOr(const Json& object, const char* key);

// The workload status of a pod: phase, container state (exit code, OOM,
// image pull failures as kFailed), pod IP as `address`, container ports as
// host ports, node name, start and finish times.
WorkloadStatus StatusOfPod(const Json& pod);

}  // namespace quader::runtime::kubernetes
