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

namespace quader::serving {
namespace {

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

int LabelInt(const runtime::WorkloadStatus& w, const char* key) {
  auto it = w.labels.find(key);
  if (it == w.labels.end()) return -1;
  try {
    return std::stoi(it->second);
  } catch (const std::exception&) {
    return -1;
  }
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

std::vector<ExternalPort> ServiceController::External(int64_t service_id) const {
  std::lock_guard<std::mutex> lock(view_mu_);
  auto it = external_view_.find(service_id);
  return it == external_view_.end() ? std::vector<ExternalPort>{} : it->second;
}

bool ServiceController::OwnsWorkload(const runtime::WorkloadStatus& w) {
  int id = LabelInt(w, runtime::kLabelOwner);
  if (id <= 0) return false;
  bool exists = false;
  (void)store_.Read([&](store::Tx& tx) -> Status {
    exists = store::GetService(tx, id).ok();
    return Status::Ok();
  });
  return exists;
}

void ServiceController::Reconcile() {
  int64_t now = ToUnixMillis(clock_.Now());
  std::vector<store::ServiceRecord> services;
  std::map<int64_t, auth::ProjectSettings> projects;
  Status st = store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(services, store::ListServices(tx, {}, true, ""));
    for (const auto& s : services) {
      if (projects.count(s.project_id)) continue;
      QUADER_ASSIGN_OR_RETURN(projects[s.project_id], auth::StoredProjectSettings(tx, s.project_id));
    }
    return Status::Ok();
  });
  if (!st.ok()) {
    spdlog::warn("[serving] reading services failed: {}", st.ToString());
    return;
  }
  auto listed = runtime_.List({{runtime::kLabelManaged, "true"},
                               {runtime::kLabelInstance, options_.instance},
                               {runtime::kLabelKind, "service"}});
  if (!listed.ok()) {
    spdlog::warn("[serving] listing replicas failed: {}", listed.status().ToString());
    return;
  }
  runtime::ClusterObjects* cluster = runtime_.cluster_objects();
  std::map<int64_t, std::vector<runtime::WorkloadStatus>> by_service;
  std::set<int64_t> known;
  for (const auto& s : services) known.insert(s.id);
  for (auto& w : *listed) {
    int id = LabelInt(w, runtime::kLabelOwner);
    if (!known.count(id)) {
      // Its service was deleted.
      if (cluster) {
        (void)cluster->DeleteLabelled("", {{runtime::kLabelManaged, "true"},
                                           {runtime::kLabelInstance, options_.instance},
                                           {runtime::kLabelKind, "service"},
                                           {runtime::kLabelOwner, std::to_string(id)}});
        applied_.erase(id);
        continue;
      }
      (void)runtime_.Stop(w.id, options_.stop_grace);
      ready_.erase(w.name);
      continue;
    }
    by_service[id].push_back(std::move(w));
  }

  std::vector<std::pair<int64_t, std::pair<std::string, std::string>>> events;  // service, kind, message
  std::map<int64_t, int> scaled;  // the autoscaler's new counts
  auto event = [&](int64_t id, const std::string& kind, const std::string& message) {
    events.push_back({id, {kind, message}});
    spdlog::info("[serving] service {}: {}: {}", id, kind, message);
  };
  std::vector<gateway::Upstream> upstreams;
  struct PendingRoute {
    const store::ServiceRecord* rec;
    Plan plan;
  };
  std::vector<PendingRoute> routed;
  std::map<int64_t, std::vector<ReplicaView>> view;
  std::map<int64_t, std::vector<ExternalPort>> external_view;
  std::vector<std::pair<int64_t, gateway::Exposure>> exposures;
  std::map<int64_t, std::pair<std::string, std::string>> states;
  bool process_runtime = runtime_.kind() == "process";

  char host_buf[256] = {0};
  std::string node_name = gethostname(host_buf, sizeof(host_buf) - 1) == 0 ? host_buf : "localhost";
  ReplicaSite site{options_.data_dir, options_.instance, node_name, process_runtime};

  std::map<int64_t, Result<Plan>> plans;  // by service id, planned once per pass
  for (const auto& s : services) plans.emplace(s.id, PlanOf(s, options_.service_domain, options_.kubeflow_area));
  // On a cluster, Istio routes a host to whichever VirtualService names it: a
  // service gets one only for hosts its project owns (service_spec.h).
  std::map<std::string, std::string> cluster_owners;
  if (cluster && options_.istio) {
    std::vector<HostClaim> claims;
    for (const auto& s : services) {
      const Result<Plan>& plan = plans.at(s.id);
      if (plan.ok()) claims.push_back({s.project, plan->hosts});
    }
    cluster_owners = HostOwners(claims);
  }

  for (const auto& s : services) {
    const Result<Plan>& plan = plans.at(s.id);
    if (!plan.ok()) {
      states[s.id] = {"failed", "cannot be run: " + plan.status().message()};
      continue;
    }
    const Plan& p = *plan;
    if (cluster) {
      // The cluster keeps the replicas: apply the objects when they change,
      // route to the ready pods.
      const auth::ProjectSettings& project = projects[s.project_id];
      auto owner = OwnerLabels(s, options_.instance);
      std::vector<ReplicaView> replicas;
      std::vector<gateway::Backend> backends;
      std::string failure, taken;
      if (p.replicas == 0) {
        if (applied_.count(s.id)) {
          Status gone = cluster->DeleteLabelled(project.cluster, owner);
          if (gone.ok()) {
            applied_.erase(s.id);
            event(s.id, "undeployed", "its objects were deleted from the cluster");
          }
        }
      } else {
        taken = options_.istio ? TakenHost(p.hosts, s.project, cluster_owners) : "";
        if (!taken.empty()) failure = "host " + taken + " belongs to another project; no VirtualService";
        ClusterObjectOptions o{cluster->Namespace(project.cluster), options_.instance, options_.data_dir,
                               options_.istio && taken.empty(), options_.istio_gateway};
        std::vector<Json> objects = ServiceObjects(s, p, project, o);
        std::string digest = Json(objects).dump();
        if (applied_[s.id] != digest) {
          if (!taken.empty()) {
            // A VirtualService made before host ownership goes (data from older versions).
            auto route = owner;
            route[kLabelRoute] = "true";
            (void)cluster->DeleteLabelled(project.cluster, route);
          }
          Status applied = cluster->Apply(project.cluster, objects);
          if (applied.ok()) {
            applied_[s.id] = digest;
            std::string kinds;
            for (const auto& obj : objects) kinds += (kinds.empty() ? "" : ", ") + obj.value("kind", "");
            event(s.id, "applied", "generation " + std::to_string(s.generation) + " to namespace " + o.ns + ": " + kinds);
            if (p.autoscaled && p.hpa.gpu) event(s.id, "autoscale-gpu-unmeasured", GpuUnmeasured(*p.hpa.gpu, runtime_.kind()));
          } else {
            applied_.erase(s.id);
            failure = "cannot apply: " + applied.message();
            event(s.id, "apply-failed", failure);
          }
        }
        auto pods = cluster->Pods(project.cluster, owner);
        if (!pods.ok()) failure = "cannot list pods: " + pods.status().message();
        int index = 0;
        for (const auto& pod : pods.ok() ? *pods : std::vector<runtime::WorkloadStatus>{}) {
          ReplicaView r;
          r.workload = pod.name;
          r.index = index++;
          r.generation = LabelInt(pod, kLabelGeneration);
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
      gateway::Upstream up;
      up.name = UpstreamName(s);
      up.backends = backends;
      upstreams.push_back(up);
      routed.push_back({&s, p});
      view[s.id] = replicas;
      if (p.replicas == 0) {
        states[s.id] = {"stopped", StoppedReason(p)};
      } else if (!backends.empty()) {
        states[s.id] = {"running", taken.empty() ? "" : failure};
      } else {
        states[s.id] = {"pending", failure.empty() ? "waiting for a ready pod" : failure};
      }
      continue;
    }
    std::vector<runtime::WorkloadStatus>& mine = by_service[s.id];
    std::vector<ReplicaView> replicas;
    std::vector<gateway::Backend> backends;
    std::set<int> current_indexes;
    int current_alive = 0, current_ready = 0;
    std::vector<const runtime::WorkloadStatus*> old_alive;
    std::vector<const runtime::WorkloadStatus*> ready_workloads;
    std::string last_failure;
    for (const auto& w : mine) {
      ReplicaView r;
      r.workload = w.name;
      r.index = LabelInt(w, runtime::kLabelReplica);
      r.generation = LabelInt(w, kLabelGeneration);
      r.host_port = w.ports.empty() ? 0 : w.ports[0].host_port;
      bool current = r.generation == s.generation;
      if (w.state == runtime::WorkloadState::kFailed || w.state == runtime::WorkloadState::kSucceeded ||
          w.state == runtime::WorkloadState::kUnknown) {
        std::string why = w.oom_killed ? "killed: out of memory"
                          : !w.reason.empty() ? w.reason
                          : w.exit_code ? "exited with code " + std::to_string(*w.exit_code)
                                        : "ended";
        event(s.id, "replica-failed", "replica " + std::to_string(r.index) + " (" + w.name + ") " + why);
        last_failure = why;
        (void)runtime_.Stop(w.id, std::chrono::seconds(0));
        ready_.erase(w.name);
        Backoff& b = backoff_[s.id];
        b.failures++;
        b.not_before_ms = now + std::min<int64_t>(60000, 1000LL << std::min(b.failures, 6));
        continue;
      }
      bool shell = p.health && p.health->kind == gateway::HealthSpec::Kind::kShell;
      std::string path = p.health && !shell ? p.health->path : "";
      int probe_port = r.host_port;
      if (p.health && !shell) {
        for (const auto& m : w.ports) {
          if (m.container_port == p.health->port) probe_port = m.host_port;
        }
      }
      bool ready = false;
      if (w.state == runtime::WorkloadState::kRunning && probe_port > 0) {
        if (shell) {
          // An exec probe: the command, inside the replica, exits 0.
          auto code = runtime_.Exec(w.id, {"/bin/sh", "-c", p.health->command}, options_.shell_probe_timeout);
          ready = code.ok() && *code == 0;
          if (!code.ok()) {
            r.reason = "health probe: " + code.status().message();
          } else if (*code != 0) {
            r.reason = "health probe exited with code " + std::to_string(*code);
          }
        } else {
          ready = runtime::Probe(runtime::AddressOf(w.address), probe_port, path, options_.probe_timeout);
        }
      }
      r.state = ready ? "ready" : "starting";
      if (ready && ready_.insert(w.name).second) {
        event(s.id, "replica-ready", "replica " + std::to_string(r.index) + " of generation " +
                                         std::to_string(r.generation) + " is ready on port " +
                                         std::to_string(r.host_port));
        backoff_[s.id].failures = 0;
      }
      if (ready) {
        backends.push_back({runtime::AddressOf(w.address), static_cast<uint16_t>(r.host_port)});
        ready_workloads.push_back(&w);
      } else if (ready_.erase(w.name)) {
        event(s.id, "replica-unready", "replica " + std::to_string(r.index) + " stopped passing its health probe");
      }
      if (current) {
        current_alive++;
        if (ready) current_ready++;
        current_indexes.insert(r.index);
      } else {
        old_alive.push_back(&w);
      }
      replicas.push_back(r);
    }

    // The autoscaler: between rollouts, when every replica is ready.
    int desired = p.replicas;
    if (p.autoscaled) {
      Scaling& sc = scaling_[s.id];
      if (sc.generation != s.generation) {
        sc.generation = s.generation;
        sc.autoscaler = Autoscaler(AutoscalerOptions{0.1, options_.scale_down_window.count()});
        sc.next_sample_ms = now + options_.autoscale_period.count();
      }
      if (now >= sc.next_sample_ms && old_alive.empty() && current_ready == current_alive && current_ready > 0) {
        sc.next_sample_ms = now + options_.autoscale_period.count();
        UtilizationSample sample = Sample(runtime_, ready_workloads, p.container.resources);
        if (p.hpa.gpu && !sample.gpu_percent && sample.ready > 0 && !sc.gpu_unmeasured_told) {
          // Refused by name, once per generation, rather than silently ignored.
          sc.gpu_unmeasured_told = true;
          event(s.id, "autoscale-gpu-unmeasured", GpuUnmeasured(*p.hpa.gpu, runtime_.kind()));
        }
        ScaleDecision d = sc.autoscaler.Decide(now, desired, p.min_replicas, p.max_replicas, p.hpa, sample);
        if (d.replicas != desired) {
          event(s.id, "scaled", d.reason);
          scaled[s.id] = d.replicas;
          desired = d.replicas;
        }
      }
    } else {
      scaling_.erase(s.id);
    }

    // Scale the current generation to the desired count; during a rollout
    // one new replica at a time.
    Backoff& b = backoff_[s.id];
    int to_start = desired - current_alive;
    if (!old_alive.empty()) to_start = std::min(to_start, current_alive == current_ready ? 1 : 0);
    for (int i = 0; to_start > 0 && now >= b.not_before_ms; ++i) {
      if (current_indexes.count(i)) continue;
      runtime::WorkloadSpec spec = ReplicaSpec(s, p, projects[s.project_id], site, i);
      auto started = runtime_.Start(spec);
      std::string waiting = image_waits_.Waiting(std::to_string(s.id), started.status(), clock_.Now());
      if (!waiting.empty()) {
        // Not a failure yet: its image may be being built or pulled.
        if (b.waiting_image.empty()) event(s.id, "waiting", waiting);
        b.waiting_image = last_failure = waiting;
        b.not_before_ms = now + 2000;
        break;
      }
      if (!started.ok()) {
        last_failure = "could not start: " + started.status().message();
        event(s.id, "replica-failed", "replica " + std::to_string(i) + " " + last_failure);
        b.failures++;
        b.not_before_ms = now + std::min<int64_t>(60000, 1000LL << std::min(b.failures, 6));
        break;
      }
      b.waiting_image.clear();
      event(s.id, "replica-started", "replica " + std::to_string(i) + " of generation " +
                                         std::to_string(s.generation) + " (" + spec.name + ")");
      ReplicaView r;
      r.workload = spec.name;
      r.index = i;
      r.generation = s.generation;
      r.state = "starting";
      r.host_port = started->ports.empty() ? 0 : started->ports[0].host_port;
      replicas.push_back(r);
      current_indexes.insert(i);
      current_alive++;
      to_start--;
    }
    // A replica leaves in two steps: first out of the routes (draining), then,
    // a moment later, stopped; so no request is sent to a replica going away.
    auto retire = [&](const runtime::WorkloadStatus& w, const std::string& why) {
      int port = w.ports.empty() ? 0 : w.ports[0].host_port;
      backends.erase(std::remove_if(backends.begin(), backends.end(),
                                    [&](const gateway::Backend& x) { return x.port == port; }),
                     backends.end());
      auto it = draining_.find(w.name);
      if (it == draining_.end()) {
        draining_[w.name] = now + 1500;
        event(s.id, "replica-draining", "replica " + std::to_string(LabelInt(w, runtime::kLabelReplica)) +
                                            " of generation " + std::to_string(LabelInt(w, kLabelGeneration)) +
                                            ": " + why);
      } else if (now >= it->second) {
        (void)runtime_.Stop(w.id, options_.stop_grace);
        ready_.erase(w.name);
        draining_.erase(it);
        event(s.id, "replica-stopped", "replica " + std::to_string(LabelInt(w, runtime::kLabelReplica)) +
                                           " of generation " + std::to_string(LabelInt(w, kLabelGeneration)));
      }
    };
    // Old replicas go once enough new ones are ready; extra current ones go at once.
    int keep_old = std::max(0, desired - current_ready);
    for (size_t k = static_cast<size_t>(keep_old); k < old_alive.size(); ++k) {
      retire(*old_alive[k], "replaced by generation " + std::to_string(s.generation));
    }
    for (const auto& w : mine) {
      int idx = LabelInt(w, runtime::kLabelReplica);
      if (LabelInt(w, kLabelGeneration) == s.generation && idx >= desired &&
          w.state == runtime::WorkloadState::kRunning) {
        retire(w, "scaled to " + std::to_string(desired));
      }
    }

    gateway::Upstream up;
    up.name = UpstreamName(s);
    up.backends = backends;
    upstreams.push_back(up);

    // `$name-external`: each declared port on the external IP, to the ready
    // replicas that are not draining. Inference services only when online.
    if (exposure_ && desired > 0 && (!p.inference || p.stage == store::kStageOnline)) {
      const auth::ProjectSettings& project = projects[s.project_id];
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
          external_view[s.id].push_back(view_port);
          continue;
        }
        for (const auto* w : ready_workloads) {
          if (draining_.count(w->name)) continue;
          int host_port = 0;
          for (const auto& m : w->ports) {
            if (m.container_port == p.container.ports[k]) host_port = m.host_port;
          }
          if (host_port == 0 && k < w->ports.size()) host_port = w->ports[k].host_port;  // process runtime: by order
          if (host_port > 0) e.backends.push_back({runtime::AddressOf(w->address), static_cast<uint16_t>(host_port)});
        }
        exposures.push_back({s.id, e});
        external_view[s.id].push_back(view_port);
      }
    }
    routed.push_back({&s, p});
    view[s.id] = replicas;
    if (desired == 0) {
      states[s.id] = {"stopped", StoppedReason(p)};
    } else if (!backends.empty()) {
      states[s.id] = {"running", ""};
    } else if (b.failures >= 5) {
      states[s.id] = {"failed", "replicas keep failing: " + last_failure};
    } else {
      states[s.id] = {"pending", last_failure.empty() ? "waiting for a ready replica" : last_failure};
    }
  }

  // Routes: only services with a ready replica take traffic.
  // Split and mirror targets: services with a ready replica serving production.
  std::set<std::string> live;
  for (size_t i = 0; i < upstreams.size(); ++i) {
    if (!upstreams[i].backends.empty() && routed[i].plan.stage == store::kStageOnline) live.insert(upstreams[i].name);
  }
  // A host goes only to services of the project that owns it (service_spec.h).
  std::vector<HostClaim> claims;
  for (const auto& r : routed) claims.push_back({r.rec->project, r.plan.hosts});
  const std::map<std::string, std::string> owners = HostOwners(claims);
  // Each routed service as the gray upgrade by host sees it (serving/takeover.h).
  std::vector<HostService> deployed;
  for (size_t i = 0; i < routed.size(); ++i) deployed.push_back(AsHostService(*routed[i].rec, routed[i].plan));
  std::vector<std::pair<const HostService*, gateway::Route>> routes;
  auto add_route = [&](size_t i, gateway::Route r) {
    const store::ServiceRecord& rec = *routed[i].rec;
    auto owner = owners.find(r.host);
    if (owner != owners.end() && owner->second != rec.project) {
      // Recorded on the service (only data from before host ownership can get here).
      states[rec.id] = {"failed", "host " + r.host + " belongs to another project; not routed"};
      return;
    }
    if (r.host == routed[i].plan.hosts.production) deployed[i].live = deployed[i].online;
    routes.push_back({&deployed[i], std::move(r)});
  };
  for (size_t i = 0; i < routed.size(); ++i) {  // routed[i] is the service of upstreams[i]
    const store::ServiceRecord* rec = routed[i].rec;  // a plain variable: lambdas capture it
    const Plan& plan = routed[i].plan;
    if (upstreams[i].backends.empty()) continue;
    std::string self = UpstreamName(*rec);
    if (plan.inference && plan.stage != store::kStageOnline) {
      // debug and test stages answer only on their own host.
      gateway::Route r;
      r.host = plan.stage == store::kStageDebug ? plan.hosts.debug : plan.hosts.test;
      r.targets.push_back({self, 1});
      if (!r.host.empty()) add_route(i, r);
      continue;
    }
    // Split and mirror targets take their share once they are ready.
    auto live_targets = [&](const std::map<std::string, int>& items) {
      std::map<std::string, int> out;
      for (const auto& [name, percent] : items) {
        std::string target = rec->project + "/" + name;
        if (live.count(target)) out[target] = percent;
      }
      return out;
    };
    gateway::Route prod;
    prod.host = plan.hosts.production;
    prod.targets = gateway::TargetsFromCanary(self, live_targets(plan.canary));
    prod.mirrors = gateway::MirrorsFromShadow(live_targets(plan.shadow));
    add_route(i, prod);
  }
  std::vector<gateway::Route> unique = OneRoutePerHost(std::move(routes));
  // Once live there, the newest takes the older services on its host offline.
  std::vector<Takeover> takeovers = Takeovers(deployed);
  for (const Takeover& t : takeovers) {
    std::string retired = NameOf(services, t.retired);
    std::string by = NameOf(services, t.by);
    event(t.retired, "offline", "taken offline: " + by + " is live on " + t.host + " (gray upgrade)");
    event(t.by, "takeover", "live on " + t.host + ": took " + retired + " offline (gray upgrade)");
  }
  if (gateway_) {
    Status set = gateway_->SetRouteSet("services", upstreams, unique);
    if (!set.ok()) spdlog::error("[serving] route table refused: {}", set.ToString());
  }

  if (exposure_) {
    std::vector<gateway::Exposure> wanted;
    for (const auto& [id, e] : exposures) wanted.push_back(e);
    auto errors = exposure_->Set(wanted);
    std::map<std::string, std::string> now_errors;
    for (const auto& [id, e] : exposures) {
      std::string key = e.address + ":" + std::to_string(e.port);
      auto err = errors.find(key);
      if (err == errors.end()) continue;
      now_errors[key] = err->second;
      for (auto& v : external_view[id]) {
        if (v.address == key) v.error = err->second;
      }
      if (external_errors_[key] != err->second) {
        event(id, "external-port", "cannot listen on " + key + ": " + err->second);
      }
    }
    external_errors_ = std::move(now_errors);
  }
  {
    std::lock_guard<std::mutex> lock(view_mu_);
    view_ = std::move(view);
    external_view_ = std::move(external_view);
  }
  Status w = store_.Write([&](store::Tx& tx) -> Status {
    for (const auto& [id, ev] : events) QUADER_RETURN_IF_ERROR(store::AddServiceEvent(tx, id, now, ev.first, ev.second));
    for (const auto& [id, replicas] : scaled) QUADER_RETURN_IF_ERROR(store::SetScaledReplicas(tx, id, replicas));
    for (const Takeover& t : takeovers) {
      QUADER_RETURN_IF_ERROR(store::SetServiceStage(tx, t.retired, store::kStageOffline, now / 1000));
    }
    for (const auto& s : services) {
      auto it = states.find(s.id);
      if (it == states.end()) continue;
      if (s.state != it->second.first || s.reason != it->second.second) {
        QUADER_RETURN_IF_ERROR(store::SetServiceState(tx, s.id, it->second.first, it->second.second));
      }
    }
    return Status::Ok();
  });
  if (!w.ok()) spdlog::warn("[serving] recording service states failed: {}", w.ToString());
}

}  // namespace quader::serving
