#include "pipeline/schedule_controller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/documents.h"
#include "fakes/fake_clock.h"
#include "pipeline/spec.h"
#include "store/pipelines.h"
#include "store/projects.h"

namespace quader::pipeline {
namespace {

using States = std::vector<std::string>;

// 2033-05-18T00:00:00Z, the start of every test's timeline. It lies after the
// real clock, so the controller's real-time waits for the next fire time are
// long and every pass in these tests is the one a Notify() asks for.
constexpr int64_t kStart = 1'999'987'200;
constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 3600;

constexpr const char* kHourly = R"(
schedule:
  cron: "0 * * * *"
)";

struct LaunchCall {
  int64_t pipeline_id = 0;
  int64_t execution_date = 0;
  int64_t schedule_id = 0;
  std::string record_state;  // the schedule record's state when the launcher ran
};

class ScheduleControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::OpenStore("sqlite::memory:");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    ASSERT_TRUE(store_->Migrate().ok());
    Status st = store_->Write([&](store::Tx& tx) -> Status {
      store::ProjectRecord p;
      p.name = "public";
      p.created_by = "admin";
      QUADER_ASSIGN_OR_RETURN(p, store::InsertProject(tx, p, kStart));
      project_id_ = p.id;
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  void TearDown() override { controller_.reset(); }  // before the store

  // Stores pipeline `name` whose document is `settings` (YAML) plus one task;
  // its schedule counts from the start of the timeline.
  int64_t AddPipeline(const std::string& name, const std::string& settings) {
    std::string text = "name: " + name + "\n" + settings + "\ntasks:\n  - name: train\n    template: train-sklearn\n";
    auto docs = ParseDocuments(text);
    EXPECT_TRUE(docs.ok() && docs->size() == 1) << text;
    if (!docs.ok() || docs->empty()) return 0;
    auto spec = pipeline::ParsePipelineSpec(docs->front());
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    if (!spec.ok()) return 0;
    store::PipelineRecord p;
    p.project_id = project_id_;
    p.name = name;
    p.spec = spec->ToJson().dump();
    p.created_by = "admin";
    p.schedule_since = kStart;
    Status st = store_->Write([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(p, store::InsertPipeline(tx, p, kStart));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return p.id;
  }

  void StartController() {
    controller_ = std::make_unique<ScheduleController>(
        *store_, clock_,
        [this](store::Tx& tx, const store::PipelineRecord& p, int64_t execution_date, int64_t schedule_id) {
          return Launch(tx, p, execution_date, schedule_id);
        },
        [this] { launched_++; });
    controller_->Start();
  }

  // The launcher: a run row in state pending, no tasks; or an error (after
  // writing the run, which the controller must not keep) while `launch_error_`.
  Result<int64_t> Launch(store::Tx& tx, const store::PipelineRecord& p, int64_t execution_date, int64_t schedule_id) {
    LaunchCall call{p.id, execution_date, schedule_id, ""};
    QUADER_ASSIGN_OR_RETURN(auto comed, store::ListPipelineScheduleRecords(tx, p.id, "comed"));
    for (const auto& r : comed) {
      if (r.id == schedule_id) call.record_state = r.state;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(call);
    }
    QUADER_ASSIGN_OR_RETURN(int64_t run_id, InsertRun(tx, p.id, "schedule", "pending", execution_date, schedule_id));
    std::lock_guard<std::mutex> lock(mu_);
    if (!launch_error_.empty()) return errors::Unavailable(launch_error_);
    return run_id;
  }

  static Result<int64_t> InsertRun(store::Tx& tx, int64_t pipeline_id, const std::string& trigger,
                                   const std::string& state, int64_t execution_date,
                                   std::optional<int64_t> schedule_id) {
    QUADER_ASSIGN_OR_RETURN(auto p, store::GetPipeline(tx, pipeline_id));
    store::RunRecord run;
    run.project_id = p.project_id;
    run.pipeline_id = p.id;
    run.pipeline_name = p.name;
    run.run_key = "run-" + std::to_string(execution_date) + "-" + trigger;
    run.snapshot = "{}";
    run.state = state;
    run.trigger = trigger;
    run.runner = run.creator = "admin";
    run.execution_date = execution_date;
    run.schedule_id = schedule_id;
    run.created_at = execution_date * 1000;
    std::vector<store::RunTaskRecord> no_tasks;
    return store::InsertRun(tx, run, &no_tasks);
  }

  // A run started outside the cron (manual or debug), already in `state`.
  void AddRun(int64_t pipeline_id, const std::string& trigger, const std::string& state) {
    Status st = store_->Write([&](store::Tx& tx) -> Status {
      return InsertRun(tx, pipeline_id, trigger, state, clock_.seconds(), std::nullopt).status();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // Moves a run on (as the run controller would) and tells the cron.
  void SetRun(std::optional<int64_t> run_id, const std::string& state) {
    ASSERT_TRUE(run_id.has_value());
    Status st = store_->Write([&](store::Tx& tx) {
      bool done = state != "pending" && state != "running";
      return store::SetRunState(tx, *run_id, state, "", clock_.seconds() * 1000,
                                done ? std::optional<int64_t>(clock_.seconds() * 1000) : std::nullopt);
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
    controller_->Notify();
  }

  void Advance(int64_t seconds) {
    clock_.Advance(seconds);
    controller_->Notify();
  }

  // The pipeline's schedule records, oldest first.
  std::vector<store::ScheduleRecord> Records(int64_t pipeline_id) {
    std::vector<store::ScheduleRecord> records;
    Status st = store_->Read([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(records, store::ListScheduleRecords(tx, {}, true, pipeline_id, 10000));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    std::reverse(records.begin(), records.end());
    return records;
  }

  static States StatesOf(const std::vector<store::ScheduleRecord>& records) {
    States states;
    for (const auto& r : records) states.push_back(r.state);
    return states;
  }

  static std::vector<int64_t> DatesOf(const std::vector<store::ScheduleRecord>& records) {
    std::vector<int64_t> dates;
    for (const auto& r : records) dates.push_back(r.execution_date);
    return dates;
  }

  // Polls (up to 5 s) until the pipeline's records have `states`, oldest first.
  std::vector<store::ScheduleRecord> AwaitStates(int64_t pipeline_id, const States& states) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    auto records = Records(pipeline_id);
    while (StatesOf(records) != states && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      records = Records(pipeline_id);
    }
    EXPECT_EQ(StatesOf(records), states) << "records of pipeline " << pipeline_id;
    return records;
  }

  // Asserts that the records keep `states` through a few more passes.
  void ExpectStates(int64_t pipeline_id, const States& states) {
    for (int i = 0; i < 10; ++i) {
      controller_->Notify();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ASSERT_EQ(StatesOf(Records(pipeline_id)), states) << "records of pipeline " << pipeline_id;
    }
  }

  int64_t CountRuns(int64_t pipeline_id) {
    int64_t n = 0;
    Status st = store_->Read([&](store::Tx& tx) -> Status {
      store::RunFilter f;
      f.all = true;
      f.pipeline_id = pipeline_id;
      f.limit = 10000;
      QUADER_ASSIGN_OR_RETURN(auto runs, store::ListRuns(tx, f));
      n = static_cast<int64_t>(runs.size());
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return n;
  }

  std::vector<LaunchCall> Calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

  std::vector<int64_t> LaunchedDates() {
    std::vector<int64_t> dates;
    for (const auto& c : Calls()) dates.push_back(c.execution_date);
    return dates;
  }

  void SetLaunchError(const std::string& error) {
    std::lock_guard<std::mutex> lock(mu_);
    launch_error_ = error;
  }

  std::unique_ptr<store::Store> store_;
  int64_t project_id_ = 0;
  quader::testing::FakeClock clock_{kStart};
  std::atomic<int> launched_{0};
  std::unique_ptr<ScheduleController> controller_;

  std::mutex mu_;
  std::vector<LaunchCall> calls_;  // guarded by mu_
  std::string launch_error_;       // guarded by mu_
};

TEST_F(ScheduleControllerTest, FireAtItsTimeCreatesARun) {
  int64_t id = AddPipeline("hourly", kHourly);
  StartController();

  Advance(59 * kMinute);
  ExpectStates(id, {});
  EXPECT_TRUE(Calls().empty());

  Advance(kMinute);
  auto records = AwaitStates(id, {"created"});
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].execution_date, kStart + kHour);
  EXPECT_EQ(records[0].fired_at, (kStart + kHour) * 1000);
  EXPECT_EQ(records[0].timezone, "UTC");
  EXPECT_EQ(records[0].project, "public");
  ASSERT_TRUE(records[0].run_id.has_value());
  EXPECT_EQ(records[0].run_state, "pending");

  auto calls = Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].pipeline_id, id);
  EXPECT_EQ(calls[0].execution_date, kStart + kHour);
  EXPECT_EQ(calls[0].schedule_id, records[0].id);
  EXPECT_EQ(calls[0].record_state, "comed");  // produced first, then launched
  EXPECT_EQ(launched_.load(), 1);
  EXPECT_EQ(controller_->FireErrors(), std::vector<int64_t>{0});
}

TEST_F(ScheduleControllerTest, MaxActiveRunsSkipsFiresWhileTheLimitIsReached) {
  int64_t id = AddPipeline("hourly", std::string(kHourly) + "max_active_runs: 1\n");
  StartController();

  Advance(kHour);
  auto records = AwaitStates(id, {"created"});
  SetRun(records[0].run_id, "running");

  Advance(kHour);
  AwaitStates(id, {"created", "skipped: max_active_runs"});
  EXPECT_EQ(LaunchedDates(), std::vector<int64_t>{kStart + kHour});

  SetRun(records[0].run_id, "succeeded");
  Advance(kHour);
  records = AwaitStates(id, {"created", "skipped: max_active_runs", "created"});
  EXPECT_EQ(LaunchedDates(), (std::vector<int64_t>{kStart + kHour, kStart + 3 * kHour}));
}

TEST_F(ScheduleControllerTest, DependsOnPastWaitsForThePreviousRun) {
  int64_t id = AddPipeline("hourly", std::string(kHourly) + "depends_on_past: true\n");
  StartController();

  Advance(kHour);
  auto records = AwaitStates(id, {"created"});
  SetRun(records[0].run_id, "running");

  Advance(kHour);
  AwaitStates(id, {"created", "comed"});
  ExpectStates(id, {"created", "comed"});  // neither launched nor skipped while run 1 goes

  Advance(10 * kMinute);
  SetRun(records[0].run_id, "succeeded");
  records = AwaitStates(id, {"created", "created"});
  EXPECT_EQ(LaunchedDates(), (std::vector<int64_t>{kStart + kHour, kStart + 2 * kHour}));
  EXPECT_EQ(records[1].updated_at, (kStart + 2 * kHour + 10 * kMinute) * 1000);

  // Run 2 fails while fire 3 waits: fire 3 and the next ones are skipped.
  SetRun(records[1].run_id, "running");
  Advance(50 * kMinute);
  AwaitStates(id, {"created", "created", "comed"});
  SetRun(records[1].run_id, "failed");
  AwaitStates(id, {"created", "created", "skipped: depends_on_past"});
  Advance(kHour);
  AwaitStates(id, {"created", "created", "skipped: depends_on_past", "skipped: depends_on_past"});
  EXPECT_EQ(Calls().size(), 2u);

  // A manual run that succeeds unblocks the schedule.
  AddRun(id, "manual", "succeeded");
  Advance(kHour);
  AwaitStates(id, {"created", "created", "skipped: depends_on_past", "skipped: depends_on_past", "created"});
  EXPECT_EQ(LaunchedDates().back(), kStart + 5 * kHour);
}

TEST_F(ScheduleControllerTest, DependsOnPastIgnoresDebugRuns) {
  int64_t id = AddPipeline("hourly", std::string(kHourly) + "depends_on_past: true\nmax_active_runs: 3\n");
  StartController();

  Advance(kHour);
  auto records = AwaitStates(id, {"created"});
  SetRun(records[0].run_id, "failed");
  AddRun(id, "debug", "succeeded");  // a debug run of one task says nothing about the pipeline
  Advance(kHour);
  AwaitStates(id, {"created", "skipped: depends_on_past"});

  AddRun(id, "manual", "running");
  AddRun(id, "debug", "succeeded");
  Advance(kHour);
  AwaitStates(id, {"created", "skipped: depends_on_past", "comed"});  // waits for the manual run
  ExpectStates(id, {"created", "skipped: depends_on_past", "comed"});
  EXPECT_EQ(Calls().size(), 1u);
}

TEST_F(ScheduleControllerTest, ExpiredLimitSkipsARecordThatWaitedTooLong) {
  int64_t id = AddPipeline("hourly", std::string(kHourly) + "depends_on_past: true\nexpired_limit: 30m\n");
  StartController();

  Advance(kHour);
  auto records = AwaitStates(id, {"created"});
  SetRun(records[0].run_id, "running");
  Advance(kHour);
  AwaitStates(id, {"created", "comed"});
  Advance(20 * kMinute);
  ExpectStates(id, {"created", "comed"});  // within the limit: still waiting

  Advance(11 * kMinute);
  SetRun(records[0].run_id, "succeeded");
  AwaitStates(id, {"created", "skipped: expired"});
  EXPECT_EQ(LaunchedDates(), std::vector<int64_t>{kStart + kHour});

  Advance(29 * kMinute);  // 03:00: the previous run succeeded, this one goes
  AwaitStates(id, {"created", "skipped: expired", "created"});
  EXPECT_EQ(LaunchedDates(), (std::vector<int64_t>{kStart + kHour, kStart + 3 * kHour}));
}

TEST_F(ScheduleControllerTest, CatchUpLatestAfterARestartLaunchesTheNewestMissedFire) {
  int64_t id = AddPipeline("hourly", std::string(kHourly) + "  catchup: latest\nmax_active_runs: 10\n");
  StartController();
  Advance(kHour);
  AwaitStates(id, {"created"});

  controller_.reset();  // down for five fire times
  clock_.Advance(5 * kHour + 10 * kMinute);
  StartController();

  auto records = AwaitStates(id, {"created", "skipped: missed", "skipped: missed", "skipped: missed",
                                  "skipped: missed", "created"});
  EXPECT_EQ(DatesOf(records), (std::vector<int64_t>{kStart + kHour, kStart + 2 * kHour, kStart + 3 * kHour,
                                                     kStart + 4 * kHour, kStart + 5 * kHour, kStart + 6 * kHour}));
  EXPECT_EQ(LaunchedDates(), (std::vector<int64_t>{kStart + kHour, kStart + 6 * kHour}));
  EXPECT_EQ(controller_->FireErrors(), std::vector<int64_t>{});  // missed fires are not on-time errors
}

TEST_F(ScheduleControllerTest, CatchUpAllLaunchesEveryMissedFireInOrder) {
  int64_t id = AddPipeline("hourly", std::string(kHourly) + "  catchup: all\nmax_active_runs: 10\n");
  StartController();

  Advance(5 * kHour + 10 * kMinute);
  auto records = AwaitStates(id, States(5, "created"));
  std::vector<int64_t> fires = {kStart + kHour, kStart + 2 * kHour, kStart + 3 * kHour, kStart + 4 * kHour,
                                kStart + 5 * kHour};
  EXPECT_EQ(DatesOf(records), fires);
  EXPECT_EQ(LaunchedDates(), fires);

  for (const auto& r : records) SetRun(r.run_id, "succeeded");
  Advance(50 * kMinute);
  AwaitStates(id, States(6, "created"));
  EXPECT_EQ(LaunchedDates().back(), kStart + 6 * kHour);
}

TEST_F(ScheduleControllerTest, CatchUpAllIsSubjectToMaxActiveRuns) {
  int64_t id = AddPipeline("hourly", std::string(kHourly) + "  catchup: all\nmax_active_runs: 2\n");
  StartController();

  Advance(5 * kHour + 10 * kMinute);
  AwaitStates(id, {"created", "created", "skipped: max_active_runs", "skipped: max_active_runs",
                   "skipped: max_active_runs"});
  EXPECT_EQ(LaunchedDates(), (std::vector<int64_t>{kStart + kHour, kStart + 2 * kHour}));
}

TEST_F(ScheduleControllerTest, CatchUpNoneRecordsEveryMissedFire) {
  int64_t id = AddPipeline("hourly", std::string(kHourly) + "  catchup: none\n");
  StartController();

  Advance(5 * kHour + 10 * kMinute);
  AwaitStates(id, States(5, "skipped: missed"));
  ExpectStates(id, States(5, "skipped: missed"));
  EXPECT_TRUE(Calls().empty());
  EXPECT_EQ(launched_.load(), 0);

  // The fire due now is on time, not missed.
  Advance(50 * kMinute);
  AwaitStates(id, {"skipped: missed", "skipped: missed", "skipped: missed", "skipped: missed", "skipped: missed",
                   "created"});
}

TEST_F(ScheduleControllerTest, CronIsEvaluatedInTheScheduleTimeZone) {
  int64_t id = AddPipeline("nightly", R"(
schedule:
  cron: "0 2 * * *"
  timezone: Asia/Shanghai
)");
  StartController();

  Advance(2 * kHour);  // 02:00 UTC is not 02:00 in Shanghai
  ExpectStates(id, {});
  Advance(16 * kHour);  // 18:00 UTC is
  auto records = AwaitStates(id, {"created"});
  EXPECT_EQ(records[0].execution_date, kStart + 18 * kHour);
  EXPECT_EQ(records[0].timezone, "Asia/Shanghai");

  Advance(24 * kHour);
  records = AwaitStates(id, {"created", "skipped: max_active_runs"});
  EXPECT_EQ(records[1].execution_date, kStart + 42 * kHour);
}

TEST_F(ScheduleControllerTest, StartTimeHoldsTheFirstFire) {
  int64_t id = AddPipeline("hourly", std::string(kHourly) + "  start_time: \"2033-05-18T03:00:00Z\"\n");
  StartController();

  Advance(2 * kHour);
  ExpectStates(id, {});
  Advance(kHour);
  auto records = AwaitStates(id, {"created"});
  EXPECT_EQ(records[0].execution_date, kStart + 3 * kHour);
}

TEST_F(ScheduleControllerTest, DisabledOrMissingSchedulesProduceNothing) {
  int64_t disabled = AddPipeline("disabled", std::string(kHourly) + "  enabled: false\n");
  int64_t unscheduled = AddPipeline("unscheduled", "");
  int64_t witness = AddPipeline("witness", kHourly);
  StartController();

  Advance(kHour);
  AwaitStates(witness, {"created"});
  Advance(kHour);
  AwaitStates(witness, {"created", "skipped: max_active_runs"});
  EXPECT_TRUE(Records(disabled).empty());
  EXPECT_TRUE(Records(unscheduled).empty());
  auto calls = Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].pipeline_id, witness);
}

TEST_F(ScheduleControllerTest, OneRecordPerFireTimeHoweverOftenNotified) {
  int64_t id = AddPipeline("hourly", std::string(kHourly) + "  catchup: all\nmax_active_runs: 10\n");
  StartController();

  std::vector<std::thread> notifiers;
  for (int t = 0; t < 4; ++t) {
    notifiers.emplace_back([this] {
      for (int i = 0; i < 200; ++i) controller_->Notify();
    });
  }
  for (int i = 0; i < 2 * 60; ++i) {  // two hours, a minute at a time, each with a Notify
    Advance(kMinute);
    controller_->Notify();
  }
  for (auto& t : notifiers) t.join();

  auto records = AwaitStates(id, {"created", "created"});
  ExpectStates(id, {"created", "created"});
  EXPECT_EQ(DatesOf(records), (std::vector<int64_t>{kStart + kHour, kStart + 2 * kHour}));
  EXPECT_EQ(LaunchedDates(), (std::vector<int64_t>{kStart + kHour, kStart + 2 * kHour}));
  EXPECT_EQ(CountRuns(id), 2);
}

TEST_F(ScheduleControllerTest, LauncherErrorSkipsTheRecordAndKeepsNothingOfTheRun) {
  int64_t id = AddPipeline("hourly", kHourly);
  StartController();

  SetLaunchError("job template \"train-sklearn\" not found");
  Advance(kHour);
  auto records = AwaitStates(id, {"skipped: cannot launch: job template \"train-sklearn\" not found"});
  EXPECT_FALSE(records[0].run_id.has_value());
  EXPECT_EQ(CountRuns(id), 0);  // the launcher's partial writes are rolled back
  EXPECT_EQ(launched_.load(), 0);

  SetLaunchError("");
  Advance(kHour);
  AwaitStates(id, {"skipped: cannot launch: job template \"train-sklearn\" not found", "created"});
  EXPECT_EQ(CountRuns(id), 1);
  EXPECT_EQ(launched_.load(), 1);
}

}  // namespace
}  // namespace quader::pipeline
