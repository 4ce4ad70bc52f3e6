#include "serving/service_controller.h"

#include <algorithm>
#include <cstring>

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "auth/expand.h"
#include "auth/projects.h"
#include "runtime/labels.h"
#include "runtime/probe.h"
#include "serving/cluster_objects.h"
#include "serving/service_plan.h"
#include "serving/service_spec.h"
#include "serving/takeover.h"
#include "workload/ownership.h"
#include "workload/replica_set.h"

namespace quader::serving {
namespace {

// The state reason of a service deployed to debug with a shell, until the
// server started by hand in its replica answers.
constexpr const char* kIdleWaiting =
    "debug with a shell: the replica waits idle (its command is not run); open its terminal and start the server "
    "there";

using std::chrono::milliseconds;

std::string UpstreamName(const store::ServiceRecord& s) { return s.project + "/" + s.name; }

// The autoscaler's sample of the ready replicas the runtime can measure.
UtilizationSample Sample(runtime::Runtime& runtime, const std::vector<const runtime::WorkloadStatus*>& ready,
                         const pipeline::ResourceSpec& resources) {
  std::vector<runtime::WorkloadStats> stats;
  for (const auto* w : ready) {
    auto one = runtime.Stats(w->id);
    if (one.ok()) stats.push_back(*one);
  }
  return SampleOf(stats, resources.cpu, resources.memory_bytes);
}

// The `autoscale-gpu-unmeasured` event: a gpu target is refused by name.
std::string GpuUnmeasured(int target, const std::string& runtime) {
  return "hpa gpu:" + std::to_string(target) + "%: the " + runtime +
         " runtime cannot measure GPU use, so the gpu target is not acted on (cpu and mem are)";
}

// Why a service that wants no replicas is stopped.
std::string StoppedReason(const Plan& p) {
  if (p.inference) return "offline: deploy it to debug, test or prod";
  if (p.stage == store::kStageOffline) {
    return "offline: a newer service took its host (gray upgrade, see its events); change it to deploy it again";
  }
  return "replicas: 0";
}

HostService AsHostService(const store::ServiceRecord& s, const Plan& p) {
  HostService h;
  h.id = s.id;
  h.project = s.project;
  h.host = p.hosts.production;
  h.deployed_at = s.updated_at;
  h.online = p.stage == store::kStageOnline;
  return h;
}

std::string NameOf(const std::vector<store::ServiceRecord>& services, int64_t id) {
  for (const auto& s : services) {
    if (s.id == id) return s.name;
  }
  return "service " + std::to_string(id);
}

// A host claimed by several services of its project goes to the most
// recently deployed one with a route (serving/takeover.h).
std::vector<gateway::Route> OneRoutePerHost(std::vector<std::pair<const HostService*, gateway::Route>> routes) {
  std::map<std::string, size_t> by_host;
  std::vector<const HostService*> winners;
  std::vector<gateway::Route> unique;
  for (auto& [service, route] : routes) {
    auto it = by_host.find(route.host);
    if (it == by_host.end()) {
      by_host[route.host] = unique.size();
      winners.push_back(service);
      unique.push_back(std::move(route));
    } else if (DeployedAfter(*service, *winners[it->second])) {
      winners[it->second] = service;
      unique[it->second] = std::move(route);
    }
  }
  return unique;
}

// The routes a service with a ready replica asks for: its stage's own host
// for an inference service in debug or test; else production, with those of
// its split and mirror targets that are live.
std::vector<gateway::Route> RoutesOf(const store::ServiceRecord& rec, const Plan& plan,
                                     const std::set<std::string>& live) {
  std::string self = UpstreamName(rec);
  if (plan.inference && plan.stage != store::kStageOnline) {
    gateway::Route r;
    r.host = plan.stage == store::kStageDebug ? plan.hosts.debug : plan.hosts.test;
    r.targets.push_back({self, 1});
    if (r.host.empty()) return {};
    return {r};
  }
  auto live_targets = [&](const std::map<std::string, int>& items) {
    std::map<std::string, int> out;
    for (const auto& [name, percent] : items) {
      std::string target = rec.project + "/" + name;
      if (live.count(target)) out[target] = percent;
    }
    return out;
  };
  gateway::Route prod;
  prod.host = plan.hosts.production;
  prod.targets = gateway::TargetsFromCanary(self, live_targets(plan.canary));
  prod.mirrors = gateway::MirrorsFromShadow(live_targets(plan.shadow));
  return {prod};
}

}  // namespace

ServiceController::ServiceController(store::Store& store, const Clock& clock, runtime::Runtime& runtime,
                                     gateway::Gateway* gateway, ServiceControllerOptions options)
    : store_(store), clock_(clock), runtime_(runtime), gateway_(gateway), options_(std::move(options)) {
  if (options_.external_port_base > 0) exposure_ = std::make_unique<gateway::TcpExposure>();
}

ServiceController::~ServiceController() { Stop(); }

void ServiceController::Start() {
  loop_.Start([this] { Reconcile(); }, [this] { return options_.tick; });
}

void ServiceController::Stop() { loop_.Stop(); }

void ServiceController::Notify() { loop_.Notify(); }

std::vector<ReplicaView> ServiceController::Replicas(int64_t service_id) const {
  std::lock_guard<std::mutex> lock(view_mu_);
  auto it = view_.find(service_id);
  return it == view_.end() ? std::vector<ReplicaView>{} : it->second;
}

std::string ServiceController::RunningReplica(int64_t service_id, int index, int* shown) const {
  std::lock_guard<std::mutex> lock(view_mu_);
  auto it = view_.find(service_id);
  // The newest generation's instance of that index (or the lowest index).
  const ReplicaView* pick = nullptr;
  auto better = [&](const ReplicaView& r) {
    return pick == nullptr || r.generation > pick->generation ||
           (r.generation == pick->generation && r.index < pick->index);
  };
  if (it != view_.end()) {
    for (const ReplicaView& r : it->second) {
      if ((index < 0 || r.index == index) && !r.workload_id.empty() && better(r)) pick = &r;
    }
  }
  if (pick == nullptr) return "";
  if (shown) *shown = pick->index;
  return pick->workload_id;
}

Result<std::unique_ptr<runtime::Terminal>> ServiceController::OpenTerminal(int64_t service_id, int index,
                                                                          const runtime::TerminalOptions& options) {
  std::string workload_id = RunningReplica(service_id, index, nullptr);
  if (workload_id.empty()) {
    return errors::NotFound("running replica", index < 0 ? "of the service" : std::to_string(index));
  }
  return runtime_.OpenTerminal(workload_id, options);
}

Status ServiceController::Logs(int64_t service_id, int index, bool previous, bool follow,
                               const std::function<bool(std::string_view)>& write) {
  std::string workload_id;
  int shown = index < 0 ? 0 : index;
  if (!previous) workload_id = RunningReplica(service_id, index, &shown);
  if (!workload_id.empty()) {
    return runtime_.Logs(workload_id, follow, [&](const std::string& chunk) { return write(chunk); });
  }
  // None runs now: the kept log of the last one that ended.
  if (!replicas_.SendPreviousLog(service_id, shown, write).ok()) {
    return errors::NotFound("replica log", "replica " + std::to_string(shown) +
                                               (previous ? " has no previous instance" : " is not running"));
  }
  return Status::Ok();
}

std::vector<ExternalPort> ServiceController::External(int64_t service_id) const {
  std::lock_guard<std::mutex> lock(view_mu_);
  auto it = external_view_.find(service_id);
  return it == external_view_.end() ? std::vector<ExternalPort>{} : it->second;
}

bool ServiceController::OwnsWorkload(const runtime::WorkloadStatus& w) {
  return workload::Owns(store_, w, [](store::Tx& tx, const workload::Owner& o) -> Result<bool> {
    return store::GetService(tx, o.id).ok();
  });
}

// What one pass reads and decides: filled by its steps, then published.
struct ServiceController::Pass {
  int64_t now = 0;
  std::vector<store::ServiceRecord> services;
  std::map<int64_t, auth::ProjectSettings> projects;
  std::map<int64_t, std::vector<runtime::WorkloadStatus>> by_service;  // replicas of each service
  std::map<int64_t, Result<Plan>> plans;                                // by service id, planned once per pass
  std::map<std::string, std::string> cluster_owners;                    // host -> project (Istio on a cluster)
  ReplicaSite site;

  struct Routed {
    const store::ServiceRecord* rec;
    Plan plan;
  };
  std::vector<std::pair<int64_t, std::pair<std::string, std::string>>> events;  // service, kind, message
  std::map<int64_t, int> scaled;                                                // the autoscaler's new counts
  std::vector<gateway::Upstream> upstreams;                                     // upstreams[i] serves routed[i]
  std::vector<Routed> routed;
  std::map<int64_t, std::vector<ReplicaView>> view;
  std::map<int64_t, std::vector<ExternalPort>> external_view;
  std::vector<std::pair<int64_t, gateway::Exposure>> exposures;
  std::map<int64_t, std::pair<std::string, std::string>> states;  // service -> state, reason
  std::vector<Takeover> takeovers;

  void Event(int64_t id, const std::string& kind, const std::string& message) {
    events.push_back({id, {kind, message}});
    spdlog::info("[serving] service {}: {}: {}", id, kind, message);
  }
  // The service's routes and view for this pass.
  void Publish(const store::ServiceRecord& s, const Plan& p, std::vector<gateway::Backend> backends,
               std::vector<ReplicaView> replicas) {
    gateway::Upstream up;
    up.name = UpstreamName(s);
    up.backends = std::move(backends);
    upstreams.push_back(std::move(up));
    routed.push_back({&s, p});
    view[s.id] = std::move(replicas);
  }
};

// The replicas of one service as this pass found them.
struct ServiceController::Observed {
  std::vector<ReplicaView> replicas;
  std::vector<gateway::Backend> backends;
  std::set<int> current_indexes;  // replica indexes of the current generation, alive
  int current_alive = 0, current_ready = 0;
  std::vector<const runtime::WorkloadStatus*> old_alive;        // of earlier generations
  std::vector<const runtime::WorkloadStatus*> ready_workloads;  // passing their health probe
  std::string waiting;  // set while a start waits for its image
};

void ServiceController::Reconcile() {
  Pass pass;
  pass.now = ToUnixMillis(clock_.Now());
  if (!LoadPass(&pass)) return;
  for (const auto& s : pass.services) {
    const Result<Plan>& plan = pass.plans.at(s.id);
    if (!plan.ok()) {
      pass.states[s.id] = {"failed", "cannot be run: " + plan.status().message()};
    } else if (runtime_.cluster_objects()) {
      ReconcileOnCluster(pass, s, *plan);
    } else {
      ReconcileReplicas(pass, s, *plan);
    }
  }
  PublishRoutes(pass);
  PublishExposures(pass);
  Record(pass);
}

bool ServiceController::LoadPass(Pass* pass) {
  Status st = store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(pass->services, store::ListServices(tx, {}, true, ""));
    for (const auto& s : pass->services) {
      if (pass->projects.count(s.project_id)) continue;
      QUADER_ASSIGN_OR_RETURN(pass->projects[s.project_id], auth::StoredProjectSettings(tx, s.project_id));
    }
    return Status::Ok();
  });
  if (!st.ok()) {
    spdlog::warn("[serving] reading services failed: {}", st.ToString());
    return false;
  }
  auto listed = workload::ListByOwner(runtime_, options_.instance, "service");
  if (!listed.ok()) {
    spdlog::warn("[serving] listing replicas failed: {}", listed.status().ToString());
    return false;
  }
  std::set<int64_t> known;
  for (const auto& s : pass->services) known.insert(s.id);
  replicas_.Keep(known);
  for (auto& [id, replicas] : *listed) {
    if (known.count(id)) {
      pass->by_service[id] = std::move(replicas);
    } else {
      for (const auto& w : replicas) RemoveOrphan(w, id);  // its service was deleted
    }
  }
  char host_buf[256] = {0};
  std::string node_name = gethostname(host_buf, sizeof(host_buf) - 1) == 0 ? host_buf : "localhost";
  pass->site = ReplicaSite{options_.data_dir, options_.instance, node_name, runtime_.kind() == "process"};
  for (const auto& s : pass->services) {
    pass->plans.emplace(s.id, PlanOf(s, options_.service_domain, options_.kubeflow_area));
  }
  // On a cluster, Istio routes a host to whichever VirtualService names it: a
  // service gets one only for hosts its project owns (service_spec.h).
  if (runtime_.cluster_objects() && options_.istio) {
    std::vector<HostClaim> claims;
    for (const auto& s : pass->services) {
      const Result<Plan>& plan = pass->plans.at(s.id);
      if (plan.ok()) claims.push_back({s.project, plan->hosts});
    }
    pass->cluster_owners = HostOwners(claims);
  }
  return true;
}

void ServiceController::RemoveOrphan(const runtime::WorkloadStatus& w, int64_t service_id) {
  if (runtime::ClusterObjects* cluster = runtime_.cluster_objects()) {
    (void)cluster->DeleteLabelled("", {{runtime::kLabelManaged, "true"},
                                       {runtime::kLabelInstance, options_.instance},
                                       {runtime::kLabelKind, "service"},
                                       {runtime::kLabelOwner, std::to_string(service_id)}});
    applied_.erase(service_id);
    return;
  }
  (void)runtime_.Stop(w.id, options_.stop_grace);
  ready_.erase(w.name);
}

void ServiceController::ReconcileOnCluster(Pass& pass, const store::ServiceRecord& s, const Plan& p) {
  // The cluster keeps the replicas: apply the objects when they change,
  // route to the ready pods.
  runtime::ClusterObjects* cluster = runtime_.cluster_objects();
  const auth::ProjectSettings& project = pass.projects[s.project_id];
  auto owner = OwnerLabels(s, options_.instance);
  std::vector<ReplicaView> replicas;
  std::vector<gateway::Backend> backends;
  std::string failure, taken;
  if (p.replicas == 0) {
    if (applied_.count(s.id) && cluster->DeleteLabelled(project.cluster, owner).ok()) {
      applied_.erase(s.id);
      pass.Event(s.id, "undeployed", "its objects were deleted from the cluster");
    }
  } else {
    taken = options_.istio ? TakenHost(p.hosts, s.project, pass.cluster_owners) : "";
    if (!taken.empty()) failure = "host " + taken + " belongs to another project; no VirtualService";
    ApplyClusterObjects(pass, s, p, taken, &failure);
    auto pods = cluster->Pods(project.cluster, owner);
    if (!pods.ok()) failure = "cannot list pods: " + pods.status().message();
    int index = 0;
    for (const auto& pod : pods.ok() ? *pods : std::vector<runtime::WorkloadStatus>{}) {
      ReplicaView r;
      r.workload = pod.name;
      r.workload_id = pod.id;  // its log and terminal go through the runtime (pods/log, pods/exec)
      r.index = index++;
      r.generation = workload::LabelNumber(pod, runtime::kLabelGeneration);
      r.host_port = pod.ports.empty() ? 0 : pod.ports[0].host_port;
      r.state = pod.state == runtime::WorkloadState::kFailed ? "failed" : pod.ready ? "ready" : "starting";
      r.reason = pod.reason;
      if (pod.state == runtime::WorkloadState::kFailed && failure.empty()) failure = pod.reason;
      if (pod.ready && r.host_port > 0 && !pod.address.empty()) {
        backends.push_back({pod.address, static_cast<uint16_t>(r.host_port)});
      }
      replicas.push_back(r);
    }
  }
  bool serving = !backends.empty();
  pass.Publish(s, p, std::move(backends), std::move(replicas));
  if (p.replicas == 0) {
    pass.states[s.id] = {"stopped", StoppedReason(p)};
  } else if (serving) {
    pass.states[s.id] = {"running", taken.empty() ? "" : failure};
  } else {
    pass.states[s.id] = {"pending", !failure.empty() ? failure : p.idle ? kIdleWaiting : "waiting for a ready pod"};
  }
}

void ServiceController::ApplyClusterObjects(Pass& pass, const store::ServiceRecord& s, const Plan& p,
                                            const std::string& taken, std::string* failure) {
  runtime::ClusterObjects* cluster = runtime_.cluster_objects();
  const auth::ProjectSettings& project = pass.projects[s.project_id];
  ClusterObjectOptions o{cluster->Namespace(project.cluster), options_.instance, options_.data_dir,
                         options_.istio && taken.empty(), options_.istio_gateway};
  std::vector<Json> objects = ServiceObjects(s, p, project, o);
  std::string digest = Json(objects).dump();
  if (applied_[s.id] == digest) return;
  if (!taken.empty()) {
    // A VirtualService made before host ownership goes (data from older versions).
    auto route = OwnerLabels(s, options_.instance);
    route[kLabelRoute] = "true";
    (void)cluster->DeleteLabelled(project.cluster, route);
  }
  Status applied = cluster->Apply(project.cluster, objects);
  if (!applied.ok()) {
    applied_.erase(s.id);
    *failure = "cannot apply: " + applied.message();
    pass.Event(s.id, "apply-failed", *failure);
    return;
  }
  applied_[s.id] = digest;
  std::string kinds;
  for (const auto& obj : objects) kinds += (kinds.empty() ? "" : ", ") + obj.value("kind", "");
  pass.Event(s.id, "applied", "generation " + std::to_string(s.generation) + " to namespace " + o.ns + ": " + kinds);
  if (p.autoscaled && p.hpa.gpu) pass.Event(s.id, "autoscale-gpu-unmeasured", GpuUnmeasured(*p.hpa.gpu, runtime_.kind()));
}

void ServiceController::ReconcileReplicas(Pass& pass, const store::ServiceRecord& s, const Plan& p) {
  std::vector<runtime::WorkloadStatus>& mine = pass.by_service[s.id];
  Observed o = ObserveReplicas(pass, s, p, mine);
  int desired = Autoscale(pass, s, p, o);
  StartMissing(pass, s, p, desired, &o);
  // Old replicas go once enough new ones are ready; extra current ones go at
  // once. An idle debug replica is never ready by itself (its server is
  // started by hand): what it replaces goes at once, so nothing older
  // answers on its host meanwhile.
  int keep_old = p.idle ? 0 : std::max(0, desired - o.current_ready);
  for (size_t k = static_cast<size_t>(keep_old); k < o.old_alive.size(); ++k) {
    Retire(pass, s, *o.old_alive[k], "replaced by generation " + std::to_string(s.generation), &o.backends);
  }
  for (const auto& w : mine) {
    int64_t idx = workload::LabelNumber(w, runtime::kLabelReplica);
    if (workload::LabelNumber(w, runtime::kLabelGeneration) == s.generation && idx >= desired &&
        w.state == runtime::WorkloadState::kRunning) {
      Retire(pass, s, w, "scaled to " + std::to_string(desired), &o.backends);
    }
  }
  if (exposure_ && desired > 0 && (!p.inference || p.stage == store::kStageOnline)) Expose(pass, s, p, o);
  bool serving = !o.backends.empty();
  pass.Publish(s, p, std::move(o.backends), std::move(o.replicas));
  const std::string last_failure = replicas_.last_failure(s.id, s.generation);
  if (desired == 0) {
    pass.states[s.id] = {"stopped", StoppedReason(p)};
  } else if (serving) {
    pass.states[s.id] = {"running", ""};
  } else if (replicas_.failures(s.id, s.generation) >= 5) {
    pass.states[s.id] = {"failed", "replicas keep failing: " + last_failure};
  } else if (!o.waiting.empty()) {
    pass.states[s.id] = {"pending", o.waiting};
  } else {
    pass.states[s.id] = {"pending", !last_failure.empty() ? last_failure
                                    : p.idle ? kIdleWaiting
                                             : "waiting for a ready replica"};
  }
}

ServiceController::Observed ServiceController::ObserveReplicas(Pass& pass, const store::ServiceRecord& s, const Plan& p,
                                                               const std::vector<runtime::WorkloadStatus>& mine) {
  Observed o;
  workload::Census census = workload::TakeCensus(mine, s.generation);
  for (const workload::Replica& r : census.ended) ReplicaEnded(pass, s, r);
  o.current_indexes = census.CurrentIndexes();
  o.current_alive = static_cast<int>(census.current.size());
  for (const auto* group : {&census.current, &census.old}) {
    for (const workload::Replica& replica : *group) {
      const runtime::WorkloadStatus& w = *replica.workload;
      ReplicaView r;
      r.workload = w.name;
      r.workload_id = w.id;
      r.index = replica.index;
      r.generation = replica.generation;
      r.host_port = w.ports.empty() ? 0 : w.ports[0].host_port;
      bool ready = ProbeReplica(w, p, &r);
      r.state = ready ? "ready" : "starting";
      if (ready && ready_.insert(w.name).second) {
        pass.Event(s.id, "replica-ready", "replica " + std::to_string(r.index) + " of generation " +
                                              std::to_string(r.generation) + " is ready on port " +
                                              std::to_string(r.host_port));
        replicas_.Ready(s.id, r.generation);
      }
      if (ready) {
        o.backends.push_back({runtime::AddressOf(w.address), static_cast<uint16_t>(r.host_port)});
        o.ready_workloads.push_back(&w);
      } else if (ready_.erase(w.name)) {
        pass.Event(s.id, "replica-unready", "replica " + std::to_string(r.index) + " stopped passing its health probe");
      }
      if (group == &census.current) {
        if (ready) o.current_ready++;
      } else {
        o.old_alive.push_back(&w);
      }
      o.replicas.push_back(r);
    }
  }
  return o;
}

void ServiceController::ReplicaEnded(Pass& pass, const store::ServiceRecord& s, const workload::Replica& r) {
  std::string why = replicas_.RemoveEnded(s.id, s.generation, r);
  pass.Event(s.id, "replica-failed", "replica " + std::to_string(r.index) + " (" + r.workload->name + ") " + why);
  ready_.erase(r.workload->name);
}

bool ServiceController::ProbeReplica(const runtime::WorkloadStatus& w, const Plan& p, ReplicaView* r) {
  bool shell = p.health && p.health->kind == gateway::HealthSpec::Kind::kShell;
  std::string path = p.health && !shell ? p.health->path : "";
  int probe_port = r->host_port;
  if (p.health && !shell) {
    for (const auto& m : w.ports) {
      if (m.container_port == p.health->port) probe_port = m.host_port;
    }
  }
  if (w.state != runtime::WorkloadState::kRunning || probe_port <= 0) return false;
  if (!shell) return runtime::Probe(runtime::AddressOf(w.address), probe_port, path, options_.probe_timeout);
  // An exec probe: the command, inside the replica, exits 0.
  auto code = runtime_.Exec(w.id, {"/bin/sh", "-c", p.health->command}, options_.shell_probe_timeout);
  if (!code.ok()) {
    r->reason = "health probe: " + code.status().message();
  } else if (*code != 0) {
    r->reason = "health probe exited with code " + std::to_string(*code);
  }
  return code.ok() && *code == 0;
}

int ServiceController::Autoscale(Pass& pass, const store::ServiceRecord& s, const Plan& p, const Observed& o) {
  // Between rollouts, when every replica is ready.
  int desired = p.replicas;
  if (!p.autoscaled) {
    scaling_.erase(s.id);
    return desired;
  }
  Scaling& sc = scaling_[s.id];
  if (sc.generation != s.generation) {
    sc.generation = s.generation;
    sc.autoscaler = Autoscaler(AutoscalerOptions{0.1, options_.scale_down_window.count()});
    sc.next_sample_ms = pass.now + options_.autoscale_period.count();
  }
  if (pass.now < sc.next_sample_ms || !o.old_alive.empty() || o.current_ready != o.current_alive ||
      o.current_ready == 0) {
    return desired;
  }
  sc.next_sample_ms = pass.now + options_.autoscale_period.count();
  UtilizationSample sample = Sample(runtime_, o.ready_workloads, p.container.resources);
  if (p.hpa.gpu && !sample.gpu_percent && sample.ready > 0 && !sc.gpu_unmeasured_told) {
    // Refused by name, once per generation, rather than silently ignored.
    sc.gpu_unmeasured_told = true;
    pass.Event(s.id, "autoscale-gpu-unmeasured", GpuUnmeasured(*p.hpa.gpu, runtime_.kind()));
  }
  ScaleDecision d = sc.autoscaler.Decide(pass.now, desired, p.min_replicas, p.max_replicas, p.hpa, sample);
  if (d.replicas != desired) {
    pass.Event(s.id, "scaled", d.reason);
    pass.scaled[s.id] = d.replicas;
    desired = d.replicas;
  }
  return desired;
}

void ServiceController::StartMissing(Pass& pass, const store::ServiceRecord& s, const Plan& p, int desired,
                                     Observed* o) {
  // The current generation up to the desired count; during a rollout one new
  // replica at a time.
  int to_start = desired - o->current_alive;
  if (!o->old_alive.empty()) to_start = std::min(to_start, o->current_alive == o->current_ready ? 1 : 0);
  if (to_start <= 0) return;
  workload::ReplicaSet::Starts starts =
      replicas_.StartMissing(s.id, s.generation, to_start, o->current_indexes, [&](int i) {
        return ReplicaSpec(s, p, pass.projects[s.project_id], pass.site, i);
      });
  o->waiting = starts.waiting;  // not a failure yet: its image may be being built or pulled
  if (starts.waiting_began) pass.Event(s.id, "waiting", starts.waiting);
  if (!starts.failure.empty()) {
    pass.Event(s.id, "replica-failed", "replica " + std::to_string(starts.failed_index) + " " + starts.failure);
  }
  for (const workload::ReplicaSet::Started& started : starts.started) {
    pass.Event(s.id, "replica-started", "replica " + std::to_string(started.index) + " of generation " +
                                            std::to_string(s.generation) + " (" + started.spec.name + ")");
    ReplicaView r;
    r.workload = started.spec.name;
    r.workload_id = started.status.id;
    r.index = started.index;
    r.generation = s.generation;
    r.state = "starting";
    r.host_port = started.status.ports.empty() ? 0 : started.status.ports[0].host_port;
    o->replicas.push_back(r);
    o->current_indexes.insert(started.index);
    o->current_alive++;
  }
}

void ServiceController::Retire(Pass& pass, const store::ServiceRecord& s, const runtime::WorkloadStatus& w,
                               const std::string& why, std::vector<gateway::Backend>* backends) {
  // A replica leaves in two steps: first out of the routes (draining), then,
  // a moment later, stopped; so no request is sent to a replica going away.
  int port = w.ports.empty() ? 0 : w.ports[0].host_port;
  backends->erase(std::remove_if(backends->begin(), backends->end(),
                                 [&](const gateway::Backend& x) { return x.port == port; }),
                  backends->end());
  const std::string which = "replica " + std::to_string(workload::LabelNumber(w, runtime::kLabelReplica)) +
                            " of generation " + std::to_string(workload::LabelNumber(w, runtime::kLabelGeneration));
  auto it = draining_.find(w.name);
  if (it == draining_.end()) {
    draining_[w.name] = pass.now + 1500;
    pass.Event(s.id, "replica-draining", which + ": " + why);
  } else if (pass.now >= it->second) {
    (void)runtime_.Stop(w.id, options_.stop_grace);
    ready_.erase(w.name);
    draining_.erase(it);
    pass.Event(s.id, "replica-stopped", which);
  }
}

void ServiceController::Expose(Pass& pass, const store::ServiceRecord& s, const Plan& p, const Observed& o) {
  // `$name-external`: each declared port on the external IP, to the ready
  // replicas that are not draining. Inference services only when online.
  const auth::ProjectSettings& project = pass.projects[s.project_id];
  std::string ip = project.external_ips.empty() ? options_.external_ip : project.external_ips[0];
  for (size_t k = 0; k < p.container.ports.size(); ++k) {
    int64_t port = options_.external_port_base + 10 * s.id + static_cast<int64_t>(k);
    gateway::Exposure e;
    e.name = s.project + "/" + s.name + "-external:" + std::to_string(p.container.ports[k]);
    e.address = ip;
    e.port = static_cast<uint16_t>(port);
    ExternalPort view_port{ip + ":" + std::to_string(port), p.container.ports[k], ""};
    if (port > 65535) {
      view_port.error = "port " + std::to_string(port) + " is beyond 65535";
      pass.external_view[s.id].push_back(view_port);
      continue;
    }
    for (const auto* w : o.ready_workloads) {
      if (draining_.count(w->name)) continue;
      int host_port = 0;
      for (const auto& m : w->ports) {
        if (m.container_port == p.container.ports[k]) host_port = m.host_port;
      }
      if (host_port == 0 && k < w->ports.size()) host_port = w->ports[k].host_port;  // process runtime: by order
      if (host_port > 0) e.backends.push_back({runtime::AddressOf(w->address), static_cast<uint16_t>(host_port)});
    }
    pass.exposures.push_back({s.id, e});
    pass.external_view[s.id].push_back(view_port);
  }
}

void ServiceController::PublishRoutes(Pass& pass) {
  // Split and mirror targets: services with a ready replica serving production.
  std::set<std::string> live;
  for (size_t i = 0; i < pass.upstreams.size(); ++i) {
    if (!pass.upstreams[i].backends.empty() && pass.routed[i].plan.stage == store::kStageOnline) {
      live.insert(pass.upstreams[i].name);
    }
  }
  // A host goes only to services of the project that owns it (service_spec.h).
  std::vector<HostClaim> claims;
  for (const auto& r : pass.routed) claims.push_back({r.rec->project, r.plan.hosts});
  const std::map<std::string, std::string> owners = HostOwners(claims);
  // Each routed service as the gray upgrade by host sees it (serving/takeover.h).
  std::vector<HostService> deployed;
  for (const auto& r : pass.routed) deployed.push_back(AsHostService(*r.rec, r.plan));
  std::vector<std::pair<const HostService*, gateway::Route>> routes;
  for (size_t i = 0; i < pass.routed.size(); ++i) {  // routed[i] is the service of upstreams[i]
    if (pass.upstreams[i].backends.empty()) continue;  // only services with a ready replica take traffic
    for (gateway::Route& r : RoutesOf(*pass.routed[i].rec, pass.routed[i].plan, live)) {
      const store::ServiceRecord& rec = *pass.routed[i].rec;
      auto owner = owners.find(r.host);
      if (owner != owners.end() && owner->second != rec.project) {
        // Recorded on the service (only data from before host ownership can get here).
        pass.states[rec.id] = {"failed", "host " + r.host + " belongs to another project; not routed"};
        continue;
      }
      if (r.host == pass.routed[i].plan.hosts.production) deployed[i].live = deployed[i].online;
      routes.push_back({&deployed[i], std::move(r)});
    }
  }
  std::vector<gateway::Route> unique = OneRoutePerHost(std::move(routes));
  // Once live there, the newest takes the older services on its host offline.
  pass.takeovers = Takeovers(deployed);
  for (const Takeover& t : pass.takeovers) {
    std::string retired = NameOf(pass.services, t.retired);
    std::string by = NameOf(pass.services, t.by);
    pass.Event(t.retired, "offline", "taken offline: " + by + " is live on " + t.host + " (gray upgrade)");
    pass.Event(t.by, "takeover", "live on " + t.host + ": took " + retired + " offline (gray upgrade)");
  }
  if (gateway_) {
    Status set = gateway_->SetRouteSet("services", pass.upstreams, unique);
    if (!set.ok()) spdlog::error("[serving] route table refused: {}", set.ToString());
  }
}

void ServiceController::PublishExposures(Pass& pass) {
  if (!exposure_) return;
  std::vector<gateway::Exposure> wanted;
  for (const auto& [id, e] : pass.exposures) wanted.push_back(e);
  auto errors = exposure_->Set(wanted);
  std::map<std::string, std::string> now_errors;
  for (const auto& [id, e] : pass.exposures) {
    std::string key = e.address + ":" + std::to_string(e.port);
    auto err = errors.find(key);
    if (err == errors.end()) continue;
    now_errors[key] = err->second;
    for (auto& v : pass.external_view[id]) {
      if (v.address == key) v.error = err->second;
    }
    if (external_errors_[key] != err->second) {
      pass.Event(id, "external-port", "cannot listen on " + key + ": " + err->second);
    }
  }
  external_errors_ = std::move(now_errors);
}

void ServiceController::Record(Pass& pass) {
  {
    std::lock_guard<std::mutex> lock(view_mu_);
    view_ = std::move(pass.view);
    external_view_ = std::move(pass.external_view);
  }
  const int64_t now = pass.now;
  Status w = store_.Write([&](store::Tx& tx) -> Status {
    for (const auto& [id, ev] : pass.events) {
      QUADER_RETURN_IF_ERROR(store::AddServiceEvent(tx, id, now, ev.first, ev.second));
    }
    for (const auto& [id, replicas] : pass.scaled) QUADER_RETURN_IF_ERROR(store::SetScaledReplicas(tx, id, replicas));
    for (const Takeover& t : pass.takeovers) {
      QUADER_RETURN_IF_ERROR(store::SetServiceStage(tx, t.retired, store::kStageOffline, now / 1000));
    }
    for (const auto& s : pass.services) {
      auto it = pass.states.find(s.id);
      if (it == pass.states.end()) continue;
      if (s.state != it->second.first || s.reason != it->second.second) {
        QUADER_RETURN_IF_ERROR(store::SetServiceState(tx, s.id, it->second.first, it->second.second));
      }
    }
    return Status::Ok();
  });
  if (!w.ok()) spdlog::warn("[serving] recording service states failed: {}", w.ToString());
}

}  // namespace quader::serving
