// The one log follower (workload/log_follow.h): the runtime's log while the
// workload runs, the saved file once it has ended, and nothing twice.
#include "workload/log_follow.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "fakes/fake_runtime.h"
#include "fakes/temp_dir.h"

namespace quader::workload {
namespace {

using namespace std::chrono_literals;
using Phase = LogSource::Phase;
using quader::testing::FakeRuntime;
using quader::testing::TempDir;

class LogFollowTest : public ::testing::Test {
 protected:
  // Follows with `phases` returned by successive looks (the last repeats).
  std::string Follow(std::vector<Phase> phases, bool follow) {
    size_t i = 0;
    auto look = [&]() -> Result<LogSource> {
      LogSource s;
      s.phase = phases[std::min(i++, phases.size() - 1)];
      s.workload = "w1";
      s.saved_path = dir_.File("saved.log");
      return s;
    };
    std::string out;
    Status st = FollowLog(rt_, look, [&](std::string_view c) { out += c; return true; }, [] { return false; },
                          {follow, 1ms});
    EXPECT_TRUE(st.ok()) << st.ToString();
    looks_ = i;
    return out;
  }

  void Save(const std::string& text) { std::ofstream(dir_.File("saved.log")) << text; }

  void StartWorkload(const std::string& log) {
    runtime::WorkloadSpec spec;
    spec.name = "w1";
    spec.command = {"true"};
    ASSERT_TRUE(rt_.Start(spec).ok());
    rt_.AppendLog("w1", log);
  }

  TempDir dir_;
  FakeRuntime rt_;
  size_t looks_ = 0;
};

TEST_F(LogFollowTest, AnEndedAttemptIsReadFromItsSavedFile) {
  Save("line 1\n== exited with code 3\n");
  EXPECT_EQ(Follow({Phase::kEnded}, true), "line 1\n== exited with code 3\n");
}

TEST_F(LogFollowTest, ARunningAttemptIsReadFromTheRuntime) {
  StartWorkload("live 1\n");
  EXPECT_EQ(Follow({Phase::kRunning}, false), "live 1\n");
}

TEST_F(LogFollowTest, FollowingSendsTheLiveStreamAndNotTheSavedCopyAgain) {
  StartWorkload("live 1\nlive 2\n");
  Save("live 1\nlive 2\n");  // saved at its end: the same bytes
  EXPECT_EQ(Follow({Phase::kRunning, Phase::kEnded}, true), "live 1\nlive 2\n");
}

TEST_F(LogFollowTest, AWaitingAttemptShowsItsLineOrIsWaitedFor) {
  Save("== waiting for image quader/python:3.11 (building)\n");
  EXPECT_EQ(Follow({Phase::kWaiting}, false), "== waiting for image quader/python:3.11 (building)\n");
  // Following: waits until it runs, then what it printed; then it ends.
  StartWorkload("started\n");
  EXPECT_EQ(Follow({Phase::kWaiting, Phase::kWaiting, Phase::kRunning, Phase::kEnded}, true), "started\n");
  EXPECT_GE(looks_, 3u);
}

TEST_F(LogFollowTest, RunningButNotStartedYetShowsTheSavedLine) {
  Save("== waiting for image x\n");  // recorded running, its workload not made yet
  EXPECT_EQ(Follow({Phase::kRunning}, false), "== waiting for image x\n");
}

TEST_F(LogFollowTest, TheLookUpsErrorEndsTheFollow) {
  auto look = []() -> Result<LogSource> { return errors::NotFound("task", "train"); };
  Status st = FollowLog(rt_, look, [](std::string_view) { return true; }, [] { return false; }, {true, 1ms});
  EXPECT_EQ(st.code(), Code::kNotFound);
}

TEST_F(LogFollowTest, AReaderThatLeavesStopsIt) {
  Save(std::string(200 * 1024, 'x'));
  size_t got = 0;
  auto look = [&]() -> Result<LogSource> { return LogSource{Phase::kEnded, "", dir_.File("saved.log")}; };
  Status st = FollowLog(rt_, look, [&](std::string_view c) { got += c.size(); return false; }, [] { return false; },
                        {true, 1ms});
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(got, 64u * 1024) << "one chunk, then it stopped";
}

TEST_F(LogFollowTest, AWaitingFollowAsksWhetherItsReaderIsStillThere) {
  // A task that has not started: nothing to send, but each round's empty
  // piece lets the reader's side say it is gone, and the follow ends.
  auto look = [&]() -> Result<LogSource> { return LogSource{Phase::kWaiting, "", dir_.File("none.log")}; };
  int empties = 0;
  Status st = FollowLog(
      rt_, look, [&](std::string_view c) { return !(c.empty() && ++empties == 3); }, [] { return false; },
      {true, 1ms, std::chrono::hours(1)});
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(empties, 3);
}


// A file its writer is still appending to (an image build's log): followed
// to the end, the last lines written before it finished included.
TEST(FollowFileTest, FollowsAGrowingFileUntilItsWriterIsDone) {
  quader::testing::TempDir dir;
  const std::string path = dir.File("build.log");
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 5; ++i) {
      std::ofstream(path, std::ios::app) << "step " << i << "\n";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::ofstream(path, std::ios::app) << "== done\n";
    done = true;
  });
  std::string got;
  Status st = FollowFile(
      path, [&] { return done.load(); }, [&](std::string_view s) { got.append(s); return true; }, [] { return false; },
      std::chrono::milliseconds(5));
  writer.join();
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(got, "step 0\nstep 1\nstep 2\nstep 3\nstep 4\n== done\n");
  // Not following: what is there now; a reader that leaves ends it; stopping ends it.
  std::string once;
  FollowFile(path, [] { return true; }, [&](std::string_view s) { once.append(s); return true; }, [] { return false; });
  EXPECT_EQ(once, got);
  int calls = 0;
  FollowFile(path, [] { return false; }, [&](std::string_view) { return ++calls > 5; }, [] { return false; });
  EXPECT_EQ(calls, 1);
  auto start = std::chrono::steady_clock::now();
  FollowFile(dir.File("never.log"), [] { return false; }, [](std::string_view) { return true; }, [] { return true; });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace quader::workload
