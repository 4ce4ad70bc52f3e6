// The run's plan (src/pipeline/plan.h), ticked step by step: events in,
// tasks to start and states out. No runtime, store, threads or clock: the
// time is a number the test moves.

#include "pipeline/plan.h"

#include "experiment/states.h"

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace quader::pipeline {
namespace {

class PlanTest : public ::testing::Test {
 protected:
  // Tasks as "name<up1,up2" (no '<': no upstream), with options set after.
  void Build(const std::vector<std::string>& specs, int parallelism) {
    tasks_.clear();
    index_.clear();
    for (const std::string& spec : specs) {
      PlanTask t;
      t.name = spec.substr(0, spec.find('<'));
      index_[t.name] = static_cast<int>(tasks_.size());
      tasks_.push_back(t);
    }
    for (size_t i = 0; i < specs.size(); ++i) {
      size_t lt = specs[i].find('<');
      if (lt == std::string::npos) continue;
      std::stringstream ups(specs[i].substr(lt + 1));
      for (std::string up; std::getline(ups, up, ',');) tasks_[i].upstream.push_back(index_.at(up));
    }
    parallelism_ = parallelism;
  }

  PlanTask& Task(const std::string& name) { return tasks_[index_.at(name)]; }

  void Make() { plan_ = std::make_unique<Plan>(tasks_, parallelism_, now_); }

  // The names FindWork returns now, sorted.
  std::vector<std::string> Start() {
    std::vector<std::string> out;
    for (int i : plan_->FindWork(now_)) out.push_back(plan_->name(i));
    std::sort(out.begin(), out.end());
    return out;
  }

  void Finish(const std::string& name, AttemptOutcome outcome, const std::string& reason = "") {
    plan_->AttemptFinished(index_.at(name), outcome, reason, now_);
  }

  TaskState State(const std::string& name) { return plan_->task(index_.at(name)).state; }
  const PlanTaskStatus& Status(const std::string& name) { return plan_->task(index_.at(name)); }

  std::vector<std::string> Changed() {
    std::vector<std::string> out;
    for (int i : plan_->TakeChanged()) out.push_back(plan_->name(i));
    return out;
  }

  std::vector<PlanTask> tasks_;
  std::map<std::string, int> index_;
  int parallelism_ = 1;
  int64_t now_ = 1'000'000;
  std::unique_ptr<Plan> plan_;
};

using Names = std::vector<std::string>;

TEST_F(PlanTest, DiamondStartsInDependencyOrderAndSucceeds) {
  Build({"a", "b<a", "c<a", "d<b,c"}, 4);
  Make();
  EXPECT_EQ(plan_->run_state(), RunState::kPending);
  EXPECT_EQ(Start(), Names({"a"}));
  EXPECT_EQ(plan_->run_state(), RunState::kRunning);
  EXPECT_EQ(Start(), Names{});  // nothing else is ready
  Finish("a", AttemptOutcome::kSucceeded);
  EXPECT_EQ(Start(), Names({"b", "c"}));
  Finish("b", AttemptOutcome::kSucceeded);
  EXPECT_EQ(Start(), Names{});  // d still waits for c
  Finish("c", AttemptOutcome::kSucceeded);
  EXPECT_EQ(Start(), Names({"d"}));
  EXPECT_FALSE(plan_->done());
  Finish("d", AttemptOutcome::kSucceeded);
  EXPECT_TRUE(plan_->done());
  EXPECT_EQ(plan_->run_state(), RunState::kSucceeded);
  EXPECT_EQ(plan_->run_reason(), "");
  for (const char* t : {"a", "b", "c", "d"}) {
    EXPECT_EQ(State(t), TaskState::kSucceeded) << t;
    EXPECT_EQ(Status(t).attempt, 1) << t;
  }
}

TEST_F(PlanTest, WideFanOutNeverExceedsParallelismAndKeepsReadyOrder) {
  std::vector<std::string> specs = {"root"};
  for (int i = 0; i < 10; ++i) specs.push_back("w" + std::to_string(i) + "<root");
  Build(specs, 3);
  Make();
  EXPECT_EQ(Start(), Names({"root"}));
  Finish("root", AttemptOutcome::kSucceeded);
  std::vector<int> first = plan_->FindWork(now_);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(plan_->name(first[0]), "w0");  // the order they became ready: task order
  EXPECT_EQ(plan_->name(first[2]), "w2");
  EXPECT_EQ(plan_->running(), 3);
  EXPECT_EQ(Start(), Names{});  // every slot is taken
  Finish("w1", AttemptOutcome::kSucceeded);
  EXPECT_EQ(Start(), Names({"w3"}));
  int started = 5;  // root, w0-w2, w3
  while (!plan_->done()) {
    for (int i = 0; i < 10; ++i) {
      std::string w = "w" + std::to_string(i);
      if (State(w) == TaskState::kRunning) Finish(w, AttemptOutcome::kSucceeded);
    }
    std::vector<int> more = plan_->FindWork(now_);
    EXPECT_LE(more.size(), 3u);
    started += static_cast<int>(more.size());
  }
  EXPECT_EQ(started, 11);
  EXPECT_EQ(plan_->run_state(), RunState::kSucceeded);
}

TEST_F(PlanTest, RetriesWithDoublingBackoffThenFailsDownstreamButSiblingsFinish) {
  Build({"a", "b<a", "c<a", "d<b,c"}, 4);
  Task("b").max_attempts = 3;
  Task("b").retry_backoff_seconds = 10;
  Make();
  Start();
  Finish("a", AttemptOutcome::kSucceeded);
  EXPECT_EQ(Start(), Names({"b", "c"}));
  Changed();
  Finish("b", AttemptOutcome::kFailed, "exit code 1");
  EXPECT_EQ(Changed(), Names({"b"}));
  EXPECT_EQ(State("b"), TaskState::kPending);
  EXPECT_EQ(Status("b").reason, "attempt 1 of 3 failed (exit code 1); retrying in 10s");
  EXPECT_EQ(Status("b").not_before_ms, now_ + 10'000);
  EXPECT_EQ(plan_->NextRetryMs(), now_ + 10'000);
  now_ += 9'999;
  EXPECT_EQ(Start(), Names{});  // the backoff is not over
  now_ += 1;
  EXPECT_EQ(Start(), Names({"b"}));
  EXPECT_EQ(Status("b").attempt, 2);
  Finish("b", AttemptOutcome::kFailed, "exit code 2");
  EXPECT_EQ(Status("b").reason, "attempt 2 of 3 failed (exit code 2); retrying in 20s");  // doubled
  now_ += 20'000;
  EXPECT_EQ(Start(), Names({"b"}));
  EXPECT_EQ(Status("b").attempt, 3);
  Finish("b", AttemptOutcome::kFailed, "exit code 3");
  EXPECT_EQ(State("b"), TaskState::kFailed);
  EXPECT_EQ(Status("b").reason, "exit code 3");
  EXPECT_EQ(State("d"), TaskState::kUpstreamFailed);
  EXPECT_EQ(Status("d").reason, "upstream task b failed");
  EXPECT_FALSE(plan_->done());  // c still runs
  EXPECT_EQ(plan_->run_state(), RunState::kRunning);
  Finish("c", AttemptOutcome::kSucceeded);
  EXPECT_EQ(State("c"), TaskState::kSucceeded);
  EXPECT_TRUE(plan_->done());
  EXPECT_EQ(plan_->run_state(), RunState::kFailed);
  EXPECT_EQ(plan_->run_reason(), "task b failed");
}

TEST_F(PlanTest, BackoffIsCappedAtADayWithoutOverflow) {
  Build({"a"}, 1);
  Task("a").max_attempts = 80;
  Task("a").retry_backoff_seconds = int64_t{1} << 40;
  Make();
  for (int k = 0; k < 70; ++k) {
    ASSERT_EQ(Start(), Names({"a"})) << k;
    Finish("a", AttemptOutcome::kFailed, "x");
    ASSERT_EQ(Status("a").not_before_ms, now_ + 24 * 3600 * 1000) << k;
    now_ = *Status("a").not_before_ms;
  }
}

TEST_F(PlanTest, NotStartableFailsWithoutRetry) {
  Build({"a", "b<a"}, 1);
  Task("a").max_attempts = 5;
  Make();
  Start();
  plan_->AttemptFinished(0, AttemptOutcome::kFailed, "args.x: required", now_, /*may_retry=*/false);
  EXPECT_EQ(State("a"), TaskState::kFailed);
  EXPECT_EQ(State("b"), TaskState::kUpstreamFailed);
  EXPECT_EQ(plan_->run_state(), RunState::kFailed);
}

TEST_F(PlanTest, SkippedTasksTakeNoSlotAndReleaseDownstream) {
  Build({"a", "b<a", "c<b"}, 1);
  Task("a").skip = true;
  Task("b").skip = true;
  Make();
  EXPECT_EQ(Start(), Names({"c"}));  // a and b resolved on the way, c got the slot
  EXPECT_EQ(State("a"), TaskState::kSkipped);
  EXPECT_EQ(Status("b").reason, "skip is set on the task");
  EXPECT_EQ(plan_->run_state(), RunState::kRunning);
  Finish("c", AttemptOutcome::kSucceeded);
  EXPECT_EQ(plan_->run_state(), RunState::kSucceeded);
}

TEST_F(PlanTest, StopEndsPendingAtOnceAndRunningWhenTheyEnd) {
  Build({"a", "b", "c<a", "d<c"}, 2);
  Make();
  EXPECT_EQ(Start(), Names({"a", "b"}));
  Changed();
  plan_->Stop(now_);
  plan_->Stop(now_);  // idempotent
  EXPECT_EQ(Changed(), Names({"c", "d"}));
  EXPECT_EQ(State("c"), TaskState::kStopped);
  EXPECT_EQ(Status("c").reason, "the run was stopped");
  EXPECT_EQ(Start(), Names{});
  EXPECT_FALSE(plan_->done());
  Finish("a", AttemptOutcome::kSucceeded);  // finished before the stop reached it
  Finish("b", AttemptOutcome::kFailed, "killed");  // a failure while stopping is a stop
  EXPECT_EQ(State("a"), TaskState::kSucceeded);
  EXPECT_EQ(State("b"), TaskState::kStopped);
  EXPECT_TRUE(plan_->done());
  EXPECT_EQ(plan_->run_state(), RunState::kStopped);
  EXPECT_EQ(plan_->run_reason(), "stopped on request");
}

TEST_F(PlanTest, StopDropsWaitingRetries) {
  Build({"a"}, 1);
  Task("a").max_attempts = 2;
  Task("a").retry_backoff_seconds = 60;
  Make();
  Start();
  Finish("a", AttemptOutcome::kFailed, "x");
  plan_->Stop(now_);
  EXPECT_EQ(State("a"), TaskState::kStopped);
  EXPECT_EQ(plan_->NextRetryMs(), std::nullopt);
  now_ += 61'000;
  EXPECT_EQ(Start(), Names{});
  EXPECT_EQ(plan_->run_state(), RunState::kStopped);
}

TEST_F(PlanTest, RecoveryContinuesFromStoredStates) {
  // Stored: a succeeded, b running (attempt 2), c pending (ready), d waiting on b and c,
  // e pending for a retry until later.
  Build({"a", "b<a", "c<a", "d<b,c", "e<a"}, 2);
  Task("a").state = TaskState::kSucceeded;
  Task("a").attempt = 1;
  Task("b").state = TaskState::kRunning;
  Task("b").attempt = 2;
  Task("e").attempt = 1;
  Task("e").max_attempts = 2;
  Task("e").not_before_ms = now_ + 5'000;
  Task("c").ready_at_ms = now_ - 100;
  Make();
  EXPECT_EQ(plan_->running(), 1);
  EXPECT_EQ(plan_->run_state(), RunState::kRunning);
  EXPECT_EQ(Status("c").ready_at_ms, now_ - 100);  // kept from the store
  EXPECT_EQ(Start(), Names({"c"}));                 // one slot left; b is not started again
  EXPECT_EQ(Changed(), Names({"c"}));
  now_ += 5'000;
  Finish("c", AttemptOutcome::kSucceeded);
  EXPECT_EQ(Start(), Names({"e"}));
  EXPECT_EQ(Status("e").attempt, 2);
  Finish("b", AttemptOutcome::kSucceeded);
  Finish("e", AttemptOutcome::kSucceeded);
  EXPECT_EQ(Start(), Names({"d"}));
  Finish("d", AttemptOutcome::kSucceeded);
  EXPECT_EQ(plan_->run_state(), RunState::kSucceeded);
}

TEST_F(PlanTest, RecoveryEndsPendingTasksBelowAStoredFailure) {
  Build({"a", "b<a", "c<b", "x"}, 1);
  Task("a").state = TaskState::kFailed;
  Task("a").attempt = 1;
  Task("x").state = TaskState::kSucceeded;
  Make();
  EXPECT_EQ(Changed(), Names({"b", "c"}));
  EXPECT_EQ(State("c"), TaskState::kUpstreamFailed);
  EXPECT_EQ(Status("c").reason, "upstream task a failed");
  EXPECT_TRUE(plan_->done());
  EXPECT_EQ(plan_->run_state(), RunState::kFailed);
}

TEST_F(PlanTest, RecoveryOfAStopRequestedRunEndsItsPendingTasks) {
  Build({"a", "b<a"}, 1);
  Task("a").state = TaskState::kRunning;
  Task("a").attempt = 1;
  Make();
  plan_->Stop(now_);
  EXPECT_EQ(State("b"), TaskState::kStopped);
  Finish("a", AttemptOutcome::kStopped);
  EXPECT_EQ(plan_->run_state(), RunState::kStopped);
}

TEST_F(PlanTest, FinishedEventsForTasksNotRunningAreIgnored) {
  Build({"a", "b<a"}, 1);
  Make();
  Finish("b", AttemptOutcome::kSucceeded);  // never started
  plan_->AttemptFinished(7, AttemptOutcome::kSucceeded, "", now_);
  plan_->AttemptFinished(-1, AttemptOutcome::kSucceeded, "", now_);
  EXPECT_EQ(State("b"), TaskState::kPending);
  EXPECT_EQ(Start(), Names({"a"}));
  Finish("a", AttemptOutcome::kSucceeded);
  Finish("a", AttemptOutcome::kFailed);  // a second report of the same attempt
  EXPECT_EQ(State("a"), TaskState::kSucceeded);
  EXPECT_EQ(plan_->running(), 0);
}

TEST_F(PlanTest, DuplicateAndSelfEdgesAreIgnored) {
  Build({"a", "b<a,a", "c<c"}, 4);
  Make();
  EXPECT_EQ(Start(), Names({"a", "c"}));
  Finish("a", AttemptOutcome::kSucceeded);
  EXPECT_EQ(Start(), Names({"b"}));  // waited once for a, not twice
}

// Table: (tasks, parallelism, events) -> run state and reason at the end.
struct EndRow {
  std::vector<std::string> tasks;
  std::vector<std::pair<std::string, AttemptOutcome>> finishes;  // applied as they start
  RunState state;
  std::string reason;
};

TEST_F(PlanTest, RunOutcomeTable) {
  const std::vector<EndRow> rows = {
      // every task succeeded
      {{"a", "b<a"}, {{"a", AttemptOutcome::kSucceeded}, {"b", AttemptOutcome::kSucceeded}}, RunState::kSucceeded, ""},
      // the first failure names the run's reason
      {{"a", "b"}, {{"a", AttemptOutcome::kFailed}, {"b", AttemptOutcome::kFailed}}, RunState::kFailed, "task a failed"},
      // a stopped task (without a stop request) stops the run
      {{"a", "b"}, {{"a", AttemptOutcome::kSucceeded}, {"b", AttemptOutcome::kStopped}}, RunState::kStopped,
       "task b was stopped"},
      // failed wins over stopped
      {{"a", "b"}, {{"a", AttemptOutcome::kStopped}, {"b", AttemptOutcome::kFailed}}, RunState::kFailed, "task b failed"},
  };
  for (const EndRow& row : rows) {
    Build(row.tasks, 4);
    Make();
    Start();
    for (const auto& [name, outcome] : row.finishes) {
      Finish(name, outcome, "why");
      Start();
    }
    EXPECT_TRUE(plan_->done()) << row.tasks.size();
    EXPECT_EQ(plan_->run_state(), row.state) << row.reason;
    EXPECT_EQ(plan_->run_reason(), row.reason);
  }
}

TEST(StatesTest, WireNamesRoundTrip) {
  for (TaskState s : {TaskState::kPending, TaskState::kRunning, TaskState::kSucceeded, TaskState::kFailed,
                      TaskState::kSkipped, TaskState::kUpstreamFailed, TaskState::kStopped}) {
    EXPECT_EQ(ParseTaskState(WireName(s)), s);
  }
  for (RunState s : {RunState::kPending, RunState::kRunning, RunState::kSucceeded, RunState::kFailed, RunState::kStopped}) {
    EXPECT_EQ(ParseRunState(WireName(s)), s);
  }
  EXPECT_EQ(WireName(TaskState::kUpstreamFailed), "upstream_failed");
  EXPECT_EQ(ParseTaskState("Succeeded"), std::nullopt);
  EXPECT_EQ(ParseRunState("skipped"), std::nullopt);
  EXPECT_TRUE(IsTerminalWord("upstream_failed"));
  EXPECT_FALSE(IsTerminalWord("running"));
  EXPECT_FALSE(IsTerminalWord("nonsense"));
}

TEST(StatesTest, TrialWordsRoundTrip) {
  using experiment::TrialState;
  for (TrialState s : {TrialState::kRunning, TrialState::kSucceeded, TrialState::kFailed, TrialState::kStopped,
                       TrialState::kEarlyStopped}) {
    EXPECT_EQ(experiment::ParseTrialState(experiment::WireName(s)), s);
  }
  EXPECT_EQ(experiment::WireName(TrialState::kEarlyStopped), "early_stopped");
  EXPECT_TRUE(experiment::IsTerminalTrialWord("early_stopped"));
  EXPECT_FALSE(experiment::IsTerminalTrialWord("running"));
  EXPECT_FALSE(experiment::IsTerminalTrialWord("upstream_failed"));
}

}  // namespace
}  // namespace quader::pipeline
