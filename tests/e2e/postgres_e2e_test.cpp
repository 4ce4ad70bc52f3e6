// The platform on PostgreSQL, end to end: two real `quader server`
// processes share one private PostgreSQL (Debian's, on its own directory
// and port). Both serve the API; only the leader runs work, so a run
// submitted to either executes each task exactly once; when the leader is
// killed, the other takes over and runs what comes next. Skipped, with the
// reason, where PostgreSQL is not installed.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "e2e/server_process.h"
#include "fakes/postgres_instance.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {

using std::chrono::steady_clock;

int Lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

class PostgresE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pg_.ok()) GTEST_SKIP() << "no PostgreSQL: " << pg_.error();
    url_ = pg_.CreateDatabase();
    ASSERT_FALSE(url_.empty());
  }

  std::unique_ptr<ServerProcess> Server(const TempDir& dir) {
    auto s = std::make_unique<ServerProcess>(dir.path(),
                                             std::vector<std::string>{"--runtime", "process", "--db", url_});
    EXPECT_TRUE(s->Start()) << s->error() << s->Output();
    return s;
  }

  Json Call(ServerProcess& s, const std::string& token, const std::string& method, const std::string& path,
            const std::string& body, int status) {
    auto r = s.Call(method, path, body, token);
    EXPECT_EQ(r.status, status) << method << " " << path << ": " << r.body;
    Json j = Json::parse(r.body, nullptr, false);
    return j.is_discarded() ? Json(r.body) : j;
  }

  // Runs pipeline `name` through `s` and waits for it to end.
  Json RunToEnd(ServerProcess& s, const std::string& token, const std::string& name) {
    Json run = Call(s, token, "POST", "/api/v1/pipelines/" + name + "/run", "{}", 201);
    std::string id = std::to_string(run.value("id", 0));
    auto deadline = steady_clock::now() + std::chrono::seconds(60);
    while (steady_clock::now() < deadline) {
      run = Call(s, token, "GET", "/api/v1/runs/" + id, "", 200);
      std::string state = run.value("state", "");
      if (state == "succeeded" || state == "failed" || state == "stopped") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return run;
  }

  PostgresInstance pg_;
  std::string url_;
  TempDir a_dir_, b_dir_, work_;
};

TEST_F(PostgresE2ETest, TwoServersShareTheStoreAndOnlyTheLeaderRunsWork) {
  auto a = Server(a_dir_);
  auto b = Server(b_dir_);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(std::string::npos, a->Output().find("follower"));
  EXPECT_NE(std::string::npos, b->Output().find("follower")) << b->Output();
  // One admin (created by the first server); both accept its token.
  std::string token = a->Login("admin", "admin-pass-1");
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(200, b->Call("GET", "/api/v1/me", "", token).status);

  // Each task appends a line to a file: how many times it really ran. The
  // file is in a host directory both servers' tasks mount (an admin's
  // hostpath; sandboxed tasks see nothing else of the host), writable by
  // the admin's workload uid.
  std::string counter = work_.File("ran");
  chmod(work_.path().c_str(), 0777);
  std::string doc = R"(
kind: JobTemplate
name: shell
image: quader/base:bookworm
command: ["sh", "-c", "eval \"$SCRIPT\"", "shell"]
volume_mount: ")" + work_.path() + R"((hostpath):/shared"
---
kind: Pipeline
name: count
tasks:
  - {name: one, template: shell, env: {SCRIPT: 'echo one >> /shared/ran'}}
  - {name: two, template: shell, depends_on: [one], env: {SCRIPT: 'echo two >> /shared/ran'}}
)";
  Call(*b, token, "POST", "/api/v1/apply", doc, 200);
  // Written through one server, read through the other.
  EXPECT_EQ("count", Call(*a, token, "GET", "/api/v1/pipelines/count", "", 200).value("name", ""));

  // Runs submitted to either server run once each.
  EXPECT_EQ("succeeded", RunToEnd(*b, token, "count").value("state", ""));
  EXPECT_EQ("succeeded", RunToEnd(*a, token, "count").value("state", ""));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // nothing runs a second time later
  EXPECT_EQ("one\ntwo\none\ntwo\n", ReadFile(counter));

  // The leader dies: the other server takes over and runs what comes next.
  a->Kill();
  auto deadline = steady_clock::now() + std::chrono::seconds(20);
  while (b->Output().find("leading now") == std::string::npos && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_NE(std::string::npos, b->Output().find("leading now")) << b->Output();
  EXPECT_EQ("succeeded", RunToEnd(*b, token, "count").value("state", ""));
  EXPECT_EQ(6, Lines(ReadFile(counter)));

  // A server started again (on a's data) follows now.
  a = Server(a_dir_);
  EXPECT_NE(std::string::npos, a->Output().find("follower")) << a->Output();
  EXPECT_EQ("succeeded", RunToEnd(*a, token, "count").value("state", ""));
  EXPECT_EQ(8, Lines(ReadFile(counter)));
}

TEST_F(PostgresE2ETest, NotebooksAndServicesRecordsLiveInPostgres) {
  auto s = Server(a_dir_);
  ASSERT_TRUE(s);
  std::string token = s->Login("admin", "admin-pass-1");
  // Documents of every kind are stored and read back the same.
  Json nb = Call(*s, token, "POST", "/api/v1/notebooks", R"({"name": "lab", "resources": {"memory": "1G"}})", 201);
  EXPECT_EQ("lab", nb.value("name", ""));
  Call(*s, token, "POST", "/api/v1/notebooks", R"({"name": "lab"})", 409);
  Json svc = Call(*s, token, "POST", "/api/v1/services",
                  R"({"name": "web", "image": "quader/python:3.11", "command": ["sleep", "600"], "ports": [8080]})",
                  201);
  EXPECT_EQ("web", svc.value("name", ""));
  Json project = Call(*s, token, "POST", "/api/v1/projects", R"({"name": "team", "description": "on pg"})", 201);
  s->Stop();
  // Everything is still there after a restart.
  s = Server(a_dir_);
  token = s->Login("admin", "admin-pass-1");
  EXPECT_EQ(1u, Call(*s, token, "GET", "/api/v1/notebooks", "", 200)["items"].size());
  EXPECT_EQ("on pg", Call(*s, token, "GET", "/api/v1/projects/team", "", 200).value("description", ""));
  Call(*s, token, "DELETE", "/api/v1/services/web", "", 204);
  Call(*s, token, "DELETE", "/api/v1/notebooks/lab", "", 204);
}

}  // namespace
}  // namespace quader::testing
