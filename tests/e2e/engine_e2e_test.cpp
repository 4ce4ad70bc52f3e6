// The server with a real container engine (a private Podman service it
// starts itself): an image built online, then used by a container; orphans
// of this server's instance removed at start. Skipped, with the reason,
// where no engine can be started (QUADER_REQUIRE_ENGINE=1 makes that a failure).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include <unistd.h>

#include "cli/http_client.h"
#include "core/documents.h"
#include "e2e/jupyter_client.h"
#include "fakes/log_lines.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"
#include "runtime/docker/docker_runtime.h"
#include "runtime/labels.h"

namespace quader::testing {
namespace {

class EngineE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "docker"});
    if (!server_->Start()) {
      std::string why = server_->error().substr(0, 600);
      if (std::getenv("QUADER_REQUIRE_ENGINE")) FAIL() << "no container engine: " << why;
      GTEST_SKIP() << "no container engine could be started here: " << why;
    }
    admin_ = server_->Login("admin", "admin-pass-1");
    std::string conf = dir_.path() + "/podman/containers.conf";
    std::string cmd = "CONTAINERS_CONF=" + conf + " " + QUADER_SOURCE_DIR + "/scripts/test-images.sh";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    runtime::docker::DockerRuntimeOptions opts;
    opts.data_dir = dir_.path() + "/client";
    opts.docker_host = "unix://" + dir_.path() + "/podman/podman.sock";
    auto rt = runtime::docker::OpenDockerRuntime(opts);
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    runtime_ = std::move(rt).value();
  }

  void TearDown() override {
    if (!runtime_) return;
    std::string conf = dir_.path() + "/podman/containers.conf";
    (void)std::system(("CONTAINERS_CONF=" + conf + " podman rmi -f quader-e2e/hello:" + Tag() +
                       " quader-e2e/broken:1 >/dev/null 2>&1").c_str());
    auto left = runtime_->List({{"quader.test", "engine-e2e"}});
    if (left.ok()) {
      for (const auto& w : *left) (void)runtime_->Stop(w.id, std::chrono::seconds(1));
    }
  }

  static std::string Tag() { return "e2e-" + std::to_string(::getpid()); }

  Json Get(const std::string& path) {
    auto r = server_->Call("GET", path, "", admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json::parse(r.body, nullptr, false);
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<runtime::Runtime> runtime_;
  std::string admin_;
};

TEST_F(EngineE2ETest, ImageBuiltOnlineIsRecordedAndRunsInAContainer) {
  std::string tag = Tag();
  Json body = {{"name", "hello"}, {"image", "quader-e2e/hello:" + tag}, {"from", "localhost/quader-test:busybox"},
               {"dockerfile", "RUN echo built-by-quader > /hello\n"},
               {"config", {{"resource_memory", "256M"}, {"resource_cpu", "1"}}}};
  auto created = server_->Call("POST", "/api/v1/image-builds", body.dump(), admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = std::to_string(Json::parse(created.body)["id"].get<int64_t>());
  auto log = server_->Call("GET", "/api/v1/image-builds/" + id + "/logs?follow=1", "", admin_);
  EXPECT_NE(log.body.find("RUN echo built-by-quader"), std::string::npos) << log.body;
  Json build = Get("/api/v1/image-builds/" + id);
  ASSERT_EQ(build["state"], "succeeded") << build.dump();
  Json images = Get("/api/v1/images");
  ASSERT_EQ(images["items"].size(), 1u);
  EXPECT_EQ(images["items"][0]["ref"], "quader-e2e/hello:" + tag);
  EXPECT_EQ(images["items"][0]["source"], "build");

  runtime::WorkloadSpec spec;
  spec.name = "use-built-" + tag;
  spec.image = "quader-e2e/hello:" + tag;
  spec.command = {"cat", "/hello"};
  spec.labels = {{runtime::kLabelManaged, "true"}, {"quader.test", "engine-e2e"}};
  auto started = runtime_->Start(spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::string out;
  ASSERT_TRUE(runtime_->Logs(started->id, /*follow=*/true, [&](const std::string& s) { out += s; return true; }).ok());
  EXPECT_EQ(quader::testing::Unstamped(out), "built-by-quader\n");
  auto done = runtime_->Inspect(started->id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, runtime::WorkloadState::kSucceeded);
}

TEST_F(EngineE2ETest, BadDockerfileFailsWithTheEnginesReason) {
  Json body = {{"name", "broken"}, {"image", "quader-e2e/broken:1"}, {"from", "localhost/quader-test:busybox"},
               {"dockerfile", "RUN exit 7\n"}};
  auto created = server_->Call("POST", "/api/v1/image-builds", body.dump(), admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = std::to_string(Json::parse(created.body)["id"].get<int64_t>());
  (void)server_->Call("GET", "/api/v1/image-builds/" + id + "/logs?follow=1", "", admin_);
  Json build = Get("/api/v1/image-builds/" + id);
  EXPECT_EQ(build["state"], "failed");
  EXPECT_NE(build["reason"].get<std::string>().find("exit"), std::string::npos) << build.dump();
  EXPECT_EQ(Get("/api/v1/images")["items"].size(), 0u);
}

TEST_F(EngineE2ETest, CommitSavesARunningWorkloadOfTheSameProjectOnly) {
  auto start = [&](const std::string& name, const std::string& project) {
    runtime::WorkloadSpec spec;
    spec.name = name;
    spec.image = "localhost/quader-test:busybox";
    spec.command = {"sh", "-c", "echo changed-inside > /state && sleep 300"};
    spec.labels = {{runtime::kLabelManaged, "true"}, {runtime::kLabelProject, project},
                   {"quader.test", "engine-e2e"}};
    auto st = runtime_->Start(spec);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
  };
  std::string mine = "commit-mine-" + Tag(), theirs = "commit-theirs-" + Tag();
  start(mine, "public");
  start(theirs, "other-team");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let it write /state
  auto build = [&](const std::string& name, const std::string& workload) {
    Json body = {{"name", name}, {"image", "quader-e2e/hello:" + Tag()}, {"commit", workload}};
    auto r = server_->Call("POST", "/api/v1/image-builds", body.dump(), admin_);
    EXPECT_EQ(r.status, 201) << r.body;
    std::string id = std::to_string(Json::parse(r.body)["id"].get<int64_t>());
    (void)server_->Call("GET", "/api/v1/image-builds/" + id + "/logs?follow=1", "", admin_);
    return Get("/api/v1/image-builds/" + id);
  };
  Json refused = build("steal", theirs);
  EXPECT_EQ(refused["state"], "failed");
  EXPECT_NE(refused["reason"].get<std::string>().find("no running workload named"), std::string::npos) << refused;
  Json saved = build("save", mine);
  ASSERT_EQ(saved["state"], "succeeded") << saved;
  EXPECT_EQ(Get("/api/v1/images")["items"][0]["source"], "commit");
  // The committed filesystem carries what the workload wrote.
  runtime::WorkloadSpec check;
  check.name = "commit-check-" + Tag();
  check.image = "quader-e2e/hello:" + Tag();
  check.command = {"cat", "/state"};
  check.labels = {{runtime::kLabelManaged, "true"}, {"quader.test", "engine-e2e"}};
  auto started = runtime_->Start(check);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::string out;
  ASSERT_TRUE(runtime_->Logs(started->id, true, [&](const std::string& s) { out += s; return true; }).ok());
  EXPECT_EQ(quader::testing::Unstamped(out), "changed-inside\n");
}

TEST_F(EngineE2ETest, OrphansOfThisInstanceAreRemovedAtStart) {
  std::ifstream in(dir_.path() + "/instance-id");
  std::string instance;
  in >> instance;
  ASSERT_FALSE(instance.empty());
  runtime::WorkloadSpec spec;
  spec.name = "orphan-" + instance;
  spec.image = "localhost/quader-test:busybox";
  spec.command = {"sleep", "300"};
  spec.labels = {{runtime::kLabelManaged, "true"}, {runtime::kLabelInstance, instance},
                 {runtime::kLabelKind, "task"}, {"quader.test", "engine-e2e"}};
  auto started = runtime_->Start(spec);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  // A stranger's workload (another instance) must be left alone.
  spec.name = "stranger-" + instance;
  spec.labels[runtime::kLabelInstance] = "someone-else";
  auto stranger = runtime_->Start(spec);
  ASSERT_TRUE(stranger.ok()) << stranger.status().ToString();

  server_->Kill();  // a crash; the containers keep running
  EXPECT_EQ(runtime_->Inspect(started->id)->state, runtime::WorkloadState::kRunning);
  server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "docker"});
  ASSERT_TRUE(server_->Start()) << server_->error();
  // No task owns it (there are no tasks yet): it is an orphan and is gone.
  EXPECT_EQ(runtime_->Inspect(started->id).status().code(), Code::kNotFound);
  auto other = runtime_->Inspect(stranger->id);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->state, runtime::WorkloadState::kRunning);
}

// A pipeline task in a real container survives a SIGKILL of the server: the
// restarted server re-adopts the running container (state, log, outputs),
// the task is not started twice, and its container is removed at the end.
TEST_F(EngineE2ETest, SigkilledServerReadoptsARunningTaskContainer) {
  auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
    auto r = server_->Call(method, path, body, admin_);
    EXPECT_LT(r.status, 300) << method << " " << path << ": " << r.body;
    return Json::parse(r.body, nullptr, false);
  };
  call("POST", "/api/v1/apply", R"(
kind: JobTemplate
name: shell
image: localhost/quader-test:busybox
command: ["sh", "-c", "eval \"$SCRIPT\""]
---
kind: Pipeline
name: sturdy
tasks:
  - name: first
    template: shell
    env: {SCRIPT: 'echo start >> /mnt/admin/marks; sleep 4; echo "{\"k\": \"v\"}" > /outputs/outputs.json; echo first-done'}
  - name: second
    template: shell
    depends_on: [first]
    args: {}
    env: {SCRIPT: 'echo "second saw {{tasks.first.outputs.k}}" >> /mnt/admin/marks'}
)");
  Json run = call("POST", "/api/v1/pipelines/sturdy/run", "{}");
  std::string id = std::to_string(run["id"].get<int64_t>());
  auto state_of = [&](const Json& r, const std::string& task) {
    for (const auto& t : r["tasks"]) {
      if (t["name"] == task) return t["state"].get<std::string>();
    }
    return std::string();
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && state_of(Get("/api/v1/runs/" + id), "first") != "running") {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  server_->Kill();
  server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "docker"});
  ASSERT_TRUE(server_->Start()) << server_->error();
  admin_ = server_->Login("admin", "admin-pass-1");
  Json done;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    done = Get("/api/v1/runs/" + id);
    std::string s = done.value("state", "");
    if (s == "succeeded" || s == "failed" || s == "stopped") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(done["state"], "succeeded") << done.dump(2) << server_->Output();
  EXPECT_EQ(done["tasks"][0]["attempt"], 1);
  EXPECT_EQ(done["tasks"][0]["runtime"], "docker");
  std::ifstream marks(dir_.path() + "/users/admin/work/marks");
  std::string text((std::istreambuf_iterator<char>(marks)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "start\nsecond saw v\n");
  auto log = server_->Call("GET", "/api/v1/runs/" + id + "/tasks/first/logs", "", admin_);
  EXPECT_NE(log.body.find("first-done"), std::string::npos) << log.body;
  auto left = runtime_->List({{runtime::kLabelRun, id}, {runtime::kLabelKind, "task"}});
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << left->size() << " task containers left behind";
}

// A trial in a real container: its values on the command line, the nni
// package mounted, and the trial API reached on the host's loopback with the
// trial's own token (busybox wget stands in for the Python module here).
TEST_F(EngineE2ETest, ExperimentTrialInAContainerReportsThroughTheTrialApi) {
  const std::string script =
      "set -e; test -f /opt/quader/sdk/nni/__init__.py; echo \"args $*\"; "
      "wget -q -O- --header \"Authorization: Bearer $QUADER_TRIAL_TOKEN\" \"$QUADER_API_URL/api/v1/trial/parameters\"; "
      "wget -q -O- --header \"Authorization: Bearer $QUADER_TRIAL_TOKEN\" --header 'Content-Type: application/json' "
      "--post-data '{\"type\": \"FINAL\", \"value\": 0.75}' \"$QUADER_API_URL/api/v1/trial/metrics\"";
  Json doc = {{"kind", "Experiment"},
              {"name", "in-a-box"},
              {"image", "localhost/quader-test:busybox"},
              {"command", {"sh", "-c", script, "trial"}},
              {"search_space", {{"n", {{"_type", "choice"}, {"_value", {3, 5}}}}}},
              {"tuner", "GridSearch"},
              {"max_trials", 2},
              {"parallelism", 2}};
  auto r = server_->Call("POST", "/api/v1/experiments", doc.dump(), admin_);
  ASSERT_EQ(r.status, 201) << r.body;
  Json e;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    e = Get("/api/v1/experiments/in-a-box");
    std::string s = e.value("state", "");
    if (s == "succeeded" || s == "failed" || s == "stopped") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(e["state"], "succeeded") << e.dump(2) << server_->Output();
  Json trials = Get("/api/v1/experiments/in-a-box/trials")["items"];
  ASSERT_EQ(trials.size(), 2u);
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "succeeded") << t.dump();
    EXPECT_EQ(t["value"], 0.75) << t.dump();
    int n = t["parameters"]["n"];
    std::string log = server_->Call("GET", "/api/v1/experiments/in-a-box/trials/" +
                                               std::to_string(t["sequence"].get<int>()) + "/logs",
                                    "", admin_)
                          .body;
    EXPECT_NE(log.find("args --n=" + std::to_string(n)), std::string::npos) << log;
    EXPECT_NE(log.find("\"parameters\":{\"n\":" + std::to_string(n) + "}"), std::string::npos) << log;
  }
}

// A service in a real container: its port published on 127.0.0.1 by the
// engine, reached through the gateway by Host.
TEST_F(EngineE2ETest, ServiceReplicaInAContainerIsReachedThroughTheGateway) {
  Json doc = {{"kind", "Service"},
              {"name", "box"},
              {"image", "localhost/quader-test:busybox"},
              {"command", "echo hello-from-box > /var/www/index.html && exec httpd -f -p 8080 -h /var/www"},
              {"ports", {8080}},
              {"health", "8080:/index.html"}};
  auto r = server_->Call("POST", "/api/v1/services", doc.dump(), admin_);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string body;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = cli::HttpRequest("GET", server_->gateway() + "/index.html", "", {{"Host", "box.service.localhost"}}, 5);
    if (reply.ok() && reply->status == 200) {
      body = reply->body;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_EQ(body, "hello-from-box\n") << Get("/api/v1/services/box").dump(2) << server_->Output();
  Json s = Get("/api/v1/services/box");
  EXPECT_EQ(s["state"], "running");
  ASSERT_EQ(s["replica_states"].size(), 1u);
  EXPECT_NE(s["replica_states"][0]["port"], 8080);  // published on a port the engine picked
  ASSERT_EQ(server_->Call("DELETE", "/api/v1/services/box", "", admin_).status, 204);
}

// `health: shell:...` in a container: the command runs inside it (podman
// exec); the replica takes traffic only once it exits 0.
TEST_F(EngineE2ETest, ShellHealthProbeRunsInsideTheContainer) {
  Json doc = {{"kind", "Service"},
              {"name", "gated"},
              {"image", "localhost/quader-test:busybox"},
              {"command", "echo gated > /var/www/index.html && (sleep 3; touch /var/www/ready) & "
                          "exec httpd -f -p 8080 -h /var/www"},
              {"ports", {8080}},
              {"health", "shell:test -f /var/www/ready"}};
  // The file exists only inside the container, so a probe run anywhere else fails.
  ASSERT_EQ(server_->Call("POST", "/api/v1/services", doc.dump(), admin_).status, 201);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Json early = Get("/api/v1/services/gated");
  EXPECT_EQ(early["state"], "pending") << early.dump(2);
  std::string body;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = cli::HttpRequest("GET", server_->gateway() + "/index.html", "", {{"Host", "gated.service.localhost"}}, 5);
    if (reply.ok() && reply->status == 200) {
      body = reply->body;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_EQ(body, "gated\n") << Get("/api/v1/services/gated").dump(2) << server_->Output();
  EXPECT_EQ(Get("/api/v1/services/gated")["state"], "running");
  ASSERT_EQ(server_->Call("DELETE", "/api/v1/services/gated", "", admin_).status, 204);
}

// A Jupyter notebook in quader/notebook:1: running once it answers, reached
// through the gateway by its owner, a kernel computes 2+2 with the image's
// libraries and sees the personal directory mounted; delete removes the
// container. Skipped where the image is not built
// (scripts/build-images.sh notebook).
TEST_F(EngineE2ETest, JupyterNotebookRunsInItsImage) {
  std::string conf = dir_.path() + "/podman/containers.conf";
  if (std::system(("CONTAINERS_CONF=" + conf + " podman image exists quader/notebook:1").c_str()) != 0) {
    GTEST_SKIP() << "quader/notebook:1 is not built here (scripts/build-images.sh notebook builds it)";
  }
  auto created = server_->Call("POST", "/api/v1/notebooks", R"({"name": "lab", "type": "jupyter"})", admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  Json nb;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    nb = Get("/api/v1/notebooks/lab");
    if (nb.value("state", "") == "running" || nb.value("state", "") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(nb["state"], "running") << nb.dump(2) << server_->Output();
  auto kernel = cli::HttpRequest("POST", server_->gateway() + "/notebook/public/lab/api/kernels", "{}",
                                 {{"Cookie", "quader_session=" + admin_}}, 30);
  ASSERT_TRUE(kernel.ok() && kernel->status == 201) << (kernel.ok() ? kernel->body : kernel.status().ToString());
  std::string id = Json::parse(kernel->body)["id"];
  EXPECT_EQ("4", Execute(server_->gateway(), "/notebook/public/lab/", admin_, id, "2+2"));
  EXPECT_EQ("'/mnt/admin sklearn'",
            Execute(server_->gateway(), "/notebook/public/lab/", admin_, id,
                    "import os, sklearn; open('/mnt/admin/from-notebook.txt', 'w').write('x'); "
                    "os.getcwd() + ' ' + sklearn.__name__"));
  EXPECT_TRUE(std::ifstream(dir_.path() + "/users/admin/work/from-notebook.txt").good());
  ASSERT_EQ(server_->Call("DELETE", "/api/v1/notebooks/lab", "", admin_).status, 204);
  std::ifstream in(dir_.path() + "/instance-id");
  std::string instance;
  in >> instance;
  std::map<std::string, std::string> mine = {{runtime::kLabelInstance, instance}, {runtime::kLabelKind, "notebook"}};
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  size_t left = 1;
  while (left > 0 && std::chrono::steady_clock::now() < deadline) {
    auto list = runtime_->List(mine);
    if (list.ok()) left = list->size();
    if (left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_EQ(0u, left);
}

// docs/model-serving.md in containers: the iris-model pipeline's tasks in
// quader/python:3.11, then examples/services/iris-model.yaml.example as it is
// (quader/predict:1, which loads the model from the mounted /mnt/admin).
// Skipped, with the reason, where those images are not built
// (scripts/build-images.sh predict).
TEST_F(EngineE2ETest, IrisModelIsTrainedAndServedFromThePredictImage) {
  std::string conf = dir_.path() + "/podman/containers.conf";
  for (const char* image : {"quader/python:3.11", "quader/predict:1"}) {
    std::string cmd = "CONTAINERS_CONF=" + conf + " podman image exists " + image;
    if (std::system(cmd.c_str()) != 0) {
      GTEST_SKIP() << image << " is not built here (scripts/build-images.sh predict builds it)";
    }
  }
  auto read = [](const std::string& path) {
    std::ifstream in(std::string(QUADER_SOURCE_DIR) + "/" + path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
    auto r = server_->Call(method, path, body, admin_);
    EXPECT_LT(r.status, 300) << method << " " << path << ": " << r.body;
    return Json::parse(r.body, nullptr, false);
  };
  for (const char* t : {"make-dataset", "train-sklearn", "evaluate-model", "python-script"}) {
    call("POST", "/api/v1/apply", read(std::string("examples/templates/") + t + ".yaml"));
  }
  call("POST", "/api/v1/apply", read("examples/pipelines/iris-model.yaml"));
  std::string id = std::to_string(call("POST", "/api/v1/pipelines/iris-model/run", "{}")["id"].get<int64_t>());
  Json run;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  while (std::chrono::steady_clock::now() < deadline) {
    run = Get("/api/v1/runs/" + id);
    std::string s = run.value("state", "");
    if (s == "succeeded" || s == "failed" || s == "stopped") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ASSERT_EQ(run["state"], "succeeded") << run.dump(2) << server_->Output();
  EXPECT_EQ(run["tasks"][0]["runtime"], "docker");
  ASSERT_TRUE(std::ifstream(dir_.path() + "/users/admin/work/models/iris/model.joblib").good());

  auto docs = ParseDocuments(read("examples/services/iris-model.yaml.example"));
  ASSERT_TRUE(docs.ok() && docs->size() == 1) << docs.status().ToString();
  call("POST", "/api/v1/inference-services", (*docs)[0].dump());
  std::string body;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = cli::HttpRequest("POST", server_->gateway() + "/predict",
                                  R"({"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]})",
                                  {{"Host", "serving-iris-1.service.localhost"}}, 10);
    if (reply.ok() && reply->status == 200) {
      body = reply->body;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  Json out = Json::parse(body, nullptr, false);
  EXPECT_EQ(out.is_discarded() ? Json() : out["predictions"], Json::parse("[0, 2]"))
      << body << Get("/api/v1/inference-services/serving-iris-1").dump(2) << server_->Output();
  EXPECT_EQ(server_->Call("DELETE", "/api/v1/inference-services/serving-iris-1", "", admin_).status, 204);
  // Replicas outlive the server: the delete must have removed the container.
  std::ifstream in(dir_.path() + "/instance-id");
  std::string instance;
  in >> instance;
  std::map<std::string, std::string> mine = {{runtime::kLabelInstance, instance}, {runtime::kLabelKind, "service"}};
  // A List racing the removal can fail (Podman answers 500 "no such container"
  // for one going away): that is retried too.
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto left = runtime_->List(mine);
  while ((!left.ok() || !left->empty()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    left = runtime_->List(mine);
  }
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_TRUE(left->empty()) << left->size() << " replica containers left after the delete";
  for (const auto& w : *left) (void)runtime_->Stop(w.id, std::chrono::seconds(1));
}

}  // namespace
}  // namespace quader::testing
