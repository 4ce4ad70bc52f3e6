// KubernetesRuntime and Informer tests against FakeKubeApi: the test plays
// the cluster, changing pods' status with fake_.Mutate/Put as the kubelet
// would, and checks what the runtime made of them.

#include "runtime/kubernetes/kubernetes_runtime.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <functional>
#include <mutex>
#include <thread>

#include "fakes/log_lines.h"
#include "runtime/fake_kube_api.h"
#include "runtime/kubernetes/mapping.h"
#include "runtime/labels.h"

namespace quader::runtime::kubernetes {
namespace {

using namespace std::chrono_literals;
using testing::FakeKubeApi;

constexpr const char* kPods = "/api/v1/namespaces/default/pods/";
constexpr const char* kDeployments = "/apis/apps/v1/namespaces/default/deployments/";
constexpr const char* kServices = "/api/v1/namespaces/default/services/";
constexpr int64_t kMiB = 1 << 20;

bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

WorkloadSpec Spec(const std::string& name, RestartPolicy restart = RestartPolicy::kNever) {
  WorkloadSpec s;
  s.name = name;
  s.image = "busybox:1.36";
  s.command = {"sh", "-c", "echo hi"};
  s.labels = {{kLabelManaged, "true"}, {kLabelProject, "p1"}, {kLabelKind, "task"}};
  s.restart = restart;
  return s;
}

// The env entry named `name` of a container, or null.
Json EnvOf(const Json& container, const std::string& name) {
  for (const auto& e : container.value("env", Json::array())) {
    if (e.value("name", "") == name) return e;
  }
  return nullptr;
}

Json VolumeOf(const Json& pod_spec, const std::string& name) {
  for (const auto& v : pod_spec.value("volumes", Json::array())) {
    if (v.value("name", "") == name) return v;
  }
  return nullptr;
}

Json MountAt(const Json& container, const std::string& path) {
  for (const auto& m : container.value("volumeMounts", Json::array())) {
    if (m.value("mountPath", "") == path) return m;
  }
  return nullptr;
}

// The status a kubelet reports for a container that ended.
Json Terminated(const std::string& phase, int exit_code, const std::string& reason) {
  return {{"phase", phase},
          {"containerStatuses",
           {{{"name", "main"},
             {"state",
              {{"terminated",
                {{"exitCode", exit_code}, {"reason", reason}, {"finishedAt", "2024-05-01T10:00:05Z"}}}}}}}},
          {"startTime", "2024-05-01T10:00:00Z"}};
}

class KubernetesRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KubernetesOptions options;
    options.access = [this](const std::string& context) -> Result<ClusterAccess> {
      {
        std::lock_guard lock(mu_);
        contexts_.push_back(context);
      }
      ClusterAccess a = fake_.Access();
      if (!context.empty()) a.context = context;
      return a;
    };
    runtime_ = std::make_unique<KubernetesRuntime>(options);
  }

  // Sets the pod's status as the kubelet would.
  void SetPodStatus(const std::string& pod, const Json& status) {
    ASSERT_TRUE(fake_.Mutate(kPods + pod, [&](Json& p) { p["status"] = status; })) << pod;
  }

  // Waits until the informers' cache (List) and Inspect(id) report
  // `state`, returning Inspect's status. (Inspect alone could answer from a
  // GET when the cache lacks the workload.)
  WorkloadStatus WaitFor(const std::string& id, WorkloadState state) {
    WorkloadStatus last;
    bool reached = Eventually([&] {
      auto listed = runtime_->List({});
      if (!listed.ok()) return false;
      auto it = std::find_if(listed->begin(), listed->end(), [&](const WorkloadStatus& s) { return s.id == id; });
      if (it == listed->end() || it->state != state) return false;
      auto s = runtime_->Inspect(id);
      if (!s.ok()) return false;
      last = *s;
      return s->state == state;
    });
    EXPECT_TRUE(reached) << id << " is " << StateName(last.state) << ", not " << StateName(state);
    return last;
  }

  // True when a request starting with `prefix` ("DELETE /api/...") was made.
  bool Requested(const std::string& prefix) {
    for (const auto& r : fake_.request_log()) {
      if (r.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }

  // Waits until both informers watch (so a change now reaches them live).
  void WaitWatching(int watches = 2) {
    ASSERT_TRUE(Eventually([&] { return fake_.open_watches() >= watches; })) << fake_.open_watches();
  }

  FakeKubeApi fake_;  // first: outlives the runtime's informers
  std::mutex mu_;
  std::vector<std::string> contexts_;
  std::unique_ptr<KubernetesRuntime> runtime_;
};

// --- pods -----------------------------------------------------------------------------------

TEST_F(KubernetesRuntimeTest, KindIsKubernetes) { EXPECT_EQ(runtime_->kind(), "kubernetes"); }

TEST_F(KubernetesRuntimeTest, StartOfATaskCreatesAPod) {
  WorkloadSpec spec = Spec("train-1");
  spec.env = {{"A", "1"}, {"K8S_POD_NAME", "local-name"}};
  Mount claim_mount;
  claim_mount.kind = MountKind::kVolume;
  claim_mount.source = "/srv/quader/volumes/data/alice";
  claim_mount.target = "/data";
  claim_mount.claim = "quader-data";
  claim_mount.sub_path = "users/alice";
  Mount host_mount;
  host_mount.kind = MountKind::kHostPath;
  host_mount.source = "/srv/cache";
  host_mount.target = "/cache";
  host_mount.read_only = true;
  Mount memory_mount;
  memory_mount.kind = MountKind::kMemory;
  memory_mount.target = "/dev/shm";
  memory_mount.size_bytes = 64 * kMiB;
  spec.mounts = {claim_mount, host_mount, memory_mount};
  spec.resources.cpu = 0.5;
  spec.resources.memory_bytes = 256 * kMiB;
  spec.resources.gpu = 0.5;
  spec.node_selector = {{"accelerator", "a100"}};

  auto started = runtime_->Start(spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->id, "pod/train-1");
  EXPECT_EQ(started->name, "train-1");
  EXPECT_EQ(started->state, WorkloadState::kPending);
  EXPECT_TRUE(fake_.Names("/apis/apps/v1/namespaces/default/deployments").empty());

  auto pod = fake_.Get(std::string(kPods) + "train-1");
  ASSERT_TRUE(pod);
  const Json& meta = (*pod)["metadata"];
  EXPECT_EQ(meta["labels"][kLabelWorkload], "train-1");
  EXPECT_EQ(meta["labels"][kLabelShape], "pod");
  EXPECT_EQ(meta["labels"][kLabelManaged], "true");
  EXPECT_EQ(meta["labels"][kLabelProject], "p1");
  const Json& ps = (*pod)["spec"];
  EXPECT_EQ(ps["restartPolicy"], "Never");
  EXPECT_EQ(ps["nodeSelector"]["accelerator"], "a100");
  ASSERT_EQ(ps["containers"].size(), 1u);
  const Json& c = ps["containers"][0];
  EXPECT_EQ(c["image"], "busybox:1.36");
  EXPECT_EQ(c["command"], Json({"sh", "-c", "echo hi"}));

  // Environment: plain values, and the downward API instead of local K8S_* values.
  EXPECT_EQ(EnvOf(c, "A")["value"], "1");
  Json pod_name = EnvOf(c, "K8S_POD_NAME");
  ASSERT_FALSE(pod_name.is_null());
  EXPECT_FALSE(pod_name.contains("value")) << pod_name.dump();
  EXPECT_EQ(pod_name["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");

  // Resources: GPUs are whole devices.
  EXPECT_EQ(c["resources"]["limits"]["nvidia.com/gpu"], "1");
  EXPECT_EQ(c["resources"]["limits"]["cpu"], "500m");
  EXPECT_EQ(c["resources"]["limits"]["memory"], std::to_string(256 * kMiB));

  // Mounts: the claim with the user's directory, the host path, memory.
  Json data = MountAt(c, "/data");
  ASSERT_FALSE(data.is_null()) << c.dump();
  EXPECT_EQ(data["subPath"], "users/alice");
  Json claim = VolumeOf(ps, data["name"]);
  EXPECT_EQ(claim["persistentVolumeClaim"]["claimName"], "quader-data") << claim.dump();
  Json cache = MountAt(c, "/cache");
  ASSERT_FALSE(cache.is_null());
  EXPECT_EQ(cache["readOnly"], true);
  EXPECT_EQ(VolumeOf(ps, cache["name"])["hostPath"]["path"], "/srv/cache");
  Json shm = MountAt(c, "/dev/shm");
  ASSERT_FALSE(shm.is_null());
  Json memory = VolumeOf(ps, shm["name"]);
  EXPECT_EQ(memory["emptyDir"]["medium"], "Memory") << memory.dump();
  ASSERT_TRUE(memory["emptyDir"].contains("sizeLimit"));
  EXPECT_EQ(ParseQuantity(memory["emptyDir"]["sizeLimit"].get<std::string>()), 64.0 * kMiB);
}

// A terminal is pods/exec over a WebSocket (v4.channel.k8s.io), bridged to
// a descriptor: keys out on channel 0, output back from 1, the size on 4,
// the exit status from 3.
TEST_F(KubernetesRuntimeTest, ATerminalIsPodsExecOverAWebSocket) {
  ASSERT_TRUE(runtime_->Start(Spec("shell")).ok());
  EXPECT_EQ(runtime_->OpenTerminal("pod/shell", {}).status().code(), Code::kNotFound) << "not running yet";
  WaitWatching();
  SetPodStatus("shell", {{"phase", "Running"},
                         {"podIP", "10.244.1.9"},
                         {"containerStatuses", {{{"name", "main"}, {"state", {{"running", Json::object()}}}}}}});
  WaitFor("pod/shell", WorkloadState::kRunning);
  TerminalOptions options;
  options.argv = {"python3", "-i"};
  options.rows = 33;
  options.cols = 101;
  auto t = runtime_->OpenTerminal("pod/shell", options);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::string sent = "print('hi')\n";
  ASSERT_EQ(write((*t)->fd(), sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  std::string out;
  auto read_some = [&] {
    pollfd p{(*t)->fd(), POLLIN, 0};
    if (poll(&p, 1, 200) != 1) return true;
    char buf[4096];
    ssize_t n = read((*t)->fd(), buf, sizeof buf);
    if (n <= 0) return false;
    out.append(buf, static_cast<size_t>(n));
    return true;
  };
  for (int i = 0; i < 100 && out.find("print('hi')") == std::string::npos; ++i) read_some();
  EXPECT_NE(out.find("print('hi')"), std::string::npos) << out;
  ASSERT_TRUE((*t)->Resize(20, 60).ok());
  sent = "exit 3\n";
  ASSERT_EQ(write((*t)->fd(), sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  for (int i = 0; i < 100 && read_some();) {
  }
  EXPECT_EQ((*t)->Finish(), 3);
  t->reset();
  bool exec_seen = false;
  for (const std::string& r : fake_.request_log()) {
    if (r.find("/pods/shell/exec?") != std::string::npos) {
      exec_seen = true;
      EXPECT_NE(r.find("command=python3&command=-i"), std::string::npos) << r;
      EXPECT_NE(r.find("tty=true"), std::string::npos) << r;
      EXPECT_NE(r.find("container=main"), std::string::npos) << r;
    }
  }
  EXPECT_TRUE(exec_seen);
  EXPECT_EQ(fake_.exec_resizes(), (std::vector<std::string>{"101x33", "60x20"}));
}

TEST_F(KubernetesRuntimeTest, StartValidatesTheSpec) {
  WorkloadSpec no_image = Spec("x");
  no_image.image.clear();
  auto r = runtime_->Start(no_image);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("image"), std::string::npos);
  EXPECT_EQ(fake_.requests("POST"), 0);
}

TEST_F(KubernetesRuntimeTest, StartOfATakenNameIsAlreadyExists) {
  ASSERT_TRUE(runtime_->Start(Spec("dup")).ok());
  auto again = runtime_->Start(Spec("dup"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists) << again.status().ToString();

  ASSERT_TRUE(runtime_->Start(Spec("svc", RestartPolicy::kAlways)).ok());
  auto again_long = runtime_->Start(Spec("svc", RestartPolicy::kAlways));
  ASSERT_FALSE(again_long.ok());
  EXPECT_EQ(again_long.status().code(), Code::kAlreadyExists) << again_long.status().ToString();
}

TEST_F(KubernetesRuntimeTest, InspectFollowsThePodToSuccess) {
  auto started = runtime_->Start(Spec("t1"));
  ASSERT_TRUE(started.ok());
  auto pending = runtime_->Inspect("pod/t1");
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(pending->state, WorkloadState::kPending);
  EXPECT_EQ(pending->name, "t1");
  EXPECT_EQ(pending->id, "pod/t1");

  WaitWatching();
  SetPodStatus("t1", {{"phase", "Running"},
                      {"podIP", "10.244.1.7"},
                      {"startTime", "2024-05-01T10:00:00Z"},
                      {"containerStatuses", {{{"name", "main"}, {"state", {{"running", Json::object()}}}}}}});
  ASSERT_TRUE(fake_.Mutate(std::string(kPods) + "t1", [](Json& p) { p["spec"]["nodeName"] = "node-3"; }));
  WorkloadStatus running = WaitFor("pod/t1", WorkloadState::kRunning);
  EXPECT_EQ(running.address, "10.244.1.7");
  EXPECT_TRUE(Eventually([&] { return runtime_->Inspect("pod/t1")->node == "node-3"; }));
  EXPECT_TRUE(running.started_at.has_value());
  EXPECT_EQ(running.labels[kLabelProject], "p1");

  SetPodStatus("t1", Terminated("Succeeded", 0, "Completed"));
  WorkloadStatus done = WaitFor("pod/t1", WorkloadState::kSucceeded);
  ASSERT_TRUE(done.exit_code.has_value());
  EXPECT_EQ(*done.exit_code, 0);
  EXPECT_FALSE(done.oom_killed);
  EXPECT_TRUE(done.finished_at.has_value());

  // Runtime::Wait's polling sees the end too.
  auto waited = runtime_->Wait("pod/t1", 2s);
  ASSERT_TRUE(waited.ok());
  EXPECT_EQ(waited->state, WorkloadState::kSucceeded);
}

TEST_F(KubernetesRuntimeTest, InspectReportsAFailedExitCode) {
  ASSERT_TRUE(runtime_->Start(Spec("t2")).ok());
  WaitWatching();
  SetPodStatus("t2", Terminated("Failed", 3, "Error"));
  WorkloadStatus failed = WaitFor("pod/t2", WorkloadState::kFailed);
  ASSERT_TRUE(failed.exit_code.has_value());
  EXPECT_EQ(*failed.exit_code, 3);
  EXPECT_FALSE(failed.oom_killed);
}

TEST_F(KubernetesRuntimeTest, InspectReportsOomKilled) {
  ASSERT_TRUE(runtime_->Start(Spec("t3")).ok());
  WaitWatching();
  SetPodStatus("t3", Terminated("Failed", 137, "OOMKilled"));
  WorkloadStatus failed = WaitFor("pod/t3", WorkloadState::kFailed);
  EXPECT_TRUE(failed.oom_killed);
  EXPECT_EQ(failed.exit_code, 137);
  EXPECT_NE(failed.reason.find("OOMKilled"), std::string::npos) << failed.reason;
}

TEST_F(KubernetesRuntimeTest, AnImageThatCannotBePulledFails) {
  ASSERT_TRUE(runtime_->Start(Spec("t4")).ok());
  WaitWatching();
  SetPodStatus("t4", {{"phase", "Pending"},
                      {"containerStatuses",
                       {{{"name", "main"},
                         {"state",
                          {{"waiting",
                            {{"reason", "ImagePullBackOff"},
                             {"message", "Back-off pulling image \"busybox:1.36\""}}}}}}}}});
  WorkloadStatus failed = WaitFor("pod/t4", WorkloadState::kFailed);
  EXPECT_NE(failed.reason.find("ImagePullBackOff"), std::string::npos) << failed.reason;
  EXPECT_NE(failed.reason.find("Back-off pulling image"), std::string::npos) << failed.reason;
}

TEST_F(KubernetesRuntimeTest, InspectOfAnUnknownWorkloadIsNotFound) {
  for (const std::string id : {"pod/ghost", "deployment/ghost", "nonsense", "job/x"}) {
    auto s = runtime_->Inspect(id);
    ASSERT_FALSE(s.ok()) << id;
    EXPECT_EQ(s.status().code(), Code::kNotFound) << id << ": " << s.status().ToString();
  }
}

TEST_F(KubernetesRuntimeTest, InspectOfAPodCreatedAMomentAgoAsksTheApi) {
  // The informer has not seen it (no watch event yet, or one in flight): Inspect falls back to a GET.
  ASSERT_TRUE(runtime_->Start(Spec("fresh")).ok());
  auto s = runtime_->Inspect("pod/fresh");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->state, WorkloadState::kPending);
}

TEST_F(KubernetesRuntimeTest, ListSelectsByLabels) {
  WorkloadSpec a = Spec("a");
  a.labels[kLabelProject] = "alpha";
  WorkloadSpec b = Spec("b");
  b.labels[kLabelProject] = "beta";
  ASSERT_TRUE(runtime_->Start(a).ok());
  ASSERT_TRUE(runtime_->Start(b).ok());
  // A pod Quader did not make is never listed.
  fake_.Put(std::string(kPods) + "foreign", {{"metadata", {{"labels", {{kLabelProject, "alpha"}}}}}});

  auto names = [&](const std::map<std::string, std::string>& selector) {
    std::set<std::string> out;
    auto l = runtime_->List(selector);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    if (l.ok()) {
      for (const auto& s : *l) out.insert(s.id);
    }
    return out;
  };
  ASSERT_TRUE(Eventually([&] { return names({}).size() == 2; })) << names({}).size();
  EXPECT_EQ(names({{kLabelProject, "alpha"}}), std::set<std::string>{"pod/a"});
  EXPECT_EQ(names({{kLabelProject, "beta"}, {kLabelKind, "task"}}), std::set<std::string>{"pod/b"});
  EXPECT_TRUE(names({{kLabelProject, "gamma"}}).empty());
}

// --- long-lived workloads ------------------------------------------------------------------

TEST_F(KubernetesRuntimeTest, StartOfALongLivedWorkloadCreatesADeploymentAndAService) {
  WorkloadSpec spec = Spec("nb-1", RestartPolicy::kAlways);
  spec.labels[kLabelKind] = "notebook";
  spec.ports = {{8888, 0, "tcp"}};
  auto started = runtime_->Start(spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->id, "deployment/nb-1");
  EXPECT_TRUE(fake_.Names("/api/v1/namespaces/default/pods").empty());

  auto d = fake_.Get(std::string(kDeployments) + "nb-1");
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["spec"]["replicas"], 1);
  EXPECT_EQ((*d)["spec"]["selector"]["matchLabels"][kLabelWorkload], "nb-1");
  EXPECT_EQ((*d)["metadata"]["labels"][kLabelShape], "deployment");
  EXPECT_EQ((*d)["metadata"]["labels"][kLabelManaged], "true");
  const Json& tpl = (*d)["spec"]["template"];
  EXPECT_EQ(tpl["metadata"]["labels"][kLabelWorkload], "nb-1");
  EXPECT_EQ(tpl["metadata"]["labels"][kLabelShape], "deployment");
  EXPECT_EQ(tpl["spec"]["restartPolicy"], "Always");
  EXPECT_EQ(tpl["spec"]["containers"][0]["ports"][0]["containerPort"], 8888);

  auto svc = fake_.Get(std::string(kServices) + "nb-1");
  ASSERT_TRUE(svc);
  EXPECT_EQ((*svc)["spec"]["type"], "ClusterIP");
  EXPECT_EQ((*svc)["spec"]["selector"][kLabelWorkload], "nb-1");
  EXPECT_EQ((*svc)["spec"]["ports"][0]["port"], 8888);
  EXPECT_EQ((*svc)["spec"]["ports"][0]["targetPort"], 8888);

  // No pod yet: pending.
  auto pending = runtime_->Inspect("deployment/nb-1");
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(pending->state, WorkloadState::kPending);

  // The Deployment's controller makes a pod; the kubelet runs it.
  WaitWatching();
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata",
               {{"labels",
                 {{kLabelWorkload, "nb-1"}, {kLabelShape, "deployment"}, {kLabelManaged, "true"},
                  {kLabelKind, "notebook"}}}}},
              {"spec", tpl["spec"]},
              {"status", {{"phase", "Running"}, {"podIP", "10.244.2.9"}}}};
  fake_.Put(std::string(kPods) + "nb-1-7d9f8-x2x4q", pod);

  WorkloadStatus running = WaitFor("deployment/nb-1", WorkloadState::kRunning);
  EXPECT_EQ(running.id, "deployment/nb-1");
  EXPECT_EQ(running.name, "nb-1");
  EXPECT_EQ(running.address, "10.244.2.9");
  ASSERT_EQ(running.ports.size(), 1u);
  EXPECT_EQ(running.ports[0].container_port, 8888);
  EXPECT_EQ(running.labels[kLabelKind], "notebook");

  // Listed once, as the deployment (not its pod too).
  auto listed = runtime_->List({{kLabelKind, "notebook"}});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, "deployment/nb-1");
  EXPECT_EQ((*listed)[0].address, "10.244.2.9");
  EXPECT_EQ((*listed)[0].state, WorkloadState::kRunning);
}

TEST_F(KubernetesRuntimeTest, ALongLivedWorkloadWithoutPortsHasNoService) {
  ASSERT_TRUE(runtime_->Start(Spec("worker", RestartPolicy::kAlways)).ok());
  EXPECT_TRUE(fake_.Get(std::string(kDeployments) + "worker"));
  EXPECT_FALSE(fake_.Get(std::string(kServices) + "worker"));
}

// --- stop -----------------------------------------------------------------------------------------

TEST_F(KubernetesRuntimeTest, StopDeletesThePod) {
  ASSERT_TRUE(runtime_->Start(Spec("t5")).ok());
  Status stopped = runtime_->Stop("pod/t5", 7s);
  ASSERT_TRUE(stopped.ok()) << stopped.ToString();
  EXPECT_FALSE(fake_.Get(std::string(kPods) + "t5"));
  EXPECT_TRUE(Requested("DELETE /api/v1/namespaces/default/pods/t5?propagationPolicy=Background&gracePeriodSeconds=7"));
  EXPECT_TRUE(Eventually([&] { return !runtime_->Inspect("pod/t5").ok(); }));
  EXPECT_EQ(runtime_->Inspect("pod/t5").status().code(), Code::kNotFound);
  // Again, and unknown ids: ok.
  EXPECT_TRUE(runtime_->Stop("pod/t5", 1s).ok());
  EXPECT_TRUE(runtime_->Stop("pod/never", 1s).ok());
  EXPECT_TRUE(runtime_->Stop("garbage", 1s).ok());
}

TEST_F(KubernetesRuntimeTest, StopDeletesTheDeploymentAndTheService) {
  WorkloadSpec spec = Spec("svc-1", RestartPolicy::kAlways);
  spec.ports = {{8080, 0, "tcp"}};
  ASSERT_TRUE(runtime_->Start(spec).ok());
  ASSERT_TRUE(fake_.Get(std::string(kServices) + "svc-1"));
  Status stopped = runtime_->Stop("deployment/svc-1", 2s);
  ASSERT_TRUE(stopped.ok()) << stopped.ToString();
  EXPECT_FALSE(fake_.Get(std::string(kDeployments) + "svc-1"));
  EXPECT_FALSE(fake_.Get(std::string(kServices) + "svc-1"));
  EXPECT_TRUE(Eventually([&] { return !runtime_->Inspect("deployment/svc-1").ok(); }));
  EXPECT_TRUE(runtime_->Stop("deployment/svc-1", 1s).ok());
}

// --- informers ---------------------------------------------------------------------------------------

TEST_F(KubernetesRuntimeTest, ChangesStillArriveAfterTheServerEndsTheWatch) {
  ASSERT_TRUE(runtime_->Start(Spec("w1")).ok());
  WaitFor("pod/w1", WorkloadState::kPending);
  WaitWatching();
  int watches_before = fake_.watch_requests();
  fake_.EndWatches();
  // They watch again...
  ASSERT_TRUE(Eventually([&] { return fake_.watch_requests() >= watches_before + 2; }));
  // ...and changes made while they were away or after arrive.
  SetPodStatus("w1", {{"phase", "Running"}});
  WaitFor("pod/w1", WorkloadState::kRunning);
  SetPodStatus("w1", Terminated("Succeeded", 0, "Completed"));
  WaitFor("pod/w1", WorkloadState::kSucceeded);
}

TEST_F(KubernetesRuntimeTest, ChangesStillArriveAfterAnExpiredWatch) {
  ASSERT_TRUE(runtime_->Start(Spec("w2")).ok());
  WaitWatching();
  // The informers' versions become too old: a change they do not see, then
  // the history is forgotten and their watches end.
  fake_.Put(std::string(kPods) + "unmanaged", {{"metadata", {{"labels", {{"app", "x"}}}}}});
  fake_.CompactHistory();
  fake_.EndWatches();
  SetPodStatus("w2", {{"phase", "Running"}});
  WaitFor("pod/w2", WorkloadState::kRunning);
}

class InformerTest : public ::testing::Test {
 protected:
  Json Pod(const std::string& name, bool managed = true) {
    Json labels = {{"app", "x"}};
    if (managed) labels[kLabelManaged] = "true";
    return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"labels", labels}}}};
  }

  FakeKubeApi fake_;
  ApiClient client_{fake_.Access()};
};

TEST_F(InformerTest, ListsThenWatches) {
  fake_.Put(std::string(kPods) + "a", Pod("a"));
  fake_.Put(std::string(kPods) + "skipped", Pod("skipped", false));
  Informer informer(client_, "v1", "Pod", "quader.managed=true");
  std::atomic<int> changes{0};
  informer.OnChange([&] { changes++; });
  informer.Start();
  ASSERT_TRUE(informer.WaitSynced(5s));
  EXPECT_EQ(informer.lists(), 1);
  EXPECT_TRUE(informer.Get("a"));
  EXPECT_FALSE(informer.Get("skipped"));
  EXPECT_EQ(informer.Snapshot().size(), 1u);
  EXPECT_EQ(informer.resource_version(), std::to_string(fake_.resource_version()));

  fake_.Put(std::string(kPods) + "b", Pod("b"));
  ASSERT_TRUE(Eventually([&] { return informer.Get("b").has_value(); }));
  ASSERT_TRUE(fake_.Mutate(std::string(kPods) + "a", [](Json& p) { p["status"]["phase"] = "Running"; }));
  ASSERT_TRUE(Eventually([&] {
    auto a = informer.Get("a");
    return a && a->value("status", Json::object()).value("phase", "") == "Running";
  }));
  ASSERT_TRUE(fake_.Remove(std::string(kPods) + "b"));
  ASSERT_TRUE(Eventually([&] { return !informer.Get("b").has_value(); }));
  EXPECT_GE(changes.load(), 4);  // the list, and three events
  EXPECT_EQ(informer.resource_version(), std::to_string(fake_.resource_version()));
  EXPECT_EQ(informer.lists(), 1);
}

TEST_F(InformerTest, ResumesAWatchTheServerEnded) {
  Informer informer(client_, "v1", "Pod", "quader.managed=true");
  informer.Start();
  ASSERT_TRUE(informer.WaitSynced(5s));
  ASSERT_TRUE(Eventually([&] { return fake_.open_watches() == 1; }));
  fake_.EndWatches();
  fake_.Put(std::string(kPods) + "after", Pod("after"));
  ASSERT_TRUE(Eventually([&] { return informer.Get("after").has_value(); }));
  EXPECT_EQ(informer.lists(), 1);  // resumed from its version, not listed again
  EXPECT_GE(fake_.watch_requests(), 2);
}

class InformerGoneTest : public InformerTest, public ::testing::WithParamInterface<bool> {};

TEST_P(InformerGoneTest, ListsAgainAfterGone) {
  fake_.SetGoneAsEvent(GetParam());
  fake_.Put(std::string(kPods) + "a", Pod("a"));
  Informer informer(client_, "v1", "Pod", "quader.managed=true");
  informer.Start();
  ASSERT_TRUE(informer.WaitSynced(5s));
  ASSERT_TRUE(Eventually([&] { return fake_.open_watches() == 1; }));
  // A change the informer's selector skips moves the server on; then its
  // version is forgotten and the watch ends: watching again is 410 Gone.
  fake_.Put(std::string(kPods) + "skipped", Pod("skipped", false));
  fake_.CompactHistory();
  fake_.EndWatches();
  ASSERT_TRUE(Eventually([&] { return informer.lists() >= 2; })) << informer.lists();
  fake_.Put(std::string(kPods) + "b", Pod("b"));
  ASSERT_TRUE(Eventually([&] { return informer.Get("b").has_value(); }));
  EXPECT_TRUE(informer.Get("a"));
}

INSTANTIATE_TEST_SUITE_P(HttpAndErrorEvent, InformerGoneTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ErrorEvent" : "Http410"; });

TEST_F(InformerTest, StopEndsAnIdleWatchAtOnce) {
  Informer informer(client_, "v1", "Pod", "quader.managed=true");
  informer.Start();
  ASSERT_TRUE(informer.WaitSynced(5s));
  ASSERT_TRUE(Eventually([&] { return fake_.open_watches() == 1; }));
  auto start = std::chrono::steady_clock::now();
  informer.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(InformerTest, StartsAgainAfterStop) {
  Informer informer(client_, "v1", "Pod", "quader.managed=true");
  informer.Start();
  ASSERT_TRUE(informer.WaitSynced(5s));
  informer.Stop();
  fake_.Put(std::string(kPods) + "while-stopped", Pod("while-stopped"));
  informer.Start();
  ASSERT_TRUE(Eventually([&] { return informer.Get("while-stopped").has_value(); }));
  // And it watches again: a later change arrives.
  ASSERT_TRUE(Eventually([&] { return fake_.open_watches() == 1; })) << "no watch after the restart";
  fake_.Put(std::string(kPods) + "later", Pod("later"));
  EXPECT_TRUE(Eventually([&] { return informer.Get("later").has_value(); }));
}

TEST_F(InformerTest, WaitSyncedIsFalseWhileTheServerRefuses) {
  fake_.SetToken("needed");
  ClusterAccess a = fake_.Access();
  a.token = "wrong";
  ApiClient client(a);
  Informer informer(client, "v1", "Pod", "");
  informer.Start();
  EXPECT_FALSE(informer.WaitSynced(300ms));
  EXPECT_EQ(informer.lists(), 0);
}

// --- logs and stats -----------------------------------------------------------------------------------

TEST_F(KubernetesRuntimeTest, LogsWhole) {
  ASSERT_TRUE(runtime_->Start(Spec("l1")).ok());
  fake_.SetLog("l1", "line 1\nline 2\n");
  SetPodStatus("l1", {{"phase", "Running"}});
  WaitFor("pod/l1", WorkloadState::kRunning);
  std::string got;
  Status st = runtime_->Logs("pod/l1", false, [&](const std::string& chunk) {
    got += chunk;
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(quader::testing::Unstamped(got), "line 1\nline 2\n");
}

TEST_F(KubernetesRuntimeTest, LogsOfAPodTheInformerHasNotSeenYet) {
  // Right after Start (or a quick task's end seen through Inspect's GET),
  // the informer's cache may lack the pod: its log is still served.
  ASSERT_TRUE(runtime_->Inspect("pod/none-yet").status().code() == Code::kNotFound);  // opens the cluster
  WaitWatching();
  fake_.PauseWatches(true);
  ASSERT_TRUE(runtime_->Start(Spec("quick")).ok());
  SetPodStatus("quick", Terminated("Succeeded", 0, "Completed"));
  fake_.SetLog("quick", "hello\n");
  auto s = runtime_->Inspect("pod/quick");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->state, WorkloadState::kSucceeded);
  std::string got;
  Status st = runtime_->Logs("pod/quick", false, [&](const std::string& chunk) {
    got += chunk;
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(quader::testing::Unstamped(got), "hello\n");
  fake_.PauseWatches(false);
}

TEST_F(KubernetesRuntimeTest, LogsFollowedUntilTheContainerEnds) {
  ASSERT_TRUE(runtime_->Start(Spec("l2")).ok());
  fake_.SetLog("l2", "first\n");
  SetPodStatus("l2", {{"phase", "Running"}});
  WaitFor("pod/l2", WorkloadState::kRunning);
  std::mutex mu;
  std::string got;
  std::atomic<bool> done{false};
  Status st = errors::Internal("not yet");
  std::thread follower([&] {
    st = runtime_->Logs("pod/l2", true, [&](const std::string& chunk) {
      std::lock_guard lock(mu);
      got += chunk;
      return true;
    });
    done = true;
  });
  auto text = [&] {
    std::lock_guard lock(mu);
    return got;
  };
  // Each line with the kubelet's capture time, in Quader's form.
  auto plain = [&] {
    LogStampFilter strip(LogStampFilter::Mode::kStrip);
    std::string out = strip.Feed(text());
    return out + strip.Finish();
  };
  ASSERT_TRUE(Eventually([&] { return plain() == "first\n"; })) << text();
  fake_.AppendLog("l2", "second\n");
  ASSERT_TRUE(Eventually([&] { return plain() == "first\nsecond\n"; })) << text();
  EXPECT_FALSE(done.load());
  fake_.EndLog("l2");
  ASSERT_TRUE(Eventually([&] { return done.load(); }));
  follower.join();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(quader::testing::Unstamped(text()), "first\nsecond\n");
}

TEST_F(KubernetesRuntimeTest, LogsOfADeploymentAreItsPods) {
  ASSERT_TRUE(runtime_->Start(Spec("web", RestartPolicy::kAlways)).ok());
  WaitWatching();
  fake_.Put(std::string(kPods) + "web-abc",
            {{"metadata", {{"labels", {{kLabelWorkload, "web"}, {kLabelShape, "deployment"}, {kLabelManaged, "true"}}}}},
             {"status", {{"phase", "Running"}}}});
  fake_.SetLog("web-abc", "serving\n");
  WaitFor("deployment/web", WorkloadState::kRunning);
  std::string got;
  Status st = runtime_->Logs("deployment/web", false, [&](const std::string& chunk) {
    got += chunk;
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(quader::testing::Unstamped(got), "serving\n");
}

TEST_F(KubernetesRuntimeTest, LogsOfAnUnknownWorkloadAreNotFound) {
  Status st = runtime_->Logs("pod/ghost", false, [](const std::string&) { return true; });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kNotFound) << st.ToString();
}

TEST_F(KubernetesRuntimeTest, StatsFromTheMetricsApi) {
  WorkloadSpec spec = Spec("s1");
  spec.resources.memory_bytes = 256 * kMiB;
  ASSERT_TRUE(runtime_->Start(spec).ok());
  SetPodStatus("s1", {{"phase", "Running"}});
  WaitFor("pod/s1", WorkloadState::kRunning);

  // No metrics-server (or no sample yet).
  auto none = runtime_->Stats("pod/s1");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kUnavailable) << none.status().ToString();

  fake_.Put("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/s1",
            {{"kind", "PodMetrics"},
             {"apiVersion", "metrics.k8s.io/v1beta1"},
             {"timestamp", "2024-05-01T10:00:00Z"},
             {"window", "15s"},
             {"containers", {{{"name", "main"}, {"usage", {{"cpu", "250m"}, {"memory", "64Mi"}}}}}}});
  auto stats = runtime_->Stats("pod/s1");
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_DOUBLE_EQ(stats->cpu_cores, 0.25);
  EXPECT_EQ(stats->memory_bytes, 64 * kMiB);
  EXPECT_EQ(stats->memory_limit_bytes, 256 * kMiB);

  auto unknown = runtime_->Stats("pod/ghost");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kNotFound);
}

// A broken or hostile metrics API (fields of the wrong type) reads as missing
// figures, never as an exception on the server's thread.
TEST_F(KubernetesRuntimeTest, StatsOfWrongTypedRepliesCountAsMissing) {
  ASSERT_TRUE(runtime_->Start(Spec("s2")).ok());
  SetPodStatus("s2", {{"phase", "Running"}});
  WaitFor("pod/s2", WorkloadState::kRunning);
  const std::string path = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/s2";
  for (const Json& containers :
       {Json(42), Json::array({Json("main")}), Json::array({Json{{"usage", 7}}}),
        Json::array({Json{{"usage", {{"cpu", 250}, {"memory", Json::array()}}}}})}) {
    fake_.Put(path, {{"kind", "PodMetrics"}, {"containers", containers}});
    Result<WorkloadStats> stats = Result<WorkloadStats>(errors::Internal("not called"));
    EXPECT_NO_THROW(stats = runtime_->Stats("pod/s2")) << containers.dump();
    ASSERT_TRUE(stats.ok()) << containers.dump() << ": " << stats.status().ToString();
    EXPECT_EQ(stats->cpu_cores, 0) << containers.dump();
    EXPECT_EQ(stats->memory_bytes, 0) << containers.dump();
  }
}

TEST_F(KubernetesRuntimeTest, ExecIsNotSupported) {
  ASSERT_TRUE(runtime_->Start(Spec("e1")).ok());
  auto r = runtime_->Exec("pod/e1", {"true"}, 1s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
}

// --- clusters ------------------------------------------------------------------------------------------

TEST_F(KubernetesRuntimeTest, DescribeNamesTheContextAndServer) {
  auto d = runtime_->Describe();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_NE(d->find("fake"), std::string::npos) << *d;
  EXPECT_NE(d->find(fake_.url()), std::string::npos) << *d;
  EXPECT_NE(d->find("default"), std::string::npos) << *d;
}

TEST_F(KubernetesRuntimeTest, AWorkloadOfANamedClusterCarriesItsContext) {
  WorkloadSpec spec = Spec("c1");
  spec.cluster = "gpu-cluster";
  auto started = runtime_->Start(spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->id, "gpu-cluster:pod/c1");
  {
    std::lock_guard lock(mu_);
    EXPECT_NE(std::find(contexts_.begin(), contexts_.end(), "gpu-cluster"), contexts_.end());
  }
  auto s = runtime_->Inspect("gpu-cluster:pod/c1");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->id, "gpu-cluster:pod/c1");
  EXPECT_TRUE(runtime_->Stop("gpu-cluster:pod/c1", 1s).ok());
  EXPECT_FALSE(fake_.Get(std::string(kPods) + "c1"));
}

TEST_F(KubernetesRuntimeTest, AnUnreachableClusterIsUnavailable) {
  KubernetesOptions options;
  options.access = [](const std::string&) -> Result<ClusterAccess> {
    return errors::Unavailable("no kubeconfig ($KUBECONFIG, ~/.kube/config)");
  };
  KubernetesRuntime runtime(options);
  auto r = runtime.Start(Spec("x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("kubeconfig"), std::string::npos);
}

TEST_F(KubernetesRuntimeTest, ApiUrlReplacesTheLoopbackAddress) {
  KubernetesOptions options;
  options.api_url = "http://quader.quader-system.svc:8080";
  options.access = [this](const std::string&) -> Result<ClusterAccess> { return fake_.Access(); };
  KubernetesRuntime runtime(options);
  WorkloadSpec spec = Spec("trial-1");
  spec.env["QUADER_API_URL"] = "http://127.0.0.1:8080";
  spec.host_network = true;
  ASSERT_TRUE(runtime.Start(spec).ok());
  auto pod = fake_.Get(std::string(kPods) + "trial-1");
  ASSERT_TRUE(pod);
  EXPECT_EQ(EnvOf((*pod)["spec"]["containers"][0], "QUADER_API_URL")["value"], "http://quader.quader-system.svc:8080");
  EXPECT_FALSE((*pod)["spec"].value("hostNetwork", false));
}

}  // namespace
}  // namespace quader::runtime::kubernetes
