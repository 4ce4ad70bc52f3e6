// Tests `quader run`, `quader logs` and `quader stop` in-process against a
// FakeServer: what each sends, what it prints, and its exit status. The
// server's run states come as a sequence, one per poll; pauses between
// polls return at once (cli_fixture.h).

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <streambuf>

#include "cli/exit_codes.h"
#include "cli_fixture.h"
#include "core/documents.h"

namespace quader::cli {
namespace {

using testing::ReadFile;
using testing::RunResult;
using std::chrono::milliseconds;

constexpr char kRun12[] = "/api/v1/runs/12";

Json Task(const std::string& name, const std::string& state, int attempt, int max_attempts,
          Json extra = Json::object()) {
  Json task = {{"name", name},       {"state", state},   {"attempt", attempt},
               {"max_attempts", max_attempts}, {"reason", ""}, {"exit_code", nullptr},
               {"oom_killed", false}, {"started_at", nullptr}, {"finished_at", nullptr}};
  task.update(extra);
  return task;
}

Json RunOf(const std::string& state, Json tasks, Json extra = Json::object()) {
  Json run = {{"id", 12},          {"project", "public"}, {"pipeline", "iris"},
              {"state", state},    {"reason", ""},        {"trigger", "manual"},
              {"tasks", tasks},    {"started_at", "2026-11-29T10:00:00.000Z"},
              {"finished_at", nullptr}};
  run.update(extra);
  return run;
}

Json Times(const std::string& started, const std::string& finished) {
  return {{"started_at", "2026-11-29T" + started + "Z"},
          {"finished_at", "2026-11-29T" + finished + "Z"}};
}

std::pair<int, std::string> Ok(const Json& body) { return {200, body.dump()}; }

class PipelineCommandsTest : public testing::CliFixture {
 protected:
  void SetUp() override { LogIn(); }

  // POST .../run answers `run`; GET /runs/12 answers each of `polls` in turn.
  void ServeRun(const Json& run, std::vector<Json> polls) {
    server_.SetReply("POST", "/api/v1/pipelines/iris/run", 201, run.dump());
    std::vector<std::pair<int, std::string>> replies;
    for (const Json& poll : polls) replies.push_back(Ok(poll));
    server_.SetReplySequence("GET", kRun12, replies);
  }
};

TEST_F(PipelineCommandsTest, RunStartsTheRunAndPrintsTheStartedLine) {
  Json run = RunOf("pending", {Task("make-data", "pending", 0, 1), Task("train", "pending", 0, 3),
                               Task("evaluate", "pending", 0, 1)});
  server_.SetReply("POST", "/api/v1/pipelines/iris/run?project=team-a", 201, run.dump());
  RunResult r = Run({"run", "iris", "--project", "team-a"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "run 12 started (pipeline iris, 3 tasks)\n");
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);  // without --wait, nothing is polled
  EXPECT_EQ(Json::parse(requests[0].body), Json::object());
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer qdr_test");
}

TEST_F(PipelineCommandsTest, RunTaskStartsADebugRunOfThatTask) {
  Json run = RunOf("pending", {Task("train", "pending", 0, 3)}, {{"trigger", "debug"}});
  server_.SetReply("POST", "/api/v1/pipelines/iris/tasks/train/run", 201, run.dump());
  RunResult r = Run({"run", "iris", "--task", "train"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "run 12 started (pipeline iris, 1 task)\n");
}

TEST_F(PipelineCommandsTest, OverridesRerunAndRetrySendWhatWasAsked) {
  Json run = RunOf("pending", {Task("train", "pending", 0, 1)});
  server_.SetReply("POST", "/api/v1/pipelines/iris/run", 201, run.dump());
  server_.SetReply("POST", "/api/v1/runs/12/rerun", 201, run.dump());
  server_.SetReply("POST", "/api/v1/runs/12/retry", 201, run.dump());
  RunResult r = Run({"run", "iris", "--env", "DAY=monday", "--env", "EMPTY=", "--set", "train.--lr=0.1", "--set",
                     "train.--model=svm", "--task-env", "train.SEED=7"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(Json::parse(server_.requests().back().body),
            Json::parse(R"({"global_env": {"DAY": "monday", "EMPTY": ""},
                            "tasks": {"train": {"args": {"--lr": 0.1, "--model": "svm"}, "env": {"SEED": "7"}}}})"));
  ASSERT_EQ(Run({"rerun", "12", "--env", "DAY=tuesday"}).code, kExitOk);
  EXPECT_EQ(server_.requests().back().target, "/api/v1/runs/12/rerun");
  EXPECT_EQ(Json::parse(server_.requests().back().body), Json::parse(R"({"global_env": {"DAY": "tuesday"}})"));
  RunResult retried = Run({"retry", "12"});
  ASSERT_EQ(retried.code, kExitOk) << retried.err;
  EXPECT_EQ(server_.requests().back().target, "/api/v1/runs/12/retry");
  EXPECT_EQ(retried.out, "run 12 started (pipeline iris, 1 task)\n");
  size_t asked = server_.requests().size();
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"run", "iris", "--env", "NOVALUE"}, {"run", "iris", "--set", "train=1"}, {"run", "iris", "--set", ".x=1"},
           {"run", "iris", "--task-env", "train.=1"}, {"retry", "abc"}, {"rerun"}}) {
    EXPECT_EQ(Run(args).code, kExitUsage) << args.back();
  }
  EXPECT_EQ(server_.requests().size(), asked);
}

TEST_F(PipelineCommandsTest, RunWaitPrintsEachTaskChangeAndExitsZeroWhenTheRunSucceeds) {
  Json make_data_done = Task("make-data", "succeeded", 1, 1, Times("10:00:00.000", "10:00:02.500"));
  ServeRun(RunOf("pending", {Task("make-data", "pending", 0, 1), Task("train", "pending", 0, 3)}),
           {RunOf("running",
                  {Task("make-data", "running", 1, 1), Task("train", "pending", 0, 3)}),
            RunOf("running", {make_data_done, Task("train", "running", 1, 3)}),
            RunOf("succeeded",
                  {make_data_done,
                   Task("train", "succeeded", 1, 3, Times("10:00:03.000", "10:00:15.300"))},
                  {{"finished_at", "2026-11-29T10:00:41.200Z"}})});
  RunResult r = Run({"run", "iris", "--wait"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "run 12 started (pipeline iris, 2 tasks)\n"
            "  make-data   running\n"
            "  make-data   succeeded 2.5s\n"
            "  train       running   (attempt 1/3)\n"
            "  train       succeeded 12.3s\n"
            "run 12 succeeded in 41.2s\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(pauses_, std::vector<milliseconds>(3, milliseconds(500)));
  EXPECT_EQ(Targets(), (std::vector<std::string>{"POST /api/v1/pipelines/iris/run",
                                                 "GET /api/v1/runs/12", "GET /api/v1/runs/12",
                                                 "GET /api/v1/runs/12"}));
}

// A big run is answered a page of tasks at a time (the server's first 50):
// waiting prints its counts as they change, and only to say why it failed
// are all its pages read.
TEST_F(PipelineCommandsTest, RunWaitOfABigRunPrintsItsCountsAndReadsEveryPageToSayWhy) {
  auto paged = [](const std::string& state, Json states, Json tasks) {
    return RunOf(state, tasks,
                 {{"task_count", 3}, {"task_states", states}, {"tasks_offset", 0}, {"tasks_next_offset", 1}});
  };
  Json first = Task("a", "succeeded", 1, 1);
  ServeRun(paged("pending", {{"pending", 3}}, {Task("a", "pending", 0, 1)}),
           {paged("running", {{"succeeded", 1}, {"running", 1}, {"pending", 1}}, {first}),
            paged("running", {{"succeeded", 1}, {"running", 1}, {"pending", 1}}, {first}),
            paged("failed", {{"succeeded", 1}, {"failed", 1}, {"upstream_failed", 1}}, {first})});
  server_.SetReply("GET", "/api/v1/runs/12?tasks_limit=1000&tasks_offset=1", 200,
                   RunOf("failed", {Task("b", "failed", 1, 1, {{"exit_code", 3}}), Task("c", "upstream_failed", 0, 1)},
                         {{"tasks_offset", 1}, {"tasks_next_offset", nullptr}})
                       .dump());
  RunResult r = Run({"run", "iris", "--wait"});
  EXPECT_EQ(r.code, kExitFailure) << r.err;
  EXPECT_EQ(r.out,
            "run 12 started (pipeline iris, 3 tasks)\n"
            "  tasks: 3 pending\n"
            "  tasks: 1 succeeded, 1 running, 1 pending\n"
            "  tasks: 1 succeeded, 1 failed, 1 upstream_failed\n"
            "run 12 failed\n");
  EXPECT_NE(r.err.find("task b failed: exit code 3"), std::string::npos) << r.err;
  EXPECT_EQ(Targets(), (std::vector<std::string>{"POST /api/v1/pipelines/iris/run", "GET /api/v1/runs/12",
                                                 "GET /api/v1/runs/12", "GET /api/v1/runs/12",
                                                 "GET /api/v1/runs/12",
                                                 "GET /api/v1/runs/12?tasks_limit=1000&tasks_offset=1"}));
}

TEST_F(PipelineCommandsTest, RunWaitExitsOneAndNamesTheFailedTasks) {
  Json first_failed = {{"attempt", 1}, {"state", "failed"}, {"exit_code", 1}, {"reason", ""}};
  ServeRun(RunOf("pending", {Task("train", "pending", 0, 2), Task("evaluate", "pending", 0, 1)}),
           {RunOf("running", {Task("train", "running", 1, 2), Task("evaluate", "pending", 0, 1)}),
            RunOf("running", {Task("train", "running", 2, 2, {{"attempts", {first_failed}}}),
                              Task("evaluate", "pending", 0, 1)}),
            RunOf("failed",
                  {Task("train", "failed", 2, 2,
                        {{"exit_code", 137},
                         {"oom_killed", true},
                         {"started_at", "2026-11-29T10:00:05.000Z"},
                         {"finished_at", "2026-11-29T10:00:09.000Z"}}),
                   Task("evaluate", "upstream_failed", 0, 1)},
                  {{"finished_at", "2026-11-29T10:00:09.000Z"}})});
  RunResult r = Run({"run", "iris", "-w"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out,
            "run 12 started (pipeline iris, 2 tasks)\n"
            "  train      running   (attempt 1/2)\n"
            "  train      retrying  (attempt 1/2): exit code 1\n"
            "  train      running   (attempt 2/2)\n"
            "  train      failed    4.0s (attempt 2/2): out of memory\n"
            "  evaluate   upstream_failed\n"
            "run 12 failed in 9.0s\n");
  EXPECT_EQ(r.err, "error: run 12 failed: task train failed: out of memory\n");
}

TEST_F(PipelineCommandsTest, RunWaitExitsOneWhenTheRunIsStopped) {
  ServeRun(RunOf("running", {Task("train", "running", 1, 1)}),
           {RunOf("stopped", {Task("train", "stopped", 1, 1)},
                  {{"reason", "stopped by alice"}, {"finished_at", nullptr}})});
  RunResult r = Run({"run", "iris", "--wait"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out,
            "run 12 started (pipeline iris, 1 task)\n"
            "  train   running\n"
            "  train   stopped\n"
            "run 12 stopped\n");
  EXPECT_EQ(r.err, "error: run 12 stopped: stopped by alice\n");
}

TEST_F(PipelineCommandsTest, RunErrorsAreTheServersMessage) {
  server_.SetReply("POST", "/api/v1/pipelines/nope/run", 404,
                   R"({"error": {"code": "not_found", "message": "pipeline \"nope\" not found"}})");
  RunResult r = Run({"run", "nope", "--wait"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error: pipeline \"nope\" not found\n");
}

TEST_F(PipelineCommandsTest, StopPrintsStoppingOrTheFinalState) {
  server_.SetReplySequence("POST", "/api/v1/runs/12/stop",
                           {Ok(RunOf("running", Json::array())), Ok(RunOf("stopped", Json::array()))});
  RunResult stopping = Run({"stop", "12"});
  ASSERT_EQ(stopping.code, kExitOk) << stopping.err;
  EXPECT_EQ(stopping.out, "run 12 stopping\n");
  RunResult stopped = Run({"stop", "12"});
  EXPECT_EQ(stopped.out, "run 12 stopped\n");
  EXPECT_EQ(Json::parse(server_.requests().at(0).body), Json::object());

  server_.SetReply("POST", "/api/v1/runs/13/stop", 409,
                   R"({"error": {"code": "conflict", "message": "run 13 has ended"}})");
  RunResult ended = Run({"stop", "13"});
  EXPECT_EQ(ended.code, kExitFailure);
  EXPECT_EQ(ended.err, "error: run 13 has ended\n");
}

TEST_F(PipelineCommandsTest, LogsOfOneTaskPrintsItsBody) {
  server_.SetStreamReply("GET", "/api/v1/runs/12/tasks/train/logs", {"epoch 1\n", "epoch 2\n"});
  server_.SetStreamReply("GET", "/api/v1/runs/12/tasks/train/logs?attempt=2", {"second try\n"});
  RunResult latest = Run({"logs", "12", "train"});
  ASSERT_EQ(latest.code, kExitOk) << latest.err;
  EXPECT_EQ(latest.out, "epoch 1\nepoch 2\n");
  RunResult second = Run({"logs", "12", "train", "--attempt", "2"});
  ASSERT_EQ(second.code, kExitOk) << second.err;
  EXPECT_EQ(second.out, "second try\n");
  EXPECT_EQ(server_.requests().at(0).headers["authorization"], "Bearer qdr_test");
}

TEST_F(PipelineCommandsTest, LogsWithTimestampsAsksForThem) {
  server_.SetStreamReply("GET", "/api/v1/runs/12/tasks/train/logs?attempt=2&timestamps=1",
                         {"2026-12-07T17:01:13.214Z second try\n"});
  server_.SetStreamReply("GET", "/api/v1/services/echo/logs?replica=1&timestamps=1",
                         {"2026-12-07T17:01:14.000Z serving\n"});
  RunResult task = Run({"logs", "12", "train", "--attempt", "2", "--timestamps"});
  ASSERT_EQ(task.code, kExitOk) << task.err;
  EXPECT_EQ(task.out, "2026-12-07T17:01:13.214Z second try\n");
  RunResult replica = Run({"logs", "--service", "echo", "--replica", "1", "-t"});
  ASSERT_EQ(replica.code, kExitOk) << replica.err;
  EXPECT_EQ(replica.out, "2026-12-07T17:01:14.000Z serving\n");
}

TEST_F(PipelineCommandsTest, LogsOfTrialsReplicasAndNotebooks) {
  server_.SetStreamReply("GET", "/api/v1/experiments/tune/trials/3/logs?project=team-a", {"trial 3\n"});
  server_.SetStreamReply("GET", "/api/v1/services/echo/logs?replica=1&previous=1", {"boom\n"});
  server_.SetStreamReply("GET", "/api/v1/inference-services/iris-v1/logs?follow=1", {"serving\n"});
  server_.SetStreamReply("GET", "/api/v1/notebooks/lab/logs?project=team-a", {"jupyter\n"});
  RunResult trial = Run({"logs", "--experiment", "tune", "3", "-p", "team-a"});
  ASSERT_EQ(trial.code, kExitOk) << trial.err;
  EXPECT_EQ(trial.out, "trial 3\n");
  RunResult previous = Run({"logs", "--service", "echo", "--replica", "1", "--previous"});
  ASSERT_EQ(previous.code, kExitOk) << previous.err;
  EXPECT_EQ(previous.out, "boom\n");
  RunResult live = Run({"logs", "--inference-service", "iris-v1", "-f"});
  ASSERT_EQ(live.code, kExitOk) << live.err;
  EXPECT_EQ(live.out, "serving\n");
  RunResult notebook = Run({"logs", "--notebook", "lab", "--project", "team-a"});
  ASSERT_EQ(notebook.code, kExitOk) << notebook.err;
  EXPECT_EQ(notebook.out, "jupyter\n");
  // Mixed up: refused before anything is asked.
  size_t asked = server_.requests().size();
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"logs"},
           {"logs", "--experiment", "tune"},
           {"logs", "--service", "a", "--notebook", "b"},
           {"logs", "12", "--service", "a"},
           {"logs", "12", "train", "--previous"},
           {"logs", "--service", "a", "--replica", "-1"}}) {
    RunResult r = Run(args);
    EXPECT_EQ(r.code, kExitUsage) << args.size() << " " << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }
  EXPECT_EQ(server_.requests().size(), asked);
}

TEST_F(PipelineCommandsTest, ArtifactsListsAndCpCopiesFilesAndDirectories) {
  const std::string list = R"({"items": [
    {"path": "leak", "type": "link", "modified_at": "2026-12-07T10:00:00.000Z"},
    {"path": "model.txt", "type": "file", "size": 6, "modified_at": "2026-12-07T10:00:00.000Z"},
    {"path": "plots", "type": "directory", "modified_at": "2026-12-07T10:00:00.000Z"},
    {"path": "plots/a.csv", "type": "file", "size": 4, "modified_at": "2026-12-07T10:00:00.000Z"},
    {"path": "plots/deep/b.csv", "type": "file", "size": 4, "modified_at": "2026-12-07T10:00:00.000Z"}],
    "truncated": false, "total_bytes": 14})";
  server_.SetReply("GET", "/api/v1/runs/12/tasks/train/artifacts", 200, list);
  server_.SetStreamReply("GET", "/api/v1/runs/12/tasks/train/artifact?path=model.txt&download=1", {"MODEL\n"});
  server_.SetStreamReply("GET", "/api/v1/runs/12/tasks/train/artifact?path=plots%2Fa.csv&download=1", {"a,b\n"});
  server_.SetStreamReply("GET", "/api/v1/runs/12/tasks/train/artifact?path=plots%2Fdeep%2Fb.csv&download=1", {"c,d\n"});
  RunResult table = Run({"artifacts", "12/train"});
  ASSERT_EQ(table.code, kExitOk) << table.err;
  EXPECT_NE(table.out.find("PATH"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("plots/deep/b.csv"), std::string::npos) << table.out;
  RunResult names = Run({"artifacts", "12/train", "-o", "name"});
  EXPECT_EQ(names.out, "leak\nmodel.txt\nplots\nplots/a.csv\nplots/deep/b.csv\n");

  // One file into a directory, to a file name, to standard output.
  const std::string out = dir_.File("out");
  std::filesystem::create_directories(out);
  RunResult one = Run({"cp", "12/train:model.txt", out});
  ASSERT_EQ(one.code, kExitOk) << one.err;
  EXPECT_EQ(ReadFile(out + "/model.txt"), "MODEL\n");
  ASSERT_EQ(Run({"cp", "12/train:/outputs/model.txt", dir_.File("renamed.txt")}).code, kExitOk);
  EXPECT_EQ(ReadFile(dir_.File("renamed.txt")), "MODEL\n");
  RunResult printed = Run({"cp", "12/train:model.txt", "-"});
  EXPECT_EQ(printed.out, "MODEL\n");
  // A directory, with everything under it.
  RunResult tree = Run({"cp", "12/train:plots", out});
  ASSERT_EQ(tree.code, kExitOk) << tree.err;
  EXPECT_EQ(ReadFile(out + "/plots/a.csv"), "a,b\n");
  EXPECT_EQ(ReadFile(out + "/plots/deep/b.csv"), "c,d\n");
  // What is not there, a link, bad sources.
  EXPECT_EQ(Run({"cp", "12/train:nothing.txt", out}).code, kExitFailure);
  EXPECT_EQ(Run({"cp", "12/train:leak", out}).code, kExitFailure);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"cp", "12/train", out}, {"cp", "train:model.txt", out}, {"cp", "x/y/z:model.txt", out},
           {"artifacts", "12/train:model.txt"}, {"artifacts", "experiment/tune/x"}}) {
    RunResult r = Run(args);
    EXPECT_EQ(r.code, kExitUsage) << args[1] << " " << r.err;
  }
  // A trial's, with its project.
  server_.SetReply("GET", "/api/v1/experiments/tune/trials/3/artifacts?project=team-a", 200,
                   R"({"items": [], "truncated": false, "total_bytes": 0})");
  EXPECT_EQ(Run({"artifacts", "experiment/tune/3", "-p", "team-a"}).code, kExitOk);
}

TEST_F(PipelineCommandsTest, LogsWithoutTaskPrintsEachTaskUnderAHeader) {
  server_.SetReply("GET", kRun12, 200,
                   RunOf("failed", {Task("make-data", "succeeded", 1, 1),
                                    Task("train", "failed", 2, 2),
                                    Task("evaluate", "upstream_failed", 0, 1)})
                       .dump());
  server_.SetStreamReply("GET", "/api/v1/runs/12/tasks/make-data/logs?attempt=1", {"rows: 500\n"});
  server_.SetStreamReply("GET", "/api/v1/runs/12/tasks/train/logs?attempt=2",
                         {"epoch 1\n", "Killed"});
  RunResult r = Run({"logs", "12"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "==> make-data (attempt 1, succeeded) <==\n"
            "rows: 500\n"
            "\n"
            "==> train (attempt 2, failed) <==\n"
            "epoch 1\n"
            "Killed\n"
            "\n"
            "==> evaluate (upstream_failed) <==\n");
  // The task that never ran has no log to ask for.
  EXPECT_EQ(Targets(), (std::vector<std::string>{
                           "GET /api/v1/runs/12", "GET /api/v1/runs/12/tasks/make-data/logs?attempt=1",
                           "GET /api/v1/runs/12/tasks/train/logs?attempt=2"}));
}

// A stream buffer that calls `on_write` after each write reaches it.
class HookedBuffer : public std::streambuf {
 public:
  explicit HookedBuffer(std::function<void()> on_write) : on_write_(std::move(on_write)) {}
  const std::string& text() const { return text_; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    text_.append(s, static_cast<size_t>(n));
    on_write_();
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) text_.push_back(traits_type::to_char_type(c));
    return c;
  }

 private:
  std::function<void()> on_write_;
  std::string text_;
};

TEST_F(PipelineCommandsTest, LogsFollowWritesEachChunkAsItArrives) {
  server_.SetStreamReply("GET", "/api/v1/runs/12/tasks/train/logs?follow=1",
                         {"line 1\n", "line 2\n", "line 3\n"}, /*gated=*/true);
  std::vector<int> sent_when_written;
  HookedBuffer buffer([&] {
    sent_when_written.push_back(server_.chunks_sent());
    server_.ReleaseChunk();  // only now may the next chunk go
  });
  std::ostream out(&buffer);
  RunResult r = RunTo({"logs", "12", "train", "-f"}, out);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(buffer.text(), "line 1\nline 2\nline 3\n");
  // Each chunk reached stdout while the server still held the next one.
  EXPECT_EQ(sent_when_written, (std::vector<int>{1, 2, 3}));
}

TEST_F(PipelineCommandsTest, LogsFollowWithoutTaskFollowsEachTaskInTurnUntilTheRunEnds) {
  server_.SetReplySequence(
      "GET", kRun12,
      {Ok(RunOf("running", {Task("a", "running", 1, 1), Task("b", "pending", 0, 1),
                            Task("c", "pending", 0, 1)})),
       Ok(RunOf("running", {Task("a", "succeeded", 1, 1), Task("b", "pending", 0, 1),
                            Task("c", "pending", 0, 1)})),
       Ok(RunOf("running", {Task("a", "succeeded", 1, 1), Task("b", "running", 1, 1),
                            Task("c", "pending", 0, 1)})),
       Ok(RunOf("succeeded", {Task("a", "succeeded", 1, 1), Task("b", "succeeded", 1, 1),
                              Task("c", "skipped", 0, 1)}))});
  server_.SetStreamReply("GET", "/api/v1/runs/12/tasks/a/logs?attempt=1&follow=1", {"a says hi\n"});
  server_.SetStreamReply("GET", "/api/v1/runs/12/tasks/b/logs?attempt=1&follow=1", {"b says hi\n"});
  RunResult r = Run({"logs", "12", "--follow"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "==> a (attempt 1, running) <==\n"
            "a says hi\n"
            "\n"
            "==> b (attempt 1, running) <==\n"
            "b says hi\n"
            "\n"
            "==> c (skipped) <==\n");
  EXPECT_EQ(Targets(), (std::vector<std::string>{
                           "GET /api/v1/runs/12", "GET /api/v1/runs/12/tasks/a/logs?attempt=1&follow=1",
                           "GET /api/v1/runs/12",  // a is done; b still waits
                           "GET /api/v1/runs/12",  // b started
                           "GET /api/v1/runs/12/tasks/b/logs?attempt=1&follow=1",
                           "GET /api/v1/runs/12"}));
  EXPECT_EQ(pauses_, std::vector<milliseconds>{milliseconds(500)});
}

TEST_F(PipelineCommandsTest, LogsOfAnUnknownRunIsTheServersError) {
  server_.SetReply("GET", "/api/v1/runs/99", 404,
                   R"({"error": {"code": "not_found", "message": "run 99 not found"}})");
  RunResult r = Run({"logs", "99"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "error: run 99 not found\n");
}

}  // namespace
}  // namespace quader::cli
