#pragma once
// The `kubernetes` runtime (docs/kubernetes.md): workloads as Pods, or as a
// Deployment + Service when long-lived (mapping.h), in the namespace of the
// chosen kubeconfig context; the WorkloadSpec's `cluster` picks the context
// (empty: the default one).
//
// Status comes from an informer per cluster and kind (pods, deployments):
// a list, then a watch from the list's resourceVersion; an expired version
// (410 Gone) lists again; a dropped watch resumes from the last version seen.
// Inspect and List answer from that cache (falling back to a GET for a
// workload created a moment ago), so controllers polling every second cost
// the API server nothing. Logs are followed through the API; Stats read the
// metrics API (metrics.k8s.io); terminals through pods/exec; Exec (health
// probes) is not supported (kUnavailable).
//
// Workload ids: "pod/NAME" or "deployment/NAME", prefixed "CONTEXT:" when the
// spec named a cluster; the bare NAME works too (its shape is looked up).

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/kubernetes/api_client.h"
#include "runtime/runtime.h"

namespace quader::runtime::kubernetes {

// Keeps a cache of one kind's objects matching a label selector, by list +
// watch, on its own thread.
class Informer {
 public:
  Informer(const ApiClient& client, std::string api_version, std::string kind, std::string label_selector);
  ~Informer();  // Stop()s

  void Start();
  void Stop();

  // Waits up to `timeout` for the first list; false when it has not come.
  bool WaitSynced(std::chrono::milliseconds timeout);
  std::optional<Json> Get(const std::string& name) const;
  // Copies of the cached objects labelled with all of `selector` (empty: all).
  std::vector<Json> Snapshot(const std::map<std::string, std::string>& selector = {}) const;
  // How many times the informer listed (1 + relists after 410 Gone or errors).
  int lists() const;
  // The resourceVersion the next watch starts from.
  std::string resource_version() const;
  // Called (on the informer's thread) after each change of the cache.
  void OnChange(std::function<void()> callback);

 private:
  void Loop();

  const ApiClient& client_;
  const std::string api_version_, kind_, selector_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Json> objects_;  // by name; guarded by mu_
  std::string version_;                  // guarded by mu_
  bool synced_ = false;
  bool stop_ = false;
  int lists_ = 0;
  StreamCancel cancel_;  // ends the open watch on Stop()
  std::function<void()> on_change_;
  std::thread thread_;
};

struct KubernetesOptions {
  // When set, workloads get QUADER_API_URL = this (trials report through it)
  // instead of the server's loopback address, and never the host network.
  std::string api_url;
  // Opens the client of a context ("" = the default); tests inject their own.
  std::function<Result<ClusterAccess>(const std::string& context)> access = DiscoverAccess;
};

class KubernetesRuntime : public Runtime, public ClusterObjects {
 public:
  explicit KubernetesRuntime(KubernetesOptions options);
  ~KubernetesRuntime() override;

  std::string kind() const override { return "kubernetes"; }
  Result<WorkloadStatus> Start(const WorkloadSpec& spec) override;
  Status Stop(const std::string& id, std::chrono::seconds grace) override;
  Result<WorkloadStatus> Inspect(const std::string& id) override;
  Result<std::vector<WorkloadStatus>> List(const std::map<std::string, std::string>& selector) override;
  Status Logs(const std::string& id, bool follow, const LogSink& sink) override;
  Result<WorkloadStats> Stats(const std::string& id) override;
  // pods/exec of the workload's pod, on a terminal (ApiClient::Exec).
  Result<std::unique_ptr<Terminal>> OpenTerminal(const std::string& id, const TerminalOptions& options) override;

  ClusterObjects* cluster_objects() override { return this; }
  std::string Namespace(const std::string& context) override;
  Status Apply(const std::string& context, const std::vector<Json>& objects) override;
  Status DeleteLabelled(const std::string& context, const std::map<std::string, std::string>& selector) override;
  Result<std::vector<WorkloadStatus>> Pods(const std::string& context,
                                           const std::map<std::string, std::string>& selector) override;

  // The default cluster's access (for the start-up banner); opens it.
  Result<std::string> Describe();
  // The default context's namespace ("default" before Describe).
  std::string default_namespace();

 private:
  struct Cluster {
    std::unique_ptr<ApiClient> client;
    std::unique_ptr<Informer> pods;
    std::unique_ptr<Informer> deployments;
  };
  struct Id {
    std::string context, shape, name;
  };
  static Result<Id> ParseId(const std::string& id);
  // ParseId, then the shape of a bare name from the cache or the API.
  Result<Id> Resolve(const std::string& id);
  static std::string IdOf(const Id& id);
  Result<Cluster*> ClusterOf(const std::string& context);
  // The status of a workload of `shape` and `name` from the informers' cache.
  std::optional<WorkloadStatus> Cached(Cluster& c, const std::string& context, const std::string& shape,
                                       const std::string& name);
  // The newest pod of a workload (for logs and stats).
  std::optional<Json> PodOf(Cluster& c, const Id& id);

  const KubernetesOptions options_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Cluster>> clusters_;  // by context; guarded by mu_
};

}  // namespace quader::runtime::kubernetes
