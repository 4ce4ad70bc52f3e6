// Tenant boundaries between projects (issue 15, "nothing crosses a
// project"): two users, each with their own project, try every cross-project
// move over real HTTP; each is refused and nothing changes.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "cli/http_client.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {

using std::chrono::steady_clock;

// A service whose replica answers every GET with `reply`.
Json Echo(const std::string& project, const std::string& name, const std::string& reply) {
  std::string code =
      "import http.server, os\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "    def do_GET(self):\n"
      "        body = b'" + reply + "'\n"
      "        self.send_response(200)\n"
      "        self.send_header('Content-Length', str(len(body)))\n"
      "        self.end_headers()\n"
      "        self.wfile.write(body)\n"
      "    def log_message(self, *a): pass\n"
      "http.server.ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n";
  return {{"kind", "Service"},     {"project", project},  {"name", name},
          {"image", "quader/python:3.11"}, {"command", {"/usr/bin/python3", "-c", code}},
          {"ports", {8080}},       {"health", "8080:/"}};
}

// `doc` as an apply document of `kind`.
Json WithKind(Json doc, const std::string& kind) {
  doc["kind"] = kind;
  return doc;
}

class CrossProjectE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "process"});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", "admin-pass-1");
    ASSERT_FALSE(admin_.empty());
    alice_ = AddUser("alice");
    bob_ = AddUser("bob");
    Call("POST", "/api/v1/projects", R"({"name": "pa"})", alice_, 201);
    Call("POST", "/api/v1/projects", R"({"name": "pb"})", bob_, 201);
  }

  std::string AddUser(const std::string& name) {
    Call("POST", "/api/v1/users", Json({{"username", name}, {"password", "password-" + name}}).dump(), admin_, 201);
    return server_->Login(name, "password-" + name);
  }

  // The reply's JSON, asserting its HTTP status.
  Json Call(const std::string& method, const std::string& path, const std::string& body, const std::string& token,
            int status) {
    return CallJson(*server_, method, path, body, status, token);
  }

  // The error message of a refused call.
  std::string Refused(const std::string& method, const std::string& path, const Json& body, const std::string& token,
                      int status) {
    Json j = Call(method, path, body.is_null() ? "" : body.dump(), token, status);
    return j.contains("error") ? j["error"].value("message", "") : j.dump();
  }

  cli::HttpReply Through(const std::string& host) {
    auto r = cli::HttpRequest("GET", server_->gateway() + "/", "", {{"Host", host}}, 5);
    if (!r.ok()) return {0, r.status().ToString(), {}};
    return *r;
  }

  // Polls the gateway until `host` answers 200 (deadline 40 s).
  std::string WaitRouted(const std::string& host) {
    auto deadline = steady_clock::now() + std::chrono::seconds(40);
    cli::HttpReply r;
    while (steady_clock::now() < deadline) {
      r = Through(host);
      if (r.status == 200) return r.body;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << host << " was never routed: " << r.status << " " << r.body << server_->Output();
    return "";
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_, alice_, bob_;
};

TEST_F(CrossProjectE2ETest, AHostBelongsToTheProjectThatClaimedItFirst) {
  Call("POST", "/api/v1/apply", Echo("pa", "echo", "alice").dump(), alice_, 200);
  EXPECT_EQ(WaitRouted("echo.service.localhost"), "alice");
  // Bob's service of the same name (default host) and his explicit host: refused.
  std::string m = Refused("POST", "/api/v1/apply", Echo("pb", "echo", "bob"), bob_, 409);
  EXPECT_NE(m.find("host: \"echo.service.localhost\" belongs to another project"), std::string::npos) << m;
  EXPECT_EQ(m.find("pa"), std::string::npos) << "the owner is not named: " << m;
  Json custom = Echo("pb", "thief", "bob");
  custom["host"] = "ECHO.service.localhost";
  m = Refused("POST", "/api/v1/services", custom, bob_, 409);
  EXPECT_NE(m.find("belongs to another project"), std::string::npos) << m;
  // Nothing was recorded and alice keeps her traffic.
  EXPECT_EQ(Call("GET", "/api/v1/services?project=pb", "", bob_, 200)["items"].size(), 0u);
  EXPECT_EQ(Through("echo.service.localhost").body, "alice");
  // A host of nobody's stays free to take.
  custom["host"] = "bobs.service.localhost";
  custom["replicas"] = 0;
  Call("POST", "/api/v1/services", custom.dump(), bob_, 201);
}

TEST_F(CrossProjectE2ETest, CanaryAndShadowTargetsStayInTheProject) {
  Json iris = {{"kind", "InferenceService"}, {"project", "pa"}, {"service_type", "serving"},
               {"model_name", "iris"},       {"model_version", "v1"}, {"image", "x:1"},
               {"command", {"/bin/sleep", "600"}}};
  Call("POST", "/api/v1/inference-services", iris.dump(), alice_, 201);  // named serving-iris-1 by the guide's rule
  Call("POST", "/api/v1/inference-services/serving-iris-1/clear?project=pa", "", alice_, 200);
  Json mine = {{"kind", "InferenceService"}, {"project", "pb"}, {"service_type", "serving"},
               {"model_name", "rose"},       {"model_version", "v1"}, {"image", "x:1"}};
  for (const char* field : {"canary", "shadow"}) {
    Json elsewhere = mine, nowhere = mine;
    elsewhere[field] = "serving-iris-1:10%";
    nowhere[field] = "serving-none-1:10%";
    std::string a = Refused("POST", "/api/v1/inference-services", elsewhere, bob_, 400);
    std::string b = Refused("POST", "/api/v1/inference-services", nowhere, bob_, 400);
    EXPECT_NE(a.find("no inference service \"serving-iris-1\" in project pb"), std::string::npos) << a;
    // The same answer as for a service that exists nowhere: no leak.
    if (size_t at = b.find("serving-none-1"); at != std::string::npos) b.replace(at, 14, "serving-iris-1");
    EXPECT_EQ(a, b);
  }
  EXPECT_EQ(Call("GET", "/api/v1/inference-services?project=pb", "", bob_, 200)["items"].size(), 0u);
}

TEST_F(CrossProjectE2ETest, TemplatesResolveOnlyInTheOwnProjectAndPublic) {
  Call("POST", "/api/v1/templates",
       R"({"project": "pa", "name": "secret", "image": "x:1", "command": ["true"], "env": {"TOKEN": "s3cret"}})",
       alice_, 201);
  Call("POST", "/api/v1/templates", R"({"name": "shared", "image": "x:1", "command": ["true"]})", admin_, 201);
  auto pipeline = [](const std::string& tpl) {
    return Json{{"project", "pb"}, {"name", "p"}, {"tasks", {{{"name", "t"}, {"template", tpl}}}}};
  };
  std::string other = Refused("POST", "/api/v1/pipelines/validate", pipeline("pa/secret"), bob_, 400);
  std::string none = Refused("POST", "/api/v1/pipelines/validate", pipeline("pa/nothing"), bob_, 400);
  EXPECT_EQ(other, "tasks[0] (t).template: job template \"pa/secret\" not found");
  EXPECT_EQ(none, "tasks[0] (t).template: job template \"pa/nothing\" not found");
  Refused("POST", "/api/v1/pipelines", pipeline("pa/secret"), bob_, 400);
  Refused("POST", "/api/v1/apply", WithKind(pipeline("pa/secret"), "Pipeline"), bob_, 400);
  EXPECT_EQ(Call("GET", "/api/v1/pipelines?project=pb", "", bob_, 200)["items"].size(), 0u);
  // public's templates, by name or as public/NAME, are everyone's.
  Call("POST", "/api/v1/pipelines/validate", pipeline("public/shared").dump(), bob_, 200);
  Call("POST", "/api/v1/pipelines", pipeline("shared").dump(), bob_, 201);
}

TEST_F(CrossProjectE2ETest, PublicObjectsChangeOnlyByTheirCreatorOrAnAdmin) {
  Call("POST", "/api/v1/templates", R"({"name": "wait", "image": "x:1", "command": ["sleep", "60"]})", admin_, 201);
  Json p = {{"name", "nightly"}, {"tasks", {{{"name", "t"}, {"template", "wait"}}}}};
  Json before = Call("POST", "/api/v1/pipelines", p.dump(), admin_, 201);
  Json image = Call("POST", "/api/v1/images", R"({"ref": "quader/base:1", "description": "base"})", admin_, 201);
  std::string image_id = std::to_string(image["id"].get<int64_t>());
  std::string pid = std::to_string(before["id"].get<int64_t>());
  Json run = Call("POST", "/api/v1/pipelines/" + pid + "/run", "", admin_, 201);
  std::string rid = std::to_string(run["id"].get<int64_t>());

  Json changed = p;
  changed["description"] = "bob was here";
  const std::string pipeline_rule = "only its creator or an admin may change public pipeline nightly";
  EXPECT_EQ(Refused("PUT", "/api/v1/pipelines/" + pid, changed, bob_, 403), pipeline_rule);
  EXPECT_NE(Refused("POST", "/api/v1/apply", WithKind(changed, "Pipeline"), bob_, 403)
                .find(pipeline_rule),
            std::string::npos);
  EXPECT_EQ(Refused("POST", "/api/v1/pipelines/" + pid + "/run", nullptr, bob_, 403), pipeline_rule);
  EXPECT_EQ(Refused("DELETE", "/api/v1/pipelines/" + pid, nullptr, bob_, 403), pipeline_rule);
  EXPECT_EQ(Refused("POST", "/api/v1/runs/" + rid + "/stop", nullptr, bob_, 403),
            "only its creator or an admin may change public run " + rid);
  EXPECT_EQ(Refused("PUT", "/api/v1/images/" + image_id, Json{{"description", "x"}}, bob_, 403),
            "only its creator or an admin may change public image quader/base:1");
  EXPECT_EQ(Refused("DELETE", "/api/v1/images/" + image_id, nullptr, bob_, 403),
            "only its creator or an admin may change public image quader/base:1");

  // Nothing changed.
  Json after = Call("GET", "/api/v1/pipelines/" + pid, "", bob_, 200);
  EXPECT_EQ(after["updated_at"], before["updated_at"]);
  EXPECT_FALSE(after.contains("description") && after["description"] == "bob was here");
  EXPECT_EQ(Call("GET", "/api/v1/runs?project=public", "", admin_, 200)["items"].size(), 1u) << "bob started none";
  EXPECT_EQ(Call("GET", "/api/v1/runs/" + rid, "", admin_, 200)["stop_requested"], false);
  EXPECT_EQ(Call("GET", "/api/v1/images/" + image_id, "", admin_, 200)["description"], "base");

  // Bob's own public pipeline is his to change; the admin may change anyone's.
  Json own = {{"name", "bobs"}, {"tasks", {{{"name", "t"}, {"template", "wait"}}}}};
  std::string own_id = std::to_string(Call("POST", "/api/v1/pipelines", own.dump(), bob_, 201)["id"].get<int64_t>());
  Call("DELETE", "/api/v1/pipelines/" + own_id, "", bob_, 200);
  Call("POST", "/api/v1/runs/" + rid + "/stop", "", admin_, 200);
  Call("PUT", "/api/v1/images/" + image_id, R"({"description": "by admin"})", admin_, 200);
}

TEST_F(CrossProjectE2ETest, NonAdminsMountOnlyWhatTheProjectOffers) {
  Call("PUT", "/api/v1/projects/pb", R"({"expand": {"volume_mount": "data/shared(hostpath):/shared"}})", admin_, 200);
  const std::string etc = "/etc(hostpath):/x";
  struct Row {
    const char* what;
    std::string path;
    Json body;
    std::string field;
  } rows[] = {
      {"template", "/api/v1/templates",
       {{"project", "pb"}, {"name", "t"}, {"image", "x:1"}, {"command", {"true"}}, {"volume_mount", etc}},
       "volume_mount[0]"},
      {"notebook", "/api/v1/notebooks", {{"project", "pb"}, {"name", "nb"}, {"volume_mount", etc}}, "volume_mount[0]"},
      {"service", "/api/v1/services",
       {{"project", "pb"}, {"name", "s"}, {"image", "x:1"}, {"replicas", 0}, {"volume_mount", etc}},
       "volume_mount[0]"},
      {"experiment", "/api/v1/experiments",
       {{"project", "pb"},
        {"name", "e"},
        {"image", "x:1"},
        {"command", {"true"}},
        {"search_space", {{"x", {{"_type", "uniform"}, {"_value", {0, 1}}}}}},
        {"tuner", "Random"},
        {"volume_mount", etc}},
       "volume_mount[0]"},
  };
  for (const auto& r : rows) {
    std::string m = Refused("POST", r.path, r.body, bob_, 403);
    EXPECT_EQ(m, r.field + ": \"/etc\" is not among the mounts of project \"pb\"; an admin can add it to the "
                           "project's expand")
        << r.what;
  }
  // A pipeline task's own mounts, through apply.
  Call("POST", "/api/v1/templates", R"({"project": "pb", "name": "ok", "image": "x:1", "command": ["true"]})", bob_, 201);
  Json task_mount = {{"kind", "Pipeline"},
                     {"project", "pb"},
                     {"name", "p"},
                     {"tasks", {{{"name", "t"}, {"template", "ok"}, {"volume_mount", etc}}}}};
  std::string m = Refused("POST", "/api/v1/apply", task_mount, bob_, 403);
  EXPECT_NE(m.find("tasks[0] (t).volume_mount[0]: \"/etc\""), std::string::npos) << m;
  EXPECT_EQ(Call("GET", "/api/v1/pipelines?project=pb", "", bob_, 200)["items"].size(), 0u);
  EXPECT_EQ(Call("GET", "/api/v1/notebooks?project=pb", "", bob_, 200)["items"].size(), 0u);
  // What the project offers, volumes and RAM are fine; an admin may mount anything.
  Call("POST", "/api/v1/templates",
       R"({"project": "pb", "name": "fine", "image": "x:1", "command": ["true"],
           "volume_mount": "data/shared(hostpath):/s;ws(pvc):/mnt/ws;1G(memory):/dev/shm"})",
       bob_, 201);
  Call("POST", "/api/v1/templates",
       R"({"project": "pb", "name": "root", "image": "x:1", "command": ["true"], "volume_mount": "/etc(hostpath):/x"})",
       admin_, 201);
}

TEST_F(CrossProjectE2ETest, WebhooksCannotReachLoopbackOrLinkLocal) {
  Call("POST", "/api/v1/templates", R"({"project": "pb", "name": "ok", "image": "x:1", "command": ["true"]})", bob_, 201);
  auto with_hook = [](const std::string& url) {
    return Json{{"project", "pb"},
                {"name", "p"},
                {"webhook", {{"url", url}, {"on", {"failed"}}}},
                {"tasks", {{{"name", "t"}, {"template", "ok"}}}}};
  };
  std::string api_port = server_->api().substr(server_->api().rfind(':') + 1);
  for (const std::string& url : {"http://127.0.0.1:" + api_port + "/api/v1/users", std::string("http://localhost/x"),
                                 std::string("http://169.254.169.254/latest/meta-data"),
                                 std::string("http://[::1]:9/x")}) {
    std::string m = Refused("POST", "/api/v1/pipelines", with_hook(url), bob_, 403);
    EXPECT_NE(m.find("--webhook-allow"), std::string::npos) << m;
  }
  EXPECT_EQ(Call("GET", "/api/v1/pipelines?project=pb", "", bob_, 200)["items"].size(), 0u);
  Call("POST", "/api/v1/pipelines/validate", with_hook("http://10.20.30.40:8080/hook").dump(), bob_, 200);
}

}  // namespace
}  // namespace quader::testing
