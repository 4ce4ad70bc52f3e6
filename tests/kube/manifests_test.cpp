// The manifests the kubernetes runtime creates (runtime/kubernetes/mapping.h),
// checked against the official schemas (npm kubernetes-models, offline), and
// the Pod and Deployment ones run for real with `podman kube play`. No
// Kubernetes cluster exists on these machines: docs/kubernetes.md says what
// this does and does not prove.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "fakes/temp_dir.h"
#include "kube/kube_test_util.h"
#include "runtime/kubernetes/mapping.h"
#include "runtime/labels.h"
#include "runtime/probe.h"

namespace quader::runtime::kubernetes {
namespace {

using quader::testing::RunShell;
using quader::testing::TempDir;

void RequireValidator() {
  std::string missing = quader::testing::ValidatorMissing();
  if (missing.empty()) return;
  if (const char* req = std::getenv("QUADER_REQUIRE_ENGINE"); req && std::string(req) == "1") FAIL() << missing;
  GTEST_SKIP() << missing;
}

// A task as the run controller makes it: every kind of mount, a GPU, a node
// selector, the K8S_* variables.
WorkloadSpec Task() {
  WorkloadSpec s;
  s.name = "q1234abcd-r7-t2-a1";
  s.image = "localhost/quader-test:busybox";
  s.command = {"sh", "-c", "echo task $K8S_POD_NAME; cat /data/input.txt; echo scratch > /scratch/x && cat /scratch/x"};
  s.env = {{"KFJ_TASK_NAME", "train"}, {"K8S_POD_NAME", "local-meaning"}, {"NUMBER", "8080"}};
  s.working_dir = "/";
  s.resources = {1.5, 512ll << 20, 0.5};
  s.node_selector = {{"org", "public"}};
  s.restart = RestartPolicy::kOnFailure;
  s.labels = {{kLabelManaged, "true"}, {kLabelKind, "task"}, {kLabelRun, "7"}, {kLabelProject, "public"}};
  Mount work;
  work.kind = MountKind::kVolume;
  work.source = "/var/lib/quader/users/admin/work";
  work.target = "/mnt/admin";
  work.claim = "quader-users";
  work.sub_path = "admin/work";
  Mount archives = work;
  archives.target = "/archives/admin";
  archives.sub_path = "admin/archives";
  Mount host;
  host.kind = MountKind::kHostPath;
  host.source = "/srv/data";
  host.target = "/data";
  host.read_only = true;
  Mount shm;
  shm.kind = MountKind::kMemory;
  shm.target = "/scratch";
  shm.size_bytes = 64ll << 20;
  s.mounts = {work, archives, host, shm};
  return s;
}

WorkloadSpec Replica() {
  WorkloadSpec s;
  s.name = "q1234abcd-v3-g1-r0";
  s.image = "localhost/quader-test:busybox";
  s.command = {"sh", "-c", "mkdir -p /www && echo replica-$SERVICE_NAME > /www/index.html && httpd -f -p $PORT -h /www"};
  s.env = {{"SERVICE_NAME", "redis-ui"}, {"PORT", "18181"}};
  s.ports = {{18181, 0, "tcp"}};
  s.labels = {{kLabelManaged, "true"}, {kLabelKind, "service"}, {kLabelOwner, "3"}, {kLabelReplica, "0"}};
  return s;
}

Json WriteJson(const std::string& path, const Json& j) {
  std::ofstream(path) << j.dump(2);
  return j;
}

TEST(KubernetesManifests, TaskPodCarriesEverything) {
  Json pod = PodManifest(Task(), "quader");
  const Json& spec = pod["spec"];
  const Json& c = spec["containers"][0];
  EXPECT_EQ(pod["metadata"]["labels"][kLabelWorkload], "q1234abcd-r7-t2-a1");
  EXPECT_EQ(pod["metadata"]["labels"][kLabelShape], "pod");
  EXPECT_EQ(spec["restartPolicy"], "OnFailure");
  EXPECT_EQ(spec["nodeSelector"]["org"], "public");
  EXPECT_EQ(c["resources"]["limits"]["cpu"], "1500m");
  EXPECT_EQ(c["resources"]["limits"]["memory"], std::to_string(512ll << 20));
  EXPECT_EQ(c["resources"]["limits"]["nvidia.com/gpu"], "1");  // 0.5 rounds up: whole devices
  // One claim volume for both subPaths, a read-only hostPath, a sized memory emptyDir.
  ASSERT_EQ(spec["volumes"].size(), 3u);
  EXPECT_EQ(spec["volumes"][0]["persistentVolumeClaim"]["claimName"], "quader-users");
  EXPECT_EQ(c["volumeMounts"][0]["subPath"], "admin/work");
  EXPECT_EQ(c["volumeMounts"][1]["subPath"], "admin/archives");
  EXPECT_EQ(c["volumeMounts"][1]["name"], c["volumeMounts"][0]["name"]);
  EXPECT_EQ(c["volumeMounts"][2]["readOnly"], true);
  EXPECT_EQ(spec["volumes"][1]["hostPath"]["path"], "/srv/data");
  EXPECT_EQ(spec["volumes"][2]["emptyDir"]["medium"], "Memory");
  EXPECT_EQ(spec["volumes"][2]["emptyDir"]["sizeLimit"], std::to_string(64ll << 20));
  // K8S_* from the downward API, not their local meanings.
  bool pod_name = false;
  for (const auto& e : c["env"]) {
    if (e["name"] == "K8S_POD_NAME") {
      pod_name = true;
      EXPECT_EQ(e["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
      EXPECT_FALSE(e.contains("value"));
    }
  }
  EXPECT_TRUE(pod_name);
}

TEST(KubernetesManifests, LaterMountAtTheSamePathWins) {
  WorkloadSpec s = Task();
  Mount project;  // a project's kubeflow-user-workspace(pvc):/mnt
  project.kind = MountKind::kVolume;
  project.claim = "kubeflow-user-workspace";
  project.sub_path = "admin";
  project.target = "/mnt/admin";
  s.mounts.push_back(project);
  Json c = PodSpecOf(s)["containers"][0];
  int at_mnt = 0;
  for (const auto& m : c["volumeMounts"]) {
    if (m["mountPath"] == "/mnt/admin") {
      at_mnt++;
      EXPECT_EQ(m["subPath"], "admin");
    }
  }
  EXPECT_EQ(at_mnt, 1);
}

TEST(KubernetesManifests, LongLivedWorkloadsAreDeploymentsWithAService) {
  EXPECT_FALSE(IsLongLived(Task()));
  EXPECT_TRUE(IsLongLived(Replica()));
  Json d = DeploymentManifest(Replica(), "quader");
  EXPECT_EQ(d["spec"]["replicas"], 1);
  EXPECT_EQ(d["spec"]["selector"]["matchLabels"][kLabelWorkload], "q1234abcd-v3-g1-r0");
  EXPECT_EQ(d["spec"]["template"]["metadata"]["labels"][kLabelShape], "deployment");
  EXPECT_EQ(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
  Json svc = ServiceManifest(Replica(), "quader", "q1234abcd-v3-g1-r0");
  EXPECT_EQ(svc["spec"]["selector"][kLabelWorkload], "q1234abcd-v3-g1-r0");
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 18181);
  EXPECT_TRUE(ServiceManifest(Task(), "quader", "x").is_null());  // no ports, no Service
}

TEST(KubernetesManifests, StatusOfPods) {
  Json pod = PodManifest(Task(), "quader");
  pod["status"] = {{"phase", "Failed"},
                   {"podIP", "10.1.2.3"},
                   {"containerStatuses",
                    {{{"name", "main"}, {"state", {{"terminated", {{"exitCode", 137}, {"reason", "OOMKilled"}}}}}}}}};
  WorkloadStatus s = StatusOfPod(pod);
  EXPECT_EQ(s.state, WorkloadState::kFailed);
  EXPECT_EQ(s.exit_code, 137);
  EXPECT_TRUE(s.oom_killed);
  EXPECT_EQ(s.address, "10.1.2.3");
  EXPECT_EQ(s.name, "q1234abcd-r7-t2-a1");
  pod["status"] = {{"phase", "Pending"},
                   {"containerStatuses",
                    {{{"name", "main"},
                      {"state", {{"waiting", {{"reason", "ImagePullBackOff"}, {"message", "no such image"}}}}}}}}};
  s = StatusOfPod(pod);
  EXPECT_EQ(s.state, WorkloadState::kFailed);
  EXPECT_NE(s.reason.find("ImagePullBackOff"), std::string::npos);
  EXPECT_EQ(ParseQuantity("250m").value_or(-1), 0.25);
  EXPECT_EQ(ParseQuantity("64Mi").value_or(-1), 64.0 * 1024 * 1024);
  EXPECT_FALSE(ParseQuantity("12parsecs").has_value());
}

// Pods of the wrong shape (a broken or hostile API server; found by
// fuzz/kubernetes_fuzz.cpp) read as missing fields, never as an exception.
TEST(KubernetesManifests, StatusOfMisshapenPods) {
  struct Case {
    const char* pod;
    WorkloadState state;
    std::optional<int> exit_code;
    const char* id;
  } cases[] = {
      {R"({"metadata": 1, "status": "x", "spec": []})", WorkloadState::kPending, std::nullopt, ""},
      {R"({"metadata": {"name": 5, "labels": [1]}, "status": {"phase": 3}})", WorkloadState::kPending, std::nullopt, ""},
      {R"({"spec": {"containers": [{"ports": [{"containerPort": 1e300, "protocol": 1}]}, 7]}})",
       WorkloadState::kPending, std::nullopt, ""},
      {R"({"metadata": {"name": "a"}, "status": {"phase": "Failed",
          "containerStatuses": [{"state": {"terminated": {"exitCode": 1e300, "reason": []}}}]}})",
       WorkloadState::kFailed, 0, "a"},
      {R"({"status": {"phase": "Failed", "containerStatuses": [{"state": {"terminated": {"exitCode": 4294967298}}}]}})",
       WorkloadState::kFailed, 0, ""},
      {R"({"status": {"phase": "Running", "containerStatuses": [{"state": {"waiting": {"reason": "ErrImagePull",
          "message": {}}}, "lastState": {"terminated": 3}}], "conditions": [1, {"type": "Ready", "status": 1}]}})",
       WorkloadState::kFailed, std::nullopt, ""},
      {R"([1, 2])", WorkloadState::kPending, std::nullopt, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.pod);
    WorkloadStatus s = StatusOfPod(Json::parse(c.pod));
    EXPECT_EQ(s.state, c.state);
    EXPECT_EQ(s.exit_code, c.exit_code);
    EXPECT_EQ(s.id, c.id);
    EXPECT_FALSE(s.ready);
  }
  // Times past what a 64-bit nanosecond clock holds are no times.
  Json late = {{"status", {{"startTime", "9999-01-01T00:00:00Z"}}}};
  EXPECT_FALSE(StatusOfPod(late).started_at.has_value());
  late["status"]["startTime"] = "2026-01-01T00:00:00Z";
  EXPECT_TRUE(StatusOfPod(late).started_at.has_value());
}

// Every kind the runtime creates passes the official schemas (types,
// required fields) and the validator's unknown-field check.
TEST(KubernetesManifests, PassTheOfficialSchemas) {
  RequireValidator();
  TempDir dir;
  WorkloadSpec trial = Task();
  trial.name = "q1234abcd-e2-t5";
  trial.host_network = true;
  trial.restart = RestartPolicy::kNever;
  Json all = Json::array({PodManifest(Task(), "quader"), PodManifest(trial, "quader"),
                          DeploymentManifest(Replica(), "quader"),
                          ServiceManifest(Replica(), "quader", "q1234abcd-v3-g1-r0")});
  WriteJson(dir.path() + "/all.json", all);
  auto r = quader::testing::Validate(dir.path() + "/all.json");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("ok  Pod q1234abcd-e2-t5"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ok  Deployment q1234abcd-v3-g1-r0"), std::string::npos) << r.output;

  // The validator really checks: a misspelt field and a wrong type fail.
  Json bad = PodManifest(Task(), "quader");
  bad["spec"]["containers"][0]["imagePullPolicyy"] = "Always";
  bad["spec"]["restartPolicy"] = 3;
  WriteJson(dir.path() + "/bad.json", bad);
  r = quader::testing::Validate(dir.path() + "/bad.json");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("imagePullPolicyy"), std::string::npos) << r.output;
}

// --- podman kube play ---------------------------------------------------------
// Podman 4.3 runs Pods and Deployments from manifests (not Services), with
// two differences from a cluster that the test bridges: it supports only
// metadata.name of the downward API (the other K8S_* fieldRefs become plain
// values here), and it publishes container ports on 0.0.0.0.

class PodmanKubePlay : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RunShell("command -v podman").code != 0) GTEST_SKIP() << "podman is not installed";
    if (RunShell("command -v catatonit").code != 0) {
      GTEST_SKIP() << "catatonit (podman's pod pause process) is not installed: run scripts/install-deps.sh";
    }
    std::string podman = dir_.path() + "/podman";
    std::filesystem::create_directories(podman + "/networks");
    std::ofstream(podman + "/containers.conf")
        << "[containers]\ndefault_ulimits = []\n[engine]\nruntime = \"runc\"\nevents_logger = \"file\"\n"
        << "events_logfile_path = \"" << podman << "/events.log\"\n[network]\nnetwork_config_dir = \"" << podman
        << "/networks\"\n";
    env_ = "CONTAINERS_CONF='" + podman + "/containers.conf' ";
    auto image = RunShell(env_ + "'" QUADER_SOURCE_DIR "/scripts/test-images.sh'");
    if (image.code != 0) GTEST_SKIP() << "cannot build the test image: " << image.output;
  }
  void TearDown() override {
    for (const auto& f : played_) RunShell(env_ + "podman kube down '" + f + "'");
    if (!played_.empty()) RunShell(env_ + "podman volume rm -f quader-users");
  }

  // Plays `manifest` (after the podman adjustments above).
  quader::testing::CommandResult Play(Json manifest, const std::string& file) {
    Json* pod = manifest["kind"] == "Pod" ? &manifest["spec"] : &manifest["spec"]["template"]["spec"];
    for (auto& e : (*pod)["containers"][0]["env"]) {
      if (e.contains("valueFrom") && e["valueFrom"]["fieldRef"]["fieldPath"] != "metadata.name") {
        e = {{"name", e["name"]}, {"value", "podman"}};
      }
    }
    std::string path = dir_.path() + "/" + file;
    WriteJson(path, manifest);
    played_.push_back(path);
    return RunShell(env_ + "timeout 120 podman kube play '" + path + "'");
  }

  std::string Logs(const std::string& container) {
    return RunShell(env_ + "podman logs " + container).output;
  }

  TempDir dir_;
  std::string env_;
  std::vector<std::string> played_;
};

TEST_F(PodmanKubePlay, TaskPodRuns) {
  WorkloadSpec task = Task();
  std::filesystem::create_directories(dir_.path() + "/data");
  std::ofstream(dir_.path() + "/data/input.txt") << "input-from-host\n";
  task.mounts[2].source = dir_.path() + "/data";
  task.resources.gpu = 0;  // no GPU here
  task.node_selector.clear();  // podman has no nodes
  auto played = Play(PodManifest(task, "quader"), "task.json");
  ASSERT_EQ(played.code, 0) << played.output;
  std::string container = task.name + "-main";
  std::string logs;
  for (int i = 0; i < 100; ++i) {
    logs = Logs(container);
    if (logs.find("scratch") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(logs.find("task " + task.name), std::string::npos) << logs;  // K8S_POD_NAME from metadata.name
  EXPECT_NE(logs.find("input-from-host"), std::string::npos) << logs;   // the hostPath mount
  EXPECT_NE(logs.find("scratch"), std::string::npos) << logs;           // the memory emptyDir
}

// A data set version as a task mounts it on a cluster: the registry's claim
// (quader-registry), the version's sub-path, read-only (registry/datasets.h
// RegistryMount). Podman plays the claim as a named volume.
TEST_F(PodmanKubePlay, ADataSetVersionMountsFromTheRegistryClaimReadOnly) {
  auto made = RunShell(env_ + "podman volume create quader-registry >/dev/null && podman volume inspect "
                              "--format '{{.Mountpoint}}' quader-registry");
  ASSERT_EQ(made.code, 0) << made.output;
  std::string mountpoint = made.output.substr(0, made.output.find('\n'));
  const std::string version = mountpoint + "/datasets/public/iris/1-0123456789abcdef";
  std::filesystem::create_directories(version);
  std::ofstream(version + "/iris.csv") << "sepal,species\n5.1,setosa\n";
  const std::string ds_sub = "datasets/public/iris/1-0123456789abcdef";
  WorkloadSpec task = Task();
  task.name = "q1234abcd-r8-t1-a1";
  // Podman 4.3 mounts a claim whole, ignoring subPath (a cluster honours it): the file is
  // then under the sub-path, and the test says so.
  task.command = {"sh", "-c",
                  "cat /datasets/iris/iris.csv 2>/dev/null || (cat /datasets/iris/" + ds_sub + "/iris.csv && "
                  "echo 'subPath ignored by this podman'); (echo x > /datasets/iris/x) 2>/dev/null && echo WROTE || "
                  "echo read-only"};
  task.resources = {};
  task.node_selector.clear();
  Mount ds;
  ds.kind = MountKind::kVolume;
  ds.source = "/var/lib/quader/registry/datasets/public/iris/1-0123456789abcdef";
  ds.target = "/datasets/iris";
  ds.read_only = true;
  ds.claim = "quader-registry";
  ds.sub_path = "datasets/public/iris/1-0123456789abcdef";
  task.mounts = {ds};
  auto played = Play(PodManifest(task, "quader"), "dataset.json");
  ASSERT_EQ(played.code, 0) << played.output;
  std::string logs;
  for (int i = 0; i < 100; ++i) {
    logs = Logs(task.name + "-main");
    if (logs.find("read-only") != std::string::npos || logs.find("WROTE") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  RunShell(env_ + "podman volume rm -f quader-registry");
  EXPECT_NE(logs.find("5.1,setosa"), std::string::npos) << logs;
  if (logs.find("subPath ignored") != std::string::npos) std::cout << "note: this podman ignores subPath\n";
  EXPECT_NE(logs.find("read-only"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("WROTE"), std::string::npos) << logs;
}

TEST_F(PodmanKubePlay, ServiceReplicaDeploymentServes) {
  WorkloadSpec replica = Replica();
  int port = FreeLoopbackPort();
  ASSERT_GT(port, 0);
  replica.env["PORT"] = std::to_string(port);
  replica.ports = {{port, 0, "tcp"}};
  auto played = Play(DeploymentManifest(replica, "quader"), "replica.json");
  ASSERT_EQ(played.code, 0) << played.output;
  HttpProbeResult got;
  for (int i = 0; i < 100 && got.status != 200; ++i) {
    got = HttpGetLoopback(port, "/", {}, std::chrono::milliseconds(500), 4096);
    if (got.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(got.status, 200);
  EXPECT_NE(got.body.find("replica-redis-ui"), std::string::npos) << got.body;
}

}  // namespace
}  // namespace quader::runtime::kubernetes
