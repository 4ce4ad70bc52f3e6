// Services behind Quader's own gateway, end to end on the process runtime
// (replicas are real local HTTP servers): routing by Host, a gray upgrade
// with a client running throughout, a crashed replica replaced, canary split,
// bad input refused, delete.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <chrono>
#include <map>
#include <thread>

#include "cli/client.h"
#include "cli/http_client.h"
#include "cli/terminal_client.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {

bool WriteFileForTest(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}
using std::chrono::steady_clock;

// A service whose replicas answer every GET with `reply` (and their PID).
Json EchoService(const std::string& name, const std::string& reply, int replicas) {
  std::string code =
      "import http.server, os, signal\n"
      "me = os.urandom(6).hex()\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "    def do_GET(self):\n"
      "        if self.path == '/die':\n"
      "            os.kill(os.getpid(), signal.SIGKILL)\n"
      "        body = ('" + reply + " ' + me).encode()\n"
      "        self.send_response(200)\n"
      "        self.send_header('Content-Length', str(len(body)))\n"
      "        self.send_header('X-Model', os.environ.get('KUBEFLOW_MODEL_NAME', '') + '/' +\n"
      "                         os.environ.get('KUBEFLOW_MODEL_VERSION', '') + '/' + os.environ.get('K8S_POD_NAMESPACE', '') +\n"
      "                         '/' + os.environ.get('KUBEFLOW_ENV', ''))\n"
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
    return CallJson(*server_, method, path, body, status, admin_);
  }

  // GET / on the gateway with this Host.
  cli::HttpReply Through(const std::string& host, const std::string& path = "/") {
    auto r = cli::HttpRequest("GET", server_->gateway() + path, "", {{"Host", host}}, 5);
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

  Json WaitServiceAt(const std::string& path, const std::function<bool(const Json&)>& done, int seconds = 40) {
    auto deadline = steady_clock::now() + std::chrono::seconds(seconds);
    Json s;
    while (steady_clock::now() < deadline) {
      s = Call("GET", path, "", 200);
      if (done(s)) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << path << " did not get there: " << s.dump(2) << server_->Output();
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
  // The URL a browser opens: the host on the gateway's port (*.localhost is this machine).
  const std::string gateway_port = server_->gateway().substr(server_->gateway().rfind(':'));
  EXPECT_EQ(created["url"], "http://echo.service.localhost" + gateway_port + "/");
  Json s = WaitService("echo", [](const Json& s) { return ReadyOf(s, 1) == 2 && s["state"] == "running"; });
  // Routing by Host (port and case ignored); others get 404.
  auto r = Through("Echo.Service.Localhost:80");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.rfind("v1 ", 0), 0u) << r.body;
  EXPECT_EQ(Through("nothing.service.localhost").status, 404);
  // Both replicas (each answers with a token of its own) take traffic.
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

// cube-studio's gray upgrade by host: a new service on a host the project's
// older service has takes it once ready, and takes the older one offline;
// a client running throughout sees no failed request. Changing the older one
// deploys it again, and it takes the host back the same way.
TEST_F(ServicesE2ETest, ANewServiceOnTheSameHostTakesTheOlderOneOffline) {
  const std::string host = "shared.service.localhost";
  Json a = EchoService("echo-a", "a", 1);
  a["host"] = host;
  Call("POST", "/api/v1/services", a.dump(), 201);
  WaitService("echo-a", [](const Json& s) { return s["state"] == "running"; });
  ASSERT_EQ(Through(host).body.rfind("a ", 0), 0u);

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, from_b{0};
  std::string first_failure;
  std::thread client([&] {
    while (!stop) {
      auto reply = Through(host);
      if (reply.status == 200) {
        ok++;
        if (reply.body.rfind("b ", 0) == 0) from_b++;
      } else if (failed++ == 0) {
        first_failure = std::to_string(reply.status) + " " + reply.body;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  Json b = EchoService("echo-b", "b", 1);
  b["host"] = host;
  Call("POST", "/api/v1/services", b.dump(), 201);
  Json old = WaitService("echo-a", [](const Json& s) {
    return s["state"] == "stopped" && s["replica_states"].empty();
  }, 60);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  client.join();
  EXPECT_EQ(failed.load(), 0) << first_failure;
  EXPECT_GT(from_b.load(), 0);
  EXPECT_EQ(Through(host).body.rfind("b ", 0), 0u);
  EXPECT_NE(old["reason"].get<std::string>().find("offline: a newer service took its host"), std::string::npos)
      << old.dump(2);
  EXPECT_NE(old["events"].dump().find("taken offline: echo-b is live on " + host), std::string::npos)
      << old["events"].dump(2);
  Json fresh = Call("GET", "/api/v1/services/echo-b", "", 200);
  EXPECT_EQ(fresh["state"], "running");
  EXPECT_NE(fresh["events"].dump().find("took echo-a offline"), std::string::npos) << fresh["events"].dump(2);

  // Rollback: the older one, changed, is deployed again and takes the host back.
  a = EchoService("echo-a", "a2", 1);
  a["host"] = host;
  Call("PUT", "/api/v1/services/echo-a", a.dump(), 200);
  WaitService("echo-b", [](const Json& s) { return s["state"] == "stopped"; }, 60);
  EXPECT_EQ(Through(host).body.rfind("a2 ", 0), 0u);
}

TEST_F(ServicesE2ETest, AReplicaThatDiesIsReplaced) {
  Call("POST", "/api/v1/services", EchoService("fragile", "ok", 1).dump(), 201);
  Json s = WaitService("fragile", [](const Json& s) { return ReadyOf(s, 1) == 1; });
  // Each replica answers with a token of its own; /die makes it SIGKILL itself.
  std::string pid = Through("fragile.service.localhost").body.substr(3);
  ASSERT_FALSE(pid.empty());
  Through("fragile.service.localhost", "/die");
  s = WaitService("fragile", [&](const Json& s) {
    std::string body = Through("fragile.service.localhost").body;
    return ReadyOf(s, 1) == 1 && body.rfind("ok ", 0) == 0 && body.substr(3) != pid;
  });
  EXPECT_NE(s["events"].dump().find("replica-failed"), std::string::npos) << s["events"].dump(2);

  // A terminal in the replica that runs now (its creator's, the admin here):
  // a command there sees the replica's own process.
  const std::string terminal = server_->api() + "/api/v1/services/fragile/terminal?replica=0&command=" +
                               cli::EscapeComponent(R"(["sh", "-c", "echo replica-$((40+2)); exit 5"])");
  auto t = cli::TerminalSession::Open(terminal, admin_);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::string out;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       std::chrono::steady_clock::now() < deadline;) {
    auto open = (*t)->Read(&out, std::chrono::milliseconds(200));
    if (!open.ok() || !*open) break;
  }
  EXPECT_NE(out.find("replica-42"), std::string::npos) << out;
  EXPECT_EQ((*t)->exit_code(), 5);
  EXPECT_EQ(cli::TerminalSession::Open(server_->api() + "/api/v1/services/fragile/terminal?replica=3", admin_)
                .status()
                .code(),
            Code::kNotFound);
  EXPECT_EQ(cli::TerminalSession::Open(server_->api() + "/api/v1/services/fragile/terminal?replica=x", admin_)
                .status()
                .code(),
            Code::kInvalidArgument);
}

// A replica that exits at once is restarted with a growing back-off; the
// service says why it fails long after the pass that saw it end, and a
// corrected spec (a new generation) starts at once instead of waiting out
// the crashing one's back-off.
TEST_F(ServicesE2ETest, ACrashLoopingServiceSaysWhyAndItsCorrectionStartsAtOnce) {
  Json crashy = EchoService("crashy", "fixed", 1);
  crashy["command"] = {"/usr/bin/python3", "-c", "import sys; print('boom'); sys.exit(3)"};
  Call("POST", "/api/v1/services", crashy.dump(), 201);
  auto failures = [](const Json& s) {
    int n = 0;
    for (const auto& e : s["events"]) n += e.value("kind", "") == "replica-failed";
    return n;
  };
  Json s = WaitService("crashy", [](const Json& s) { return s["state"] == "failed"; }, 90);
  EXPECT_GE(failures(s), 5) << s["events"].dump(2);
  EXPECT_NE(s["reason"].get<std::string>().find("replicas keep failing: exited with code 3; last output: boom"),
            std::string::npos)
      << s.dump(2);
  // The log of the instance that ended is kept, and said to be how it ended.
  cli::HttpReply kept = server_->Call("GET", "/api/v1/services/crashy/logs?previous=1", "", admin_);
  EXPECT_EQ(kept.status, 200) << kept.body;
  EXPECT_NE(kept.body.find("boom\n"), std::string::npos) << kept.body;
  EXPECT_NE(kept.body.find("ended: exited with code 3"), std::string::npos) << kept.body;
  EXPECT_EQ(server_->Call("GET", "/api/v1/services/crashy/logs?replica=7", "", admin_).status, 404);
  EXPECT_EQ(server_->Call("GET", "/api/v1/services/crashy/logs?replica=x", "", admin_).status, 400);
  // The next start would be 16 s away; the corrected spec does not wait.
  auto fixed_at = steady_clock::now();
  Call("PUT", "/api/v1/services/crashy", EchoService("crashy", "fixed", 1).dump(), 200);
  s = WaitService("crashy", [](const Json& s) { return s["state"] == "running"; }, 40);
  double seconds = std::chrono::duration<double>(steady_clock::now() - fixed_at).count();
  EXPECT_LT(seconds, 12.0) << "the corrected service waited for the old back-off";
  EXPECT_EQ(Through("crashy.service.localhost").body.rfind("fixed ", 0), 0u);
  // The running replica's own log now (the HTTP server logs nothing: empty, not the kept one).
  cli::HttpReply live = server_->Call("GET", "/api/v1/services/crashy/logs", "", admin_);
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.body.find("boom"), std::string::npos) << live.body;
}

// An inference service (model iris v1) of echo replicas.
Json InferenceEcho(const std::string& reply, int min_replicas, int max_replicas) {
  Json a = EchoService("unused", reply, 1);
  a["kind"] = "InferenceService";
  a.erase("name");
  a.erase("replicas");
  a["service_type"] = "serving";
  a["model_name"] = "iris";
  a["model_version"] = "v1";
  a["min_replicas"] = min_replicas;
  a["max_replicas"] = max_replicas;
  return a;
}

TEST_F(ServicesE2ETest, CanarySplitsTrafficByPercent) {
  Json a = InferenceEcho("main", 1, 1);
  Json b = InferenceEcho("cand", 1, 1);
  b["model_version"] = "v2";
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
  // Replicas see the KUBEFLOW_* and K8S_* variables; an online service does
  // not answer on its test host.
  auto prod = Through("serving-iris-1.service.localhost");
  EXPECT_EQ(prod.headers["x-model"].rfind("iris/v", 0), 0u) << prod.headers["x-model"];
  EXPECT_NE(prod.headers["x-model"].find("/public/prod"), std::string::npos) << prod.headers["x-model"];
  EXPECT_EQ(Through("test.serving-iris-1.service.localhost").status, 404);
}

TEST_F(ServicesE2ETest, DeployStagesMoveAnInferenceServiceBetweenHosts) {
  const std::string base = "/api/v1/inference-services/serving-iris-1";
  Json created = Call("POST", "/api/v1/inference-services", InferenceEcho("staged", 2, 2).dump(), 201);
  EXPECT_EQ(created["model_status"], "online");
  auto wait_for = [&](const std::string& host, const std::string& env, size_t replicas) {
    auto deadline = steady_clock::now() + std::chrono::seconds(40);
    Json s;
    while (steady_clock::now() < deadline) {
      s = Call("GET", base, "", 200);
      auto r = Through(host);
      if (r.status == 200 && r.headers["x-model"] == "iris/v1/public/" + env && s["replica_states"].size() == replicas &&
          ReadyOf(s, s["generation"]) == static_cast<int>(replicas)) {
        return s;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << host << " never answered from " << env << ": " << s.dump(2);
    return s;
  };
  wait_for("serving-iris-1.service.localhost", "prod", 2);
  // Online: a debug or test deploy would take production away, so it is refused.
  Json err = Call("POST", base + "/deploy/debug", "", 409);
  EXPECT_NE(err.dump().find("clear it"), std::string::npos) << err.dump();
  Call("POST", base + "/deploy/staging", "", 400);

  Json s = Call("POST", base + "/clear", "", 200);
  EXPECT_EQ(s["model_status"], "offline");
  s = WaitServiceAt(base, [](const Json& s) { return s["state"] == "stopped" && s["replica_states"].empty(); });
  EXPECT_EQ(Through("serving-iris-1.service.localhost").status, 404);

  // debug: one replica (min is 2), on the debug. host only, KUBEFLOW_ENV=debug.
  EXPECT_EQ(Call("POST", base + "/deploy/debug", "", 200)["model_status"], "debug");
  wait_for("debug.serving-iris-1.service.localhost", "debug", 1);
  EXPECT_EQ(Through("serving-iris-1.service.localhost").status, 404);
  EXPECT_EQ(Through("test.serving-iris-1.service.localhost").status, 404);
  // test: min replicas on the test. host.
  EXPECT_EQ(Call("POST", base + "/deploy/test", "", 200)["model_status"], "test");
  wait_for("test.serving-iris-1.service.localhost", "test", 2);
  EXPECT_EQ(Through("debug.serving-iris-1.service.localhost").status, 404);
  // prod: the production host again.
  EXPECT_EQ(Call("POST", base + "/deploy/prod", "", 200)["model_status"], "online");
  s = wait_for("serving-iris-1.service.localhost", "prod", 2);
  EXPECT_EQ(Through("test.serving-iris-1.service.localhost").status, 404);

  // The deploy history, newest first.
  std::vector<std::string> history;
  for (const auto& h : s["deploy_history"]) history.push_back(h["message"]);
  std::vector<std::string> want = {"deploy prod: admin", "deploy test: admin", "deploy debug: admin", "clear: admin",
                                   "deploy prod: admin (created)"};
  EXPECT_EQ(history, want) << s["deploy_history"].dump(2);
  // Created, then four deploys and clears: each a new generation.
  EXPECT_EQ(s["generation"], 5);
}

// cube-studio's debug stage: the replica starts idle with the service's
// image, env and mounts; the user starts the server by hand in its terminal,
// and once it answers its health probe the debug. host routes to it.
TEST_F(ServicesE2ETest, DebugWithAShellWaitsIdleUntilTheServerIsStartedInItsTerminal) {
  const std::string base = "/api/v1/inference-services/serving-iris-1";
  Json spec = InferenceEcho("by-hand", 1, 1);
  // The server the user will start by hand, in the user's own directory.
  std::filesystem::create_directories(dir_.path() + "/users/admin/work");
  ASSERT_TRUE(WriteFileForTest(dir_.path() + "/users/admin/work/echo.py", spec["command"][2].get<std::string>()));
  Call("POST", "/api/v1/inference-services", spec.dump(), 201);
  Call("POST", base + "/clear", "", 200);
  // Bad bodies change nothing.
  EXPECT_NE(Call("POST", base + "/deploy/test", R"({"idle": true})", 400).dump().find("only a debug deploy"),
            std::string::npos);
  EXPECT_NE(Call("POST", base + "/deploy/debug", R"({"idle": "yes"})", 400).dump().find("idle"), std::string::npos);
  EXPECT_NE(Call("POST", base + "/deploy/debug", R"({"shell": true})", 400).dump().find("shell: unknown field"),
            std::string::npos);
  EXPECT_EQ(Call("GET", base, "", 200)["model_status"], "offline");

  Json s = Call("POST", base + "/deploy/debug", R"({"idle": true})", 200);
  EXPECT_EQ(s["model_status"], "debug");
  EXPECT_EQ(s["debug_idle"], true);
  s = WaitServiceAt(base, [](const Json& s) {
    return s["replica_states"].size() == 1 && s["reason"].get<std::string>().find("debug with a shell") == 0;
  });
  EXPECT_EQ(s["state"], "pending") << s.dump(2);
  // Its command does not run: nothing answers on the debug host.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_NE(Through("debug.serving-iris-1.service.localhost").status, 200);

  // In its terminal, with the replica's env ($PORT among it), the user starts
  // the server and sees it answer; it keeps running once the terminal closes.
  ASSERT_TRUE(WriteFileForTest(
      dir_.path() + "/users/admin/work/start.sh",
      "setsid /usr/bin/python3 /mnt/admin/echo.py </dev/null >/dev/null 2>&1 &\n"
      "for i in $(seq 100); do\n"
      "  /usr/bin/python3 -c 'import os, urllib.request; urllib.request.urlopen(\"http://127.0.0.1:%s/\" % "
      "os.environ[\"PORT\"])' 2>/dev/null && break\n"
      "  sleep 0.2\n"
      "done\n"
      "echo started-$((40+2)) env=$KUBEFLOW_ENV\n"));
  const std::string terminal =
      server_->api() + base + "/terminal?command=" + cli::EscapeComponent(R"(["sh", "/mnt/admin/start.sh"])");
  auto t = cli::TerminalSession::Open(terminal, admin_);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::string out;
  for (auto deadline = steady_clock::now() + std::chrono::seconds(20); steady_clock::now() < deadline;) {
    auto open = (*t)->Read(&out, std::chrono::milliseconds(200));
    if (!open.ok() || !*open) break;
  }
  EXPECT_NE(out.find("started-42 env=debug"), std::string::npos) << out;
  (*t).reset();
  s = WaitServiceAt(base, [&](const Json& s) {
    return s["state"] == "running" && Through("debug.serving-iris-1.service.localhost").status == 200;
  });
  auto r = Through("debug.serving-iris-1.service.localhost");
  EXPECT_EQ(r.body.rfind("by-hand ", 0), 0u) << r.body;
  EXPECT_EQ(r.headers["x-model"], "iris/v1/public/debug");

  // A plain debug deploy runs the command again.
  s = Call("POST", base + "/deploy/debug", "", 200);
  EXPECT_EQ(s["debug_idle"], false);
  std::vector<std::string> history;
  for (const auto& h : s["deploy_history"]) history.push_back(h["message"]);
  ASSERT_GE(history.size(), 2u);
  EXPECT_EQ(history[0], "deploy debug: admin");
  EXPECT_EQ(history[1], "deploy debug with a shell: admin");
}

TEST_F(ServicesE2ETest, AShellHealthProbeGatesTraffic) {
  Json svc = EchoService("gated", "gated", 1);
  svc["health"] = "shell:test -f /mnt/admin/ready-flag";
  Call("POST", "/api/v1/services", svc.dump(), 201);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  Json s = Call("GET", "/api/v1/services/gated", "", 200);
  EXPECT_EQ(s["state"], "pending") << s.dump(2);
  EXPECT_EQ(Through("gated.service.localhost").status, 404);
  // The probe runs inside the replica: the flag appears in its /mnt/admin.
  std::string flag = dir_.path() + "/users/admin/work/ready-flag";
  ASSERT_TRUE(WriteFileForTest(flag, "yes"));
  WaitService("gated", [](const Json& s) { return s["state"] == "running"; });
  EXPECT_EQ(Through("gated.service.localhost").status, 200);
  std::remove(flag.c_str());
  s = WaitService("gated", [](const Json& s) { return s["events"].dump().find("replica-unready") != std::string::npos; });
  EXPECT_NE(Through("gated.service.localhost").status, 200);
}

// A base for external ports (base + 10 × id + index) whose first ports are
// free now, below Linux's ephemeral range (32768-60999) so no client
// connection of a test running beside this one takes them meanwhile.
int FreeExternalBase() {
  auto free = [](int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    return ok;
  };
  for (int i = 0; i < 120; ++i) {
    int base = 20000 + static_cast<int>((::getpid() + i) % 120) * 100;
    bool all = true;
    for (int p = base + 10; p < base + 30 && all; ++p) all = free(p);
    if (all) return base;
  }
  return 20000;
}

class ServicesScalingE2ETest : public ServicesE2ETest {
 protected:
  void SetUp() override {
    base_port_ = FreeExternalBase();
    server_ = std::make_unique<ServerProcess>(
        dir_.path(), std::vector<std::string>{"--runtime", "process", "--autoscale-period", "1000",
                                              "--scale-down-window", "3000", "--external-port-base",
                                              std::to_string(base_port_)});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", "admin-pass-1");
  }
  int base_port_ = 0;
};

TEST_F(ServicesScalingE2ETest, EachPortIsExposedOnTheExternalIp) {
  Json created = Call("POST", "/api/v1/services", EchoService("web", "ext", 1).dump(), 201);
  int64_t id = created["id"];
  int port = base_port_ + 10 * static_cast<int>(id);
  Json s = WaitService("web", [](const Json& s) { return s["state"] == "running" && !s["external"].empty(); });
  ASSERT_FALSE(s["external"][0].contains("error")) << s["external"].dump();
  EXPECT_EQ(s["external"][0]["address"], "127.0.0.1:" + std::to_string(port)) << s["external"].dump();
  EXPECT_EQ(s["external"][0]["container_port"], 8080);
  auto r = cli::HttpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/", "", {}, 5);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.rfind("ext ", 0), 0u) << r->body;
  // Deleted: the port closes.
  Call("DELETE", "/api/v1/services/web", "", 204);
  auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (steady_clock::now() < deadline &&
         cli::HttpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/", "", {}, 2).ok()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_FALSE(cli::HttpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/", "", {}, 2).ok());
}

TEST_F(ServicesScalingE2ETest, TheAutoscalerFollowsCpuAndRecordsItsDecisions) {
  // Replicas burn a CPU while the flag file exists (in /mnt/admin).
  std::string flag = dir_.path() + "/users/admin/work/burn";
  ASSERT_TRUE(WriteFileForTest(flag, "1"));
  Json svc = InferenceEcho("busy", 1, 3);
  std::string code = svc["command"][2];
  code = "import threading, os, time\n"
         "def burn():\n"
         "    while True:\n"
         "        if os.path.exists('/mnt/admin/burn'):\n"
         "            for _ in range(20000): pass\n"
         "        else:\n"
         "            time.sleep(0.05)\n"
         "threading.Thread(target=burn, daemon=True).start()\n" + code;
  svc["command"][2] = code;
  svc["hpa"] = "cpu:10%";  // a busy loop uses far more, even on a loaded machine
  Call("POST", "/api/v1/inference-services", svc.dump(), 201);
  const std::string path = "/api/v1/inference-services/serving-iris-1";
  // Waits are generous: a loaded machine (a CI run beside other builds) stretches every step.
  Json s = WaitServiceAt(path, [](const Json& s) { return s.value("autoscaled_replicas", 0) == 3; }, 120);
  std::string events = s["events"].dump();
  EXPECT_NE(events.find("\"scaled\""), std::string::npos) << events;
  EXPECT_NE(events.find("of 10% target on 1 replica: 1 → "), std::string::npos) << events;
  s = WaitServiceAt(path, [](const Json& s) { return ReadyOf(s, s["generation"]) == 3; }, 120);
  // Idle: back to min once the scale-down window has passed.
  std::remove(flag.c_str());
  s = WaitServiceAt(path, [](const Json& s) { return s.value("autoscaled_replicas", 0) == 1; }, 120);
  // Down in one step or two (the sample after the flag goes may still hold some burn).
  EXPECT_NE(s["events"].dump().find(" → 1 (min 1, max 3)"), std::string::npos) << s["events"].dump();
  s = WaitServiceAt(path, [](const Json& s) { return s["replica_states"].size() == 1; }, 30);
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
  // Split and mirror targets must be inference services of the project.
  inf["canary"] = "serving-nothing-1:20%";
  err = Call("POST", "/api/v1/inference-services", inf.dump(), 400);
  EXPECT_NE(err.dump().find("no inference service \\\"serving-nothing-1\\\" in project public"), std::string::npos)
      << err.dump();
  inf.erase("canary");
  inf["shadow"] = "serving-model-1:100%";  // itself
  err = Call("POST", "/api/v1/inference-services", inf.dump(), 400);
  EXPECT_NE(err.dump().find("shadow: names this service itself"), std::string::npos) << err.dump();
  EXPECT_TRUE(Call("GET", "/api/v1/services", "", 200)["items"].empty());
  EXPECT_TRUE(Call("GET", "/api/v1/inference-services", "", 200)["items"].empty());
  // A malformed Host is a clean 400 at the gateway.
  EXPECT_EQ(Through("bad host!").status, 400);
}

}  // namespace
}  // namespace quader::testing
