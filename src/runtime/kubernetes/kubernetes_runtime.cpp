#include "runtime/kubernetes/kubernetes_runtime.h"

#include <spdlog/spdlog.h>

#include "runtime/kubernetes/mapping.h"
#include "runtime/labels.h"

namespace quader::runtime::kubernetes {
namespace {

constexpr const char* kManagedSelector = "quader.managed=true";
constexpr std::chrono::milliseconds kSyncTimeout{10000};

bool Matches(const std::map<std::string, std::string>& labels, const std::map<std::string, std::string>& selector) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

// metadata.KEY of an API object; null when missing or not there (never throws:
// a broken API server must not stop an informer's thread).
const Json& MetadataField(const Json& object, const char* key) { return Child(Child(object, "metadata"), key); }

std::string MetadataString(const Json& object, const char* key) {
  const Json& v = MetadataField(object, key);
  return v.is_string() ? v.get<std::string>() : "";
}

std::map<std::string, std::string> LabelsOf(const Json& object) {
  std::map<std::string, std::string> out;
  const Json& labels = MetadataField(object, "labels");
  if (!labels.is_object()) return out;
  for (const auto& [k, v] : labels.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::string NameOf(const Json& object) { return MetadataString(object, "name"); }

}  // namespace

// --- Informer -----------------------------------------------------------------

Informer::Informer(const ApiClient& client, std::string api_version, std::string kind, std::string label_selector)
    : client_(client), api_version_(std::move(api_version)), kind_(std::move(kind)),
      selector_(std::move(label_selector)) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  cancel_.Reset();
  thread_ = std::thread([this] { Loop(); });
}

void Informer::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  cancel_.Cancel();
  if (thread_.joinable()) thread_.join();
}

bool Informer::WaitSynced(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return synced_ || stop_; }) && synced_;
}

std::optional<Json> Informer::Get(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(name);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<Json> Informer::Snapshot(const std::map<std::string, std::string>& selector) const {
  std::lock_guard lock(mu_);
  std::vector<Json> out;
  for (const auto& [name, o] : objects_) {
    if (selector.empty() || Matches(LabelsOf(o), selector)) out.push_back(o);
  }
  return out;
}

int Informer::lists() const {
  std::lock_guard lock(mu_);
  return lists_;
}

std::string Informer::resource_version() const {
  std::lock_guard lock(mu_);
  return version_;
}

void Informer::OnChange(std::function<void()> callback) {
  std::lock_guard lock(mu_);
  on_change_ = std::move(callback);
}

void Informer::Loop() {
  auto stopping = [&] {
    std::lock_guard lock(mu_);
    return stop_;
  };
  auto pause = [&](std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [&] { return stop_; });
  };
  auto changed = [&] {
    std::function<void()> cb;
    {
      std::lock_guard lock(mu_);
      cb = on_change_;
    }
    if (cb) cb();
  };
  int failures = 0;
  while (!stopping()) {
    // List: the whole state and the version to watch from.
    auto list = client_.List(api_version_, kind_, selector_);
    if (!list.ok()) {
      if (failures++ % 30 == 0) spdlog::warn("[kubernetes] listing {}: {}", kind_, list.status().message());
      pause(std::chrono::milliseconds(1000));
      continue;
    }
    failures = 0;
    {
      std::lock_guard lock(mu_);
      objects_.clear();
      auto items = list->is_object() ? list->find("items") : list->end();
      if (items != list->end() && items->is_array()) {
        for (const auto& item : *items) objects_[NameOf(item)] = item;
      }
      version_ = MetadataString(*list, "resourceVersion");
      synced_ = true;
      lists_++;
    }
    cv_.notify_all();
    changed();
    // Watch from there, resuming from the last version seen while the
    // server merely ends watches; list again after 410 Gone or an error.
    while (!stopping()) {
      Status watched = client_.Watch(
          api_version_, kind_, selector_, resource_version(),
          [&](const WatchEvent& ev) {
            {
              std::lock_guard lock(mu_);
              if (stop_) return false;
              std::string v = MetadataString(ev.object, "resourceVersion");
              if (!v.empty()) version_ = v;
              if (ev.type == "ADDED" || ev.type == "MODIFIED") {
                objects_[NameOf(ev.object)] = ev.object;
              } else if (ev.type == "DELETED") {
                objects_.erase(NameOf(ev.object));
              } else {
                return true;  // BOOKMARK: a version only
              }
            }
            changed();
            return true;
          },
          60, &cancel_);
      if (stopping()) break;
      if (IsGone(watched)) {
        spdlog::info("[kubernetes] {} watch: {}; listing again", kind_, watched.message());
        break;
      }
      if (!watched.ok()) {
        spdlog::warn("[kubernetes] {} watch: {}", kind_, watched.message());
        pause(std::chrono::milliseconds(1000));
        break;
      }
    }
  }
}

// --- KubernetesRuntime ---------------------------------------------------------

KubernetesRuntime::KubernetesRuntime(KubernetesOptions options) : options_(std::move(options)) {}

KubernetesRuntime::~KubernetesRuntime() {
  std::lock_guard lock(mu_);
  for (auto& [name, c] : clusters_) {
    c->pods->Stop();
    c->deployments->Stop();
  }
}

Result<KubernetesRuntime::Id> KubernetesRuntime::ParseId(const std::string& id) {
  Id out;
  std::string rest = id;
  size_t colon = rest.find(':');
  if (colon != std::string::npos) {
    out.context = rest.substr(0, colon);
    rest = rest.substr(colon + 1);
  }
  size_t slash = rest.find('/');
  if (slash == std::string::npos) {
    // A bare workload name (controllers may keep the spec's name): which
    // shape it has is looked up.
    out.name = rest;
    return out;
  }
  out.shape = rest.substr(0, slash);
  out.name = rest.substr(slash + 1);
  if ((out.shape != "pod" && out.shape != "deployment") || out.name.empty()) return errors::NotFound("workload", id);
  return out;
}

Result<KubernetesRuntime::Id> KubernetesRuntime::Resolve(const std::string& id) {
  QUADER_ASSIGN_OR_RETURN(Id parsed, ParseId(id));
  if (!parsed.shape.empty()) return parsed;
  if (parsed.name.empty()) return errors::NotFound("workload", id);
  QUADER_ASSIGN_OR_RETURN(Cluster * c, ClusterOf(parsed.context));
  if (c->pods->Get(parsed.name)) return Id{parsed.context, "pod", parsed.name};
  if (c->deployments->Get(parsed.name)) return Id{parsed.context, "deployment", parsed.name};
  // Created a moment ago, not in the cache yet.
  if (c->client->Get("v1", "Pod", parsed.name).ok()) return Id{parsed.context, "pod", parsed.name};
  if (c->client->Get("apps/v1", "Deployment", parsed.name).ok()) return Id{parsed.context, "deployment", parsed.name};
  return errors::NotFound("workload", id);
}

std::string KubernetesRuntime::IdOf(const Id& id) {
  return (id.context.empty() ? "" : id.context + ":") + id.shape + "/" + id.name;
}

Result<KubernetesRuntime::Cluster*> KubernetesRuntime::ClusterOf(const std::string& context) {
  std::lock_guard lock(mu_);
  auto it = clusters_.find(context);
  if (it != clusters_.end()) return it->second.get();
  auto access = options_.access(context);
  if (!access.ok()) return access.status();
  auto c = std::make_unique<Cluster>();
  c->client = std::make_unique<ApiClient>(std::move(access).value());
  c->pods = std::make_unique<Informer>(*c->client, "v1", "Pod", kManagedSelector);
  c->deployments = std::make_unique<Informer>(*c->client, "apps/v1", "Deployment", kManagedSelector);
  c->pods->Start();
  c->deployments->Start();
  if (!c->pods->WaitSynced(kSyncTimeout) || !c->deployments->WaitSynced(kSyncTimeout)) {
    spdlog::warn("[kubernetes] context {}: no list of pods and deployments within {} s; answering from the API until it comes",
                 c->client->access().context, kSyncTimeout.count() / 1000);
  }
  Cluster* raw = c.get();
  clusters_[context] = std::move(c);
  return raw;
}

Result<std::string> KubernetesRuntime::Describe() {
  QUADER_ASSIGN_OR_RETURN(Cluster * c, ClusterOf(""));
  const ClusterAccess& a = c->client->access();
  // The informers' first list needs the credentials, so a bad kubeconfig
  // fails at start-up; only when it did not come, ask once more for the reason.
  if (c->pods->lists() == 0) {
    auto list = c->client->List("v1", "Pod", kManagedSelector);
    if (!list.ok()) return list.status();
  }
  return "kubernetes (context " + a.context + ", " + a.server + ", namespace " + a.ns + ")";
}

std::string KubernetesRuntime::default_namespace() {
  std::lock_guard lock(mu_);
  auto it = clusters_.find("");
  return it == clusters_.end() ? "default" : it->second->client->access().ns;
}

Result<WorkloadStatus> KubernetesRuntime::Start(const WorkloadSpec& in) {
  if (in.name.empty() || in.name.size() > 63) return errors::Invalid("name", "must be 1-63 characters");
  if (in.image.empty()) return errors::Invalid("image", "is required on kubernetes");
  QUADER_ASSIGN_OR_RETURN(Cluster * c, ClusterOf(in.cluster));
  WorkloadSpec spec = in;
  if (!options_.api_url.empty()) {
    if (spec.env.count("QUADER_API_URL")) spec.env["QUADER_API_URL"] = options_.api_url;
    spec.host_network = false;
  }
  const std::string ns = c->client->access().ns;
  const std::string prefix = in.cluster.empty() ? "" : in.cluster + ":";
  WorkloadStatus st;
  st.name = spec.name;
  st.state = WorkloadState::kPending;
  st.labels = spec.labels;
  for (const auto& p : spec.ports) st.ports.push_back({p.container_port, p.container_port, p.protocol});
  if (IsLongLived(spec)) {
    auto created = c->client->Create(DeploymentManifest(spec, ns));
    if (!created.ok()) return created.status();
    Json service = ServiceManifest(spec, ns, spec.name);
    if (!service.is_null()) {
      auto made = c->client->Apply(service);
      if (!made.ok()) {
        (void)c->client->Delete("apps/v1", "Deployment", spec.name);
        return made.status();
      }
    }
    st.id = prefix + "deployment/" + spec.name;
  } else {
    auto created = c->client->Create(PodManifest(spec, ns));
    if (!created.ok()) return created.status();
    st.id = prefix + "pod/" + spec.name;
  }
  return st;
}

Status KubernetesRuntime::Stop(const std::string& id, std::chrono::seconds grace) {
  auto parsed = Resolve(id);
  if (!parsed.ok()) return parsed.status().code() == Code::kNotFound ? Status::Ok() : parsed.status();
  QUADER_ASSIGN_OR_RETURN(Cluster * c, ClusterOf(parsed->context));
  int seconds = static_cast<int>(grace.count());
  if (parsed->shape == "pod") return c->client->Delete("v1", "Pod", parsed->name, seconds);
  QUADER_RETURN_IF_ERROR(c->client->Delete("apps/v1", "Deployment", parsed->name, seconds));
  return c->client->Delete("v1", "Service", parsed->name);
}

std::optional<WorkloadStatus> KubernetesRuntime::Cached(Cluster& c, const std::string& context,
                                                        const std::string& shape, const std::string& name) {
  const std::string prefix = context.empty() ? "" : context + ":";
  if (shape == "pod") {
    auto pod = c.pods->Get(name);
    if (!pod) return std::nullopt;
    WorkloadStatus s = StatusOfPod(*pod);
    s.id = prefix + "pod/" + name;
    return s;
  }
  auto deployment = c.deployments->Get(name);
  if (!deployment) return std::nullopt;
  std::optional<Json> pod = PodOf(c, Id{context, shape, name});
  WorkloadStatus s;
  if (pod) {
    s = StatusOfPod(*pod);
  } else {
    s.state = WorkloadState::kPending;
    s.reason = "no pod yet";
    const Json& tpl = Child(Child(*deployment, "spec"), "template");
    for (const auto& ct : ArrayOr(Child(tpl, "spec"), "containers")) {
      for (const auto& p : ArrayOr(ct, "ports")) {
        int port = IntOr(p, "containerPort");
        s.ports.push_back({port, port, "tcp"});
      }
    }
  }
  s.labels = LabelsOf(*deployment);
  s.name = name;
  s.id = prefix + "deployment/" + name;
  return s;
}

std::optional<Json> KubernetesRuntime::PodOf(Cluster& c, const Id& id) {
  if (id.shape == "pod") return c.pods->Get(id.name);
  // A Deployment's pods: the running one that is not going away, else the newest.
  std::optional<Json> best;
  int best_rank = -1;
  std::string best_created;
  for (const Json& pod : c.pods->Snapshot({{kLabelWorkload, id.name}})) {
    const Json& meta = Child(pod, "metadata");
    bool terminating = !Child(meta, "deletionTimestamp").is_null();
    std::string phase = StringOr(Child(pod, "status"), "phase");
    int rank = terminating ? 0 : phase == "Running" ? 2 : 1;
    std::string created = StringOr(meta, "creationTimestamp");
    if (rank > best_rank || (rank == best_rank && created > best_created)) {
      best = pod;
      best_rank = rank;
      best_created = created;
    }
  }
  return best;
}

Result<WorkloadStatus> KubernetesRuntime::Inspect(const std::string& id) {
  QUADER_ASSIGN_OR_RETURN(Id parsed, Resolve(id));
  QUADER_ASSIGN_OR_RETURN(Cluster * c, ClusterOf(parsed.context));
  if (auto s = Cached(*c, parsed.context, parsed.shape, parsed.name)) return *s;
  // Not in the cache (yet): ask the API.
  const std::string prefix = parsed.context.empty() ? "" : parsed.context + ":";
  if (parsed.shape == "pod") {
    QUADER_ASSIGN_OR_RETURN(Json pod, c->client->Get("v1", "Pod", parsed.name));
    WorkloadStatus s = StatusOfPod(pod);
    s.id = IdOf(parsed);
    return s;
  }
  QUADER_ASSIGN_OR_RETURN(Json deployment, c->client->Get("apps/v1", "Deployment", parsed.name));
  WorkloadStatus s;
  s.id = IdOf(parsed);
  s.name = parsed.name;
  s.state = WorkloadState::kPending;
  s.labels = LabelsOf(deployment);
  return s;
}

Result<std::vector<WorkloadStatus>> KubernetesRuntime::List(const std::map<std::string, std::string>& selector) {
  // Every cluster opened so far (the default one at least).
  QUADER_RETURN_IF_ERROR(ClusterOf("").status());
  std::vector<std::pair<std::string, Cluster*>> clusters;
  {
    std::lock_guard lock(mu_);
    for (auto& [context, c] : clusters_) clusters.emplace_back(context, c.get());
  }
  std::vector<WorkloadStatus> out;
  for (auto& [context, c] : clusters) {
    const std::string prefix = context.empty() ? "" : context + ":";
    for (const Json& pod : c->pods->Snapshot(selector)) {
      if (LabelsOf(pod)[kLabelShape] == "deployment") continue;  // listed with its Deployment
      WorkloadStatus s = StatusOfPod(pod);
      s.id = prefix + "pod/" + NameOf(pod);
      out.push_back(std::move(s));
    }
    for (const Json& d : c->deployments->Snapshot(selector)) {
      if (auto s = Cached(*c, context, "deployment", NameOf(d))) out.push_back(std::move(*s));
    }
  }
  return out;
}

Status KubernetesRuntime::Logs(const std::string& id, bool follow, const LogSink& sink) {
  QUADER_ASSIGN_OR_RETURN(Id parsed, Resolve(id));
  QUADER_ASSIGN_OR_RETURN(Cluster * c, ClusterOf(parsed.context));
  // A pod's log exists once its container started: wait for that when following.
  std::string pod;
  for (;;) {
    std::optional<WorkloadStatus> status = Cached(*c, parsed.context, parsed.shape, parsed.name);
    if (!status) {
      // Not in the cache yet (created a moment ago): ask the API.
      QUADER_ASSIGN_OR_RETURN(WorkloadStatus got, Inspect(id));
      status = std::move(got);
    }
    std::string name = parsed.name;
    if (parsed.shape != "pod") {
      std::optional<Json> p = PodOf(*c, parsed);
      name = p ? NameOf(*p) : "";
    }
    bool started = status->state != WorkloadState::kPending;
    if (!name.empty() && (started || !follow)) {
      pod = name;
      break;
    }
    if (!follow) return Status::Ok();  // no pod yet: no output yet
    if (!sink("")) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  Status st = c->client->Logs(pod, follow, [&](std::string_view data) { return sink(std::string(data)); });
  // A pod that never started has no log: that is no output, not an error.
  if (!st.ok() && st.code() == Code::kInvalidArgument) return Status::Ok();
  return st;
}

Result<std::unique_ptr<Terminal>> KubernetesRuntime::OpenTerminal(const std::string& id, const TerminalOptions& options) {
  QUADER_ASSIGN_OR_RETURN(Id parsed, Resolve(id));
  QUADER_ASSIGN_OR_RETURN(Cluster * c, ClusterOf(parsed.context));
  std::optional<Json> pod = PodOf(*c, parsed);
  if (!pod || StringOr(Child(*pod, "status"), "phase", "") != "Running") {
    return errors::NotFound("running workload", id);
  }
  const Json& containers = ArrayOr(Child(*pod, "spec"), "containers");
  std::string container = containers.empty() ? "" : StringOr(containers.front(), "name", "");
  return c->client->Exec(NameOf(*pod), container, options.CommandOrShell(), options.rows, options.cols);
}

Result<WorkloadStats> KubernetesRuntime::Stats(const std::string& id) {
  QUADER_ASSIGN_OR_RETURN(Id parsed, Resolve(id));
  QUADER_ASSIGN_OR_RETURN(Cluster * c, ClusterOf(parsed.context));
  std::optional<Json> pod = PodOf(*c, parsed);
  if (!pod) return errors::NotFound("running workload", id);
  std::string name = NameOf(*pod);
  auto metrics = c->client->Call("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/" + c->client->access().ns +
                                            "/pods/" + name);
  if (!metrics.ok()) {
    if (metrics.status().code() == Code::kNotFound) {
      return errors::Unavailable("no metrics for pod " + name + " yet (is metrics-server installed?)");
    }
    return metrics.status();
  }
  WorkloadStats stats;
  for (const auto& ct : ArrayOr(*metrics, "containers")) {
    const Json& usage = Child(ct, "usage");
    stats.cpu_cores += ParseQuantity(StringOr(usage, "cpu", "0")).value_or(0);
    stats.memory_bytes += static_cast<int64_t>(ParseQuantity(StringOr(usage, "memory", "0")).value_or(0));
  }
  for (const auto& ct : ArrayOr(Child(*pod, "spec"), "containers")) {
    std::string limit = StringOr(Child(Child(ct, "resources"), "limits"), "memory");
    if (!limit.empty()) stats.memory_limit_bytes += static_cast<int64_t>(ParseQuantity(limit).value_or(0));
  }
  return stats;
}

// --- ClusterObjects -------------------------------------------------------------

namespace {

// The kinds Apply makes, for DeleteLabelled. The Istio kind may be missing
// (no Istio in the cluster): its 404 is not an error.
const std::vector<std::pair<std::string, std::string>>& ObjectKinds() {
  static const std::vector<std::pair<std::string, std::string>> kinds = {
      {"networking.istio.io/v1beta1", "VirtualService"},
      {"autoscaling/v2", "HorizontalPodAutoscaler"},
      {"v1", "Service"},
      {"apps/v1", "Deployment"}};
  return kinds;
}

std::string Selector(const std::map<std::string, std::string>& selector) {
  std::string out;
  for (const auto& [k, v] : selector) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

}  // namespace

std::string KubernetesRuntime::Namespace(const std::string& context) {
  auto c = ClusterOf(context);
  return c.ok() ? (*c)->client->access().ns : "default";
}

Status KubernetesRuntime::Apply(const std::string& context, const std::vector<Json>& objects) {
  QUADER_ASSIGN_OR_RETURN(Cluster * c, ClusterOf(context));
  for (const Json& object : objects) {
    auto applied = c->client->Apply(object, [&](const Json& current, Json& replacement) -> Status {
      const std::string kind = StringOr(object, "kind");
      auto ours = LabelsOf(object), theirs = LabelsOf(current);
      if (theirs[kLabelOwner] != ours[kLabelOwner] || theirs[kLabelKind] != ours[kLabelKind]) {
        return errors::Conflict(kind + " " + NameOf(object) + " in namespace " + c->client->access().ns +
                                " belongs to something else (owner label \"" + theirs[kLabelOwner] +
                                "\"): rename the service");
      }
      // An autoscaled Deployment keeps the count its HorizontalPodAutoscaler chose.
      const Json& annotations = Child(Child(object, "metadata"), "annotations");
      const Json& replicas = Child(Child(current, "spec"), "replicas");
      if (kind == "Deployment" && StringOr(annotations, kAnnotationAutoscaled) == "true" &&
          replicas.is_number_integer()) {
        replacement["spec"]["replicas"] = replicas;
      }
      return Status::Ok();
    });
    if (!applied.ok()) return applied.status();
  }
  return Status::Ok();
}

Status KubernetesRuntime::DeleteLabelled(const std::string& context,
                                         const std::map<std::string, std::string>& selector) {
  QUADER_ASSIGN_OR_RETURN(Cluster * c, ClusterOf(context));
  for (const auto& [api_version, kind] : ObjectKinds()) {
    auto list = c->client->List(api_version, kind, Selector(selector));
    if (!list.ok()) {
      if (list.status().code() == Code::kNotFound) continue;  // the kind is not installed
      return list.status();
    }
    for (const auto& item : list->value("items", Json::array())) {
      QUADER_RETURN_IF_ERROR(c->client->Delete(api_version, kind, NameOf(item)));
    }
  }
  return Status::Ok();
}

Result<std::vector<WorkloadStatus>> KubernetesRuntime::Pods(const std::string& context,
                                                             const std::map<std::string, std::string>& selector) {
  QUADER_ASSIGN_OR_RETURN(Cluster * c, ClusterOf(context));
  const std::string prefix = context.empty() ? "" : context + ":";
  std::vector<WorkloadStatus> out;
  for (const Json& pod : c->pods->Snapshot(selector)) {
    WorkloadStatus s = StatusOfPod(pod);
    s.id = prefix + "pod/" + NameOf(pod);
    s.name = NameOf(pod);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace quader::runtime::kubernetes
