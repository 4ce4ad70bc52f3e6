#pragma once
// Runs services and inference services (SPEC §7, §8; docs/services.md):
// keeps each one's replicas running as workloads, finds which are ready, and
// routes traffic to the ready ones through the gateway by Host.
//
// Reconciliation, once a second or when notified, by one thread:
// - replicas are workloads labelled kind=service, owner=ID, replica=INDEX and
//   the service's spec generation; the runtime, asked by label, is their
//   record, so a restarted server simply finds them again;
// - a replica is ready once its health probe answers (HTTP GET on the
//   `health` port and path, else a TCP connect to its first port);
// - missing replicas are started; a replica that exited is removed, recorded
//   as an event and replaced (with a growing delay after repeated failures);
// - a changed spec (a new generation) is rolled out one replica at a time:
//   a new replica starts, and an old one is stopped only once a new one is
//   ready and routed to, so traffic always has a ready replica;
// - the gateway's route table is rebuilt from the ready replicas: the
//   production host with canary split and shadow mirrors, or for an
//   inference service the host of its deploy stage (debug., test., or
//   production when online; none when offline);
// - gray upgrade by host (serving/takeover.h): a host shared by services of
//   one project goes to the most recently deployed one that is live, and
//   once it is, the others on that host are taken offline (stage offline,
//   replicas drained and stopped, an `offline` event on each and a
//   `takeover` event on the new one);
// - each port of a running service is also exposed on SERVICE_EXTERNAL_IP
//   at base + 10 × id + index (`$name-external`, raw TCP);
// - online inference services with min < max replicas are autoscaled from
//   the runtime's CPU and memory figures, and GPU figures where the runtime
//   measures them (serving/autoscaler.h), each decision recorded as a
//   `scaled` event; a `gpu` target the runtime cannot measure is named in an
//   `autoscale-gpu-unmeasured` event instead of being silently ignored.
//
// On a cluster runtime (runtime::ClusterObjects: Kubernetes) the cluster
// keeps the replicas instead: each service is applied as one Deployment
// (rolled out with readiness probes), its Service, `$name-external`, a
// HorizontalPodAutoscaler and a VirtualService (serving/cluster_objects.h)
// whenever its generation, stage or project settings change; its ready pods
// are routed through the gateway as above; a deleted or offline service's
// objects are deleted.
//
// Public methods are thread-safe.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/wake_loop.h"
#include "gateway/gateway.h"
#include "gateway/tcp_exposure.h"
#include "serving/autoscaler.h"
#include "serving/service_plan.h"
#include "runtime/runtime.h"
#include "store/services.h"
#include "store/store.h"
#include "workload/replica_set.h"

namespace quader::serving {

struct ServiceControllerOptions {
  std::string data_dir;
  std::string instance;        // the runtime instance label
  std::string service_domain;  // SERVICE_DOMAIN: production hosts are $name.<domain>
  std::string kubeflow_area = kDefaultKubeflowArea;  // KUBEFLOW_AREA of inference replicas
  std::chrono::milliseconds tick{1000};
  std::chrono::seconds stop_grace{5};
  std::chrono::milliseconds probe_timeout{500};
  std::chrono::milliseconds shell_probe_timeout{5000};  // `health: shell:...`
  // SERVICE_EXTERNAL_IP when the project sets none: where `$name-external`
  // ports listen. Port = external_port_base + 10 × service id + port index;
  // a base of 0 turns IP exposure off.
  std::string external_ip = "127.0.0.1";
  int external_port_base = 30000;
  // The autoscaler: how often it samples, and its scale-down window.
  std::chrono::milliseconds autoscale_period{15000};
  std::chrono::milliseconds scale_down_window{300000};
  // On a cluster runtime (Kubernetes): services as cluster objects, with an
  // Istio VirtualService each when `istio` is on (serving/cluster_objects.h).
  bool istio = false;
  std::string istio_gateway = "istio-system/istio-ingressgateway";
};

// A service port exposed on the external IP.
struct ExternalPort {
  std::string address;  // "ip:port"
  int container_port = 0;
  std::string error;    // why it cannot listen, or ""
};

// A replica as the controller sees it.
struct ReplicaView {
  std::string workload;     // its name
  std::string workload_id;  // the runtime's id
  int index = 0;
  int64_t generation = 0;
  std::string state;  // starting, ready, failed
  int host_port = 0;  // the first port, on 127.0.0.1
  std::string reason;
};


class ServiceController {
 public:
  // `gateway` may be null (no routing; tests of the controller alone).
  ServiceController(store::Store& store, const Clock& clock, runtime::Runtime& runtime, gateway::Gateway* gateway,
                    ServiceControllerOptions options);
  ~ServiceController();  // Stop()s

  void Start();
  // Stops the thread; replicas keep running (the next server finds them).
  void Stop();
  // Wakes the controller: a service was created, changed or deleted.
  void Notify();

  // True when `w` (labelled kind=service) belongs to a service that exists.
  bool OwnsWorkload(const runtime::WorkloadStatus& w);

  // The replicas of a service at the last reconciliation.
  std::vector<ReplicaView> Replicas(int64_t service_id) const;
  // Streams the log of replica `index` (-1: the lowest alive) of a service
  // with local replicas; with `follow`, until it ends or `write` returns
  // false. `previous`: the kept log of its last instance that ended (and
  // the same when no instance runs now). kNotFound when there is neither.
  Status Logs(int64_t service_id, int index, bool previous, bool follow,
              const std::function<bool(std::string_view)>& write);
  // A terminal in replica `index` (-1: the lowest alive) of a service with
  // local replicas (runtime::OpenTerminal); kNotFound when it does not run.
  Result<std::unique_ptr<runtime::Terminal>> OpenTerminal(int64_t service_id, int index,
                                                         const runtime::TerminalOptions& options);
  // Its ports on the external IP at the last reconciliation.
  std::vector<ExternalPort> External(int64_t service_id) const;
  const std::string& service_domain() const { return options_.service_domain; }

 private:
  // The workload id of replica `index` (-1: the lowest) of the newest
  // generation that runs, and its index in `shown`; "" when none runs.
  std::string RunningReplica(int64_t service_id, int index, int* shown) const;
  struct Scaling {
    int64_t generation = 0;  // a new generation (deploy, change) starts afresh
    int64_t next_sample_ms = 0;
    Autoscaler autoscaler{AutoscalerOptions{}};
    bool gpu_unmeasured_told = false;  // the `autoscale-gpu-unmeasured` event was recorded
  };

  struct Pass;
  struct Observed;

  // One pass over every service: load, reconcile each (on a cluster or with
  // local replicas), publish routes and external ports, record.
  void Reconcile();
  bool LoadPass(Pass* pass);
  void RemoveOrphan(const runtime::WorkloadStatus& w, int64_t service_id);
  void ReconcileOnCluster(Pass& pass, const store::ServiceRecord& s, const Plan& p);
  void ApplyClusterObjects(Pass& pass, const store::ServiceRecord& s, const Plan& p, const std::string& taken,
                           std::string* failure);
  void ReconcileReplicas(Pass& pass, const store::ServiceRecord& s, const Plan& p);
  Observed ObserveReplicas(Pass& pass, const store::ServiceRecord& s, const Plan& p,
                           const std::vector<runtime::WorkloadStatus>& mine);
  void ReplicaEnded(Pass& pass, const store::ServiceRecord& s, const workload::Replica& r);
  bool ProbeReplica(const runtime::WorkloadStatus& w, const Plan& p, ReplicaView* r);
  // The replica count to aim for: the plan's, or the autoscaler's decision.
  int Autoscale(Pass& pass, const store::ServiceRecord& s, const Plan& p, const Observed& o);
  void StartMissing(Pass& pass, const store::ServiceRecord& s, const Plan& p, int desired, Observed* o);
  void Retire(Pass& pass, const store::ServiceRecord& s, const runtime::WorkloadStatus& w, const std::string& why,
              std::vector<gateway::Backend>* backends);
  void Expose(Pass& pass, const store::ServiceRecord& s, const Plan& p, const Observed& o);
  void PublishRoutes(Pass& pass);
  void PublishExposures(Pass& pass);
  void Record(Pass& pass);

  store::Store& store_;
  const Clock& clock_;
  runtime::Runtime& runtime_;
  gateway::Gateway* gateway_;
  const ServiceControllerOptions options_;

  WakeLoop loop_;

  mutable std::mutex view_mu_;
  std::map<int64_t, std::vector<ReplicaView>> view_;  // guarded by view_mu_
  std::map<int64_t, std::vector<ExternalPort>> external_view_;  // guarded by view_mu_

  // Owned by the controller thread.
  // Each service's replicas, by service id; ended ones' logs kept under DATA/logs/services.
  workload::ReplicaSet replicas_{runtime_, clock_,
                                 options_.data_dir.empty() ? "" : options_.data_dir + "/logs/services"};
  std::set<std::string> ready_;     // workloads seen ready (events once)
  std::map<std::string, int64_t> draining_;  // workload -> when to stop it (ms), out of the routes until then
  std::map<int64_t, Scaling> scaling_;
  std::map<std::string, std::string> external_errors_;  // "ip:port" -> last error (events once)
  std::unique_ptr<gateway::TcpExposure> exposure_;     // null when external_port_base is 0
  std::map<int64_t, std::string> applied_;  // cluster runtimes: the objects last applied, per service
};

}  // namespace quader::serving
