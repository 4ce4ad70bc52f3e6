// Tests `quader model register|stage` in-process against a FakeServer: what
// it sends, that a missing model is made first, what it prints, exit codes.

#include <gtest/gtest.h>

#include "cli/exit_codes.h"
#include "cli_fixture.h"
#include "core/documents.h"

namespace quader::cli {
namespace {

using testing::RunResult;

class ModelCommandTest : public testing::CliFixture {
 protected:
  void SetUp() override { LogIn(); }
};

TEST_F(ModelCommandTest, RegisterMakesAMissingModelThenItsVersion) {
  server_.SetReply("GET", "/api/v1/models/iris?project=team", 404,
                   R"({"error": {"code": "not_found", "message": "model \"iris\" not found"}})");
  server_.SetReply("POST", "/api/v1/models", 201, R"({"id": 1, "name": "iris", "project": "team"})");
  server_.SetReply("POST", "/api/v1/models/iris/versions?project=team", 201,
                   R"({"version": 1, "files": [{"path": "model.joblib"}], "size_bytes": 1234,
                       "skipped": ["link"]})");
  RunResult r = Run({"model", "register", "iris", "--run", "12", "--task", "train", "--path", "model.joblib",
                     "--framework", "sklearn", "--metric", "accuracy=0.97", "--param", "C=1", "--param",
                     "kernel=rbf", "-p", "team"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "model iris created\n"
            "model iris version 1 registered: 1 file, 1234 bytes, from run 12 task train\n"
            "left out (not a regular file): link\n");
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(Json::parse(requests[1].body), Json({{"name", "iris"}, {"project", "team"}}));
  EXPECT_EQ(Json::parse(requests[2].body),
            Json({{"run", 12}, {"task", "train"}, {"path", "model.joblib"}, {"framework", "sklearn"},
                  {"metrics", {{"accuracy", 0.97}}}, {"params", {{"C", 1}, {"kernel", "rbf"}}}}));
}

TEST_F(ModelCommandTest, StagePutsTheStage) {
  server_.SetReply("PUT", "/api/v1/models/iris/versions/2", 200, R"({"version": 2, "stage": "production"})");
  RunResult r = Run({"model", "stage", "iris", "2", "production"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "model iris version 2: production\n");
  EXPECT_EQ(Json::parse(server_.requests().back().body), Json({{"stage", "production"}}));
}

TEST_F(ModelCommandTest, DeployMakesOrSwitchesAService) {
  server_.SetReply("POST", "/api/v1/models/iris/versions/1/deploy", 201,
                   R"({"service": "serving-iris-1", "model_ref": "iris@1", "result": "created"})");
  RunResult made = Run({"model", "deploy", "iris", "1"});
  ASSERT_EQ(made.code, kExitOk) << made.err;
  EXPECT_EQ(made.out, "inference service serving-iris-1 created: serves iris@1\n");
  EXPECT_EQ(Json::parse(server_.requests().back().body), Json::object());
  server_.SetReply("POST", "/api/v1/models/iris/versions/2/deploy?project=team", 200,
                   R"({"service": "serving-iris-1", "model_ref": "iris@2", "result": "updated"})");
  RunResult switched = Run({"model", "deploy", "iris", "2", "--service", "serving-iris-1", "-p", "team"});
  ASSERT_EQ(switched.code, kExitOk) << switched.err;
  EXPECT_EQ(switched.out,
            "inference service serving-iris-1 updated: serves iris@2\n"
            "its replicas are replaced one by one once the new ones are ready (quader get inference-services)\n");
  EXPECT_EQ(Json::parse(server_.requests().back().body), Json({{"service", "serving-iris-1"}}));
}

TEST_F(ModelCommandTest, BadArgumentsAreUsageErrorsAndSendNothing) {
  EXPECT_EQ(Run({"model", "register", "iris", "--task", "t", "--framework", "sklearn"}).code, kExitUsage);
  EXPECT_EQ(Run({"model", "register", "iris", "--run", "1", "--task", "t", "--framework", "sklearn", "--metric",
                 "accuracy=high"})
                .code,
            kExitUsage);
  EXPECT_EQ(Run({"model", "stage", "iris", "2", "live"}).code, kExitUsage);
  EXPECT_EQ(Run({"model", "publish", "iris"}).code, kExitUsage);
  EXPECT_EQ(Run({"model", "deploy", "iris"}).code, kExitUsage);
  EXPECT_TRUE(server_.requests().empty());
}

}  // namespace
}  // namespace quader::cli
