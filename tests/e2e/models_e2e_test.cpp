// The model registry (docs/models.md) against the real server on the process
// runtime: a version registered from a task's outputs keeps its files once
// each by content, with size and checksum, its metrics, parameters and where
// it came from; links the task left are never followed; bad registrations are
// refused by name and change nothing; strangers see nothing; a damaged file is
// refused on the way out; a restarted server sweeps files no version holds.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <fstream>
#include <set>
#include <atomic>
#include <thread>

#include "cli/http_client.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr const char* kDocs = R"yaml(
kind: JobTemplate
name: shell
image: quader/base:bookworm
command: ["sh", "-c", "eval \"$SCRIPT\""]
---
kind: Pipeline
name: train
tasks:
  - name: fit
    template: shell
    env:
      SCRIPT: >-
        mkdir -p /outputs/model/sub && printf 'weights-v1' > /outputs/model/model.bin &&
        printf '{"classes": 3}' > /outputs/model/sub/meta.json && printf 'weights-v1' > /outputs/copy.bin &&
        ln -s /etc/passwd /outputs/model/passwd-link && echo trained
  - name: broken
    template: shell
    env: {SCRIPT: 'mkdir -p /outputs && echo x > /outputs/x.bin && exit 3'}
  - name: iris
    template: shell
    env:
      SCRIPT: >-
        mkdir -p /outputs && /usr/bin/python3 -c "from sklearn.datasets import load_iris;
        from sklearn.linear_model import LogisticRegression; import joblib; X, y = load_iris(return_X_y=True);
        joblib.dump(LogisticRegression(max_iter=300).fit(X, y), '/outputs/model.joblib')"
)yaml";

class ModelsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "process"});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", "admin-pass-1");
    Call("POST", "/api/v1/users", R"({"username": "eve", "password": "password-eve"})", 201);
    eve_ = server_->Login("eve", "password-eve");
    Call("POST", "/api/v1/apply", kDocs, 200);
    Json run = Call("POST", "/api/v1/pipelines/train/run", "{}", 201);
    run_ = run.value("id", int64_t{0});
    auto deadline = steady_clock::now() + std::chrono::seconds(60);
    while (steady_clock::now() < deadline) {
      Json r = Call("GET", "/api/v1/runs/" + std::to_string(run_), "", 200);
      if (r["state"] == "failed" || r["state"] == "succeeded") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status,
            const std::string& token = "") {
    return CallJson(*server_, method, path, body, status, token.empty() ? admin_ : token);
  }
  std::string Register(const std::string& task, const std::string& path, const std::string& extra = "") {
    return R"({"run": )" + std::to_string(run_) + R"(, "task": ")" + task + R"(", "path": ")" + path +
           R"(", "framework": "sklearn")" + extra + "}";
  }
  // The blob files of the registry's store.
  std::set<std::string> Blobs() {
    std::set<std::string> out;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir_.path() + "/registry/blobs", ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file() && it->path().parent_path().filename() != "tmp") out.insert(it->path().filename());
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_, eve_;
  int64_t run_ = 0;
};

TEST_F(ModelsE2ETest, AVersionFromATasksOutputsKeepsItsFilesOnceWithTheirChecksums) {
  Call("POST", "/api/v1/models", R"({"name": "iris", "description": "flowers"})", 201);
  Call("POST", "/api/v1/models", R"({"name": "iris"})", 409);
  Json v1 = Call("POST", "/api/v1/models/iris/versions",
                 Register("fit", "model", R"(, "metrics": {"accuracy": 0.97}, "params": {"C": 1, "kernel": "rbf"})"), 201);
  EXPECT_EQ(v1["version"], 1);
  EXPECT_EQ(v1["framework"], "sklearn");
  EXPECT_EQ(v1["metrics"]["accuracy"], 0.97);
  EXPECT_EQ(v1["params"]["kernel"], "rbf");
  EXPECT_EQ(v1["source"]["run"], run_);
  EXPECT_EQ(v1["source"]["task"], "fit");
  EXPECT_EQ(v1["source"]["pipeline"], "train");
  EXPECT_EQ(v1["source"]["attempt"], 1);
  EXPECT_EQ(v1["registered_by"], "admin");
  EXPECT_EQ(v1["stage"], "none");
  // The files under model/, named from there; the link is left out and said so.
  ASSERT_EQ(v1["files"].size(), 2u) << v1.dump(2);
  std::map<std::string, Json> files;
  for (const auto& f : v1["files"]) files[f["path"]] = f;
  ASSERT_TRUE(files.count("model.bin") && files.count("sub/meta.json")) << v1.dump(2);
  EXPECT_EQ(files["model.bin"]["size"], 10);
  EXPECT_EQ(files["model.bin"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(v1["size_bytes"], 10 + 14);
  EXPECT_EQ(v1["skipped"], Json::array({"model/passwd-link"}));
  // A second version of the same bytes (copy.bin is model.bin's twin) keeps no second copy.
  Json v2 = Call("POST", "/api/v1/models/iris/versions", Register("fit", "copy.bin"), 201);
  EXPECT_EQ(v2["version"], 2);
  EXPECT_EQ(v2["files"][0]["path"], "copy.bin");
  EXPECT_EQ(v2["files"][0]["sha256"], files["model.bin"]["sha256"]);
  EXPECT_EQ(Blobs().size(), 2u);

  // The model lists its versions, newest first, and a file comes back as it was.
  Json model = Call("GET", "/api/v1/models/iris", "", 200);
  EXPECT_EQ(model["versions"], 2);
  EXPECT_EQ(model["latest_version"], 2);
  EXPECT_EQ(model["version_list"][0]["version"], 2);
  auto file = server_->Call("GET", "/api/v1/models/iris/versions/1/file?path=model.bin", "", admin_);
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, "weights-v1");
  EXPECT_EQ(file.headers["x-content-sha256"], files["model.bin"]["sha256"]);
  Call("GET", "/api/v1/models/iris/versions/1/file?path=passwd-link", "", 404);
  Call("GET", "/api/v1/models/iris/versions/1/file", "", 400);

  // Stages; a version in production is not deleted.
  EXPECT_EQ(Call("PUT", "/api/v1/models/iris/versions/1", R"({"stage": "production"})", 200)["stage"], "production");
  Call("PUT", "/api/v1/models/iris/versions/1", R"({"stage": "live"})", 400);
  Call("DELETE", "/api/v1/models/iris/versions/1", "", 409);
  // Deleting version 2 keeps the blob version 1 holds; deleting the model removes them all.
  Call("DELETE", "/api/v1/models/iris/versions/2", "", 200);
  EXPECT_EQ(Blobs().size(), 2u);
  Call("DELETE", "/api/v1/models/iris", "", 200);
  EXPECT_EQ(Blobs().size(), 0u);
  Call("GET", "/api/v1/models/iris", "", 404);
}

TEST_F(ModelsE2ETest, BadRegistrationsAreRefusedByNameAndChangeNothing) {
  Call("POST", "/api/v1/models", R"({"name": "m"})", 201);
  Call("POST", "/api/v1/models", R"({"name": "Bad Name!"})", 400);
  Call("POST", "/api/v1/models", R"({"name": "x", "colour": "red"})", 400);
  auto refused = [&](const std::string& body, int status, const std::string& says) {
    Json err = Call("POST", "/api/v1/models/m/versions", body, status);
    EXPECT_NE(err.dump().find(says), std::string::npos) << body << " -> " << err.dump();
  };
  refused(Register("fit", "model", "").replace(0, 0, ""), 201, "\"version\":1");  // the one good one
  refused(R"({"run": )" + std::to_string(run_) + R"(, "task": "fit", "framework": "keras"})", 400, "framework");
  refused(Register("fit", "../../etc"), 400, "path");
  refused(Register("fit", "/etc/passwd"), 400, "path");
  refused(Register("fit", "model/passwd-link"), 400, "no regular file");
  refused(Register("fit", "nothing-here"), 404, "nothing-here");
  refused(Register("broken", "x.bin"), 409, "only a task that succeeded");
  refused(Register("nosuch", "x.bin"), 404, "nosuch");
  refused(Register("fit", "model", R"(, "metrics": {"accuracy": "high"})"), 400, "metrics.accuracy");
  refused(Register("fit", "model", R"(, "owner": "eve")"), 400, "owner");
  refused(R"({"run": 999999, "task": "fit", "framework": "custom"})", 404, "run");
  refused("[1, 2]", 400, "body");
  // A trial's outputs instead of a task's: one source only, an experiment of this project.
  refused(Register("fit", "model", R"(, "experiment": 1, "trial": 0)"), 400, "give run and task");
  refused(R"({"framework": "sklearn"})", 400, "give run and task");
  refused(R"({"experiment": 999999, "trial": 0, "framework": "custom"})", 404, "experiment");
  refused(R"({"experiment": 1, "trial": -1, "framework": "custom"})", 400, "trial");
  EXPECT_EQ(Call("GET", "/api/v1/models/m", "", 200)["versions"], 1);
}

TEST_F(ModelsE2ETest, NothingCrossesAProjectBoundary) {
  Call("POST", "/api/v1/projects", R"({"name": "secret"})", 201);
  Call("POST", "/api/v1/models", R"({"project": "secret", "name": "hidden"})", 201);
  // A stranger: 404 for the model, its versions and files; not in lists; cannot create there.
  Call("GET", "/api/v1/models/hidden?project=secret", "", 404, eve_);
  Json id_form = Call("GET", "/api/v1/models/hidden?project=secret", "", 200);
  const std::string id = std::to_string(id_form["id"].get<int64_t>());
  Call("GET", "/api/v1/models/" + id, "", 404, eve_);
  Call("POST", "/api/v1/models/" + id + "/versions", Register("fit", "model"), 404, eve_);
  Call("GET", "/api/v1/models/" + id + "/versions/1/file?path=model.bin", "", 404, eve_);
  Call("DELETE", "/api/v1/models/" + id, "", 404, eve_);
  EXPECT_EQ(Call("GET", "/api/v1/models", "", 200, eve_)["items"].size(), 0u);
  Call("POST", "/api/v1/models", R"({"project": "secret", "name": "mine"})", 404, eve_);
  // A model of `secret` does not take the outputs of a run of `public`.
  Json err = Call("POST", "/api/v1/models/" + id + "/versions", Register("fit", "model"), 404);
  EXPECT_NE(err.dump().find("run"), std::string::npos) << err.dump();
  // In public, another member may read a model but not change it.
  Call("POST", "/api/v1/models", R"({"name": "shared"})", 201);
  Call("GET", "/api/v1/models/shared", "", 200, eve_);
  Call("POST", "/api/v1/models/shared/versions", Register("fit", "model"), 403, eve_);
  Call("DELETE", "/api/v1/models/shared", "", 403, eve_);
}

TEST_F(ModelsE2ETest, ADamagedFileIsRefusedAndUnheldFilesGoAtRestart) {
  Call("POST", "/api/v1/models", R"({"name": "m"})", 201);
  Json v = Call("POST", "/api/v1/models/m/versions", Register("fit", "copy.bin"), 201);
  const std::string sha = v["files"][0]["sha256"];
  const std::string blob = dir_.path() + "/registry/blobs/" + sha.substr(0, 2) + "/" + sha;
  ASSERT_TRUE(fs::exists(blob));
  std::ofstream(blob, std::ios::trunc) << "tampered!!";
  Json err = Call("GET", "/api/v1/models/m/versions/1/file?path=copy.bin", "", 500);
  EXPECT_NE(err.dump().find("damaged"), std::string::npos) << err.dump();
  // A file no version holds (a registration cut off by a crash) goes at the next start.
  const std::string orphan = dir_.path() + "/registry/blobs/ab/" + std::string(64, 'a').replace(0, 2, "ab");
  fs::create_directories(fs::path(orphan).parent_path());
  std::ofstream(orphan) << "orphan";
  server_->Stop();
  ASSERT_TRUE(server_->Start()) << server_->error();
  admin_ = server_->Login("admin", "admin-pass-1");
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_TRUE(fs::exists(blob)) << "held by version 1";
  EXPECT_EQ(Call("GET", "/api/v1/models/m", "", 200)["versions"], 1);
}

// A task registers a version itself by declaring it in its outputs.json
// (`register_model`); a declaration that cannot be honoured fails the task,
// saying why.
TEST_F(ModelsE2ETest, CubeStudiosModelRegisterTemplateDrivesTheRegistry) {
  // A pipeline as cube-studio's `ml` example has it: a task writes the model, the
  // built-in model-register (its arguments as cube-studio names them) registers it.
  Call("POST", "/api/v1/apply", R"yaml(
kind: Pipeline
name: cube-ml
tasks:
  - name: model-train
    template: shell
    env: {SCRIPT: 'mkdir -p /mnt/admin/ml && printf tree > /mnt/admin/ml/decisionTree_model.pkl'}
  - name: model-register
    template: model-register
    depends_on: [model-train]
    extra_args: ignore
    args:
      --project_name: public
      --model_name: decision-tree
      --model_version: "{{ datetime.datetime.now().strftime('v%Y.%m.%d.1') }}"
      --model_path: /mnt/{{creator}}/ml/decisionTree_model.pkl
      --model_metric: "accuracy:0.8, auc: 0.9"
      --describe: a decision tree
      --framework: xgb
      --inference_framework: ml-server
  - name: deploy-service
    template: deploy-service
    depends_on: [model-register]
    extra_args: ignore
    args:
      --project_name: public
      --model_name: decision-tree
      --model_version: "{{ datetime.datetime.now().strftime('v%Y.%m.%d.1') }}"
      --service_type: serving
      --images: ccr.ccs.tencentyun.com/cube-studio/sklearn-server:20230505
)yaml",
       200);
  Json run = Call("POST", "/api/v1/pipelines/cube-ml/run", "{}", 201);
  const std::string id = std::to_string(run.value("id", int64_t{0}));
  Json r;
  for (auto deadline = steady_clock::now() + std::chrono::seconds(60); steady_clock::now() < deadline;) {
    r = Call("GET", "/api/v1/runs/" + id, "", 200);
    if (r["state"] == "failed" || r["state"] == "succeeded") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(r["state"], "succeeded") << r.dump();
  Json model = Call("GET", "/api/v1/models/decision-tree", "", 200);
  ASSERT_EQ(model["versions"], 1);
  Json v = model["version_list"][0];
  EXPECT_EQ(v["framework"], "xgboost");
  EXPECT_EQ(v["metrics"], (Json{{"accuracy", 0.8}, {"auc", 0.9}}));
  EXPECT_EQ(v["params"]["inference_framework"], "ml-server");
  EXPECT_EQ(v["description"], "a decision tree");
  EXPECT_EQ(v["files"][0]["path"], "decisionTree_model.pkl");
  EXPECT_EQ(v["source"]["task"], "model-register");
  // deploy-service served the newest version (cube-studio's dated version is no registry number).
  Json svc = Call("GET", "/api/v1/inference-services/serving-decision-tree-1", "", 200);
  EXPECT_EQ(svc["model_ref"], "decision-tree@1");
  EXPECT_EQ(svc["created_by"], "admin");
  Json served = Call("GET", "/api/v1/models/decision-tree", "", 200)["served_by"];
  ASSERT_EQ(served.size(), 1u) << served.dump();
  EXPECT_EQ(served[0]["service"], "serving-decision-tree-1");
  Call("DELETE", "/api/v1/inference-services/serving-decision-tree-1", "", 204);
  // A path the task cannot see fails it, saying so; nothing is registered.
  Call("PUT", "/api/v1/pipelines/cube-ml", R"({"tasks": [{"name": "model-register", "template": "model-register",
       "args": {"--model_name": "decision-tree", "--model_path": "/etc/nothing-here"}}]})", 200);
  Json bad = Call("POST", "/api/v1/pipelines/cube-ml/run", "{}", 201);
  Json b;
  for (auto deadline = steady_clock::now() + std::chrono::seconds(60); steady_clock::now() < deadline;) {
    b = Call("GET", "/api/v1/runs/" + std::to_string(bad.value("id", int64_t{0})), "", 200);
    if (b["state"] == "failed" || b["state"] == "succeeded") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(b["state"], "failed");
  EXPECT_EQ(Call("GET", "/api/v1/models/decision-tree", "", 200)["versions"], 1);
}

// A PyTorch version (TorchScript) is served by the predict server's torch
// path: quader/predict-torch:1 (here the process runtime, with Debian's torch).
TEST_F(ModelsE2ETest, APyTorchVersionIsServedAsTorchScript) {
  Call("POST", "/api/v1/apply", R"yaml(
kind: Pipeline
name: torchy
tasks:
  - name: fit
    template: shell
    env:
      SCRIPT: >-
        mkdir -p /outputs && OMP_NUM_THREADS=1 /usr/bin/python3 -c "import torch; torch.manual_seed(0);
        torch.jit.save(torch.jit.script(torch.nn.Linear(4, 3)), '/outputs/model.pt')"
)yaml",
       200);
  Json run = Call("POST", "/api/v1/pipelines/torchy/run", "{}", 201);
  const int64_t id = run.value("id", int64_t{0});
  Json r;
  for (auto deadline = steady_clock::now() + std::chrono::seconds(90); steady_clock::now() < deadline;) {
    r = Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200);
    if (r["state"] == "failed" || r["state"] == "succeeded") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(r["state"], "succeeded") << r.dump();
  Call("POST", "/api/v1/models", R"({"name": "torchy"})", 201);
  Call("POST", "/api/v1/models/torchy/versions",
       R"({"run": )" + std::to_string(id) + R"(, "task": "fit", "path": "model.pt", "framework": "pytorch"})", 201);
  Json deployed = Call("POST", "/api/v1/models/torchy/versions/1/deploy", "", 201);
  EXPECT_EQ(deployed["service"], "serving-torchy-1");
  EXPECT_EQ(Call("GET", "/api/v1/inference-services/serving-torchy-1", "", 200)["image"], "quader/predict-torch:1");
  std::string answer;
  for (auto deadline = steady_clock::now() + std::chrono::seconds(90); steady_clock::now() < deadline;) {
    auto p = cli::HttpRequest("POST", server_->gateway() + "/predict", R"({"instances": [[1, 2, 3, 4], [0, 0, 0, 1]]})",
                              {{"Host", "serving-torchy-1.service.localhost"}, {"Content-Type", "application/json"}}, 10);
    if (p.ok() && p->status == 200) {
      answer = p->body;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  Json j = Json::parse(answer, nullptr, false);
  ASSERT_TRUE(j.is_object()) << answer;
  ASSERT_EQ(j["predictions"].size(), 2u) << answer;
  EXPECT_TRUE(j["predictions"][0].is_number_integer()) << answer;  // the argmax of 3 class scores
  ASSERT_EQ(j["probabilities"].size(), 2u) << answer;
  EXPECT_EQ(j["probabilities"][0].size(), 3u) << answer;
  Call("DELETE", "/api/v1/inference-services/serving-torchy-1", "", 204);
}

TEST_F(ModelsE2ETest, ATaskRegistersAVersionByDeclaringItInItsOutputs) {
  Call("POST", "/api/v1/apply", R"yaml(
kind: Pipeline
name: declares
tasks:
  - name: train
    template: shell
    env:
      SCRIPT: >-
        mkdir -p /outputs && printf 'w' > /outputs/model.bin &&
        echo '{"model_file": "model.bin", "register_model": {"name": "declared", "path": "model.bin",
        "framework": "custom", "metrics": {"loss": 0.25}, "params": {"epochs": 3}}}' > /outputs/outputs.json
  - name: wrong
    template: shell
    env:
      SCRIPT: >-
        mkdir -p /outputs && echo '{"register_model": {"name": "declared", "path": "nothing-there",
        "framework": "custom"}}' > /outputs/outputs.json
  - name: deploys-nothing
    template: shell
    env:
      SCRIPT: >-
        mkdir -p /outputs && echo '{"deploy_model": {"name": "nosuch"}}' > /outputs/outputs.json
  - name: deploys-badly
    template: shell
    env:
      SCRIPT: >-
        mkdir -p /outputs && echo '{"deploy_model": {"name": "declared", "version": 0, "colour": 1}}' > /outputs/outputs.json
)yaml", 200);
  Json run = Call("POST", "/api/v1/pipelines/declares/run", "{}", 201);
  const int64_t id = run.value("id", int64_t{0});
  auto deadline = steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    const std::string state = Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200)["state"];
    if (state == "succeeded" || state == "failed" || steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  run = Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200);
  std::map<std::string, Json> tasks;
  for (const auto& t : run["tasks"]) tasks[t["name"]] = t;
  EXPECT_EQ(tasks["train"]["state"], "succeeded") << run.dump(2);
  EXPECT_EQ(tasks["wrong"]["state"], "failed");
  EXPECT_NE(tasks["wrong"]["reason"].get<std::string>().find("register_model: "), std::string::npos) << run.dump(2);
  EXPECT_EQ(tasks["deploys-nothing"]["state"], "failed");
  EXPECT_NE(tasks["deploys-nothing"]["reason"].get<std::string>().find("deploy_model: model \"nosuch (in project public)\" not found"), std::string::npos)
      << run.dump(2);
  EXPECT_EQ(tasks["deploys-badly"]["state"], "failed");
  EXPECT_NE(tasks["deploys-badly"]["reason"].get<std::string>().find("deploy_model: "), std::string::npos) << run.dump(2);
  Json model = Call("GET", "/api/v1/models/declared", "", 200);
  EXPECT_EQ(model["created_by"], "admin");
  ASSERT_EQ(model["version_list"].size(), 1u) << model.dump(2);
  const Json& v = model["version_list"][0];
  EXPECT_EQ(v["metrics"]["loss"], 0.25);
  EXPECT_EQ(v["params"]["epochs"], 3);
  EXPECT_EQ(v["source"]["run"], id);
  EXPECT_EQ(v["source"]["task"], "train");
  EXPECT_EQ(v["source"]["pipeline"], "declares");
  EXPECT_EQ(v["files"][0]["path"], "model.bin");
}

// Deploy from the registry: a version becomes an inference service (the
// predict server with the version's files mounted read-only); deploying
// another version to it, and back (the rollback), goes through the gray
// upgrade under a client that never sees a failed request.
TEST_F(ModelsE2ETest, DeployAndRollBackWithoutAFailedRequest) {
  Call("POST", "/api/v1/models", R"({"name": "flowers"})", 201);
  Json v1 = Call("POST", "/api/v1/models/flowers/versions", Register("iris", "model.joblib"), 201);
  Call("POST", "/api/v1/models/flowers/versions", Register("iris", "model.joblib"), 201);
  ASSERT_TRUE(fs::exists(dir_.path() + "/registry/versions/public/flowers/1/model.joblib"));
  Json made = Call("POST", "/api/v1/models/flowers/versions/1/deploy", "", 201);
  EXPECT_EQ(made["service"], "serving-flowers-1");
  EXPECT_EQ(made["result"], "created");
  Json svc = Call("GET", "/api/v1/inference-services/serving-flowers-1", "", 200);
  EXPECT_EQ(svc["model_ref"], "flowers@1");
  EXPECT_EQ(svc["model_path"], "/models/flowers/1");
  // Bad deploys change nothing.
  Call("POST", "/api/v1/models/flowers/versions/9/deploy", "", 404);
  Call("POST", "/api/v1/models/flowers/versions/2/deploy", R"({"service": "no-such"})", 404);
  Call("POST", "/api/v1/models/flowers/versions/2/deploy", R"({"replicas": 3})", 400);
  Call("POST", "/api/v1/inference-services", R"({"model_name": "x", "model_version": "v1", "model_ref": "flowers@7",
      "image": "quader/predict:1", "command": "python3 /app/predict_server.py", "ports": [8080]})", 400);

  const std::string host = "serving-flowers-1.service.localhost";
  auto through = [&](const std::string& method, const std::string& path, const std::string& body) {
    return cli::HttpRequest(method, server_->gateway() + path, body,
                            {{"Host", host}, {"Content-Type", "application/json"}}, 10);
  };
  // The version that answers, by the registry reference its replica was given.
  auto serving = [&]() -> std::string {
    auto r = through("GET", "/health", "");
    if (!r.ok() || r->status != 200) return "";
    Json j = Json::parse(r->body, nullptr, false);
    return j.is_object() ? j.value("ref", "") : "";
  };
  auto wait_for = [&](const std::string& ref) {
    auto deadline = steady_clock::now() + std::chrono::seconds(60);
    while (steady_clock::now() < deadline) {
      Json s = Call("GET", "/api/v1/inference-services/serving-flowers-1", "", 200);
      // Only the new generation left, and it answers.
      if (serving() == ref && s["state"] == "running" && s["replica_states"].size() == 1) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  };
  ASSERT_TRUE(wait_for("flowers@1")) << Call("GET", "/api/v1/inference-services/serving-flowers-1", "", 200).dump(2);

  // A client predicting all along.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::string last_failure;
  std::thread client([&] {
    while (!stop) {
      auto r = through("POST", "/predict", R"({"instances": [[5.1, 3.5, 1.4, 0.2]]})");
      if (r.ok() && r->status == 200 && r->body.find("predictions") != std::string::npos) {
        ++ok;
      } else {
        ++failed;
        last_failure = r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString();
      }
    }
  });
  Json switched = Call("POST", "/api/v1/models/flowers/versions/2/deploy", R"({"service": "serving-flowers-1"})", 200);
  EXPECT_EQ(switched["result"], "updated");
  EXPECT_TRUE(wait_for("flowers@2"));
  // The rollback: version 1 again.
  Call("POST", "/api/v1/models/flowers/versions/1/deploy", R"({"service": "serving-flowers-1"})", 200);
  EXPECT_TRUE(wait_for("flowers@1"));
  stop = true;
  client.join();
  EXPECT_EQ(failed.load(), 0) << last_failure;
  EXPECT_GT(ok.load(), 20);

  // A version that is served is not deleted, nor its model; version 2 is free now.
  Json err = Call("DELETE", "/api/v1/models/flowers/versions/1", "", 409);
  EXPECT_NE(err.dump().find("serving-flowers-1"), std::string::npos) << err.dump();
  Call("DELETE", "/api/v1/models/flowers", "", 409);
  Call("DELETE", "/api/v1/models/flowers/versions/2", "", 200);
  EXPECT_FALSE(fs::exists(dir_.path() + "/registry/versions/public/flowers/2"));
  EXPECT_EQ(v1["files"][0]["path"], "model.joblib");
}

}  // namespace
}  // namespace quader::testing
