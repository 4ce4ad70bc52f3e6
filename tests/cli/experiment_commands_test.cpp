// Tests `quader trials` and `quader stop --experiment` in-process against a
// FakeServer: what each sends, what it prints, and its exit status.

#include <gtest/gtest.h>

#include "cli/exit_codes.h"
#include "cli_fixture.h"
#include "core/documents.h"

namespace quader::cli {
namespace {

using testing::RunResult;

Json Trial(int seq, const std::string& state, Json value, Json params) {
  return {{"sequence", seq}, {"trial_id", "t" + std::to_string(seq)}, {"state", state}, {"value", value},
          {"intermediate_count", 3}, {"parameters", params}, {"reason", ""}};
}

class ExperimentCommandsTest : public testing::CliFixture {
 protected:
  void SetUp() override {
    LogIn();
    Json exp = {{"name", "search"}, {"key", "abcd1234"}, {"state", "running"}, {"tuner", "TPE"},
                {"objective", "minimize"}, {"trials", {{"total", 3}, {"succeeded", 2}}}};
    server_.SetReply("GET", "/api/v1/experiments/search?project=team", 200, exp.dump());
    Json items = {{"items",
                   {Trial(0, "succeeded", 0.5, {{"lr", 0.1}}), Trial(1, "running", nullptr, {{"lr", 0.2}}),
                    Trial(2, "succeeded", 0.25, {{"lr", 0.3}})}}};
    server_.SetReply("GET", "/api/v1/experiments/search/trials?project=team", 200, items.dump());
  }
};

TEST_F(ExperimentCommandsTest, TrialsPrintsASummaryAndOneRowPerTrial) {
  RunResult r = Run({"trials", "search", "--project", "team"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("experiment search (abcd1234): running, 2 of 3 trials succeeded, tuner TPE, minimize"),
            std::string::npos)
      << r.out;
  size_t first = r.out.find("t0"), second = r.out.find("t1"), third = r.out.find("t2");
  ASSERT_NE(third, std::string::npos) << r.out;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_NE(r.out.find("{\"lr\":0.3}"), std::string::npos) << r.out;
}

TEST_F(ExperimentCommandsTest, TrialsBestSortsByTheObjectiveWithValuelessTrialsLast) {
  RunResult r = Run({"trials", "search", "--project", "team", "--best"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  size_t t0 = r.out.find("t0"), t1 = r.out.find("t1"), t2 = r.out.find("t2");
  EXPECT_LT(t2, t0) << r.out;  // minimize: 0.25 before 0.5
  EXPECT_LT(t0, t1) << r.out;  // no value last
}

TEST_F(ExperimentCommandsTest, TrialsOfAnUnknownExperimentExitsOneWithTheServersMessage) {
  server_.SetReply("GET", "/api/v1/experiments/nope", 404,
                   R"({"error": {"code": "not_found", "message": "experiment \"nope\" not found"}})");
  RunResult r = Run({"trials", "nope"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("experiment \"nope\" not found"), std::string::npos) << r.err;
}

TEST_F(ExperimentCommandsTest, StopExperimentPostsToItsStopAction) {
  server_.SetReply("POST", "/api/v1/experiments/search/stop?project=team", 200,
                   Json({{"name", "search"}, {"state", "running"}}).dump());
  RunResult r = Run({"stop", "--experiment", "search", "-p", "team"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "experiment search stopping\n");
}

TEST_F(ExperimentCommandsTest, StopNeedsARunOrAnExperimentButNotBoth) {
  EXPECT_EQ(Run({"stop"}).code, kExitUsage);
  EXPECT_EQ(Run({"stop", "12", "--experiment", "search"}).code, kExitUsage);
}

}  // namespace
}  // namespace quader::cli
