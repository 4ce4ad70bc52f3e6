// Services behind Quader's own gateway, end to end on the process runtime
// (replicas are real local HTTP servers): routing by Host, a gray upgrade
// with a client running throughout, a crashed replica replaced, canary split,
// bad input refused, delete.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "cli/http_client.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {
using std::chrono::steady_clock;

// A service whose replicas answer every GET with `reply` (and their PID).
Json EchoService(const std::string& name, const std::string& reply, int replicas) {
  std::string code =
      "import http.server, os\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "    def do_GET(self):\n"
      "        body = ('" + reply + " ' + str(os.getpid())).encode()\n"
      "        self.send_response(200)\n"
      "        self.send_header('Content-Length', str(len(body)))\n"
      "        self.send_header('X-Model', os.environ.get('KUBEFLOW_MODEL_NAME', '') + '/' +\n"
      "                         os.environ.get('KUBEFLOW_MODEL_VERSION', '') + '/' + os.environ.get('K8S_POD_NAMESPACE', ''))\n"
      "        self.end_headers()\n"
      "        self.wfile.write(body)\n"
      "    def log_message(self, *a): pass\n"
      "http.server.ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n";
  return {{"kind", "Service"},
          {"name", name},
          {"image", "quader/python:3.11"},
          {"command", {"/usr/bin/python3", "-c", code}},
          {"ports", {8080}},
          {"health", "8080:/"},
          {"replicas", replicas}};
}

class ServicesE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "process"});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", "admin-pass-1");
    ASSERT_FALSE(server_->gateway().empty());
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status) {
    auto r = server_->Call(method, path, body, admin_);
    EXPECT_EQ(r.status, status) << method << " " << path << ": " << r.body;
    Json j = Json::parse(r.body, nullptr, false);
    return j.is_discarded() ? Json(r.body) : j;
  }

  // GET / on the gateway with this Host.
  cli::HttpReply Through(const std::string& host) {
    auto r = cli::HttpRequest("GET", server_->gateway() + "/", "", {{"Host", host}}, 5);
    if (!r.ok()) return {0, r.status().ToString(), {}};
    return *r;
  }

  Json WaitService(const std::string& name, const std::function<bool(const Json&)>& done, int seconds = 40) {
    auto deadline = steady_clock::now() + std::chrono::seconds(seconds);
    Json s;
    while (steady_clock::now() < deadline) {
      s = Call("GET", "/api/v1/services/" + name, "", 200);
      if (done(s)) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "service " << name << " did not get there: " << s.dump(2) << server_->Output();
    return s;
  }

  static int ReadyOf(const Json& s, int64_t generation) {
    int n = 0;
    for (const auto& r : s["replica_states"]) n += r["state"] == "ready" && r["generation"] == generation;
    return n;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(ServicesE2ETest, RoutesByHostToReadyReplicasAndUpgradesWithoutAFailedRequest) {
  Json created = Call("POST", "/api/v1/services", EchoService("echo", "v1", 2).dump(), 201);
  EXPECT_EQ(created["url"], "http://echo.service.localhost/");
  Json s = WaitService("echo", [](const Json& s) { return ReadyOf(s, 1) == 2 && s["state"] == "running"; });
  // Routing by Host (port and case ignored); others get 404.
  auto r = Through("Echo.Service.Localhost:80");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.rfind("v1 ", 0), 0u) << r.body;
  EXPECT_EQ(Through("nothing.service.localhost").status, 404);
  // Both replicas take traffic.
  std::map<std::string, int> pids;
  for (int i = 0; i < 20; ++i) pids[Through("echo.service.localhost").body]++;
  EXPECT_EQ(pids.size(), 2u);

  // Gray upgrade with a client running throughout: no failed request.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, v2{0};
  std::string first_failure;
  std::thread client([&] {
    while (!stop) {
      auto reply = Through("echo.service.localhost");
      if (reply.status == 200) {
        ok++;
        if (reply.body.rfind("v2 ", 0) == 0) v2++;
      } else {
        if (failed++ == 0) first_failure = std::to_string(reply.status) + " " + reply.body;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  Call("PUT", "/api/v1/services/echo", EchoService("echo", "v2", 2).dump(), 200);
  s = WaitService("echo", [](const Json& s) { return ReadyOf(s, 2) == 2 && s["replica_states"].size() == 2; }, 60);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  client.join();
  EXPECT_EQ(failed.load(), 0) << first_failure;
  EXPECT_GT(ok.load(), 50);
  EXPECT_GT(v2.load(), 0);
  EXPECT_EQ(s["generation"], 2);
  r = Through("echo.service.localhost");
  EXPECT_EQ(r.body.rfind("v2 ", 0), 0u) << r.body;
  // The rollout is in the events.
  std::string events = s["events"].dump();
  EXPECT_NE(events.find("replaced by generation 2"), std::string::npos) << events;

  // Delete: replicas stopped, the host gone.
  Call("DELETE", "/api/v1/services/echo", "", 204);
  auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (steady_clock::now() < deadline && Through("echo.service.localhost").status != 404) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(Through("echo.service.localhost").status, 404);
}

TEST_F(ServicesE2ETest, AReplicaThatDiesIsReplaced) {
  Call("POST", "/api/v1/services", EchoService("fragile", "ok", 1).dump(), 201);
  Json s = WaitService("fragile", [](const Json& s) { return ReadyOf(s, 1) == 1; });
  std::string pid = Through("fragile.service.localhost").body.substr(3);
  ASSERT_FALSE(pid.empty());
  ASSERT_EQ(::kill(std::stoi(pid), SIGKILL), 0);
  s = WaitService("fragile", [&](const Json& s) {
    std::string body = Through("fragile.service.localhost").body;
    return ReadyOf(s, 1) == 1 && body.rfind("ok ", 0) == 0 && body.substr(3) != pid;
  });
  EXPECT_NE(s["events"].dump().find("replica-failed"), std::string::npos) << s["events"].dump(2);
}

TEST_F(ServicesE2ETest, CanarySplitsTrafficByPercent) {
  Json a = EchoService("serving-iris-1", "main", 1);
  a["kind"] = "InferenceService";
  a.erase("name");
  a.erase("replicas");
  a["service_type"] = "serving";
  a["model_name"] = "iris";
  a["model_version"] = "v1";
  Json b = a;
  b["model_version"] = "v2";
  b["command"][2] = b["command"][2].get<std::string>().replace(b["command"][2].get<std::string>().find("main"), 4, "cand");
  Call("POST", "/api/v1/inference-services", b.dump(), 201);
  a["canary"] = "serving-iris-2:30%";
  Json created = Call("POST", "/api/v1/inference-services", a.dump(), 201);
  EXPECT_EQ(created["name"], "serving-iris-1");
  for (const char* name : {"serving-iris-1", "serving-iris-2"}) {
    auto deadline = steady_clock::now() + std::chrono::seconds(40);
    while (steady_clock::now() < deadline &&
           Call("GET", std::string("/api/v1/inference-services/") + name, "", 200)["state"] != "running") {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  int main = 0, cand = 0;
  for (int i = 0; i < 400; ++i) {
    auto r = Through("serving-iris-1.service.localhost");
    ASSERT_EQ(r.status, 200) << r.body;
    (r.body.rfind("main", 0) == 0 ? main : cand)++;
  }
  EXPECT_NEAR(cand / 400.0, 0.30, 0.03) << main << " / " << cand;
  // The test host answers too, and replicas see the KUBEFLOW_* and K8S_* variables.
  auto test_host = Through("test.serving-iris-1.service.localhost");
  EXPECT_EQ(test_host.status, 200);
  EXPECT_EQ(test_host.headers["x-model"], "iris/v1/public");
}

TEST_F(ServicesE2ETest, BadDocumentsAreRefusedNamingTheProblem) {
  Json bad = EchoService("elsewhere", "x", 1);
  bad["host"] = "evil.example.com";
  Json err = Call("POST", "/api/v1/services", bad.dump(), 400);
  EXPECT_NE(err.dump().find("host"), std::string::npos) << err.dump();
  Json inf = EchoService("x", "x", 1);
  inf["kind"] = "InferenceService";
  inf.erase("name");
  inf.erase("replicas");
  inf["service_type"] = "serving";
  inf["model_name"] = "model";
  inf["model_version"] = "v1";
  inf["canary"] = "a:60%,b:50%";
  err = Call("POST", "/api/v1/inference-services", inf.dump(), 400);
  EXPECT_NE(err.dump().find("canary"), std::string::npos) << err.dump();
  EXPECT_TRUE(Call("GET", "/api/v1/services", "", 200)["items"].empty());
  EXPECT_TRUE(Call("GET", "/api/v1/inference-services", "", 200)["items"].empty());
  // A malformed Host is a clean 400 at the gateway.
  EXPECT_EQ(Through("bad host!").status, 400);
}

}  // namespace
}  // namespace quader::testing
