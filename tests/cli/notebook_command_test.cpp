// Tests `quader notebook ACTION NAME` in-process against a FakeServer: the
// request it sends, what it prints, and its exit status.

#include <gtest/gtest.h>

#include "cli/exit_codes.h"
#include "cli_fixture.h"
#include "core/documents.h"

namespace quader::cli {
namespace {

using testing::RunResult;

class NotebookCommandTest : public testing::CliFixture {
 protected:
  void SetUp() override { LogIn(); }
  static std::string Reply(const std::string& state, const std::string& reason) {
    return Json({{"name", "lab"},
                 {"state", state},
                 {"reason", reason},
                 {"path", "/notebook/team/lab/"},
                 {"url", "http://127.0.0.1:8081/notebook/team/lab/"}})
        .dump();
  }
};

TEST_F(NotebookCommandTest, ResetPostsAndPrintsWhereItOpens) {
  server_.SetReply("POST", "/api/v1/notebooks/lab/reset?project=team", 200, Reply("pending", "reset by alice"));
  RunResult r = Run({"notebook", "reset", "lab", "-p", "team"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "notebook lab: pending (reset by alice)\n"
            "opens at http://127.0.0.1:8081/notebook/team/lab/ once running (signed in as its owner)\n");
}

TEST_F(NotebookCommandTest, StopAndUrl) {
  server_.SetReply("POST", "/api/v1/notebooks/lab/stop", 200, Reply("stopped", "stopped by alice"));
  RunResult r = Run({"notebook", "stop", "lab"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "notebook lab: stopped (stopped by alice)\n");
  server_.SetReply("GET", "/api/v1/notebooks/lab", 200, Reply("running", ""));
  r = Run({"notebook", "url", "lab"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "http://127.0.0.1:8081/notebook/team/lab/\n");
}

TEST_F(NotebookCommandTest, ErrorsAndUsage) {
  server_.SetReply("POST", "/api/v1/notebooks/nope/start", 404,
                   R"({"error": {"code": "not_found", "message": "notebook not found: nope"}})");
  RunResult r = Run({"notebook", "start", "nope"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("notebook not found: nope"), std::string::npos) << r.err;
  EXPECT_EQ(Run({"notebook", "explode", "lab"}).code, kExitUsage);
  EXPECT_EQ(Run({"notebook", "reset"}).code, kExitUsage);
}

}  // namespace
}  // namespace quader::cli
