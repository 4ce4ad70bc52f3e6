// One /mnt/$user for every kind of work (issue 16): in the user guide's
// example project ml-team (examples/projects/ml-team.yaml, whose expand puts
// `kubeflow-user-workspace(pvc):/mnt` beside a hostpath and a 4G /dev/shm), a
// task writes a file to /mnt/admin; a trial, a service and a Jupyter notebook
// of the same user read it there; the host directory is the user's one work
// directory. Real server, process runtime, the guide's exact expand.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/http_client.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

class MountsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "process"});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", "admin-pass-1");
    ASSERT_FALSE(admin_.empty());
    Call("POST", "/api/v1/apply", ReadFile(std::string(QUADER_SOURCE_DIR) + "/examples/projects/ml-team.yaml"), 200);
  }

  void TearDown() override {
    if (!server_) return;
    // Stop what the test started (notebook and service processes).
    for (const char* kind : {"notebooks", "services"}) {
      Json j = Json::parse(server_->Call("GET", std::string("/api/v1/") + kind, "", admin_).body, nullptr, false);
      if (!j.is_object()) continue;
      for (const auto& o : j["items"]) {
        server_->Call("DELETE", std::string("/api/v1/") + kind + "/" + std::to_string(o["id"].get<int64_t>()), "", admin_);
      }
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status) {
    return CallJson(*server_, method, path, body, status, admin_);
  }

  // Polls GET `path` until its "state" is one of `states`.
  Json WaitState(const std::string& path, const std::set<std::string>& states, int seconds = 90) {
    auto deadline = steady_clock::now() + std::chrono::seconds(seconds);
    Json o;
    while (steady_clock::now() < deadline) {
      o = Call("GET", path, "", 200);
      if (states.count(o.value("state", ""))) return o;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << path << " never reached a final state: " << o.dump() << server_->Output();
    return o;
  }

  cli::HttpReply Gateway(const std::string& path, std::map<std::string, std::string> headers) {
    auto r = cli::HttpRequest("GET", server_->gateway() + path, "", headers, 10);
    if (!r.ok()) return {0, r.status().ToString(), {}};
    return *r;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(MountsE2ETest, EveryKindOfWorkSeesOneMntUserInTheGuidesProject) {
  const std::string work = dir_.path() + "/users/admin/work";

  // A task writes /mnt/admin/from-task; it also sees the project's other mounts.
  Call("POST", "/api/v1/apply",
       "kind: JobTemplate\nname: writer\nproject: ml-team\nimage: quader/python:3.11\n"
       "command: /bin/sh -c 'test -d /aidata && touch /dev/shm/x && printf from-a-task > /mnt/admin/from-task'\n"
       "---\nkind: Pipeline\nname: writes\nproject: ml-team\ntasks:\n  - name: write\n    template: writer\n",
       200);
  Json run = Call("POST", "/api/v1/pipelines/writes/run?project=ml-team", "{}", 201);
  run = WaitState("/api/v1/runs/" + std::to_string(run["id"].get<int64_t>()), {"succeeded", "failed"});
  ASSERT_EQ(run["state"], "succeeded") << run.dump(2)
      << server_->Call("GET", "/api/v1/runs/" + std::to_string(run["id"].get<int64_t>()) + "/tasks/write/logs", "", admin_).body;
  EXPECT_EQ(ReadFile(work + "/from-task"), "from-a-task") << "the user's one work directory";

  // A trial reads it: its final value is 1 only when it sees the task's file.
  Json experiment = {
      {"kind", "Experiment"}, {"name", "reader"}, {"project", "ml-team"}, {"image", "quader/python:3.11"},
      {"command", {"/usr/bin/python3", "-c",
                   "import nni\nnni.get_next_parameter()\n"
                   "seen = open('/mnt/admin/from-task').read() == 'from-a-task'\n"
                   "nni.report_final_result(1.0 if seen else 0.0)\n"}},
      {"search_space", {{"x", {{"_type", "choice"}, {"_value", {1}}}}}}, {"tuner", "Random"},
      {"max_trials", 1}, {"parallelism", 1}};
  Call("POST", "/api/v1/apply", experiment.dump(), 200);
  Json e = WaitState("/api/v1/experiments/reader?project=ml-team", {"succeeded", "failed"});
  ASSERT_EQ(e["state"], "succeeded") << e.dump(2);
  EXPECT_EQ(e["best"]["value"], 1.0) << e.dump(2);

  // A service serves /mnt/admin over HTTP: the gateway returns the task's file.
  Json service = {{"kind", "Service"}, {"name", "files"}, {"project", "ml-team"}, {"image", "quader/python:3.11"},
                  {"command", {"/bin/sh", "-c",
                               "exec /usr/bin/python3 -m http.server \"$PORT\" --bind 127.0.0.1 --directory /mnt/admin"}},
                  {"ports", {8080}}, {"health", "8080:/"}};
  Call("POST", "/api/v1/apply", service.dump(), 200);
  Json s = WaitState("/api/v1/services/files?project=ml-team", {"running", "failed"});
  ASSERT_EQ(s["state"], "running") << s.dump(2);
  cli::HttpReply served;
  for (int i = 0; i < 50; ++i) {
    served = Gateway("/from-task", {{"Host", "files.service.localhost"}});
    if (served.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(served.body, "from-a-task");

  // A Jupyter notebook lists it in its directory.
  if (!fs::exists("/usr/bin/jupyter-notebook")) {
    std::printf("skipping the notebook part: jupyter-notebook is not installed\n");
    return;
  }
  Json nb = Call("POST", "/api/v1/notebooks", R"({"name": "lab", "type": "jupyter", "project": "ml-team"})", 201);
  nb = WaitState("/api/v1/notebooks/" + std::to_string(nb["id"].get<int64_t>()), {"running", "failed"});
  ASSERT_EQ(nb["state"], "running") << nb.dump(2);
  const std::map<std::string, std::string> cookie = {{"Cookie", "quader_session=" + admin_}};
  cli::HttpReply contents = Gateway("/notebook/ml-team/lab/api/contents/from-task", cookie);
  ASSERT_EQ(contents.status, 200) << contents.body.substr(0, 300);
  EXPECT_EQ(Json::parse(contents.body, nullptr, false).value("content", ""), "from-a-task") << contents.body;
  // Its file tree reaches /archives/admin (the guide switches to it): through
  // the link `archives` in /mnt/admin, a file saved there is in the archive directory.
  cli::HttpReply archives = Gateway("/notebook/ml-team/lab/api/contents/archives", cookie);
  ASSERT_EQ(archives.status, 200) << archives.body.substr(0, 300);
  EXPECT_EQ(Json::parse(archives.body, nullptr, false).value("type", ""), "directory") << archives.body;
  auto saved = cli::HttpRequest("PUT", server_->gateway() + "/notebook/ml-team/lab/api/contents/archives/kept.txt",
                                R"({"type": "file", "format": "text", "content": "kept"})", cookie, 10);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->status, 201) << saved->body.substr(0, 300);
  EXPECT_EQ(ReadFile(dir_.path() + "/users/admin/archives/kept.txt"), "kept");
}

}  // namespace
}  // namespace quader::testing
