// Notebooks end to end on the process runtime: a real Jupyter server
// (Debian's jupyter-notebook) behind the gateway, reached only by its owner;
// a kernel runs 2+2 over a WebSocket through the gateway; reset, stop, start,
// delete; a restarted Quader adopts the running server. VS Code (code-server)
// when scripts/install-code-server.sh has installed it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/http_client.h"
#include "cli/terminal_client.h"
#include "e2e/jupyter_client.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {

using std::chrono::steady_clock;

bool HaveJupyter() { return std::filesystem::exists("/usr/bin/jupyter-notebook"); }
bool HaveCodeServer() { return std::filesystem::exists("/opt/quader/code-server/code-server"); }

class NotebooksE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveJupyter()) GTEST_SKIP() << "jupyter-notebook is not installed (scripts/install-deps.sh installs it)";
    StartServer();
    admin_ = server_->Login("admin", "admin-pass-1");
    ASSERT_FALSE(admin_.empty());
  }

  void StartServer() {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "process"});
    ASSERT_TRUE(server_->Start()) << server_->error();
  }

  void TearDown() override {
    if (!server_) return;
    // Delete what the test made, so the controller stops the servers.
    auto list = server_->Call("GET", "/api/v1/notebooks", "", admin_);
    Json j = Json::parse(list.body, nullptr, false);
    if (j.is_object()) {
      for (const auto& n : j["items"]) server_->Call("DELETE", "/api/v1/notebooks/" + std::to_string(n["id"].get<int64_t>()), "", admin_);
      WaitNoServers();
    }
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status,
            const std::string& token = "") {
    return CallJson(*server_, method, path, body, status, token.empty() ? admin_ : token);
  }

  std::string AddUser(const std::string& name) {
    Json body = {{"username", name}, {"password", "password-" + name}};
    Call("POST", "/api/v1/users", body.dump(), 201);
    return server_->Login(name, "password-" + name);
  }

  // Polls the notebook until it is in `state`; returns it.
  Json WaitState(int64_t id, const std::string& state, std::chrono::seconds limit = std::chrono::seconds(60)) {
    auto deadline = steady_clock::now() + limit;
    Json n;
    while (steady_clock::now() < deadline) {
      n = Call("GET", "/api/v1/notebooks/" + std::to_string(id), "", 200);
      if (n.value("state", "") == state) return n;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "notebook " << id << " never became " << state << ": " << n.dump();
    return n;
  }

  // Through the gateway; `auth` is a header map (cookie or bearer).
  cli::HttpReply Gateway(const std::string& method, const std::string& path, std::map<std::string, std::string> headers,
                         const std::string& body = "") {
    auto r = cli::HttpRequest(method, server_->gateway() + path, body, headers, 10);
    if (!r.ok()) return {0, r.status().ToString(), {}};
    return *r;
  }

  // Notebook servers of this test's data directory: the process runtime's
  // wrapper shell of each (its command line names the data directory).
  static bool LeadsItsGroup(const std::filesystem::path& proc) {
    std::ifstream in(proc / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t close = stat.rfind(')');
    if (close == std::string::npos) return false;
    std::istringstream fields(stat.substr(close + 1));
    std::string state;
    long ppid = 0, pgrp = 0;
    fields >> state >> ppid >> pgrp;
    return std::to_string(pgrp) == proc.filename().string();
  }

  int CountServers() {
    int n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
      std::ifstream in(e.path() / "cmdline");
      std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      // The wrapper (a shell, or bubblewrap's monitor) carries the workload's
      // marker and leads its process group (bubblewrap's sandbox init, a fork
      // of it, has the same command line but not the lead).
      if (cmd.find("quader-workload:") != std::string::npos && cmd.find(dir_.path()) != std::string::npos &&
          (cmd.find("jupyter-notebook") != std::string::npos || cmd.find("code-server") != std::string::npos) &&
          LeadsItsGroup(e.path())) {
        n++;
      }
    }
    return n;
  }

  void WaitNoServers() {
    auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (CountServers() > 0 && steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(NotebooksE2ETest, JupyterRunsBehindTheGatewayForItsOwnerOnly) {
  std::string alice = AddUser("alice");
  std::string bob = AddUser("bob");
  auto t0 = steady_clock::now();
  Json nb = Call("POST", "/api/v1/notebooks", R"({"name": "lab", "type": "jupyter"})", 201, alice);
  int64_t id = nb["id"];
  EXPECT_EQ("/notebook/public/lab/", nb["path"]);
  EXPECT_EQ(server_->gateway() + "/notebook/public/lab/", nb["url"]);
  nb = WaitState(id, "running");
  auto ready_ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count();
  std::printf("create -> running: %lld ms\n", static_cast<long long>(ready_ms));
  EXPECT_FALSE(nb["started_at"].is_null());

  // Personal directories exist and are the notebook's directory.
  EXPECT_TRUE(std::filesystem::is_directory(dir_.path() + "/users/alice/work"));
  EXPECT_TRUE(std::filesystem::is_directory(dir_.path() + "/users/alice/archives"));

  const std::string cookie = "quader_session=" + alice;
  // The owner gets Jupyter; anonymous browsers go to the login page; others see nothing.
  auto tree = Gateway("GET", "/notebook/public/lab/tree", {{"Cookie", cookie}});
  EXPECT_EQ(200, tree.status) << tree.body.substr(0, 300);
  EXPECT_NE(std::string::npos, tree.body.find("Jupyter")) << tree.body.substr(0, 300);
  auto anon = Gateway("GET", "/notebook/public/lab/tree?x=1", {});
  EXPECT_EQ(302, anon.status);
  EXPECT_NE(std::string::npos, anon.headers["location"].find("/login?next=http%3A//127.0.0.1%3A"))
      << anon.headers["location"];
  EXPECT_NE(std::string::npos, anon.headers["location"].find("/notebook/public/lab/tree%3Fx%3D1"))
      << anon.headers["location"];
  EXPECT_EQ(403, Gateway("POST", "/notebook/public/lab/api/contents", {}, "{}").status);
  EXPECT_EQ(404, Gateway("GET", "/notebook/public/lab/tree", {{"Cookie", "quader_session=" + bob}}).status);
  EXPECT_EQ(404, Gateway("GET", "/notebook/public/lab/api/status", {{"Authorization", "Bearer " + admin_}}).status);
  EXPECT_EQ(302, Gateway("GET", "/notebook/public/lab/tree", {{"Cookie", "quader_session=forged"}}).status);
  // The path without its slash is sent to the one with it.
  auto bare = Gateway("GET", "/notebook/public/lab", {{"Cookie", cookie}});
  EXPECT_EQ(302, bare.status);
  EXPECT_EQ("/notebook/public/lab/", bare.headers["location"]);
  // The Jupyter server itself wants its token: reaching its port directly gets nothing.
  Json server = Call("GET", "/api/v1/notebooks/" + std::to_string(id), "", 200, alice)["server"];
  EXPECT_TRUE(server["ready"].get<bool>());
  auto direct = cli::HttpRequest("GET", "http://127.0.0.1:" + std::to_string(server["port"].get<int>()) +
                                            "/notebook/public/lab/api/contents", "", {}, 5);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(403, direct->status) << direct->body.substr(0, 200);
  // Other users neither list nor see it through the API; admins do.
  EXPECT_EQ(0u, Call("GET", "/api/v1/notebooks", "", 200, bob)["items"].size());
  Call("GET", "/api/v1/notebooks/" + std::to_string(id), "", 404, bob);
  Call("POST", "/api/v1/notebooks/" + std::to_string(id) + "/reset", "", 404, bob);
  EXPECT_EQ(1u, Call("GET", "/api/v1/notebooks", "", 200)["items"].size());

  // A kernel runs 2+2 over its WebSocket, through the gateway.
  auto kernel = Gateway("POST", "/notebook/public/lab/api/kernels", {{"Cookie", cookie}}, "{}");
  ASSERT_EQ(201, kernel.status) << kernel.body;
  std::string kernel_id = Json::parse(kernel.body)["id"];
  EXPECT_EQ("4", Execute(server_->gateway(), "/notebook/public/lab/", alice, kernel_id, "2+2"));
  // Files land in the personal directory.
  EXPECT_EQ("written", Execute(server_->gateway(), "/notebook/public/lab/", alice, kernel_id,
                               "import os; open('/mnt/alice/hello.txt','w').write('hi'); 'written'")
                           .substr(1, 7));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/users/alice/work/hello.txt"));

  // /metrics counts notebooks by state (admins only: it spans every project).
  auto metrics = server_->Call("GET", "/metrics", "", admin_);
  EXPECT_NE(std::string::npos, metrics.body.find("quader_notebooks{state=\"running\"} 1")) << metrics.body.substr(0, 200);

  // The server's output is readable.
  auto logs = server_->Call("GET", "/api/v1/notebooks/" + std::to_string(id) + "/logs", "", alice);
  EXPECT_EQ(200, logs.status);
  EXPECT_NE(std::string::npos, logs.body.find("Jupyter Notebook")) << logs.body.substr(0, 500);

  // A terminal in it: the owner's shell, where the notebook's files are; nobody else's.
  const std::string terminal = server_->api() + "/api/v1/notebooks/" + std::to_string(id) + "/terminal";
  auto shell = cli::TerminalSession::Open(terminal, alice);
  ASSERT_TRUE(shell.ok()) << shell.status().ToString();
  ASSERT_TRUE((*shell)->Send("cat /mnt/alice/hello.txt; echo \" as $(whoami) $((6*7))\"; exit\n").ok());
  std::string out;
  for (auto deadline = steady_clock::now() + std::chrono::seconds(20); steady_clock::now() < deadline;) {
    auto open = (*shell)->Read(&out, std::chrono::milliseconds(200));
    if (!open.ok() || !*open) break;
  }
  EXPECT_NE(std::string::npos, out.find("hi as alice 42")) << out;
  EXPECT_EQ((*shell)->exit_code(), 0);
  auto other = cli::TerminalSession::Open(terminal, bob);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), Code::kNotFound) << other.status().ToString();
}

TEST_F(NotebooksE2ETest, ResetStopStartDeleteAndAdoptionAfterARestart) {
  Json nb = Call("POST", "/api/v1/notebooks", R"({"name": "work", "type": "jupyter", "resources": {"memory": "2G"}})", 201);
  int64_t id = nb["id"];
  std::string path = "/notebooks/" + std::to_string(id);
  nb = WaitState(id, "running");
  std::string first = nb["server"]["workload"];
  EXPECT_EQ(1, CountServers());

  // Reset: a fresh server of a new generation.
  nb = Call("POST", "/api/v1" + path + "/reset", "", 200);
  EXPECT_EQ(2, nb["generation"]);
  nb = WaitState(id, "running");
  EXPECT_NE(first, nb["server"]["workload"].get<std::string>());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(1, CountServers());

  // Kill -9 Quader: the server keeps running and the next Quader adopts it.
  std::string adopted = nb["server"]["workload"];
  server_->Kill();
  StartServer();
  admin_ = server_->Login("admin", "admin-pass-1");
  nb = WaitState(id, "running");
  EXPECT_EQ(adopted, nb["server"]["workload"].get<std::string>());
  EXPECT_EQ(200, Gateway("GET", "/notebook/public/work/api/status", {{"Authorization", "Bearer " + admin_}}).status);
  EXPECT_EQ(1, CountServers());

  // Stop: the server goes, the route answers nothing; start brings a new one.
  nb = Call("POST", "/api/v1" + path + "/stop", "", 200);
  EXPECT_EQ("stopped", nb["state"]);
  EXPECT_EQ("stopped by admin", nb["reason"]);
  WaitNoServers();
  EXPECT_EQ(0, CountServers());
  EXPECT_EQ(404, Gateway("GET", "/notebook/public/work/tree", {{"Authorization", "Bearer " + admin_}}).status);
  Call("POST", "/api/v1" + path + "/start", "", 200);
  nb = WaitState(id, "running");
  EXPECT_EQ(3, nb["generation"]);

  // Applying the same document changes nothing; a changed one restarts it.
  std::string doc = "kind: Notebook\nname: work\ntype: jupyter\nresources:\n  memory: 2G\n";
  Json applied = Call("POST", "/api/v1/apply", doc, 200);
  EXPECT_EQ("unchanged", applied["results"][0]["action"]) << applied.dump();
  applied = Call("POST", "/api/v1/apply", doc + "description: my lab\n", 200);
  EXPECT_EQ("updated", applied["results"][0]["action"]) << applied.dump();
  nb = WaitState(id, "running");
  EXPECT_EQ(4, nb["generation"]);
  EXPECT_EQ("my lab", nb["description"]);

  // Delete: the server is stopped.
  Call("DELETE", "/api/v1" + path, "", 204);
  WaitNoServers();
  EXPECT_EQ(0, CountServers());
  Call("GET", "/api/v1" + path, "", 404);
}

// A browser that opens a quiet notebook's live log and leaves must not keep
// a server thread: more abandoned streams than the API has threads, then the
// API still answers at once.
TEST_F(NotebooksE2ETest, AbandonedLogStreamsAreReleased) {
  Json nb = Call("POST", "/api/v1/notebooks", R"({"name": "quiet"})", 201);
  std::string logs = "/api/v1/notebooks/" + std::to_string(nb["id"].get<int64_t>()) + "/logs?follow=1";
  WaitState(nb["id"], "running");
  std::this_thread::sleep_for(std::chrono::seconds(1));  // its start-up output is written
  // 24 streams in two rounds of 12: a user may hold 16 at once, so the
  // second round gets its streams only if the abandoned ones were released.
  for (int i = 0; i < 24; ++i) {
    if (i == 12) std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    std::string first;
    auto r = cli::HttpStreamRequest("GET", server_->api() + logs, {{"Authorization", "Bearer " + admin_}},
                                    [&](std::string_view piece) {
                                      first.append(piece);
                                      return false;  // the reader goes away
                                    },
                                    10);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_NE(std::string::npos, first.find("Jupyter")) << first;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // each stream notices within about a second
  auto t0 = steady_clock::now();
  auto health = cli::HttpRequest("GET", server_->api() + "/healthz", "", {}, 5);
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(200, health->status);
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST_F(NotebooksE2ETest, BadDocumentsAreRefusedAndChangeNothing) {
  struct Case {
    std::string body, field;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"name": "Bad_Name"})", "name"},
           {R"({"name": "1lab"})", "name"},
           {R"({"name": "lab", "type": "rstudio"})", "type"},
           {R"({"name": "lab", "resources": {"memory": "lots"}})", "resources"},
           {R"({"name": "lab", "colour": "blue"})", "colour"},
           {R"({"name": "lab", "project": "nope"})", ""},
           {R"({"name": "lab", "volume_mount": "x(nfs):/data"})", "volume_mount"},
           {R"([1, 2])", "body"},
       }) {
    auto r = server_->Call("POST", "/api/v1/notebooks", c.body, admin_);
    EXPECT_GE(r.status, 400) << c.body;
    EXPECT_LT(r.status, 500) << c.body << ": " << r.body;
    if (!c.field.empty()) {
      EXPECT_NE(std::string::npos, r.body.find(c.field)) << c.body << ": " << r.body;
    }
  }
  EXPECT_EQ(0u, Call("GET", "/api/v1/notebooks", "", 200)["items"].size());
  // The examples are valid documents.
  for (const char* file : {"lab.yaml", "vscode.yaml.example", "gpu.yaml.example"}) {
    std::ifstream in(std::string(QUADER_SOURCE_DIR) + "/examples/notebooks/" + file);
    std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(doc.empty()) << file;
    Json applied = Call("POST", "/api/v1/apply", doc, 200);
    EXPECT_EQ("created", applied["results"][0]["action"]) << file << ": " << applied.dump();
  }
  Call("POST", "/api/v1/notebooks", R"({"name": "lab"})", 409);
  Call("POST", "/api/v1/notebooks/999/reset", "", 404);
}

TEST_F(NotebooksE2ETest, IdleNotebooksAreStopped) {
  server_->Stop();
  server_ = std::make_unique<ServerProcess>(
      dir_.path(), std::vector<std::string>{"--runtime", "process", "--notebook-idle-timeout", "3000"});
  ASSERT_TRUE(server_->Start()) << server_->error();
  admin_ = server_->Login("admin", "admin-pass-1");
  Json nb = Call("POST", "/api/v1/notebooks", R"({"name": "idle"})", 201);
  int64_t id = nb["id"];
  WaitState(id, "running");
  // Requests through the gateway keep it alive...
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(200, Gateway("GET", "/notebook/public/idle/api/status", {{"Authorization", "Bearer " + admin_}}).status);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ("running", Call("GET", "/api/v1/notebooks/" + std::to_string(id), "", 200)["state"]);
  // ...and without them it stops, saying why.
  nb = WaitState(id, "stopped", std::chrono::seconds(20));
  EXPECT_NE(std::string::npos, nb["reason"].get<std::string>().find("without activity")) << nb.dump();
  EXPECT_EQ("stopped", nb["desired"]);
  WaitNoServers();
  EXPECT_EQ(0, CountServers());
}

TEST_F(NotebooksE2ETest, VsCodeRunsUnderItsPath) {
  if (!HaveCodeServer()) GTEST_SKIP() << "code-server is not installed (scripts/install-code-server.sh)";
  Json nb = Call("POST", "/api/v1/notebooks", R"({"name": "code", "type": "vscode"})", 201);
  int64_t id = nb["id"];
  WaitState(id, "running");
  std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + admin_}};
  // code-server sees paths without the prefix: its health, and its workbench page.
  auto health = Gateway("GET", "/notebook/public/code/healthz", auth);
  EXPECT_EQ(200, health.status) << health.body;
  EXPECT_NE(std::string::npos, health.body.find("status"));
  auto root = Gateway("GET", "/notebook/public/code/?folder=/mnt/admin", auth);
  EXPECT_EQ(200, root.status) << root.body.substr(0, 300);
  EXPECT_NE(std::string::npos, root.body.find("workbench")) << root.body.substr(0, 300);
  EXPECT_EQ(302, Gateway("GET", "/notebook/public/code/", {}).status);
  // Its port is on the machine's loopback, where any workload can connect:
  // without the secret only the gateway adds, it lets nobody in.
  Json shown = Call("GET", "/api/v1/notebooks/" + std::to_string(id), "", 200);
  int port = shown["server"].value("port", 0);
  ASSERT_GT(port, 0) << shown.dump();
  auto direct = cli::HttpRequest("GET", "http://127.0.0.1:" + std::to_string(port) + "/?folder=/mnt/admin", "", {}, 10);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_NE(200, direct->status) << "code-server answered a request without its secret";
  EXPECT_EQ(std::string::npos, direct->body.find("workbench")) << direct->body.substr(0, 300);
  // Its settings stay under the user's directory, not the server's HOME.
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/users/admin/work/.quader/code-server/public-code"));
}

}  // namespace
}  // namespace quader::testing
