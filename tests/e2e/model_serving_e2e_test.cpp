// A real model online (docs/model-serving.md), end to end on the process
// runtime: the example templates and examples/pipelines/iris-model.yaml train
// a scikit-learn classifier and publish it to the runner's /mnt/$USERNAME;
// the inference service of examples/services/iris-model.yaml.example serves it
// with images/predict/predict_server.py; predictions come back through the
// gateway by Host.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "cli/http_client.h"
#include "core/documents.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr const char* kService = "serving-iris-1";
constexpr const char* kHost = "serving-iris-1.service.localhost";

std::string Source(const std::string& path) {
  std::ifstream in(std::string(QUADER_SOURCE_DIR) + "/" + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ModelServingE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "process"});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", "admin-pass-1");
    ASSERT_FALSE(admin_.empty());
  }

  // Replicas outlive the server (as containers would): remove the service so
  // its predict server does not outlive the test.
  void TearDown() override {
    if (server_->Call("GET", std::string("/api/v1/inference-services/") + kService, "", admin_).status == 200) {
      RemoveService();
    }
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status) {
    return CallJson(*server_, method, path, body, status, admin_);
  }

  // Polls `path` until `done` says so; returns the last reply.
  Json WaitFor(const std::string& path, const std::function<bool(const Json&)>& done, int seconds) {
    auto deadline = steady_clock::now() + std::chrono::seconds(seconds);
    Json j;
    while (steady_clock::now() < deadline) {
      j = Call("GET", path, "", 200);
      if (done(j)) return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << path << " did not get there in " << seconds << " s: " << j.dump(2) << server_->Output();
    return j;
  }

  // `method path` on the gateway with the production Host of the service.
  cli::HttpReply Gateway(const std::string& method, const std::string& path, const std::string& body = "") {
    auto r = cli::HttpRequest(method, server_->gateway() + path, body,
                              {{"Host", kHost}, {"Content-Type", "application/json"}}, 10);
    if (!r.ok()) return {0, r.status().ToString(), {}};
    return *r;
  }

  // Deletes the service and waits until its replica no longer answers on its port.
  void RemoveService() {
    Json s = Call("GET", std::string("/api/v1/inference-services/") + kService, "", 200);
    std::vector<int> ports;
    for (const auto& r : s["replica_states"]) ports.push_back(r.value("port", 0));
    Call("DELETE", std::string("/api/v1/inference-services/") + kService, "", 204);
    for (int port : ports) {
      auto deadline = steady_clock::now() + std::chrono::seconds(15);
      bool gone = false;
      while (!gone && steady_clock::now() < deadline) {
        gone = !cli::HttpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/health", "", {}, 1).ok();
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      EXPECT_TRUE(gone) << "the replica on port " << port << " still answers after the delete";
    }
  }

  // The example templates and pipeline.
  void ApplyExamples() {
    for (const char* t : {"make-dataset", "train-sklearn", "evaluate-model", "python-script"}) {
      Call("POST", "/api/v1/apply", Source(std::string("examples/templates/") + t + ".yaml"), 200);
    }
    Call("POST", "/api/v1/apply", Source("examples/pipelines/iris-model.yaml"), 200);
  }

  // Runs iris-model and waits until it ends; returns the run.
  Json RunPipeline() {
    Json run = Call("POST", "/api/v1/pipelines/iris-model/run", "{}", 201);
    return WaitFor("/api/v1/runs/" + std::to_string(run.value("id", int64_t{0})), [](const Json& r) {
      std::string s = r.value("state", "");
      return s == "succeeded" || s == "failed" || s == "stopped";
    }, 240);
  }

  // The example inference service as written. The process runtime ignores
  // images (a replica is a local process in a sandbox that sees the host's
  // system directories and its own mounts) but mounts what Quader's own
  // images add: quader/predict:1's /app (images/predict) holds the same
  // predict_server.py. `python3` is found on the standard PATH the runtime
  // gives every workload, so it is Debian's /usr/bin/python3 with
  // scikit-learn, as in the template tasks.
  Json ExampleService() {
    auto docs = ParseDocuments(Source("examples/services/iris-model.yaml.example"));
    EXPECT_TRUE(docs.ok() && docs->size() == 1) << docs.status().ToString();
    if (!docs.ok() || docs->size() != 1) return Json::object();
    Json doc = (*docs)[0];
    EXPECT_EQ(doc["image"], "quader/predict:1");
    EXPECT_EQ(doc["command"], "python3 /app/predict_server.py");
    return doc;
  }

  Json PredictIris() {
    auto reply = Gateway("POST", "/predict", R"({"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]})");
    EXPECT_EQ(reply.status, 200) << reply.body;
    Json out = Json::parse(reply.body, nullptr, false);
    return out.is_discarded() ? Json::object() : out;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(ModelServingE2ETest, IrisPipelinePublishesAModelThatTheGatewayServes) {
  // Train and publish: make-data -> train -> evaluate -> publish.
  ApplyExamples();
  Json run = RunPipeline();
  ASSERT_EQ(run["state"], "succeeded") << run.dump(2);
  Json publish;
  for (const auto& t : run["tasks"]) {
    if (t["name"] == "publish") publish = t;
  }
  EXPECT_EQ(publish["outputs"]["model_path"], "/mnt/admin/models/iris/model.joblib") << publish.dump(2);
  // The runner's /mnt/admin is the server's users/admin/work.
  std::string published = dir_.path() + "/users/admin/work/models/iris";
  ASSERT_TRUE(fs::is_regular_file(published + "/model.joblib")) << run.dump(2);
  EXPECT_GT(fs::file_size(published + "/model.joblib"), 0u);
  EXPECT_TRUE(fs::is_regular_file(published + "/model.json"));
  EXPECT_FALSE(fs::exists(published + "/model.joblib.tmp"));

  // Serve it.
  Json created = Call("POST", "/api/v1/inference-services", ExampleService().dump(), 201);
  EXPECT_EQ(created["name"], kService);
  Json s = WaitFor(std::string("/api/v1/inference-services/") + kService,
                   [](const Json& s) { return s.value("state", "") == "running"; }, 60);
  ASSERT_EQ(s["state"], "running");

  // Health through the gateway carries the KUBEFLOW_* name and version.
  auto health = Gateway("GET", "/health");
  ASSERT_EQ(health.status, 200) << health.body;
  Json h = Json::parse(health.body, nullptr, false);
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["model"], "iris");
  EXPECT_EQ(h["version"], "v1");

  // make-dataset's iris labels are scikit-learn's: 0 setosa, 1 versicolor, 2 virginica.
  Json out = PredictIris();
  EXPECT_EQ(out["predictions"], Json::parse("[0, 2]")) << out.dump();
  ASSERT_EQ(out["probabilities"].size(), 2u) << out.dump();
  EXPECT_EQ(out["probabilities"][0].size(), 3u);
  EXPECT_GT(out["probabilities"][0][0].get<double>(), 0.5);
  EXPECT_GT(out["probabilities"][1][2].get<double>(), 0.5);
  EXPECT_EQ(out["classes"], Json::parse("[0, 1, 2]"));

  // TF Serving's path, and rows keyed by the feature names the model was fitted on.
  auto reply = Gateway("POST", "/v1/models/iris:predict",
                       R"({"instances": [{"sepal_length_cm": 6.7, "sepal_width_cm": 3.0,
                                          "petal_length_cm": 5.2, "petal_width_cm": 2.3}]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Json::parse(reply.body, nullptr, false)["predictions"], Json::parse("[2]")) << reply.body;

  // Bad bodies are a 400 that names the problem; the server goes on serving.
  reply = Gateway("POST", "/predict", "{\"instances\": [[5.1, 3.5");
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("not valid JSON"), std::string::npos) << reply.body;
  reply = Gateway("POST", "/predict", R"({"instances": [[5.1, 3.5, 1.4]]})");
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("instances[0] has 3 values; the model expects 4"), std::string::npos) << reply.body;
  reply = Gateway("POST", "/predict", R"({"rows": [[5.1, 3.5, 1.4, 0.2]]})");
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("the body has no"), std::string::npos) << reply.body;
  EXPECT_EQ(Gateway("POST", "/predict", R"({"instances": [[5.1, 3.5, 1.4, 0.2]]})").status, 200);

  // Deleted: the replica stops and the host is gone.
  RemoveService();
  auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (steady_clock::now() < deadline && Gateway("GET", "/health").status != 404) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(Gateway("GET", "/health").status, 404);
}

// docs/model-serving.md: "the order of steps 3 and 4 does not matter". A
// service created before any model exists waits (pending, health 503, no
// failure) and serves once the pipeline publishes the file.
TEST_F(ModelServingE2ETest, AServiceCreatedBeforeItsModelServesOnceItIsPublished) {
  ApplyExamples();
  Call("POST", "/api/v1/inference-services", ExampleService().dump(), 201);
  std::string path = std::string("/api/v1/inference-services/") + kService;
  Json s = WaitFor(path, [](const Json& s) {
    return !s["replica_states"].empty() && s["replica_states"][0].value("port", 0) > 0;
  }, 30);
  int port = s["replica_states"][0].value("port", 0);
  auto health = cli::HttpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/health", "", {}, 5);
  for (auto deadline = steady_clock::now() + std::chrono::seconds(30);
       (!health.ok() || health->status != 503) && steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    health = cli::HttpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/health", "", {}, 5);
  }
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 503) << health->body;
  EXPECT_NE(health->body.find("waiting for the model file /mnt/admin/models/iris/model.joblib"), std::string::npos)
      << health->body;
  s = Call("GET", path, "", 200);
  EXPECT_EQ(s["state"], "pending") << s.dump(2);
  EXPECT_EQ(s["events"].dump().find("replica-failed"), std::string::npos) << s["events"].dump(2);
  EXPECT_NE(Gateway("POST", "/predict", R"({"instances": [[5.1, 3.5, 1.4, 0.2]]})").status, 200);  // no ready replica

  Json run = RunPipeline();
  ASSERT_EQ(run["state"], "succeeded") << run.dump(2);
  s = WaitFor(path, [](const Json& s) { return s.value("state", "") == "running"; }, 30);
  EXPECT_EQ(PredictIris()["predictions"], Json::parse("[0, 2]"));
  EXPECT_EQ(s["replica_states"][0].value("port", 0), port);  // the same replica, not a restart
}

}  // namespace
}  // namespace quader::testing
