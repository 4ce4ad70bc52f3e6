#pragma once
// How to reach a Kubernetes API server: a kubeconfig context, or the pod's
// own service account when Quader runs inside the cluster (docs/kubernetes.md).

#include <string>

#include "core/status.h"

namespace quader::runtime::kubernetes {

struct ClusterAccess {
  std::string context;           // the kubeconfig context ("in-cluster" for a service account)
  std::string server;            // https://host:port (or http:// for `kubectl proxy`)
  std::string ca_pem;            // certificate authority; empty: the system's roots
  bool insecure_skip_verify = false;
  std::string client_cert_pem;   // client certificate authentication (with the key)
  std::string client_key_pem;
  std::string token;             // bearer token
  std::string token_file;        // re-read on every request when set (rotated service-account tokens)
  std::string ns = "default";    // the namespace workloads go to
};

// Reads a kubeconfig file and picks `context` (empty: its current-context).
// Supports certificate-authority(-data), client-certificate(-data),
// client-key(-data), token, tokenFile, insecure-skip-tls-verify and the
// context's namespace; file paths are relative to the kubeconfig's directory.
// kInvalidArgument names the missing or malformed entry; exec and
// auth-provider plugins are refused by name.
Result<ClusterAccess> LoadKubeconfig(const std::string& path, const std::string& context);

// The pod's service account: KUBERNETES_SERVICE_HOST/PORT and the token,
// ca.crt and namespace files under `account_dir`.
Result<ClusterAccess> InClusterAccess(
    const std::string& account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// $KUBECONFIG (its first file), else ~/.kube/config, else the in-cluster
// service account; kUnavailable when there is none of them.
Result<ClusterAccess> DiscoverAccess(const std::string& context);

}  // namespace quader::runtime::kubernetes
