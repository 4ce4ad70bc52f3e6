// The real `quader server --runtime kubernetes --istio` against an in-test
// fake API server (tests/runtime/fake_kube_api.h: HTTPS, a bearer token,
// watches), reached through a kubeconfig: a service becomes a Deployment, a
// Service and a VirtualService; once the test marks a pod ready (pointing at
// a local HTTP server) the gateway routes to it; a change replaces the
// Deployment; deleting the service deletes its objects. A task of a run
// becomes a Pod whose end and log Quader picks up. No cluster runs the pods:
// the test plays the kubelet's part.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/terminal_client.h"
#include "core/log_stamp.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"
#include "runtime/probe.h"
#include "runtime/fake_kube_api.h"

namespace quader::testing {
namespace {

using runtime::kubernetes::testing::FakeKubeApi;
using std::chrono::steady_clock;
constexpr const char* kNs = "/api/v1/namespaces/quader";

// `python3 -m http.server` on 127.0.0.1:port serving `dir`: the "pod".
class Backend {
 public:
  Backend(const std::string& dir, int port) {
    pid_ = fork();
    if (pid_ == 0) {
      execl("/usr/bin/python3", "python3", "-m", "http.server", std::to_string(port).c_str(), "--bind", "127.0.0.1",
            "--directory", dir.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !runtime::ProbeLoopback(port, "/", std::chrono::milliseconds(200)); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ~Backend() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
};

class KubernetesE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.SetToken("s3cret-token");
    std::string kubeconfig = dir_.path() + "/kubeconfig";
    std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
                              << "clusters:\n- name: fake\n  cluster:\n    server: " << fake_.url()
                              << "\n    certificate-authority: " << fake_.pki().ca_file << "\n"
                              << "users:\n- name: quader\n  user:\n    token: s3cret-token\n"
                              << "contexts:\n- name: test\n  context: {cluster: fake, user: quader, namespace: quader}\n";
    std::filesystem::create_directories(dir_.path() + "/data");
    server_ = std::make_unique<ServerProcess>(
        dir_.path() + "/data", std::vector<std::string>{"--runtime", "kubernetes", "--istio"},
        std::map<std::string, std::string>{{"QUADER_ADMIN_PASSWORD", "admin-pass-1"}, {"KUBECONFIG", kubeconfig}});
    ASSERT_TRUE(server_->Start()) << server_->error() << server_->Output();
    admin_ = server_->Login("admin", "admin-pass-1");
    ASSERT_FALSE(admin_.empty());
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status) {
    auto r = server_->Call(method, path, body, admin_);
    EXPECT_EQ(r.status, status) << method << " " << path << ": " << r.body;
    Json j = Json::parse(r.body, nullptr, false);
    return j.is_object() ? j : Json::object();
  }

  // Waits (10 s) until `check` holds.
  bool Eventually(const std::function<bool()>& check, int seconds = 10) {
    auto deadline = steady_clock::now() + std::chrono::seconds(seconds);
    while (steady_clock::now() < deadline) {
      if (check()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return check();
  }

  // The name of the (first) pod Quader creates, once it exists; "" after 10 s.
  std::string WaitForPod() {
    std::string pod;
    Eventually([&] {
      for (const auto& n : fake_.Names(std::string(kNs) + "/pods")) pod = n;
      return !pod.empty();
    });
    return pod;
  }

  FakeKubeApi fake_;
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(KubernetesE2ETest, TheBannerNamesTheCluster) {
  EXPECT_NE(server_->Output().find("kubernetes (context test, " + fake_.url() + ", namespace quader)"),
            std::string::npos)
      << server_->Output();
}

TEST_F(KubernetesE2ETest, AServiceBecomesClusterObjectsAndItsReadyPodsAreRouted) {
  TempDir site;
  std::ofstream(site.path() + "/index.html") << "hello-from-the-cluster\n";
  int port = runtime::FreeLoopbackPort();
  Backend backend(site.path(), port);
  auto doc = [&](int replicas) {
    return "kind: Service\nname: echo\nimage: registry.example/echo:1\nports: [" + std::to_string(port) +
           "]\nreplicas: " + std::to_string(replicas) + "\nenv: {MODE: one}\n";
  };
  Call("POST", "/api/v1/apply", doc(2), 200);

  const std::string deployment = "/apis/apps/v1/namespaces/quader/deployments/echo";
  ASSERT_TRUE(Eventually([&] { return fake_.Get(deployment).has_value(); })) << server_->Output();
  Json d = *fake_.Get(deployment);
  EXPECT_EQ(d["spec"]["replicas"], 2);
  EXPECT_EQ(d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
  const Json& c = d["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "registry.example/echo:1");
  EXPECT_EQ(c["readinessProbe"]["tcpSocket"]["port"], port);
  ASSERT_TRUE(fake_.Get(std::string(kNs) + "/services/echo").has_value());
  auto vs = fake_.Get("/apis/networking.istio.io/v1beta1/namespaces/quader/virtualservices/echo");
  ASSERT_TRUE(vs.has_value());
  EXPECT_EQ((*vs)["spec"]["hosts"][0], "echo.service.localhost");
  EXPECT_EQ(fake_.last_headers()["authorization"], "Bearer s3cret-token");

  // No ready pod yet: pending, and the gateway has nothing to route to.
  EXPECT_EQ(Call("GET", "/api/v1/services/echo", "", 200)["state"], "pending");

  // The kubelet's part: a ready pod of the Deployment, listening on `port`.
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "echo-5d9f-abcde"}, {"namespace", "quader"},
                            {"labels", d["spec"]["template"]["metadata"]["labels"]}}},
              {"spec", d["spec"]["template"]["spec"]},
              {"status", {{"phase", "Running"}, {"podIP", "127.0.0.1"},
                          {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
  fake_.Put(std::string(kNs) + "/pods/echo-5d9f-abcde", pod);
  ASSERT_TRUE(Eventually([&] { return Call("GET", "/api/v1/services/echo", "", 200)["state"] == "running"; }));
  auto reply = cli::HttpRequest("GET", server_->gateway() + "/", "", {{"Host", "echo.service.localhost"}}, 5);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 200);
  EXPECT_NE(reply->body.find("hello-from-the-cluster"), std::string::npos) << reply->body;

  // The replica's log is its pod's (the kubelet's times kept with ?timestamps=1),
  // and its terminal is pods/exec.
  fake_.SetLog("echo-5d9f-abcde", "listening\n");
  auto log = server_->Call("GET", "/api/v1/services/echo/logs?replica=0", "", admin_);
  EXPECT_EQ(log.status, 200) << log.body;
  EXPECT_EQ(log.body, "listening\n");
  auto stamped = server_->Call("GET", "/api/v1/services/echo/logs?timestamps=1", "", admin_);
  EXPECT_TRUE(StartsWithLogStamp(stamped.body)) << stamped.body;
  EXPECT_EQ(stamped.body.substr(kLogStampSize), "listening\n");
  auto t = cli::TerminalSession::Open(server_->api() + "/api/v1/services/echo/terminal", admin_);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE((*t)->Send("hello-pod\n").ok());
  std::string out;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       out.find("hello-pod") == std::string::npos && std::chrono::steady_clock::now() < deadline;) {
    auto open = (*t)->Read(&out, std::chrono::milliseconds(200));
    if (!open.ok() || !*open) break;
  }
  EXPECT_NE(out.find("hello-pod"), std::string::npos) << out;
  ASSERT_TRUE((*t)->Send("exit 3\n").ok());
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       std::chrono::steady_clock::now() < deadline;) {
    auto open = (*t)->Read(&out, std::chrono::milliseconds(200));
    if (!open.ok() || !*open) break;
  }
  EXPECT_EQ((*t)->exit_code(), 3);
  (*t).reset();
  bool exec = false;
  for (const std::string& r : fake_.request_log()) exec = exec || r.find("/pods/echo-5d9f-abcde/exec") != std::string::npos;
  EXPECT_TRUE(exec) << "the terminal went through pods/exec";

  // A change is a new generation: the Deployment is replaced (rolled out by the cluster).
  Call("POST", "/api/v1/apply", doc(3), 200);
  ASSERT_TRUE(Eventually([&] { return (*fake_.Get(deployment))["spec"]["replicas"] == 3; }));

  // Deleting the service deletes its objects.
  Json svc = Call("GET", "/api/v1/services/echo", "", 200);
  Call("DELETE", "/api/v1/services/" + std::to_string(svc["id"].get<int64_t>()), "", 204);
  EXPECT_TRUE(Eventually([&] {
    return !fake_.Get(deployment) && !fake_.Get(std::string(kNs) + "/services/echo") &&
           !fake_.Get("/apis/networking.istio.io/v1beta1/namespaces/quader/virtualservices/echo");
  }));
}

// Istio routes a host to any VirtualService naming it, so on a cluster a
// service gets one only for hosts its project owns. Apply refuses another
// project's host; a service stored before host ownership (the database edited
// here, as an older version could have left it) loses its VirtualService.
TEST_F(KubernetesE2ETest, AVirtualServiceNamesOnlyHostsItsProjectOwns) {
  Call("POST", "/api/v1/projects", R"({"name": "pa"})", 201);
  Call("POST", "/api/v1/projects", R"({"name": "pb"})", 201);
  auto doc = [](const std::string& project, const std::string& name) {
    return "kind: Service\nproject: " + project + "\nname: " + name +
           "\nimage: registry.example/echo:1\nports: [8080]\n";
  };
  Call("POST", "/api/v1/apply", doc("pa", "echo"), 200);
  Call("POST", "/api/v1/apply", doc("pb", "thief"), 200);
  const std::string vss = "/apis/networking.istio.io/v1beta1/namespaces/quader/virtualservices/";
  ASSERT_TRUE(Eventually([&] { return fake_.Get(vss + "echo") && fake_.Get(vss + "thief"); })) << server_->Output();
  EXPECT_EQ((*fake_.Get(vss + "thief"))["spec"]["hosts"][0], "thief.service.localhost");

  // An older version let pb's service name pa's host.
  std::string db = dir_.path() + "/data/quader.db";
  std::string sql = "UPDATE services SET spec = json_set(spec, '$.host', 'echo.service.localhost'), "
                    "generation = generation + 1 WHERE name = 'thief';";
  ASSERT_EQ(std::system(("sqlite3 " + db + " \"" + sql + "\"").c_str()), 0);
  EXPECT_TRUE(Eventually([&] { return !fake_.Get(vss + "thief").has_value(); }, 20))
      << "the VirtualService naming another project's host stays: " << fake_.Get(vss + "thief")->dump();
  ASSERT_TRUE(fake_.Get(vss + "echo").has_value());
  EXPECT_EQ((*fake_.Get(vss + "echo"))["spec"]["hosts"][0], "echo.service.localhost");
  // Its Deployment stays (it runs; it is not routed), and its state says why.
  EXPECT_TRUE(fake_.Get("/apis/apps/v1/namespaces/quader/deployments/thief").has_value());
  EXPECT_TRUE(Eventually([&] {
    Json s = Call("GET", "/api/v1/services/thief?project=pb", "", 200);
    return s.value("reason", "").find("belongs to another project") != std::string::npos;
  }));
}

TEST_F(KubernetesE2ETest, ATaskRunsAsAPod) {
  Call("POST", "/api/v1/apply",
       "kind: JobTemplate\nname: hello\nimage: registry.example/base:1\ncommand: [\"sh\", \"-c\", \"echo hi\"]\n", 200);
  Call("POST", "/api/v1/apply", "kind: Pipeline\nname: one\ntasks:\n  - {name: say, template: hello}\n", 200);
  Json run = Call("POST", "/api/v1/pipelines/one/run", "{}", 201);
  int64_t id = run["id"].get<int64_t>();
  std::string pod = WaitForPod();
  ASSERT_FALSE(pod.empty()) << server_->Output();
  Json manifest = *fake_.Get(std::string(kNs) + "/pods/" + pod);
  EXPECT_EQ(manifest["spec"]["restartPolicy"], "Never");
  EXPECT_EQ(manifest["spec"]["containers"][0]["image"], "registry.example/base:1");
  // The kubelet's part: it ran, printed, and exited 0.
  fake_.SetLog(pod, "hi from the pod\n");
  fake_.Mutate(std::string(kNs) + "/pods/" + pod, [](Json& p) {
    p["status"] = {{"phase", "Succeeded"},
                   {"containerStatuses", {{{"name", "main"}, {"state", {{"terminated", {{"exitCode", 0}}}}}}}}};
  });
  ASSERT_TRUE(Eventually([&] {
    return Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200).value("state", "") == "succeeded";
  }, 20)) << server_->Output();
  auto log = server_->Call("GET", "/api/v1/runs/" + std::to_string(id) + "/tasks/say/logs", "", admin_);
  EXPECT_NE(log.body.find("hi from the pod"), std::string::npos) << log.body;
}

// A task naming a data set version mounts it from the registry's claim
// (quader-registry), read-only, at the version's sub-path.
TEST_F(KubernetesE2ETest, ADataSetVersionIsMountedFromTheRegistrysClaim) {
  Call("POST", "/api/v1/datasets", R"({"name": "iris"})", 201);
  auto up = server_->Call("POST", "/api/v1/datasets/iris/uploads?path=iris.csv", "a,b\n1,2\n", admin_);
  ASSERT_EQ(up.status, 201) << up.body;
  Call("POST", "/api/v1/datasets/iris/versions", R"({"uploads": "all"})", 201);
  Call("POST", "/api/v1/apply",
       "kind: JobTemplate\nname: hello\nimage: registry.example/base:1\ncommand: [\"sh\", \"-c\", \"echo hi\"]\n", 200);
  Call("POST", "/api/v1/apply", "kind: Pipeline\nname: reads\ntasks:\n  - {name: read, template: hello, datasets: [iris@1]}\n",
       200);
  Call("POST", "/api/v1/pipelines/reads/run", "{}", 201);
  std::string pod = WaitForPod();
  ASSERT_FALSE(pod.empty()) << server_->Output();
  Json manifest = *fake_.Get(std::string(kNs) + "/pods/" + pod);
  std::string volume;
  for (const Json& v : manifest["spec"]["volumes"]) {
    if (v.contains("persistentVolumeClaim") && v["persistentVolumeClaim"]["claimName"] == "quader-registry") volume = v["name"];
  }
  ASSERT_FALSE(volume.empty()) << manifest.dump(2);
  Json mount;
  for (const Json& m : manifest["spec"]["containers"][0]["volumeMounts"]) {
    if (m["mountPath"] == "/datasets/iris") mount = m;
  }
  ASSERT_TRUE(mount.is_object()) << manifest.dump(2);
  EXPECT_EQ(mount["name"], volume);
  EXPECT_EQ(mount["readOnly"], true);
  EXPECT_EQ(mount["subPath"].get<std::string>().rfind("datasets/public/iris/1-", 0), 0u) << mount.dump();
}

// A notebook's server is a Deployment of one pod plus its Service; a reset
// replaces both with the next generation's, deleting the notebook deletes them.
TEST_F(KubernetesE2ETest, ANotebookIsADeploymentAndAService) {
  Call("POST", "/api/v1/apply", "kind: Notebook\nname: lab\ntype: jupyter\nimage: registry.example/nb:1\n", 200);
  const std::string deployments = "/apis/apps/v1/namespaces/quader/deployments";
  std::string name;
  ASSERT_TRUE(Eventually([&] {
    for (const auto& n : fake_.Names(deployments)) name = n;
    return !name.empty();
  }));
  Json d = *fake_.Get(deployments + "/" + name);
  EXPECT_EQ(d["spec"]["template"]["metadata"]["labels"]["quader.kind"], "notebook");
  std::string command = d["spec"]["template"]["spec"]["containers"][0]["command"].dump();
  EXPECT_NE(command.find("--NotebookApp.base_url=/notebook/public/lab/"), std::string::npos) << command;
  EXPECT_NE(command.find("--ip=0.0.0.0"), std::string::npos) << command;
  ASSERT_TRUE(fake_.Get(std::string(kNs) + "/services/" + name).has_value());
  Json nb = Call("GET", "/api/v1/notebooks/lab", "", 200);
  Call("POST", "/api/v1/notebooks/" + std::to_string(nb["id"].get<int64_t>()) + "/reset", "{}", 200);
  ASSERT_TRUE(Eventually([&] {
    auto names = fake_.Names(deployments);
    return names.size() == 1 && names[0] != name;
  })) << server_->Output();
  EXPECT_FALSE(fake_.Get(std::string(kNs) + "/services/" + name).has_value());
  Call("DELETE", "/api/v1/notebooks/" + std::to_string(nb["id"].get<int64_t>()), "", 204);
  EXPECT_TRUE(Eventually([&] { return fake_.Names(deployments).empty(); }));
}

// Quader killed while a task's pod runs: the restarted server finds the pod
// by its labels and the run ends when the pod does.
TEST_F(KubernetesE2ETest, ARestartedServerAdoptsARunningPod) {
  Call("POST", "/api/v1/apply",
       "kind: JobTemplate\nname: long\nimage: registry.example/base:1\ncommand: [\"sleep\", \"600\"]\n", 200);
  Call("POST", "/api/v1/apply", "kind: Pipeline\nname: slow\ntasks:\n  - {name: wait, template: long}\n", 200);
  int64_t id = Call("POST", "/api/v1/pipelines/slow/run", "{}", 201)["id"].get<int64_t>();
  std::string pod = WaitForPod();
  ASSERT_FALSE(pod.empty());
  fake_.Mutate(std::string(kNs) + "/pods/" + pod, [](Json& p) {
    p["status"] = {{"phase", "Running"}, {"podIP", "10.0.0.9"}};
  });
  ASSERT_TRUE(Eventually([&] {
    return Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200).value("state", "") == "running";
  }));
  server_->Kill();
  ASSERT_TRUE(server_->Start()) << server_->error();
  admin_ = server_->Login("admin", "admin-pass-1");
  // Still the same pod, still running: not started again, not marked lost.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(fake_.Names(std::string(kNs) + "/pods").size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200).value("state", ""), "running");
  fake_.SetLog(pod, "done waiting\n");
  fake_.Mutate(std::string(kNs) + "/pods/" + pod, [](Json& p) {
    p["status"] = {{"phase", "Succeeded"},
                   {"containerStatuses", {{{"name", "main"}, {"state", {{"terminated", {{"exitCode", 0}}}}}}}}};
  });
  ASSERT_TRUE(Eventually([&] {
    return Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200).value("state", "") == "succeeded";
  }, 20)) << server_->Output();
}

}  // namespace
}  // namespace quader::testing
