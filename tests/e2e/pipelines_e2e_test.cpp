// Job templates, pipelines, runs and schedules through the real server on
// the process runtime (tasks are real processes in a bubblewrap sandbox):
// docs/pipelines.md end to end, including a SIGKILL of the server mid-run.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log_stamp.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

// A template that runs the task's $SCRIPT with sh; its arguments become $1...
constexpr const char* kShellTemplate = R"(
kind: JobTemplate
name: shell
image: quader/base:bookworm
command: ["sh", "-c", "eval \"$SCRIPT\"", "shell"]
args:
  Params:
    --name: {type: str, default: "", require: 0}
    --count: {type: int, default: 1}
    --loud: {type: bool, default: false}
)";

class PipelinesE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartServer();
    Call("POST", "/api/v1/apply", kShellTemplate, 200);
  }

  void StartServer() {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "process", "--webhook-allow", "127.0.0.1"});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", "admin-pass-1");
    ASSERT_FALSE(admin_.empty());
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status,
            const std::string& token = "") {
    return CallJson(*server_, method, path, body, status, token.empty() ? admin_ : token);
  }

  std::string Text(const std::string& path) { return server_->Call("GET", path, "", admin_).body; }

  // Polls the run until `done` says so (or 60 s pass); returns the last reply.
  Json WaitRun(int64_t id, const std::function<bool(const Json&)>& done, int seconds = 60) {
    auto deadline = steady_clock::now() + std::chrono::seconds(seconds);
    Json run;
    while (steady_clock::now() < deadline) {
      run = Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200);
      if (done(run)) return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "run " << id << " did not get there: " << run.dump();
    return run;
  }
  Json WaitFinished(int64_t id, int seconds = 60) {
    return WaitRun(id, [](const Json& r) {
      std::string s = r.value("state", "");
      return s == "succeeded" || s == "failed" || s == "stopped";
    }, seconds);
  }

  static const Json& TaskOf(const Json& run, const std::string& name) {
    for (const auto& t : run["tasks"]) {
      if (t["name"] == name) return t;
    }
    static Json none = Json::object();
    ADD_FAILURE() << "no task " << name;
    return none;
  }

  int64_t RunPipeline(const std::string& name) {
    Json run = Call("POST", "/api/v1/pipelines/" + name + "/run", "{}", 201);
    return run.value("id", int64_t{0});
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(PipelinesE2ETest, ExamplePipelinePassesOutputsDownstream) {
  std::string src = QUADER_SOURCE_DIR;
  Call("POST", "/api/v1/apply", ReadFile(src + "/examples/templates/python-script.yaml"), 200);
  Json applied = Call("POST", "/api/v1/apply", ReadFile(src + "/examples/pipelines/hello.yaml"), 200);
  ASSERT_EQ(applied["results"][0]["action"], "created") << applied.dump();
  // Applying the same document again changes nothing.
  Json again = Call("POST", "/api/v1/apply", ReadFile(src + "/examples/pipelines/hello.yaml"), 200);
  EXPECT_EQ(again["results"][0]["action"], "unchanged");

  int64_t id = RunPipeline("hello");
  Json run = WaitFinished(id);
  ASSERT_EQ(run["state"], "succeeded") << run.dump(2);
  EXPECT_EQ(TaskOf(run, "first")["outputs"]["greeting"], "hello");
  std::string log = Text("/api/v1/runs/" + std::to_string(id) + "/tasks/second/logs");
  EXPECT_NE(log.find("hello, world"), std::string::npos) << log;
  EXPECT_EQ(TaskOf(run, "second")["attempt"], 1);
  EXPECT_EQ(TaskOf(run, "second")["runtime"], "process");
  EXPECT_FALSE(TaskOf(run, "second")["workload"].get<std::string>().empty());
  Json pipeline = Call("GET", "/api/v1/pipelines/hello", "", 200);
  EXPECT_EQ(pipeline["last_run"]["state"], "succeeded");
}

// CONTRACT.md: make test applies and runs the examples. The iris pipeline
// trains and evaluates a real scikit-learn model (Debian's python3 in the
// process runtime's sandbox; the image in a container engine).
TEST_F(PipelinesE2ETest, IrisExampleTrainsAndEvaluatesAModel) {
  std::string src = QUADER_SOURCE_DIR;
  for (const char* t : {"make-dataset", "train-sklearn", "evaluate-model"}) {
    Call("POST", "/api/v1/apply", ReadFile(src + "/examples/templates/" + t + ".yaml"), 200);
  }
  Call("POST", "/api/v1/apply", ReadFile(src + "/examples/pipelines/iris.yaml"), 200);
  Json pipeline = Call("GET", "/api/v1/pipelines/iris", "", 200);
  EXPECT_EQ(pipeline["schedule"]["timezone"], "Asia/Shanghai");
  EXPECT_TRUE(pipeline["next_fire"].get<std::string>().find("T18:00:00Z") != std::string::npos) << pipeline["next_fire"];
  int64_t id = RunPipeline("iris");
  Json run = WaitFinished(id, 120);
  ASSERT_EQ(run["state"], "succeeded") << run.dump(2);
  EXPECT_EQ(TaskOf(run, "make-data")["outputs"]["train_file"], "train.csv");
  EXPECT_GE(TaskOf(run, "evaluate")["outputs"]["accuracy"].get<double>(), 0.8);
  EXPECT_GT(TaskOf(run, "train")["peak_memory_bytes"].get<int64_t>(), 0);
  EXPECT_TRUE(fs::exists(dir_.path() + "/artifacts/runs/" + std::to_string(id) + "/train/model.joblib"));
}

TEST_F(PipelinesE2ETest, InvalidPipelinesAreRefusedAndNothingIsSaved) {
  auto refused = [&](const std::string& doc, const std::string& expected) {
    Json r = Call("POST", "/api/v1/apply", doc, 400);
    std::string msg = r["error"]["message"].get<std::string>();
    EXPECT_NE(msg.find(expected), std::string::npos) << msg;
  };
  refused(R"(
kind: Pipeline
name: cyclic
tasks:
  - {name: a, template: shell, depends_on: [c]}
  - {name: b, template: shell, depends_on: [a]}
  - {name: c, template: shell, depends_on: [b]}
)", "cycle a -> b -> c -> a");
  refused(R"(
kind: Pipeline
name: missing
tasks:
  - {name: a, template: no-such-template}
)", "job template \"no-such-template\"");
  refused(R"(
kind: Pipeline
name: unknown-arg
tasks:
  - {name: a, template: shell, args: {--colour: red}}
)", "--colour");
  refused(R"(
kind: Pipeline
name: mistyped
tasks:
  - {name: a, template: shell, args: {--count: many}}
)", "--count");
  refused(R"(
kind: Pipeline
name: bad-cron
schedule: {cron: "61 * * * *"}
tasks:
  - {name: a, template: shell}
)", "61");
  refused(R"(
kind: Pipeline
name: bad-zone
schedule: {cron: "0 2 * * *", timezone: Mars/Olympus}
tasks:
  - {name: a, template: shell}
)", "Mars/Olympus");
  refused(R"(
kind: Pipeline
name: dup
tasks:
  - {name: a, template: shell}
  - {name: a, template: shell}
)", "a");
  Json list = Call("GET", "/api/v1/pipelines", "", 200);
  EXPECT_TRUE(list["items"].empty()) << list.dump();
  // The editor's check says the same without saving.
  Json v = Call("POST", "/api/v1/pipelines/validate",
                R"({"name": "v", "tasks": [{"name": "a", "template": "shell", "depends_on": ["a"]}]})", 400);
  EXPECT_NE(v["error"]["message"].get<std::string>().find("a"), std::string::npos);
  Call("POST", "/api/v1/pipelines/validate", R"({"name": "v", "tasks": [{"name": "a", "template": "shell"}]})", 200);
}

TEST_F(PipelinesE2ETest, RetriesFailuresEnvAndArgv) {
  Call("POST", "/api/v1/apply", R"(
kind: Pipeline
name: flaky
parallelism: 3
global_env: {GREETING: "hi {{runner}}"}
tasks:
  - name: third-time-lucky
    template: shell
    retries: 2
    retry_backoff: 0
    env: {SCRIPT: 'echo "attempt $QUADER_ATTEMPT"; [ "$QUADER_ATTEMPT" -ge 3 ] || exit 7'}
  - name: broken
    template: shell
    env: {SCRIPT: 'echo broken; exit 3'}
  - name: after-broken
    template: shell
    depends_on: [broken]
    env: {SCRIPT: 'echo never'}
  - name: env
    template: shell
    args: {--name: "{{pipeline_name}}", --count: 3, --loud: true}
    env: {SCRIPT: 'echo "$KFJ_PIPELINE_NAME $KFJ_TASK_NAME $KFJ_RUNNER $GREETING args:$*"; echo "run=$KFJ_RUN_ID"'}
)", 200);
  int64_t id = RunPipeline("flaky");
  Json run = WaitFinished(id);
  EXPECT_EQ(run["state"], "failed");
  const Json& lucky = TaskOf(run, "third-time-lucky");
  EXPECT_EQ(lucky["state"], "succeeded") << lucky.dump();
  EXPECT_EQ(lucky["attempt"], 3);
  ASSERT_EQ(lucky["attempts"].size(), 3u);
  EXPECT_EQ(lucky["attempts"][0]["exit_code"], 7);
  EXPECT_EQ(lucky["attempts"][0]["state"], "failed");
  EXPECT_EQ(lucky["attempts"][2]["state"], "succeeded");
  std::string log2 = Text("/api/v1/runs/" + std::to_string(id) + "/tasks/third-time-lucky/logs?attempt=2");
  EXPECT_NE(log2.find("attempt 2"), std::string::npos) << log2;
  EXPECT_EQ(TaskOf(run, "broken")["state"], "failed");
  EXPECT_EQ(TaskOf(run, "broken")["exit_code"], 3);
  EXPECT_EQ(TaskOf(run, "after-broken")["state"], "upstream_failed");
  EXPECT_EQ(TaskOf(run, "env")["state"], "succeeded");
  std::string env = Text("/api/v1/runs/" + std::to_string(id) + "/tasks/env/logs");
  EXPECT_NE(env.find("flaky env admin hi admin args:--count 3 --loud --name flaky"), std::string::npos) << env;
  EXPECT_NE(env.find("run=" + run["run_key"].get<std::string>()), std::string::npos) << env;
  Json argv = TaskOf(run, "env")["argv"];
  EXPECT_EQ(argv.back(), "flaky");
}

// docs/api.md "Runs": a big run's tasks come in pages; the summary counts
// come with every answer; bad page parameters are refused by name.
TEST_F(PipelinesE2ETest, ARunsTasksComeInPages) {
  std::string doc = "kind: Pipeline\nname: five\nparallelism: 5\ntasks:\n";
  for (int i = 0; i < 5; ++i) {
    doc += "  - {name: t" + std::to_string(i) + ", template: shell, retries: 1, retry_backoff: 0, env: {SCRIPT: '[ \"$QUADER_ATTEMPT\" -ge 2 ]'}}\n";
  }
  Call("POST", "/api/v1/apply", doc, 200);
  int64_t id = RunPipeline("five");
  Json all = WaitFinished(id);
  ASSERT_EQ(all["state"], "succeeded") << all.dump(2);
  ASSERT_EQ(all["tasks"].size(), 5u) << "without a page: every task";
  EXPECT_EQ(all["task_count"], 5);
  EXPECT_EQ(all["task_states"]["succeeded"], 5);
  const std::string base = "/api/v1/runs/" + std::to_string(id);
  Json first = Call("GET", base + "?tasks_limit=2", "", 200);
  ASSERT_EQ(first["tasks"].size(), 2u);
  EXPECT_EQ(first["tasks"][0]["name"], "t0");
  EXPECT_EQ(first["tasks"][1]["name"], "t1");
  EXPECT_EQ(first["tasks"][1]["attempts"].size(), 2u) << "each task with its own attempts";
  EXPECT_EQ(first["tasks_next_offset"], 2);
  EXPECT_EQ(first["task_count"], 5);
  Json last = Call("GET", base + "?tasks_offset=4&tasks_limit=2", "", 200);
  ASSERT_EQ(last["tasks"].size(), 1u);
  EXPECT_EQ(last["tasks"][0]["name"], "t4");
  EXPECT_TRUE(last["tasks_next_offset"].is_null());
  Json summary = Call("GET", base + "?tasks_limit=0", "", 200);
  EXPECT_TRUE(summary["tasks"].empty());
  EXPECT_EQ(summary["task_states"]["succeeded"], 5);
  for (const char* bad : {"?tasks_limit=-1", "?tasks_limit=two", "?tasks_offset=1x"}) {
    Json e = Call("GET", base + bad, "", 400);
    EXPECT_NE(e.dump().find("tasks_"), std::string::npos) << bad << ": " << e.dump();
  }
  Json one = Call("GET", base + "?task=t3", "", 200);
  ASSERT_EQ(one["tasks"].size(), 1u) << "?task=NAME: that task alone";
  EXPECT_EQ(one["tasks"][0]["name"], "t3");
  EXPECT_EQ(one["tasks"][0]["attempts"].size(), 2u);
  EXPECT_EQ(one["task_count"], 5);
  Call("GET", base + "?task=t9", "", 404);
  Call("GET", base + "?task=", "", 400);
}

// A run of more than 500 tasks answers a page of 50 unless a page is asked
// for, so that polling it stays cheap.
TEST_F(PipelinesE2ETest, ABigRunIsAnsweredAPageAtATime) {
  std::string doc = "kind: Pipeline\nname: wide\nparallelism: 1\ntasks:\n";
  for (int i = 0; i < 520; ++i) {
    doc += "  - {name: w" + std::to_string(i) + ", template: shell, env: {SCRIPT: 'sleep 30'}}\n";
  }
  Call("POST", "/api/v1/apply", doc, 200);
  int64_t id = RunPipeline("wide");
  const std::string base = "/api/v1/runs/" + std::to_string(id);
  Json page = Call("GET", base, "", 200);
  EXPECT_EQ(page["task_count"], 520);
  ASSERT_EQ(page["tasks"].size(), 50u);
  EXPECT_EQ(page["tasks"][0]["name"], "w0");
  EXPECT_EQ(page["tasks_offset"], 0);
  EXPECT_EQ(page["tasks_next_offset"], 50);
  EXPECT_LT(Text(base).size(), 64u * 1024) << "a page of a big run fits in 64 KB";
  Json rest = Call("GET", base + "?tasks_offset=500&tasks_limit=1000", "", 200);
  ASSERT_EQ(rest["tasks"].size(), 20u);
  EXPECT_TRUE(rest["tasks_next_offset"].is_null());
  EXPECT_EQ(Call("GET", base + "?task=w519", "", 200)["tasks"][0]["name"], "w519");

  Call("POST", base + "/stop", "{}", 200);
  Json stopped = WaitFinished(id);
  EXPECT_EQ(stopped["state"], "stopped");
}

TEST_F(PipelinesE2ETest, TimeoutKillsStopEndsAndDebugRunsOneTask) {
  Call("POST", "/api/v1/apply", R"(
kind: Pipeline
name: slow
tasks:
  - {name: nap, template: shell, timeout: 1, env: {SCRIPT: 'echo napping; sleep 30'}}
---
kind: Pipeline
name: long
tasks:
  - {name: wait, template: shell, env: {SCRIPT: 'echo waiting; sleep 60'}}
  - {name: later, template: shell, depends_on: [wait], env: {SCRIPT: 'echo later'}}
)", 200);
  auto t0 = steady_clock::now();
  Json slow = WaitFinished(RunPipeline("slow"));
  EXPECT_EQ(slow["state"], "failed");
  EXPECT_NE(TaskOf(slow, "nap")["reason"].get<std::string>().find("timed out"), std::string::npos) << slow.dump();
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(20));

  int64_t id = RunPipeline("long");
  WaitRun(id, [](const Json& r) { return TaskOf(r, "wait")["state"] == "running"; });
  // A live follow sees the output while the task runs.
  std::string live = Text("/api/v1/runs/" + std::to_string(id) + "/tasks/wait/logs");
  t0 = steady_clock::now();
  Json stopped = Call("POST", "/api/v1/runs/" + std::to_string(id) + "/stop", "{}", 200);
  Json run = WaitFinished(id);
  EXPECT_EQ(run["state"], "stopped");
  EXPECT_EQ(TaskOf(run, "wait")["state"], "stopped");
  EXPECT_EQ(TaskOf(run, "later")["state"], "stopped");
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(15));
  Call("DELETE", "/api/v1/runs/" + std::to_string(id), "", 200);
  Call("GET", "/api/v1/runs/" + std::to_string(id), "", 404);

  // Debug: one task alone, its upstreams ignored.
  Json debug = Call("POST", "/api/v1/pipelines/long/tasks/later/run", "{}", 201);
  EXPECT_EQ(debug["trigger"], "debug");
  ASSERT_EQ(debug["tasks"].size(), 1u);
  Json done = WaitFinished(debug["id"]);
  EXPECT_EQ(done["state"], "succeeded");
  Call("POST", "/api/v1/pipelines/long/tasks/nope/run", "{}", 404);
}

TEST_F(PipelinesE2ETest, FollowStreamsUntilTheTaskEnds) {
  Call("POST", "/api/v1/apply", R"(
kind: Pipeline
name: ticker
tasks:
  - {name: tick, template: shell, env: {SCRIPT: 'for i in 1 2 3; do echo tick $i; sleep 0.5; done'}}
)", 200);
  int64_t id = RunPipeline("ticker");
  auto t0 = steady_clock::now();
  std::string log = Text("/api/v1/runs/" + std::to_string(id) + "/tasks/tick/logs?follow=1");
  EXPECT_NE(log.find("tick 1"), std::string::npos) << log;
  EXPECT_NE(log.find("tick 3"), std::string::npos) << log;
  EXPECT_GT(steady_clock::now() - t0, std::chrono::milliseconds(900));  // it waited for the task
  // Each line was stamped when it was written: ?timestamps=1 shows the stamps
  // (tick 3 a second after tick 1); without it the lines are as written.
  std::string stamped = Text("/api/v1/runs/" + std::to_string(id) + "/tasks/tick/logs?timestamps=1");
  std::map<std::string, int64_t> at_ms;
  std::istringstream lines(stamped);
  for (std::string line; std::getline(lines, line);) {
    ASSERT_TRUE(StartsWithLogStamp(line + "\n")) << stamped;
    std::tm tm{};
    strptime(line.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    at_ms[line.substr(kLogStampSize)] = timegm(&tm) * int64_t{1000} + std::stoi(line.substr(20, 3));
  }
  ASSERT_TRUE(at_ms.count("tick 1") && at_ms.count("tick 3")) << stamped;
  EXPECT_GE(at_ms["tick 3"] - at_ms["tick 1"], 800) << stamped;
  std::string plain = Text("/api/v1/runs/" + std::to_string(id) + "/tasks/tick/logs");
  EXPECT_NE(plain.find("tick 1\n"), std::string::npos) << plain;
  std::istringstream plain_lines(plain);
  for (std::string line; std::getline(plain_lines, line);) EXPECT_FALSE(StartsWithLogStamp(line + "\n")) << plain;
}

// The server's own line about a task's end starts on a line of its own,
// even after last words without a newline (else its stamp would sit in the
// middle of a line, where readers do not drop it).
TEST_F(PipelinesE2ETest, TheServersLineAboutATaskStartsALineOfItsOwn) {
  Call("POST", "/api/v1/apply", R"(
kind: Pipeline
name: abrupt
tasks:
  - {name: cut, template: shell, env: {SCRIPT: 'printf no-newline-at-end; exit 3'}}
)", 200);
  int64_t id = RunPipeline("abrupt");
  WaitFinished(id);
  std::string log = Text("/api/v1/runs/" + std::to_string(id) + "/tasks/cut/logs");
  EXPECT_EQ(log.rfind("no-newline-at-end\n== exited with code 3", 0), 0u) << log;
  std::string stamped = Text("/api/v1/runs/" + std::to_string(id) + "/tasks/cut/logs?timestamps=1");
  std::istringstream lines(stamped);
  for (std::string line; std::getline(lines, line);) EXPECT_TRUE(StartsWithLogStamp(line + "\n")) << stamped;
}

TEST_F(PipelinesE2ETest, SigkilledServerCarriesOnWithoutRunningATaskTwice) {
  Call("POST", "/api/v1/apply", R"(
kind: Pipeline
name: sturdy
tasks:
  - {name: first, template: shell, env: {SCRIPT: 'echo start >> /mnt/admin/marks; sleep 3; echo first-done'}}
  - {name: second, template: shell, depends_on: [first], env: {SCRIPT: 'echo second >> /mnt/admin/marks'}}
)", 200);
  int64_t id = RunPipeline("sturdy");
  WaitRun(id, [](const Json& r) { return TaskOf(r, "first")["state"] == "running"; });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  server_->Kill();
  StartServer();
  Json run = WaitFinished(id);
  EXPECT_EQ(run["state"], "succeeded") << run.dump(2);
  EXPECT_EQ(TaskOf(run, "first")["attempt"], 1);
  EXPECT_EQ(ReadFile(dir_.path() + "/users/admin/work/marks"), "start\nsecond\n");
  std::string log = Text("/api/v1/runs/" + std::to_string(id) + "/tasks/first/logs");
  EXPECT_NE(log.find("first-done"), std::string::npos) << log;
}

TEST_F(PipelinesE2ETest, NonMembersSeeNoRunsOrLogs) {
  Call("POST", "/api/v1/projects", R"({"name": "team"})", 201);
  Call("POST", "/api/v1/apply", R"(
kind: Pipeline
name: private
project: team
tasks:
  - {name: a, template: shell, env: {SCRIPT: 'echo secret'}}
)", 200);
  Json run = Call("POST", "/api/v1/pipelines/private/run?project=team", "{}", 201);
  Call("POST", "/api/v1/users", R"({"username": "eve", "password": "password-eve"})", 201);
  std::string eve = server_->Login("eve", "password-eve");
  std::string rid = std::to_string(run["id"].get<int64_t>());
  Call("GET", "/api/v1/runs/" + rid, "", 404, eve);
  Call("GET", "/api/v1/runs/" + rid + "/tasks/a/logs", "", 404, eve);
  Call("POST", "/api/v1/runs/" + rid + "/stop", "{}", 404, eve);
  Call("GET", "/api/v1/pipelines/private?project=team", "", 404, eve);
  EXPECT_TRUE(Call("GET", "/api/v1/runs", "", 200, eve)["items"].empty());
  // Templates of public are only written by admins.
  Json denied = Call("POST", "/api/v1/apply", R"({"kind": "JobTemplate", "name": "mine", "image": "x"})", 403, eve);
  WaitFinished(run["id"]);
}

// A failed run is retried from its failed tasks (the ones that succeeded are
// carried over with their outputs and files); a run is run again with
// parameters overridden, without editing the pipeline.
TEST_F(PipelinesE2ETest, RetryRunsOnlyTheFailedTasksAndRerunTakesOverrides) {
  Call("POST", "/api/v1/apply", R"(
kind: Pipeline
name: mend
global_env: {G: "from-pipeline"}
tasks:
  - name: a
    template: shell
    env: {SCRIPT: 'echo ran-a >> /mnt/admin/a-count; echo A-DATA > /outputs/data.txt; echo "{\"v\": \"x\"}" > /outputs/outputs.json'}
  - name: b
    template: shell
    depends_on: [a]
    env: {SCRIPT: 'cat /inputs/a/data.txt; echo "G=$G GREETING=$GREETING"; [ -e /mnt/admin/fixed ] || exit 4; echo b-ok'}
  - {name: c, template: shell, depends_on: [b], env: {SCRIPT: 'echo c-ok'}}
)", 200);
  int64_t first = RunPipeline("mend");
  Json failed = WaitFinished(first);
  ASSERT_EQ(failed["state"], "failed") << failed.dump(2);
  EXPECT_EQ(TaskOf(failed, "c")["state"], "upstream_failed");
  // A run that does not exist is not found.
  Call("POST", "/api/v1/runs/999999/retry", "{}", 404);

  std::ofstream(dir_.path() + "/users/admin/work/fixed") << "yes";
  Json retry = Call("POST", "/api/v1/runs/" + std::to_string(first) + "/retry", "{}", 201);
  EXPECT_EQ(retry["trigger"], "retry");
  Json done = WaitFinished(retry["id"]);
  ASSERT_EQ(done["state"], "succeeded") << done.dump(2);
  const Json& a = TaskOf(done, "a");
  EXPECT_EQ(a["state"], "succeeded");
  EXPECT_EQ(a["attempt"], 0) << "carried over, not run again";
  EXPECT_NE(a["reason"].get<std::string>().find("succeeded in run " + std::to_string(first)), std::string::npos);
  EXPECT_EQ(a["outputs"]["v"], "x") << TaskOf(failed, "a").dump() << "\n" << a.dump();
  EXPECT_EQ(ReadFile(dir_.path() + "/users/admin/work/a-count"), "ran-a\n") << "a ran once";
  std::string b_log = Text("/api/v1/runs/" + std::to_string(retry["id"].get<int64_t>()) + "/tasks/b/logs");
  EXPECT_NE(b_log.find("A-DATA"), std::string::npos) << "a's files are b's inputs: " << b_log;
  EXPECT_NE(b_log.find("b-ok"), std::string::npos) << b_log;
  EXPECT_EQ(Text("/api/v1/runs/" + std::to_string(retry["id"].get<int64_t>()) + "/tasks/a/artifact?path=data.txt"),
            "A-DATA\n");
  Json again = Call("POST", "/api/v1/runs/" + std::to_string(retry["id"].get<int64_t>()) + "/retry", "{}", 409);
  EXPECT_NE(again["error"]["message"].get<std::string>().find("only a failed or stopped run"), std::string::npos);

  // Re-run with overrides: what ran is what the run shows.
  Json rerun = Call("POST", "/api/v1/runs/" + std::to_string(first) + "/rerun",
                    R"({"global_env": {"G": "overridden"}, "tasks": {"b": {"env": {"GREETING": "hi"}}}})", 201);
  EXPECT_EQ(rerun["trigger"], "rerun");
  EXPECT_EQ(rerun["global_env"]["G"], "overridden");
  Json rerun_done = WaitFinished(rerun["id"]);
  ASSERT_EQ(rerun_done["state"], "succeeded") << rerun_done.dump(2);
  std::string rb = Text("/api/v1/runs/" + std::to_string(rerun["id"].get<int64_t>()) + "/tasks/b/logs");
  EXPECT_NE(rb.find("G=overridden GREETING=hi"), std::string::npos) << rb;
  // The same on the pipeline's own run; the pipeline itself is unchanged.
  Json run = Call("POST", "/api/v1/pipelines/mend/run", R"({"global_env": {"G": 7}})", 201);
  EXPECT_EQ(run["global_env"]["G"], "7");
  WaitFinished(run["id"]);
  EXPECT_EQ(Call("GET", "/api/v1/pipelines/mend", "", 200)["global_env"]["G"], "from-pipeline");
  // Bad overrides change nothing and name the problem.
  size_t runs_before = Call("GET", "/api/v1/runs?pipeline=mend", "", 200)["items"].size();
  struct Bad {
    const char* body;
    const char* names;
  };
  for (const Bad& bad : {Bad{R"({"tasks": {"nope": {"env": {"K": "v"}}}})", "tasks.nope"},
                         Bad{R"({"bogus": 1})", "bogus"}, Bad{R"({"global_env": {"K": [1]}})", "global_env.K"},
                         Bad{R"({"tasks": {"b": {"image": "x"}}})", "tasks.b.image"}, Bad{"[1]", "body"},
                         Bad{"{not json", "body"}}) {
    Json e = Call("POST", "/api/v1/pipelines/mend/run", bad.body, 400);
    EXPECT_NE(e["error"]["message"].get<std::string>().find(bad.names), std::string::npos) << bad.body << " " << e;
  }
  EXPECT_EQ(Call("GET", "/api/v1/runs?pipeline=mend", "", 200)["items"].size(), runs_before);
}

// A rerun takes the project's mounts as they are now: a mount an admin has
// withdrawn is not kept by running an old run again.
TEST_F(PipelinesE2ETest, ARerunDoesNotKeepAProjectMountTheAdminWithdrew) {
  const std::string secret = dir_.path() + "/secret-share";
  fs::create_directories(secret);
  std::ofstream(secret + "/s.txt") << "TOPSECRET";
  fs::permissions(secret, fs::perms::all);
  fs::permissions(secret + "/s.txt", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  Call("POST", "/api/v1/projects", R"({"name": "team"})", 201);
  Call("PUT", "/api/v1/projects/team", Json({{"expand", {{"volume_mount", secret + "(hostpath):/secret"}}}}).dump(), 200);
  Call("POST", "/api/v1/apply", R"(
kind: Pipeline
name: reader
project: team
tasks:
  - {name: a, template: shell, env: {SCRIPT: 'cat /secret/s.txt'}}
)", 200);
  Json first = Call("POST", "/api/v1/pipelines/reader/run?project=team", "{}", 201);
  int64_t id = first["id"];
  ASSERT_EQ(WaitFinished(id)["state"], "succeeded");
  EXPECT_EQ(Text("/api/v1/runs/" + std::to_string(id) + "/tasks/a/logs").find("TOPSECRET"), 0u);
  Call("PUT", "/api/v1/projects/team", R"({"expand": {}})", 200);
  Json rerun = Call("POST", "/api/v1/runs/" + std::to_string(id) + "/rerun", "{}", 201);
  Json done = WaitFinished(rerun["id"]);
  EXPECT_EQ(done["state"], "failed") << done.dump(2);
  std::string log = Text("/api/v1/runs/" + std::to_string(rerun["id"].get<int64_t>()) + "/tasks/a/logs");
  EXPECT_EQ(log.find("TOPSECRET"), std::string::npos) << log;
  // Deleting the project deletes its runs' logs and artifacts too.
  ASSERT_TRUE(fs::exists(dir_.path() + "/logs/runs/" + std::to_string(id)));
  Call("DELETE", "/api/v1/projects/team", "", 200);
  EXPECT_FALSE(fs::exists(dir_.path() + "/logs/runs/" + std::to_string(id)));
  EXPECT_FALSE(fs::exists(dir_.path() + "/artifacts/runs/" + std::to_string(id)));
}

// Followed logs each hold a stream, not one of the request workers, and a
// user's open streams are limited: the API keeps answering everyone else.
TEST_F(PipelinesE2ETest, OpenLogStreamsNeitherStarveTheApiNorExceedTheirLimit) {
  Call("POST", "/api/v1/apply", R"(
kind: Pipeline
name: quiet
tasks:
  - {name: t, template: shell, env: {SCRIPT: 'echo started; sleep 30'}}
)", 200);
  int64_t id = RunPipeline("quiet");
  WaitRun(id, [](const Json& r) { return TaskOf(r, "t")["state"] == "running"; });
  const std::string api = server_->api();
  const int port = std::stoi(api.substr(api.rfind(':') + 1));
  std::vector<int> sockets;
  std::map<std::string, int> statuses;
  for (int i = 0; i < 20; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    std::string req = "GET /api/v1/runs/" + std::to_string(id) + "/tasks/t/logs?follow=1 HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Bearer " + admin_ + "\r\n\r\n";
    ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
    std::string head;
    char c;
    pollfd p{fd, POLLIN, 0};
    while (head.find("\r\n") == std::string::npos && poll(&p, 1, 5000) == 1 && read(fd, &c, 1) == 1) head += c;
    statuses[head.substr(0, 12)]++;
    sockets.push_back(fd);
  }
  EXPECT_EQ(statuses["HTTP/1.1 200"], 16) << "16 streams per user";
  EXPECT_EQ(statuses["HTTP/1.1 503"], 4);
  // Everyone else is answered at once.
  Call("POST", "/api/v1/users", R"({"username": "eve", "password": "password-eve"})", 201);
  std::string eve = server_->Login("eve", "password-eve");
  auto t0 = steady_clock::now();
  Call("GET", "/api/v1/me", "", 200, eve);
  Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200);
  EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(3));
  for (int fd : sockets) close(fd);
  Call("POST", "/api/v1/runs/" + std::to_string(id) + "/stop", "{}", 200);
  WaitFinished(id);
}

// What a task leaves in /outputs is listed and read through the API (and
// `quader cp`), for members only, and never through a link it planted.
TEST_F(PipelinesE2ETest, ArtifactsAreListedAndReadWithoutFollowingLinks) {
  Call("POST", "/api/v1/apply", R"(
kind: Pipeline
name: arts
tasks:
  - name: make
    template: shell
    env:
      SCRIPT: >-
        mkdir -p /outputs/plots && printf 'a,b\n1,2\n' > /outputs/plots/t.csv &&
        echo MODEL > /outputs/model.txt && ln -s /etc/passwd /outputs/leak && ln -s / /outputs/root &&
        printf '<script>alert(1)</script>' > /outputs/page.html
)", 200);
  int64_t id = RunPipeline("arts");
  Json run = WaitFinished(id);
  ASSERT_EQ(run["state"], "succeeded") << run.dump(2);
  const std::string base = "/api/v1/runs/" + std::to_string(id) + "/tasks/make/";
  Json list = Call("GET", base + "artifacts", "", 200);
  std::map<std::string, std::string> types;
  for (const auto& item : list["items"]) types[item["path"]] = item["type"];
  EXPECT_EQ(types, (std::map<std::string, std::string>{{"leak", "link"},
                                                       {"model.txt", "file"},
                                                       {"page.html", "file"},
                                                       {"plots", "directory"},
                                                       {"plots/t.csv", "file"},
                                                       {"root", "link"}}))
      << list.dump(2);
  EXPECT_FALSE(list["truncated"].get<bool>());

  cli::HttpReply model = server_->Call("GET", base + "artifact?path=model.txt", "", admin_);
  EXPECT_EQ(model.status, 200);
  EXPECT_EQ(model.body, "MODEL\n");
  EXPECT_EQ(model.headers["content-type"].rfind("text/plain", 0), 0u);
  cli::HttpReply csv = server_->Call("GET", base + "artifact?path=plots/t.csv", "", admin_);
  EXPECT_EQ(csv.body, "a,b\n1,2\n");
  EXPECT_EQ(csv.headers["content-type"].rfind("text/csv", 0), 0u);
  // A page the task wrote is a download, never a page of the UI's origin.
  cli::HttpReply page = server_->Call("GET", base + "artifact?path=page.html", "", admin_);
  EXPECT_EQ(page.headers["content-type"], "application/octet-stream");
  EXPECT_EQ(page.headers["content-disposition"].rfind("attachment", 0), 0u);
  EXPECT_EQ(page.headers["x-content-type-options"], "nosniff");
  // Links are not followed, and nothing outside /outputs can be named.
  Call("GET", base + "artifact?path=leak", "", 404);
  Call("GET", base + "artifact?path=root/etc/passwd", "", 404);
  Call("GET", base + "artifact?path=..%2F..%2F..%2F..%2Fquader.db", "", 400);
  Call("GET", base + "artifact?path=%2Fetc%2Fpasswd", "", 400);
  Call("GET", base + "artifact?path=plots", "", 400);
  Call("GET", base + "artifact", "", 400);
  Call("GET", base + "artifact?path=missing.txt", "", 404);
  Call("GET", "/api/v1/runs/" + std::to_string(id) + "/tasks/nope/artifacts", "", 404);
  // Strangers see nothing.
  Call("POST", "/api/v1/users", R"({"username": "eve", "password": "password-eve"})", 201);
  std::string eve = server_->Login("eve", "password-eve");
  Call("POST", "/api/v1/projects", R"({"name": "team"})", 201);
  Call("POST", "/api/v1/apply", R"(
kind: Pipeline
name: secret-arts
project: team
tasks:
  - {name: make, template: shell, env: {SCRIPT: 'echo SECRET > /outputs/s.txt'}}
)", 200);
  Json team_run = Call("POST", "/api/v1/pipelines/secret-arts/run?project=team", "{}", 201);
  std::string team_base = "/api/v1/runs/" + std::to_string(team_run["id"].get<int64_t>()) + "/tasks/make/";
  WaitFinished(team_run["id"]);
  EXPECT_EQ(Text(team_base + "artifact?path=s.txt"), "SECRET\n");
  Call("GET", team_base + "artifacts", "", 404, eve);
  Call("GET", team_base + "artifact?path=s.txt", "", 404, eve);
}

// A one-shot HTTP receiver on a free loopback port: keeps the first request
// it gets (headers and body) and answers 204.
class HookReceiver {
 public:
  HookReceiver() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 4);
  }
  ~HookReceiver() { close(fd_); }
  int port() const { return port_; }
  // Waits up to `seconds` for one request; returns it ("" on timeout).
  std::string Receive(int seconds) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, seconds * 1000) != 1) return "";
    int c = accept(fd_, nullptr, nullptr);
    std::string got;
    char buf[4096];
    auto deadline = steady_clock::now() + std::chrono::seconds(5);
    while (steady_clock::now() < deadline) {
      pollfd q{c, POLLIN, 0};
      if (poll(&q, 1, 200) != 1) {
        if (got.find("\r\n\r\n") != std::string::npos) break;
        continue;
      }
      ssize_t n = read(c, buf, sizeof(buf));
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    std::string reply = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)!write(c, reply.data(), reply.size());
    close(c);
    return got;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(PipelinesE2ETest, FailedRunCallsTheWebhook) {
  HookReceiver hook;
  Call("POST", "/api/v1/apply", R"({"kind": "Pipeline", "name": "hooked",
    "webhook": {"url": "http://127.0.0.1:)" + std::to_string(hook.port()) + R"(/hook", "on": ["failed"]},
    "tasks": [{"name": "boom", "template": "shell", "env": {"SCRIPT": "exit 4"}}]})", 200);
  int64_t id = RunPipeline("hooked");
  std::string request = hook.Receive(30);
  ASSERT_FALSE(request.empty()) << "no webhook call";
  EXPECT_EQ(request.rfind("POST /hook HTTP/1.1", 0), 0u) << request;
  std::string body = request.substr(request.find("\r\n\r\n") + 4);
  Json j = Json::parse(body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << request;
  EXPECT_EQ(j["event"], "run.failed");
  EXPECT_EQ(j["run"]["id"], id);
  EXPECT_NE(j["run"]["tasks"][0]["reason"].get<std::string>().find("code 4"), std::string::npos) << body;
}

}  // namespace
}  // namespace quader::testing
