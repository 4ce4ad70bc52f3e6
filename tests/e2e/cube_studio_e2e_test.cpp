// cube-studio's objects through the real server and the real CLI binary
// (docs/cube-studio.md): a cube-studio-format pipeline written here, using the
// built-in custom-image template under both its names and a datetime
// expression, imports with `quader import cube-studio` and runs on the process
// runtime; imports are idempotent and all or nothing per object, and keep the
// tenant rules; and every object cube-studio publishes (its myapp/init files,
// read from ../shared beside the checkout) is imported, counted per kind.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <thread>

#include "cli/subprocess.h"
#include "core/documents.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

extern char** environ;

namespace quader::testing {
namespace {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr char kPassword[] = "admin-pass-1";

// Two tasks of cube-studio's custom-image template, named both ways, with a
// datetime expression in an argument and in global_env; dag_json gives the edge.
constexpr char kPipeline[] = R"json({
  "pipeline": {
    "name": "cs-hello",
    "describe": "written in cube-studio's format",
    "project": "public",
    "namespace": "pipeline",
    "parameter": {"demo": "false"},
    "global_env": "DAY={{datetime.datetime.now().strftime('%Y-%m-%d')}}",
    "dag_json": {"make": {}, "check": {"upstream": ["make"]}},
    "expand": []
  },
  "tasks": [
    {"job_templete": "自定义镜像", "name": "make", "label": "生成",
     "resource_memory": "1G", "resource_cpu": "1", "resource_gpu": "0", "resource_rdma": "0",
     "args": {"images": "ubuntu:22.04",
              "command": "echo made-{{ (datetime.datetime.now() - datetime.timedelta(days=1)).strftime('%Y%m%d') }} for $DAY > made.txt && cat made.txt"}},
    {"job_templete": "customize", "name": "check", "label": "检查",
     "args": {"images": "ubuntu:22.04", "workdir": "/mnt/{{creator}}/",
              "command": "test -s made.txt && echo checked in $(pwd)"}}
  ]
})json";

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// The directory of cube-studio's published objects, or "" when absent.
std::string InitDir() {
  if (const char* env = std::getenv("QUADER_CUBE_STUDIO_INIT")) return env;
  std::string dir = std::string(QUADER_SOURCE_DIR) + "/../shared/reference/cube-studio-init";
  return fs::exists(dir + "/init-job-template.json") ? dir : "";
}

class CubeStudioE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() + "/data");
    server_ = std::make_unique<ServerProcess>(dir_.path() + "/data", std::vector<std::string>{"--runtime", "process"});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", kPassword);
    ASSERT_FALSE(admin_.empty());
  }

  // The CLI binary with its own config file; logs in as `user` first.
  cli::testing::ProcessResult Quader(std::vector<std::string> args, const std::string& user = "admin",
                                     const std::string& password = kPassword) {
    std::string config = dir_.path() + "/cli-" + user + ".json";
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      if (std::string(*e).rfind("QUADER_", 0) != 0) env.emplace_back(*e);
    }
    env.push_back("QUADER_CONFIG=" + config);
    if (!fs::exists(config)) {
      auto login = cli::testing::RunProcess(
          {QUADER_BINARY, "login", "--server", server_->api(), "--user", user, "--password", password}, env);
      EXPECT_EQ(login.exit_code, 0) << login.out << login.err;
    }
    args.insert(args.begin(), QUADER_BINARY);
    return cli::testing::RunProcess(args, env, "", 120);
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status,
            const std::string& token = "") {
    return CallJson(*server_, method, path, body, status, token.empty() ? admin_ : token);
  }

  Json WaitFinished(int64_t id, int seconds = 90) {
    auto deadline = steady_clock::now() + std::chrono::seconds(seconds);
    Json run;
    while (steady_clock::now() < deadline) {
      run = Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200);
      std::string s = run.value("state", "");
      if (s == "succeeded" || s == "failed" || s == "stopped") return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "run " << id << " did not finish: " << run.dump();
    return run;
  }

  // A user (not an admin) with their own project.
  std::string AddUser(const std::string& name, const std::string& project) {
    Call("POST", "/api/v1/users", Json({{"username", name}, {"password", "user-pass-1"}}).dump(), 201);
    std::string token = server_->Login(name, "user-pass-1");
    Call("POST", "/api/v1/projects", Json({{"name", project}}).dump(), 201, token);
    return token;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(CubeStudioE2ETest, AuthoredPipelineImportsThroughTheCliAndRuns) {
  std::string file = dir_.path() + "/pipeline.json";
  WriteFile(file, kPipeline);
  auto imported = Quader({"import", "cube-studio", file});
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
  EXPECT_EQ(imported.out, "pipeline/cs-hello created\n");

  Json p = Call("GET", "/api/v1/pipelines/cs-hello?project=public", "", 200);
  ASSERT_EQ(p["tasks"].size(), 2u) << p.dump(2);
  EXPECT_EQ(p["tasks"][1]["depends_on"], Json::array({"make"}));
  EXPECT_EQ(p["tasks"][0]["template"], "自定义镜像");
  // What means nothing here is kept, not dropped.
  EXPECT_EQ(p["cube_studio"]["namespace"], "pipeline") << p.dump(2);
  EXPECT_EQ(p["tasks"][0]["cube_studio"]["resource_rdma"], "0");

  auto run = Quader({"run", "cs-hello", "--wait"});
  Json runs = Call("GET", "/api/v1/runs?pipeline=cs-hello", "", 200);
  ASSERT_FALSE(runs["items"].empty()) << run.out << run.err;
  int64_t id = runs["items"][0]["id"];
  Json done = WaitFinished(id);
  ASSERT_EQ(done["state"], "succeeded") << done.dump(2) << run.out << run.err << server_->Output();

  // The expression is the run's logical time, in its zone, minus a day.
  std::string when = done["execution_date"];  // "YYYY-MM-DD HH:MM:SS"
  std::tm tm{};
  strptime(when.c_str(), "%Y-%m-%d %H:%M:%S", &tm);
  time_t t = timegm(&tm) - 86400;
  char yesterday[16];
  strftime(yesterday, sizeof(yesterday), "%Y%m%d", gmtime(&t));
  auto logs = Quader({"logs", std::to_string(id), "make"});
  EXPECT_NE(logs.out.find(std::string("made-") + yesterday + " for " + when.substr(0, 10)), std::string::npos)
      << logs.out << logs.err;
  auto check = Quader({"logs", std::to_string(id), "check"});
  EXPECT_NE(check.out.find("checked in /mnt/admin"), std::string::npos) << check.out << check.err;

  // The same file again changes nothing.
  auto again = Quader({"import", "cube-studio", file});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "pipeline/cs-hello unchanged\n");
}

TEST_F(CubeStudioE2ETest, RefusalsNameTheReasonAndLeaveNothingHalfMade) {
  std::string file = dir_.path() + "/mixed.json";
  // A pipeline whose second task's template does not exist, a template of the
  // built-in's name, a valid service and an object of no known kind.
  WriteFile(file, R"json({
    "broken": {"pipeline": {"name": "half", "dag_json": {"a": {}, "b": {"upstream": ["a"]}}},
               "tasks": [{"job_templete": "customize", "name": "a", "args": {"command": "true"}},
                         {"job_templete": "no-such-template", "name": "b", "args": {}}]},
    "自定义镜像": {"job_template_name": "自定义镜像", "image_name": "ubuntu:20.04", "job_template_args": {}},
    "ui": {"service_name": "mysql-ui", "project_name": "public", "image_name": "phpmyadmin:5.2.1",
           "ports": "80", "env": "PMA_HOST=mysql\nPMA_PORT=3306", "command": ""},
    "odd": {"hello": 1}
  })json");
  auto r = Quader({"import", "cube-studio", file});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("pipeline/half refused: tasks[1] (b).template: job template \"no-such-template\" not found"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("jobtemplate/自定义镜像 unchanged (built in"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("service/mysql-ui created"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("object/odd refused: not a cube-studio"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("2 objects were refused"), std::string::npos) << r.err;
  // Nothing of the refused pipeline exists.
  Call("GET", "/api/v1/pipelines/half?project=public", "", 404);
  Json svc = Call("GET", "/api/v1/services/mysql-ui?project=public", "", 200);
  EXPECT_EQ(svc["ports"], Json::array({80})) << svc.dump(2);
  EXPECT_EQ(svc["env"]["PMA_PORT"], "3306");

  // A non-admin's hostpath mount breaks the tenant rules: refused with the reason.
  std::string bob = AddUser("bob", "bob-team");
  std::string svc_file = dir_.path() + "/neo4j.json";
  WriteFile(svc_file, R"json({"service_name": "neo4j", "image_name": "neo4j:4.4", "ports": "7474,7687",
    "volume_mount": "/data/k8s/neo4j(hostpath):/var/lib/neo4j/data", "env": "NEO4J_AUTH=neo4j/admin"})json");
  auto refused = Quader({"import", "cube-studio", svc_file, "--project", "bob-team"}, "bob", "user-pass-1");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("service/neo4j refused: "), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("\"/data/k8s/neo4j\" is not among the mounts of project \"bob-team\""), std::string::npos)
      << refused.out;
  Call("GET", "/api/v1/services/neo4j?project=bob-team", "", 404);
  // Someone else's project is not found, as everywhere.
  auto r404 = server_->Call("POST", "/api/v1/projects/bob-team/import/cube-studio", ReadFile(file), admin_);
  EXPECT_EQ(r404.status, 200);  // an admin sees every project
  std::string carol = AddUser("carol", "carol-team");
  auto hidden = server_->Call("POST", "/api/v1/projects/bob-team/import/cube-studio", ReadFile(file), carol);
  EXPECT_EQ(hidden.status, 404) << hidden.body;
}

// Every object cube-studio publishes, imported in dependency order.
TEST_F(CubeStudioE2ETest, PublishedObjectsImportCountedPerKind) {
  std::string dir = InitDir();
  if (dir.empty()) {
    GTEST_SKIP() << "cube-studio's published objects are not beside the checkout (../shared/reference/"
                    "cube-studio-init); set QUADER_CUBE_STUDIO_INIT to their directory";
  }
  struct Counts {
    int created = 0, unchanged = 0, refused = 0, total = 0;
  };
  std::map<std::string, Counts> by_kind;
  std::vector<std::string> refusals;
  for (const char* name : {"init-job-template.json", "init-pipeline.json", "init-service.json",
                           "init-inference.json", "init-automl.json"}) {
    Json reply = Call("POST", "/api/v1/projects/public/import/cube-studio", ReadFile(dir + "/" + name), 200);
    for (const Json& r : reply["results"]) {
      Counts& c = by_kind[r["kind"].get<std::string>()];
      c.total++;
      std::string result = r["result"];
      if (result == "created") c.created++;
      if (result == "unchanged") c.unchanged++;
      if (result == "refused") {
        c.refused++;
        std::string reason = r.value("reason", "");
        EXPECT_FALSE(reason.empty()) << r.dump();
        refusals.push_back(r["kind"].get<std::string>() + " " + r["name"].get<std::string>() + ": " + reason);
      }
    }
  }
  std::cout << "kind              created unchanged refused  total\n";
  for (const auto& [kind, c] : by_kind) {
    std::printf("%-17s %7d %9d %7d %6d\n", kind.c_str(), c.created, c.unchanged, c.refused, c.total);
  }
  for (const auto& r : refusals) std::cout << "refused: " << r << "\n";
  // 98 templates: the built-in ones are already there (custom image, and
  // model-register and deploy-service, which drive Quader's model registry).
  EXPECT_EQ(by_kind["JobTemplate"].total, 98);
  EXPECT_EQ(by_kind["JobTemplate"].unchanged, 3);
  EXPECT_EQ(by_kind["JobTemplate"].created, 95);
  Call("GET", "/api/v1/templates/model-register?project=public", "", 404);  // not stored: built in
  EXPECT_EQ(by_kind["Pipeline"].total, 4);
  EXPECT_EQ(by_kind["Pipeline"].created, 4);
  EXPECT_EQ(by_kind["Service"].total, 8);
  EXPECT_EQ(by_kind["Service"].created, 8);
  EXPECT_EQ(by_kind["InferenceService"].total, 4);
  EXPECT_EQ(by_kind["InferenceService"].created, 4);
  EXPECT_EQ(by_kind["Experiment"].total, 1);
  EXPECT_EQ(by_kind["Experiment"].created, 1);
  // The experiment's cube-studio fields: the goal and metric are features,
  // the rest is kept.
  Json e = Call("GET", "/api/v1/experiments/test1?project=public", "", 200);
  EXPECT_EQ(e["spec"].value("objective_goal", 0.0), 0.99) << e.dump(2);
  EXPECT_EQ(e["spec"]["objective_metric"], "accuracy");
  EXPECT_EQ(e["spec"]["cube_studio"]["namespace"], "automl");
  // Its tasks' arguments that their templates do not declare are kept, not passed.
  Json ml = Call("GET", "/api/v1/pipelines/ml?project=public", "", 200);
  EXPECT_EQ(ml["tasks"][0]["extra_args"], "ignore") << ml.dump(2);

  // Run on the process runtime (no engine, images ignored), the published
  // pipelines fail at their first task, and the reason names the image the
  // command needed: the user sees why, not only the script's own error.
  for (const char* name : {"ml", "yolov8"}) {
    Json run = Call("POST", std::string("/api/v1/pipelines/") + name + "/run?project=public", "{}", 201);
    ASSERT_TRUE(run.contains("id")) << run.dump();
    Json done = WaitFinished(run["id"].get<int64_t>(), 120);
    EXPECT_EQ(done["state"], "failed") << done.dump(2);
    bool named = false;
    for (const Json& t : done["tasks"]) {
      if (t.value("state", "") != "failed") continue;
      std::string reason = t.value("reason", "");
      named = reason.find("without image \"ccr.ccs.tencentyun.com/cube-studio/") != std::string::npos;
      EXPECT_TRUE(named) << name << " task " << t.value("name", "") << ": " << reason;
    }
    EXPECT_TRUE(named) << name << ": no failed task named its image: " << done.dump(2);
  }
}

}  // namespace
}  // namespace quader::testing
