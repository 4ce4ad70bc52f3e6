// One supervised attempt (workload/attempt.h) against the fake runtime and a
// fake clock: start or adopt, the end reported once, the log saved, the
// workload removed only after the owner stored the end; cancel, deadline,
// lost workloads, abandon.
#include "workload/attempt.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "core/log_stamp.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_runtime.h"
#include "fakes/temp_dir.h"

namespace quader::workload {
namespace {

using namespace std::chrono_literals;
using quader::testing::FakeClock;
using quader::testing::FakeRuntime;
using quader::testing::TempDir;
using How = AttemptEnd::How;

class AttemptTest : public ::testing::Test {
 protected:
  // Makes the attempt of workload "w1" (not started yet).
  void Make(AttemptOptions o = {}) {
    runtime::WorkloadSpec spec;
    spec.name = "w1";
    spec.image = "quader/python:3.11";
    spec.command = {"python3", "train.py"};
    if (o.log_path.empty()) o.log_path = dir_.File("w1.log");
    AttemptHooks hooks;
    hooks.started = [this](const runtime::WorkloadStatus&) { Note([&] { started_++; }); };
    hooks.ended = [this](AttemptEnd end) { Note([&] { ends_.push_back(std::move(end)); }); };
    hooks.exited = [this] { Note([&] { exited_ = true; }); };
    if (fail_check_) {
      hooks.check = [](AttemptEnd& end) {
        end.how = How::kFailed;
        end.reason = "outputs.json is not a JSON object";
      };
    }
    attempt_ = std::make_unique<Attempt>(rt_, clock_, std::move(spec), std::move(o), std::move(hooks));
  }

  void Note(const std::function<void()>& change) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      change();
    }
    cv_.notify_all();
  }

  // Waits (on real time, bounded) until `pred` holds under the lock.
  bool Until(const std::function<bool()>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 10s, pred);
  }

  bool UntilExists() {
    for (int i = 0; i < 2000 && !rt_.Exists("w1"); ++i) std::this_thread::sleep_for(5ms);
    return rt_.Exists("w1");
  }

  AttemptEnd OnlyEnd() {
    EXPECT_TRUE(Until([&] { return !ends_.empty(); }));
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(ends_.size(), 1u);
    return ends_.empty() ? AttemptEnd{} : ends_.front();
  }

  // The saved log as it is on disk: the lines the server adds are stamped
  // (core/log_stamp.h); the fake runtime's own are not.
  std::string RawLog() {
    std::ifstream in(dir_.File("w1.log"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // The saved log without its stamps.
  std::string Log() {
    LogStampFilter strip(LogStampFilter::Mode::kStrip);
    std::string out = strip.Feed(RawLog());
    return out + strip.Finish();
  }

  TempDir dir_;
  FakeRuntime rt_;
  FakeClock clock_;
  bool fail_check_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  int started_ = 0;                // guarded by mu_
  std::vector<AttemptEnd> ends_;   // guarded by mu_
  bool exited_ = false;            // guarded by mu_
  std::unique_ptr<Attempt> attempt_;
};

TEST_F(AttemptTest, SucceedsSavesTheLogAndRemovesOnlyOnceStored) {
  Make();
  attempt_->Start();
  ASSERT_TRUE(UntilExists());
  EXPECT_TRUE(Until([&] { return started_ == 1; }));
  rt_.AppendLog("w1", "epoch 1 loss 0.3\n");
  rt_.End("w1", 0);
  AttemptEnd end = OnlyEnd();
  EXPECT_EQ(end.how, How::kSucceeded);
  EXPECT_EQ(end.reason, "");
  EXPECT_EQ(end.status.exit_code, 0);
  EXPECT_EQ(Log(), "epoch 1 loss 0.3\n");
  // Not removed until the owner says the end is stored.
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(rt_.Exists("w1"));
  EXPECT_TRUE(rt_.stopped().empty());
  attempt_->Persisted();
  EXPECT_TRUE(Until([&] { return exited_; }));
  EXPECT_FALSE(rt_.Exists("w1"));
  EXPECT_EQ(rt_.stopped(), std::vector<std::string>{"w1"});
  EXPECT_EQ(rt_.started().size(), 1u);
}

TEST_F(AttemptTest, AFailureCarriesTheRuntimesReasonIntoTheLog) {
  Make();
  attempt_->Start();
  ASSERT_TRUE(UntilExists());
  rt_.AppendLog("w1", "Traceback ...\n");
  rt_.End("w1", 3);
  AttemptEnd end = OnlyEnd();
  EXPECT_EQ(end.how, How::kFailed);
  EXPECT_EQ(end.reason, "exited with code 3");
  EXPECT_EQ(Log(), "Traceback ...\n== exited with code 3\n");
  const std::string raw = RawLog();
  EXPECT_TRUE(StartsWithLogStamp(std::string_view(raw).substr(raw.find('\n') + 1))) << "the server's line is stamped: " << raw;
  attempt_->Persisted();
}

TEST_F(AttemptTest, OutOfMemoryIsNamed) {
  Make();
  attempt_->Start();
  ASSERT_TRUE(UntilExists());
  rt_.End("w1", 137, /*oom_killed=*/true);
  EXPECT_EQ(OnlyEnd().reason, "killed: out of memory (OOM)");
  attempt_->Persisted();
}

TEST_F(AttemptTest, TheCheckHookMayFailASuccess) {
  fail_check_ = true;
  Make();
  attempt_->Start();
  ASSERT_TRUE(UntilExists());
  rt_.End("w1", 0);
  AttemptEnd end = OnlyEnd();
  EXPECT_EQ(end.how, How::kFailed);
  EXPECT_EQ(Log(), "== outputs.json is not a JSON object\n");
  attempt_->Persisted();
}

TEST_F(AttemptTest, CancelStopsTheWorkloadAndEndsCanceled) {
  Make();
  attempt_->Start();
  ASSERT_TRUE(UntilExists());
  rt_.AppendLog("w1", "working\n");
  attempt_->Cancel("the run was stopped", "stopped: the run was stopped");
  attempt_->Cancel("later", "later");  // the first call wins
  AttemptEnd end = OnlyEnd();
  EXPECT_EQ(end.how, How::kCanceled);
  EXPECT_EQ(end.reason, "the run was stopped");
  EXPECT_EQ(Log(), "working\n== stopped: the run was stopped\n");
  EXPECT_FALSE(rt_.Exists("w1")) << "stopped at once";
  attempt_->Persisted();
}

TEST_F(AttemptTest, TheDeadlineIsOnTheClock) {
  AttemptOptions o;
  o.deadline_ms = ToUnixMillis(clock_.Now()) + 60'000;
  o.timeout_seconds = 60;
  Make(o);
  attempt_->Start();
  ASSERT_TRUE(UntilExists());
  std::this_thread::sleep_for(100ms);
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_TRUE(ends_.empty()) << "the clock has not moved";
  }
  clock_.Advance(61);
  AttemptEnd end = OnlyEnd();
  EXPECT_EQ(end.how, How::kFailed);
  EXPECT_EQ(end.reason, "timed out after 60s");
  EXPECT_NE(Log().find("== killed: timed out after 60s"), std::string::npos);
  attempt_->Persisted();
}

TEST_F(AttemptTest, AdoptsARunningWorkloadWithoutStartingAgain) {
  runtime::WorkloadSpec earlier;
  earlier.name = "w1";
  earlier.command = {"sleep", "9"};
  ASSERT_TRUE(rt_.Start(earlier).ok());  // started by the previous server
  AttemptOptions o;
  o.adopt = true;
  Make(o);
  attempt_->Start();
  EXPECT_TRUE(Until([&] { return started_ == 1; }));
  rt_.End("w1", 0);
  EXPECT_EQ(OnlyEnd().how, How::kSucceeded);
  EXPECT_EQ(rt_.started().size(), 1u) << "only the previous server's start";
  attempt_->Persisted();
}

TEST_F(AttemptTest, AdoptingNothingStartsItOrReportsItLost) {
  AttemptOptions start;
  start.adopt = true;
  Make(start);
  attempt_->Start();
  ASSERT_TRUE(UntilExists()) << "recorded running before its start: started now";
  attempt_->Abandon();
  attempt_.reset();

  rt_.Lose("w1");
  {
    std::lock_guard<std::mutex> lock(mu_);
    ends_.clear();
  }
  AttemptOptions lost;
  lost.adopt = true;
  lost.start_if_missing = false;
  Make(lost);
  attempt_->Start();
  AttemptEnd end = OnlyEnd();
  EXPECT_TRUE(end.lost);
  EXPECT_EQ(end.how, How::kFailed);
  EXPECT_EQ(end.reason, "the workload was gone after a server restart");
  EXPECT_EQ(Log(), "== the workload was gone after a server restart\n");
  EXPECT_EQ(rt_.started().size(), 1u);
  attempt_->Persisted();
}

TEST_F(AttemptTest, AWorkloadThatVanishesFailsTheAttempt) {
  Make();
  attempt_->Start();
  ASSERT_TRUE(UntilExists());
  rt_.Lose("w1");
  AttemptEnd end = OnlyEnd();
  EXPECT_EQ(end.how, How::kFailed);
  EXPECT_EQ(end.reason.rfind("the workload disappeared", 0), 0u) << end.reason;
  attempt_->Persisted();
}

TEST_F(AttemptTest, AbandonLeavesTheWorkloadRunningAndReportsNothing) {
  Make();
  attempt_->Start();
  ASSERT_TRUE(UntilExists());
  attempt_->Abandon();
  EXPECT_TRUE(Until([&] { return exited_; }));
  attempt_.reset();
  EXPECT_TRUE(rt_.Exists("w1"));
  EXPECT_TRUE(rt_.stopped().empty());
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_TRUE(ends_.empty());
}

TEST_F(AttemptTest, AStartThatFailsIsReportedWithItsReason) {
  rt_.FailNextStart();
  Make();
  attempt_->Start();
  AttemptEnd end = OnlyEnd();
  EXPECT_EQ(end.how, How::kFailed);
  EXPECT_EQ(end.reason, "could not start: fake: start failed on request");
  EXPECT_EQ(Log(), "== could not start: fake: start failed on request\n");
  attempt_->Persisted();
  EXPECT_TRUE(Until([&] { return exited_; }));
}

}  // namespace
}  // namespace quader::workload
