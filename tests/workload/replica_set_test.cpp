// The replica set (workload/replica_set.h) against the fake runtime and a
// fake clock: the census, starts at free indexes, back-off after failures
// and its reset by a new generation, image waits, the last failure kept.
#include "workload/replica_set.h"

#include <gtest/gtest.h>

#include <fstream>

#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "fakes/fake_runtime.h"
#include "runtime/labels.h"

namespace quader::workload {
namespace {

using runtime::WorkloadSpec;
using runtime::WorkloadState;
using runtime::WorkloadStatus;

WorkloadStatus Workload(const std::string& name, int index, int64_t generation, WorkloadState state) {
  WorkloadStatus w;
  w.id = w.name = name;
  w.state = state;
  w.labels = {{runtime::kLabelReplica, std::to_string(index)}, {runtime::kLabelGeneration, std::to_string(generation)}};
  return w;
}

// Specs of owner 7: "r7-g<generation>-<index>", labelled as replicas.
std::function<WorkloadSpec(int)> Specs(int64_t generation, const std::string& image = "img") {
  return [=](int i) {
    WorkloadSpec s;
    s.name = "r7-g" + std::to_string(generation) + "-" + std::to_string(i);
    s.image = image;
    s.command = {"serve"};
    s.labels = {{runtime::kLabelReplica, std::to_string(i)}, {runtime::kLabelGeneration, std::to_string(generation)}};
    return s;
  };
}

TEST(ReplicaSetTest, CensusSortsCurrentOldAndEnded) {
  std::vector<WorkloadStatus> mine = {
      Workload("a", 0, 3, WorkloadState::kRunning), Workload("b", 1, 3, WorkloadState::kPending),
      Workload("c", 0, 2, WorkloadState::kRunning), Workload("d", 2, 3, WorkloadState::kFailed),
      Workload("e", 1, 2, WorkloadState::kSucceeded), Workload("f", 4, 3, WorkloadState::kUnknown)};
  WorkloadStatus unlabelled;
  unlabelled.id = unlabelled.name = "g";
  unlabelled.state = WorkloadState::kRunning;
  mine.push_back(unlabelled);
  Census c = TakeCensus(mine, 3);
  ASSERT_EQ(c.current.size(), 2u);
  EXPECT_EQ(c.current[0].workload->name, "a");
  EXPECT_EQ(c.current[1].index, 1);
  EXPECT_EQ(c.CurrentIndexes(), (std::set<int>{0, 1}));
  ASSERT_EQ(c.old.size(), 2u);  // "c", and "g" with no generation at all
  EXPECT_EQ(c.old[0].generation, 2);
  EXPECT_EQ(c.old[1].generation, -1);
  EXPECT_EQ(c.old[1].index, 0);
  ASSERT_EQ(c.ended.size(), 3u);
  EXPECT_EQ(c.ended[0].workload->name, "d");
  EXPECT_EQ(c.ended[2].index, 4);
}

TEST(ReplicaSetTest, EndReasonSaysWhatEndedIt) {
  WorkloadStatus w;
  EXPECT_EQ(EndReason(w), "ended");
  w.exit_code = 3;
  EXPECT_EQ(EndReason(w), "exited with code 3");
  w.reason = "exited with code 3 (last lines: boom)";
  EXPECT_EQ(EndReason(w), "exited with code 3 (last lines: boom)");
  w.oom_killed = true;
  EXPECT_EQ(EndReason(w), "killed: out of memory");
  EXPECT_EQ(LabelNumber(Workload("x", 12, 5, WorkloadState::kRunning), runtime::kLabelReplica), 12);
  WorkloadStatus odd;
  odd.labels = {{runtime::kLabelReplica, "1x"}, {runtime::kLabelGeneration, "99999999999999999999"}};
  EXPECT_EQ(LabelNumber(odd, runtime::kLabelReplica), -1);
  EXPECT_EQ(LabelNumber(odd, runtime::kLabelGeneration), -1);
  EXPECT_EQ(LabelNumber(odd, runtime::kLabelOwner), -1);
}

TEST(ReplicaSetTest, StartsWhatIsMissingAtTheFreeIndexes) {
  quader::testing::FakeRuntime rt;
  quader::testing::FakeClock clock;
  ReplicaSet set(rt, clock);
  ReplicaSet::Starts s = set.StartMissing(7, 1, 2, {0, 2}, Specs(1));
  ASSERT_EQ(s.started.size(), 2u);
  EXPECT_EQ(s.started[0].index, 1);
  EXPECT_EQ(s.started[1].index, 3);
  EXPECT_EQ(s.started[1].status.name, "r7-g1-3");
  EXPECT_TRUE(s.failure.empty());
  EXPECT_TRUE(s.waiting.empty());
  EXPECT_EQ(rt.started().size(), 2u);
  EXPECT_TRUE(set.StartMissing(7, 1, 0, {}, Specs(1)).started.empty());
}

TEST(ReplicaSetTest, FailuresBackOffAndACorrectedSpecStartsAtOnce) {
  quader::testing::FakeRuntime rt;
  quader::testing::FakeClock clock;
  ReplicaSet set(rt, clock);
  ASSERT_EQ(set.StartMissing(7, 1, 1, {}, Specs(1)).started.size(), 1u);
  // The replica crashes: removed, counted, and its reason kept.
  rt.End("r7-g1-0", 2);
  auto listed = rt.List({});
  ASSERT_TRUE(listed.ok());
  Census c = TakeCensus(*listed, 1);
  ASSERT_EQ(c.ended.size(), 1u);
  EXPECT_EQ(set.RemoveEnded(7, 1, c.ended[0]), "exited with code 2");
  EXPECT_FALSE(rt.Exists("r7-g1-0"));
  EXPECT_EQ(set.failures(7, 1), 1);
  EXPECT_EQ(set.last_failure(7, 1), "exited with code 2");
  // Backing off: nothing starts for a second, then the replacement does.
  EXPECT_TRUE(set.StartMissing(7, 1, 1, {}, Specs(1)).started.empty());
  clock.Advance(1);
  ASSERT_EQ(set.StartMissing(7, 1, 1, {}, Specs(1)).started.size(), 1u);
  // It crashes again: two seconds now; the reason is kept across passes.
  rt.End("r7-g1-0", 2);
  listed = rt.List({});
  set.RemoveEnded(7, 1, TakeCensus(*listed, 1).ended.at(0));
  EXPECT_EQ(set.failures(7, 1), 2);
  clock.Advance(1);
  EXPECT_TRUE(set.StartMissing(7, 1, 1, {}, Specs(1)).started.empty());
  EXPECT_EQ(set.last_failure(7, 1), "exited with code 2");
  // A corrected spec (generation 2) does not wait out generation 1's back-off.
  ReplicaSet::Starts fixed = set.StartMissing(7, 2, 1, {}, Specs(2));
  ASSERT_EQ(fixed.started.size(), 1u);
  EXPECT_EQ(fixed.started[0].spec.name, "r7-g2-0");
  EXPECT_EQ(set.failures(7, 2), 0);
  EXPECT_EQ(set.failures(7, 1), 0);  // generation 1's count is gone with it
  EXPECT_EQ(set.last_failure(7, 2), "");
}

TEST(ReplicaSetTest, AReadyReplicaClearsTheFailures) {
  quader::testing::FakeRuntime rt;
  quader::testing::FakeClock clock;
  ReplicaSet set(rt, clock);
  rt.FailNextStart();
  ReplicaSet::Starts s = set.StartMissing(7, 1, 2, {}, Specs(1));
  EXPECT_TRUE(s.started.empty());  // stops at the first failure
  EXPECT_EQ(s.failed_index, 0);
  EXPECT_EQ(s.failure, "could not start: fake: start failed on request");
  EXPECT_EQ(set.failures(7, 1), 1);
  clock.Advance(1);
  ASSERT_EQ(set.StartMissing(7, 1, 2, {}, Specs(1)).started.size(), 2u);
  set.Ready(7, 1);
  EXPECT_EQ(set.failures(7, 1), 0);
  EXPECT_EQ(set.last_failure(7, 1), "");
}

TEST(ReplicaSetTest, AMissingImageIsWaitedForWithoutCountingAsAFailure) {
  quader::testing::FakeRuntime rt;
  quader::testing::FakeClock clock;
  ReplicaSet set(rt, clock);
  rt.SetImageMissing("img", true);
  ReplicaSet::Starts s = set.StartMissing(7, 1, 1, {}, Specs(1));
  EXPECT_TRUE(s.started.empty());
  EXPECT_TRUE(s.waiting_began);
  EXPECT_NE(s.waiting.find("img"), std::string::npos) << s.waiting;
  EXPECT_TRUE(s.failure.empty());
  EXPECT_EQ(set.failures(7, 1), 0);
  // The next pass, within two seconds: still waiting, said once.
  s = set.StartMissing(7, 1, 1, {}, Specs(1));
  EXPECT_FALSE(s.waiting_began);
  EXPECT_FALSE(s.waiting.empty());
  clock.Advance(2);
  s = set.StartMissing(7, 1, 1, {}, Specs(1));
  EXPECT_FALSE(s.waiting_began);
  EXPECT_FALSE(s.waiting.empty());
  // The image exists: it starts.
  rt.SetImageMissing("img", false);
  clock.Advance(2);
  s = set.StartMissing(7, 1, 1, {}, Specs(1));
  ASSERT_EQ(s.started.size(), 1u);
  EXPECT_TRUE(s.waiting.empty());
  // Past the wait's limit a missing image is a failure.
  rt.SetImageMissing("other", true);
  s = set.StartMissing(8, 1, 1, {}, Specs(1, "other"));
  EXPECT_TRUE(s.waiting_began);
  clock.Advance(31 * 60);
  s = set.StartMissing(8, 1, 1, {}, Specs(1, "other"));
  EXPECT_TRUE(s.waiting.empty());
  EXPECT_NE(s.failure.find("could not start"), std::string::npos) << s.failure;
  EXPECT_EQ(set.failures(8, 1), 1);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(ReplicaSetTest, AnEndedReplicasLogIsKeptAndItsLastLinesSayWhy) {
  quader::testing::TempDir dir;
  quader::testing::FakeRuntime rt;
  quader::testing::FakeClock clock;
  ReplicaSet set(rt, clock, dir.File("logs"));
  ASSERT_EQ(set.StartMissing(7, 1, 1, {}, Specs(1)).started.size(), 1u);
  rt.AppendLog("r7-g1-0", "loading\nTraceback (most recent call last):\n  File \"serve.py\"\n\x1b[31mZeroDivisionError: boom\x1b[0m\n\n");
  rt.End("r7-g1-0", 1);
  auto listed = rt.List({});
  std::string why = set.RemoveEnded(7, 1, TakeCensus(*listed, 1).ended.at(0));
  EXPECT_EQ(why, "exited with code 1; last output: Traceback (most recent call last): |   File \"serve.py\" | [31mZeroDivisionError: boom[0m");
  EXPECT_EQ(set.last_failure(7, 1), why);
  const std::string kept = set.PreviousLogPath(7, 0);
  EXPECT_EQ(kept, dir.File("logs") + "/7/replica-0.previous.log");
  EXPECT_EQ(ReadFile(kept).rfind("loading\n", 0), 0u);
  EXPECT_NE(ReadFile(kept).find("== r7-g1-0 ended: exited with code 1\n"), std::string::npos) << ReadFile(kept);
  // A huge last line is cut to its end.
  std::ofstream(dir.File("big.log")) << "x\n" << std::string(10000, 'y') << "END\n";
  std::string last = LastOutput(dir.File("big.log"));
  EXPECT_LE(last.size(), 310u);
  EXPECT_EQ(last.substr(last.size() - 3), "END");
  EXPECT_EQ(LastOutput(dir.File("none.log")), "");
  // The service is deleted: its kept logs go with it.
  set.Keep({});
  EXPECT_FALSE(std::ifstream(kept).good());
}

TEST(ReplicaSetTest, KeepForgetsOwnersThatAreGone) {
  quader::testing::FakeRuntime rt;
  quader::testing::FakeClock clock;
  ReplicaSet set(rt, clock);
  rt.FailNextStart();
  set.StartMissing(7, 1, 1, {}, Specs(1));
  EXPECT_EQ(set.failures(7, 1), 1);
  set.Keep({8});
  EXPECT_EQ(set.failures(7, 1), 0);
  // Gone and back (a new object with that id): starts at once.
  EXPECT_EQ(set.StartMissing(7, 1, 1, {}, Specs(1)).started.size(), 1u);
}

}  // namespace
}  // namespace quader::workload
