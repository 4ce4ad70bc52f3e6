// Tests `quader deploy` in-process against a FakeServer: the action it posts,
// what it prints, and its exit status.

#include <gtest/gtest.h>

#include "cli/exit_codes.h"
#include "cli_fixture.h"
#include "core/documents.h"

namespace quader::cli {
namespace {

using testing::RunResult;

class DeployCommandTest : public testing::CliFixture {
 protected:
  void SetUp() override { LogIn(); }
  static std::string Reply(const std::string& status) {
    return Json({{"name", "serving-iris-1"},
                 {"model_status", status},
                 {"hosts",
                  {"serving-iris-1.service.localhost", "test.serving-iris-1.service.localhost",
                   "debug.serving-iris-1.service.localhost"}}})
        .dump();
  }
};

TEST_F(DeployCommandTest, DeployPostsTheStageAndPrintsTheHost) {
  server_.SetReply("POST", "/api/v1/inference-services/serving-iris-1/deploy/test?project=team", 200, Reply("test"));
  RunResult r = Run({"deploy", "serving-iris-1", "--stage", "test", "-p", "team"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "inference service serving-iris-1: model status test\n"
            "answers on http://test.serving-iris-1.service.localhost/ once a replica is ready\n");
}

TEST_F(DeployCommandTest, ShellDeploysDebugIdleAndSaysHowToOpenIt) {
  Json reply = Json::parse(Reply("debug"));
  reply["debug_idle"] = true;
  server_.SetReply("POST", "/api/v1/inference-services/serving-iris-1/deploy/debug?project=team", 200, reply.dump());
  RunResult r = Run({"deploy", "serving-iris-1", "--stage", "debug", "--shell", "-p", "team"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ASSERT_FALSE(server_.requests().empty());
  EXPECT_EQ(Json::parse(server_.requests().back().body), Json({{"idle", true}}));
  EXPECT_EQ(r.out,
            "inference service serving-iris-1: model status debug\n"
            "its replica waits idle (its command is not run): open a shell in it with\n"
            "  quader exec inference-service serving-iris-1 -p team\n"
            "and start the server there; it answers on http://debug.serving-iris-1.service.localhost/ once ready\n");
  EXPECT_EQ(Run({"deploy", "serving-iris-1", "--stage", "test", "--shell"}).code, kExitUsage);
}

TEST_F(DeployCommandTest, ClearPostsToClear) {
  server_.SetReply("POST", "/api/v1/inference-services/serving-iris-1/clear", 200, Reply("offline"));
  RunResult r = Run({"deploy", "serving-iris-1", "--clear"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "inference service serving-iris-1: model status offline\n");
}

TEST_F(DeployCommandTest, TheServersRefusalExitsOne) {
  server_.SetReply("POST", "/api/v1/inference-services/serving-iris-1/deploy/debug", 409,
                   R"({"error": {"code": "conflict", "message": "serving-iris-1 is online (serving production traffic): clear it before deploying it to debug"}})");
  RunResult r = Run({"deploy", "serving-iris-1", "--stage", "debug"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("clear it before deploying it to debug"), std::string::npos) << r.err;
}

TEST_F(DeployCommandTest, NeedsExactlyOneOfStageAndClear) {
  EXPECT_EQ(Run({"deploy", "serving-iris-1"}).code, kExitUsage);
  EXPECT_EQ(Run({"deploy", "serving-iris-1", "--stage", "prod", "--clear"}).code, kExitUsage);
  EXPECT_EQ(Run({"deploy", "serving-iris-1", "--stage", "staging"}).code, kExitUsage);
}

}  // namespace
}  // namespace quader::cli
