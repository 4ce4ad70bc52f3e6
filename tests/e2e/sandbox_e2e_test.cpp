// A hostile user's task on the real server (process runtime), trying what a
// user who wants to become admin tries (docs/security.md): read the server's
// secrets, edit the store, write another user's directory. Each attempt must
// fail, and nothing may change.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

class SandboxE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "process"},
                                              std::map<std::string, std::string>{
                                                  {"QUADER_ADMIN_PASSWORD", "admin-pass-1"}});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", "admin-pass-1");
    ASSERT_FALSE(admin_.empty());
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status,
            const std::string& token) {
    return CallJson(*server_, method, path, body, status, token);
  }

  Json WaitFinished(int64_t id, const std::string& token) {
    auto deadline = steady_clock::now() + std::chrono::seconds(60);
    Json run;
    while (steady_clock::now() < deadline) {
      run = Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200, token);
      std::string s = run.value("state", "");
      if (s != "pending" && s != "running") return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "run " << id << " did not finish: " << run.dump();
    return run;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(SandboxE2ETest, AHostileTaskCannotBecomeAdminOrReachOthers) {
  if (server_->Output().find("WARNING: workloads cannot be isolated") != std::string::npos) {
    GTEST_SKIP() << "this machine cannot isolate workloads: " << server_->Output();
  }
  // The admin's file, which mallory's task must not touch.
  fs::create_directories(dir_.path() + "/users/admin/work");
  std::ofstream(dir_.path() + "/users/admin/work/secret.txt") << "admin only\n";
  Call("POST", "/api/v1/users", R"({"username": "mallory", "password": "password-mallory"})", 201, admin_);
  Call("POST", "/api/v1/apply", R"(
kind: JobTemplate
name: shell
image: quader/base:bookworm
command: ["sh", "-c", "eval \"$SCRIPT\""]
)", 200, admin_);
  std::string mallory = server_->Login("mallory", "password-mallory");
  ASSERT_FALSE(mallory.empty());

  const std::string data = dir_.path();
  const std::string script =
      "cat /etc/shadow >/dev/null 2>&1 && echo ESCAPE-shadow; "
      "cat /proc/*/environ 2>/dev/null | tr '\\\\0' '\\\\n' | grep -q admin-pass-[1] && echo ESCAPE-env; "
      "sqlite3 " + data + "/quader.db \\\"update users set is_admin=1\\\" 2>/dev/null && echo ESCAPE-store; "
      "[ -e " + data + "/quader.db ] && echo ESCAPE-sees-store; "
      "cat " + data + "/users/admin/work/secret.txt 2>/dev/null && echo ESCAPE-read-admin; "
      "echo owned > /mnt/admin/secret.txt 2>/dev/null && echo ESCAPE-write-admin; "
      "[ \\\"$(id -u)\\\" = 0 ] && echo ESCAPE-root; "
      "echo whoami=$(whoami) home=$HOME; echo done";
  Call("POST", "/api/v1/apply",
       "kind: Pipeline\nname: attack\ntasks:\n  - name: try\n    template: shell\n    env: {SCRIPT: \"" + script + "\"}\n",
       200, mallory);
  Json run = Call("POST", "/api/v1/pipelines/attack/run", "{}", 201, mallory);
  Json done = WaitFinished(run["id"].get<int64_t>(), mallory);
  EXPECT_EQ(done.value("state", ""), "succeeded") << done.dump();
  std::string log =
      server_->Call("GET", "/api/v1/runs/" + std::to_string(run["id"].get<int64_t>()) + "/tasks/try/logs", "", mallory)
          .body;
  EXPECT_EQ(log.find("ESCAPE"), std::string::npos) << log;
  EXPECT_NE(log.find("whoami=mallory home=/home/mallory"), std::string::npos) << log;
  EXPECT_NE(log.find("done"), std::string::npos) << log;

  // Nothing changed: mallory is no admin, the admin's file is intact.
  Json me = Call("GET", "/api/v1/me", "", 200, mallory);
  EXPECT_EQ(me["user"].value("admin", true), false) << me.dump();
  EXPECT_EQ(ReadFile(dir_.path() + "/users/admin/work/secret.txt"), "admin only\n");
  // The task ran as mallory's own host uid, not root: her directory is hers.
  struct stat st {};
  ASSERT_EQ(stat((dir_.path() + "/users/mallory/work").c_str(), &st), 0);
  EXPECT_GE(st.st_uid, 2000000u);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

}  // namespace
}  // namespace quader::testing
