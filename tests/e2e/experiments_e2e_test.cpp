// Hyperparameter-search experiments through the real server on the process
// runtime (trials are real Python processes using the real `nni` module from
// sdk/python over HTTP): docs/hpo.md end to end, including the user guide's
// example trial unchanged, early stopping, stop, access checks and a SIGKILL
// of the server mid-experiment.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/documents.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

// A trial that reports `steps` intermediate values x*(i+1)/steps, sleeping
// `pause` seconds between them, then x as its final value; it also appends
// its sequence id to /mnt/admin/marks (to count executions).
Json QuickExperiment(const std::string& name, int max_trials, int parallelism, int steps, double pause) {
  std::string code =
      "import json, os, sys, time\n"
      "import nni\n"
      "p = nni.get_next_parameter()\n"
      "with open('/mnt/admin/marks', 'a') as f: f.write(str(nni.get_sequence_id()) + '\\n')\n"
      "print('argv', json.dumps(sys.argv[1:]), 'params', json.dumps(p), 'trial', nni.get_trial_id(),\n"
      "      'experiment', nni.get_experiment_id(), flush=True)\n"
      "x = p['x']\n"
      "for i in range(" + std::to_string(steps) + "):\n"
      "    time.sleep(" + std::to_string(pause) + ")\n"
      "    nni.report_intermediate_result(x * (i + 1) / " + std::to_string(steps) + ")\n"
      "nni.report_final_result(x)\n";
  return {{"kind", "Experiment"},
          {"name", name},
          {"image", "quader/python:3.11"},
          {"command", {"/usr/bin/python3", "main.py"}},
          {"files", {{"main.py", code}}},
          {"search_space", {{"x", {{"_type", "uniform"}, {"_value", {0, 1}}}}}},
          {"tuner", "Random"},
          {"max_trials", max_trials},
          {"parallelism", parallelism},
          {"seed", 7}};
}

class ExperimentsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  // `listen`: an address to reuse (trials keep calling the URL they were given).
  void StartServer(const std::string& listen = "127.0.0.1:0") {
    server_ = std::make_unique<ServerProcess>(dir_.path(),
                                              std::vector<std::string>{"--runtime", "process", "--listen", listen});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", "admin-pass-1");
    ASSERT_FALSE(admin_.empty());
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status,
            const std::string& token = "") {
    return CallJson(*server_, method, path, body, status, token.empty() ? admin_ : token);
  }

  Json WaitExperiment(const std::string& name, const std::function<bool(const Json&)>& done, int seconds = 90) {
    auto deadline = steady_clock::now() + std::chrono::seconds(seconds);
    Json e;
    while (steady_clock::now() < deadline) {
      e = Call("GET", "/api/v1/experiments/" + name, "", 200);
      if (done(e)) return e;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "experiment " << name << " did not get there: " << e.dump() << "\n" << server_->Output();
    return e;
  }
  Json WaitFinished(const std::string& name, int seconds = 90) {
    return WaitExperiment(name, [](const Json& e) {
      std::string s = e.value("state", "");
      return s == "succeeded" || s == "failed" || s == "stopped";
    }, seconds);
  }
  Json Trials(const std::string& name) {
    return Call("GET", "/api/v1/experiments/" + name + "/trials?intermediate=1", "", 200)["items"];
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

// cube-studio's automl fields: objective_goal ends the experiment once a trial
// reaches it; objective_metric_name names the dict metric's key that counts
// (its "default" here is below the goal); job_type, namespace and job_json
// mean nothing here and are kept.
TEST_F(ExperimentsE2ETest, ObjectiveGoalEndsTheExperimentOnTheNamedMetric) {
  std::string code =
      "import nni\n"
      "p = nni.get_next_parameter()\n"
      "nni.report_final_result({'default': 0.0, 'accuracy': p['x']})\n";
  Json doc = {{"kind", "Experiment"},
              {"name", "goal"},
              {"job_type", "Job"},
              {"namespace", "automl"},
              {"job_json", Json::object()},
              {"describe", "cube-studio's field names"},
              {"job_worker_image", "quader/python:3.11"},
              {"job_worker_command", "/usr/bin/python3 main.py"},
              {"files", {{"main.py", code}}},
              {"parameters", R"({"x": {"_type": "choice", "_value": [0.97, 0.98]}})"},
              {"algorithm_name", "Random"},
              {"objective_type", "maximize"},
              {"objective_goal", 0.95},
              {"objective_metric_name", "accuracy"},
              {"max_trial_count", 20},
              {"parallel_trial_count", 1},
              {"seed", 3}};
  Call("POST", "/api/v1/apply", doc.dump(), 200);
  Json e = WaitFinished("goal");
  ASSERT_EQ(e["state"], "succeeded") << e.dump(2) << server_->Output();
  EXPECT_EQ(e["reason"].get<std::string>().rfind("objective_goal 0.95 reached by trial 0 (accuracy 0.9", 0), 0u)
      << e.dump(2);
  EXPECT_EQ(e["trials"]["total"], 1);
  EXPECT_EQ(e["spec"]["objective_metric"], "accuracy");
  EXPECT_EQ(e["spec"]["cube_studio"]["namespace"], "automl");
  EXPECT_EQ(e["spec"]["cube_studio"]["job_type"], "Job");
}

TEST_F(ExperimentsE2ETest, TrialsGetTheirValuesAsArgumentsAndThroughNni) {
  Json created = Call("POST", "/api/v1/experiments", QuickExperiment("quick", 5, 2, 3, 0.05).dump(), 201);
  EXPECT_EQ(created["key"].get<std::string>().size(), 8u);
  Json e = WaitFinished("quick");
  ASSERT_EQ(e["state"], "succeeded") << e.dump(2) << server_->Output();
  EXPECT_EQ(e["reason"], "max_trials reached (5)");
  EXPECT_EQ(e["trials"]["total"], 5);
  EXPECT_EQ(e["trials"]["succeeded"], 5);
  Json trials = Trials("quick");
  ASSERT_EQ(trials.size(), 5u);
  double best = -1;
  std::set<std::string> keys;
  for (const auto& t : trials) {
    ASSERT_EQ(t["state"], "succeeded") << t.dump();
    double x = t["parameters"]["x"].get<double>();
    EXPECT_GE(x, 0);
    EXPECT_LT(x, 1);
    EXPECT_DOUBLE_EQ(t["value"].get<double>(), x);
    ASSERT_EQ(t["intermediate"].size(), 3u);
    EXPECT_DOUBLE_EQ(t["intermediate"][2]["value"].get<double>(), x);
    EXPECT_EQ(t["intermediate_count"], 3);
    // The value reached the command line as --x=VALUE, and nni saw the same.
    std::string last_arg = t["argv"].back();
    ASSERT_EQ(last_arg.rfind("--x=", 0), 0u) << last_arg;
    EXPECT_DOUBLE_EQ(std::stod(last_arg.substr(4)), x);
    std::string seq = std::to_string(t["sequence"].get<int>());
    std::string log = server_->Call("GET", "/api/v1/experiments/quick/trials/" + seq + "/logs", "", admin_).body;
    EXPECT_NE(log.find("argv [\"" + last_arg + "\"]"), std::string::npos) << log;
    EXPECT_NE(log.find("trial " + t["trial_id"].get<std::string>()), std::string::npos) << log;
    EXPECT_NE(log.find("experiment " + created["key"].get<std::string>()), std::string::npos) << log;
    keys.insert(t["trial_id"]);
    best = std::max(best, x);
  }
  EXPECT_EQ(keys.size(), 5u);
  EXPECT_DOUBLE_EQ(e["best"]["value"].get<double>(), best);
  // One trial's detail; the list; the CLI-facing names.
  Json one = Call("GET", "/api/v1/experiments/quick/trials/0", "", 200);
  EXPECT_EQ(one["intermediate"].size(), 3u);
  Json list = Call("GET", "/api/v1/experiments", "", 200);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["trials"]["succeeded"], 5);
  // The trial tokens died with their trials.
  auto r = server_->Call("GET", "/api/v1/trial/parameters", "", admin_);
  EXPECT_EQ(r.status, 401) << r.body;
}

TEST_F(ExperimentsE2ETest, TheGuidesExampleTrialRunsUnchanged) {
  auto docs = ParseDocuments(ReadFile(std::string(QUADER_SOURCE_DIR) + "/examples/experiments/guide-example.yaml"));
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  Json doc = docs->at(0);
  // The trial code as the guide has it; fewer trials so that the test is short.
  doc["max_trials"] = 2;
  doc["parallelism"] = 2;
  doc["command"] = Json::array({"/usr/bin/python3", "main.py"});
  std::string name = doc["name"];
  Call("POST", "/api/v1/experiments", doc.dump(), 201);
  Json e = WaitFinished(name, 120);
  ASSERT_EQ(e["state"], "succeeded") << e.dump(2) << server_->Output();
  Json trials = Trials(name);
  ASSERT_EQ(trials.size(), 2u);
  for (const auto& t : trials) {
    ASSERT_EQ(t["state"], "succeeded") << t.dump();
    ASSERT_EQ(t["intermediate"].size(), 10u) << t.dump();
    double final_value = t["value"].get<double>();
    EXPECT_EQ(final_value, t["intermediate"][9]["value"].get<double>());
    EXPECT_GE(final_value, 60);  // 30..50 plus ten steps of 3..5
    EXPECT_LE(final_value, 100);
    int batch = t["parameters"]["batch_size"].get<int>();
    EXPECT_TRUE(batch == 16 || batch == 32 || batch == 64 || batch == 128) << batch;
    std::string log = server_->Call("GET", "/api/v1/experiments/" + name + "/trials/" +
                                               std::to_string(t["sequence"].get<int>()) + "/logs",
                                    "", admin_)
                          .body;
    EXPECT_NE(log.find("{'batch_size': " + std::to_string(batch) + "}"), std::string::npos) << log;
  }
}

TEST_F(ExperimentsE2ETest, MedianstopStopsTrialsBelowTheMedianEarly) {
  // Grid order 0.9 first (parallelism 1): it completes; the lower ones are
  // below its running average from their first step on.
  Json doc = QuickExperiment("median", 4, 1, 6, 0.25);
  doc["search_space"] = {{"x", {{"_type", "choice"}, {"_value", {0.9, 0.1, 0.2, 0.05}}}}};
  doc["tuner"] = "GridSearch";
  doc["assessor"] = "Medianstop";
  doc["assessor_args"] = {{"start_step", 2}};
  Call("POST", "/api/v1/experiments", doc.dump(), 201);
  Json e = WaitFinished("median");
  ASSERT_EQ(e["state"], "succeeded") << e.dump(2);
  Json trials = Trials("median");
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(trials[0]["state"], "succeeded");
  EXPECT_EQ(trials[0]["intermediate"].size(), 6u);
  int early = 0;
  for (size_t i = 1; i < trials.size(); ++i) {
    if (trials[i]["state"] != "early_stopped") continue;
    early++;
    EXPECT_LT(trials[i]["intermediate"].size(), 6u) << trials[i].dump();
    EXPECT_NE(trials[i]["reason"].get<std::string>().find("Medianstop"), std::string::npos);
    EXPECT_TRUE(trials[i]["value"].is_null());
  }
  EXPECT_GE(early, 2) << trials.dump(2);
  EXPECT_EQ(e["trials"]["early_stopped"], early);
  EXPECT_DOUBLE_EQ(e["best"]["value"].get<double>(), 0.9);
}

TEST_F(ExperimentsE2ETest, BadDocumentsAreRefusedNamingTheProblemAndChangeNothing) {
  Json bad = QuickExperiment("bad", 2, 1, 1, 0);
  bad["search_space"] = {{"lr", {{"_type", "uniformm"}, {"_value", {0, 1}}}}};
  Json err = Call("POST", "/api/v1/experiments", bad.dump(), 400);
  EXPECT_NE(err.dump().find("uniformm"), std::string::npos) << err.dump();
  bad = QuickExperiment("bad", 2, 1, 1, 0);
  bad["tuner"] = "GridSearch";
  err = Call("POST", "/api/v1/experiments", bad.dump(), 400);
  EXPECT_NE(err.dump().find("GridSearch does not support uniform"), std::string::npos) << err.dump();
  bad = QuickExperiment("bad", 2, 1, 1, 0);
  bad["max_trials"] = 0;
  err = Call("POST", "/api/v1/experiments", bad.dump(), 400);
  EXPECT_NE(err.dump().find("max_trials"), std::string::npos) << err.dump();
  bad = QuickExperiment("bad", 2, 1, 1, 0);
  bad["tuner_args"] = {{"optimize_mode", "sideways"}};
  Call("POST", "/api/v1/experiments", bad.dump(), 400);
  bad = QuickExperiment("bad", 2, 1, 1, 0);
  bad["assessor"] = "Curvefitting";
  err = Call("POST", "/api/v1/experiments", bad.dump(), 400);
  EXPECT_NE(err.dump().find("Curvefitting"), std::string::npos) << err.dump();
  EXPECT_TRUE(Call("GET", "/api/v1/experiments", "", 200)["items"].empty());
  // The trial API wants a trial's token: a user's token is not one.
  auto r = server_->Call("POST", "/api/v1/trial/metrics", R"({"type": "FINAL", "value": 1})", admin_);
  EXPECT_EQ(r.status, 401) << r.body;
  r = server_->Call("POST", "/api/v1/trial/metrics", R"({"type": "FINAL", "value": 1})", "");
  EXPECT_EQ(r.status, 401) << r.body;
  // Applying the same document twice: created, then unchanged; a changed one is refused.
  std::string yaml = QuickExperiment("twice", 1, 1, 1, 0).dump();
  EXPECT_EQ(Call("POST", "/api/v1/apply", yaml, 200)["results"][0]["action"], "created");
  EXPECT_EQ(Call("POST", "/api/v1/apply", yaml, 200)["results"][0]["action"], "unchanged");
  Call("POST", "/api/v1/apply", QuickExperiment("twice", 2, 1, 1, 0).dump(), 409);
  WaitFinished("twice");
}

TEST_F(ExperimentsE2ETest, StopKillsRunningTrials) {
  Call("POST", "/api/v1/experiments", QuickExperiment("long", 10, 2, 100, 0.3).dump(), 201);
  WaitExperiment("long", [](const Json& e) { return e["trials"]["running"] == 2; });
  Json stopped = Call("POST", "/api/v1/experiments/long/stop", "{}", 200);
  Json e = WaitFinished("long", 30);
  EXPECT_EQ(e["state"], "stopped");
  EXPECT_EQ(e["reason"], "stopped on request");
  Json trials = Trials("long");
  EXPECT_EQ(trials.size(), 2u);
  for (const auto& t : trials) EXPECT_EQ(t["state"], "stopped") << t.dump();
  // Nothing of it keeps running.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Call("GET", "/api/v1/experiments/long", "", 200)["trials"]["total"], 2);
}

TEST_F(ExperimentsE2ETest, NonMembersSeeNothing) {
  Call("POST", "/api/v1/projects", R"({"name": "team"})", 201);
  Json doc = QuickExperiment("secret", 1, 1, 1, 0);
  doc["project"] = "team";
  Json created = Call("POST", "/api/v1/experiments", doc.dump(), 201);
  Call("POST", "/api/v1/users", R"({"username": "eve", "password": "password-eve"})", 201);
  std::string eve = server_->Login("eve", "password-eve");
  std::string id = std::to_string(created["id"].get<int64_t>());
  Call("GET", "/api/v1/experiments/" + id, "", 404, eve);
  Call("GET", "/api/v1/experiments/" + id + "/trials", "", 404, eve);
  Call("GET", "/api/v1/experiments/" + id + "/trials/0/logs", "", 404, eve);
  Call("POST", "/api/v1/experiments/" + id + "/stop", "{}", 404, eve);
  Call("DELETE", "/api/v1/experiments/" + id, "", 404, eve);
  EXPECT_TRUE(Call("GET", "/api/v1/experiments", "", 200, eve)["items"].empty());
  Json mine = QuickExperiment("mine", 1, 1, 1, 0);
  mine["project"] = "team";
  auto r = server_->Call("POST", "/api/v1/experiments", mine.dump(), eve);
  EXPECT_TRUE(r.status == 403 || r.status == 404) << r.status << " " << r.body;
  WaitFinished(id);
}

TEST_F(ExperimentsE2ETest, SigkilledServerLosesAndRepeatsNoTrial) {
  Call("POST", "/api/v1/experiments", QuickExperiment("sturdy", 4, 2, 6, 0.5).dump(), 201);
  WaitExperiment("sturdy", [](const Json& e) { return e["trials"]["running"] == 2; });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  std::string address = server_->api().substr(server_->api().find("//") + 2);
  server_->Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // The same address: the running trials report to the URL they were given.
  StartServer(address);
  Json e = WaitFinished("sturdy");
  ASSERT_EQ(e["state"], "succeeded") << e.dump(2) << server_->Output();
  Json trials = Trials("sturdy");
  ASSERT_EQ(trials.size(), 4u);
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "succeeded") << t.dump();
    EXPECT_EQ(t["intermediate"].size(), 6u) << t.dump();
  }
  // Each trial ran once: four marks, sequences 0..3.
  std::string marks = ReadFile(dir_.path() + "/users/admin/work/marks");
  EXPECT_EQ(marks.size(), 8u) << marks;
  for (const char* seq : {"0\n", "1\n", "2\n", "3\n"}) EXPECT_NE(marks.find(seq), std::string::npos) << marks;
  // The re-attached trials' logs were kept.
  std::string log = server_->Call("GET", "/api/v1/experiments/sturdy/trials/0/logs", "", admin_).body;
  EXPECT_NE(log.find("argv"), std::string::npos) << log;
}

}  // namespace
}  // namespace quader::testing
