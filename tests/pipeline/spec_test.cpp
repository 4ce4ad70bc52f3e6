#include <gtest/gtest.h>

#include <map>

#include "pipeline/spec.h"

namespace quader::pipeline {
namespace {

// The single document in `yaml`; fails the test when there is not exactly one.
Json Doc(const std::string& yaml) {
  auto docs = ParseDocuments(yaml);
  EXPECT_TRUE(docs.ok()) << docs.status().ToString();
  if (!docs.ok() || docs->size() != 1) {
    ADD_FAILURE() << "expected one document";
    return Json::object();
  }
  return (*docs)[0];
}

constexpr const char* kTemplateYaml = R"(
kind: JobTemplate
name: train-sklearn
image: quader/python:3.11
version: Alpha
description: Train a classifier
command: python3  /template/train.py
working_dir: /mnt
env: |
  # threads
  OMP_NUM_THREADS=1

  MODE = fast
volume_mount: data(hostpath):/data
resources: {cpu: "500m", memory: 2G, gpu: 1}
files:
  train.py: |
    print("hi")
args:
  Training:
    --model: {type: enum, choice: [logistic, random-forest], default: random-forest}
    --n-estimators: {type: int, default: 100}
    --data: {type: str}
)";

TEST(TemplateSpecTest, ParsesAYamlDocument) {
  auto spec = ParseTemplateSpec(Doc(kTemplateYaml));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->project, "public");
  EXPECT_EQ(spec->name, "train-sklearn");
  EXPECT_EQ(spec->image, "quader/python:3.11");
  EXPECT_EQ(spec->version, "Alpha");
  EXPECT_EQ(spec->command, (std::vector<std::string>{"python3", "/template/train.py"}));
  EXPECT_EQ(spec->env, (std::map<std::string, std::string>{{"MODE", "fast"}, {"OMP_NUM_THREADS", "1"}}));
  ASSERT_EQ(spec->mounts.size(), 1u);
  EXPECT_EQ(spec->mounts[0].kind, auth::MountKind::kHostPath);
  EXPECT_EQ(spec->mounts[0].mount_path, "/data");
  EXPECT_DOUBLE_EQ(spec->resources.cpu, 0.5);
  EXPECT_EQ(spec->resources.memory_bytes, 2LL << 30);
  EXPECT_DOUBLE_EQ(spec->resources.gpu, 1);
  EXPECT_EQ(spec->files.at("train.py"), "print(\"hi\")\n");
  ASSERT_EQ(spec->args.args.size(), 3u);
  EXPECT_EQ(spec->args.args[0].name, "--data");
}

TEST(TemplateSpecTest, ToJsonRoundTripsAndIsStable) {
  auto spec = ParseTemplateSpec(Doc(kTemplateYaml));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  Json stored = spec->ToJson();
  EXPECT_EQ(stored["kind"], "JobTemplate");
  EXPECT_EQ(stored["resources"], Json::parse(R"({"cpu": 0.5, "memory": "2G", "gpu": 1})"));
  EXPECT_EQ(stored["env"], Json::parse(R"({"MODE": "fast", "OMP_NUM_THREADS": "1"})"));
  EXPECT_EQ(stored["command"], Json::parse(R"(["python3", "/template/train.py"])"));
  auto again = ParseTemplateSpec(stored);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson().dump(), stored.dump());
  EXPECT_EQ(spec->ToJson().dump(), stored.dump());
}

TEST(TemplateSpecTest, MemoryIsWrittenInTheLargestWholeUnit) {
  struct Row {
    Json memory;
    Json stored;
  } rows[] = {
      {"2G", "2G"}, {"1024M", "1G"}, {"512M", "512M"}, {"1536Mi", "1536M"}, {1000, 1000}, {"0", 0}, {"1.5G", "1536M"},
  };
  for (const Row& r : rows) {
    Json doc = {{"name", "t"}, {"image", "i"}, {"resources", {{"memory", r.memory}}}};
    auto spec = ParseTemplateSpec(doc);
    ASSERT_TRUE(spec.ok()) << r.memory << ": " << spec.status().ToString();
    EXPECT_EQ(spec->ToJson()["resources"]["memory"], r.stored) << r.memory;
  }
}

TEST(TemplateSpecTest, MinimalDocumentGetsDefaults) {
  auto spec = ParseTemplateSpec(Json::parse(R"({"name": "echo", "image": "busybox", "command": ["echo", "hi"],
                                                "env": {"N": 3, "B": true}, "args": "{\"G\": {\"--x\": {}}}"})"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->version, "Release");
  EXPECT_EQ(spec->env, (std::map<std::string, std::string>{{"B", "true"}, {"N", "3"}}));
  ASSERT_NE(spec->args.Find("--x"), nullptr);  // args given as JSON text, as cube-studio stores them
  EXPECT_EQ(spec->args.Find("--x")->type, ArgType::kStr);
}

TEST(TemplateSpecTest, RefusalsNameTheField) {
  std::string big(600 * 1024, 'x');
  struct Row {
    Json doc;
    const char* message;
  } rows[] = {
      {{{"name", "t"}}, "image: is required"},
      {{{"image", "i"}}, "name: is required"},
      {{{"name", "Bad_Name"}, {"image", "i"}}, "name: "},
      {{{"name", "t"}, {"image", "i"}, {"version", "Beta"}}, "version: \"Beta\" is not Release or Alpha"},
      {{{"name", "t"}, {"image", "i"}, {"colour", 1}}, "colour: unknown field"},
      {{{"name", "t"}, {"image", "i"}, {"files", {{"a/b.py", ""}}}}, "files.a/b.py: a file name must be a plain name"},
      {{{"name", "t"}, {"image", "i"}, {"files", {{"..", ""}}}}, "files...: a file name must be a plain name"},
      {{{"name", "t"}, {"image", "i"}, {"files", {{"a", 1}}}}, "files.a: must be the file's text"},
      {{{"name", "t"}, {"image", "i"}, {"files", {{"a", big}, {"b", big}}}}, "files: total size 1228800 bytes exceeds 1 MiB"},
      {{{"name", "t"}, {"image", "i"}, {"resources", {{"memory", "2X"}}}}, "resources.memory: \"2X\" is not a size"},
      {{{"name", "t"}, {"image", "i"}, {"resources", {{"cpu", "lots"}}}}, "resources.cpu: must be a number of cores"},
      {{{"name", "t"}, {"image", "i"}, {"resources", {{"cpu", -1}}}}, "resources.cpu: must be between 0 and 1024"},
      {{{"name", "t"}, {"image", "i"}, {"resources", {{"disk", 1}}}}, "resources.disk: unknown field"},
      {{{"name", "t"}, {"image", "i"}, {"env", "A=1\nnot a pair"}}, "env (line 2): \"not a pair\" is not KEY=VALUE"},
      {{{"name", "t"}, {"image", "i"}, {"env", "A=1\nA=2"}}, "env (line 2): A is set twice"},
      {{{"name", "t"}, {"image", "i"}, {"env", {{"1X", "y"}}}}, "env: \"1X\" is not a valid variable name"},
      {{{"name", "t"}, {"image", "i"}, {"volume_mount", "x(nfs):/x"}}, "volume_mount[0]: unknown mount kind"},
      {{{"name", "t"}, {"image", "i"}, {"working_dir", "rel/dir"}}, "working_dir: \"rel/dir\" must be an absolute path"},
      {{{"name", "t"}, {"image", "i"}, {"command", {{"a", 1}}}}, "command: must be a list of strings"},
      {{{"name", "t"}, {"image", "i"}, {"command", "python3 -c 'print(1)"}},
       "command: unclosed single quote opened at character 12"},
      {{{"name", "t"}, {"image", "i"}, {"args", {{"G", {{"--x", {{"type", "number"}}}}}}}},
       "args.G.--x.type: unknown type \"number\""},
      {Json::array(), "body: must be an object"},
  };
  for (const Row& r : rows) {
    auto spec = ParseTemplateSpec(r.doc);
    ASSERT_FALSE(spec.ok()) << r.doc.dump().substr(0, 200);
    EXPECT_EQ(spec.status().code(), Code::kInvalidArgument);
    EXPECT_NE(spec.status().message().find(r.message), std::string::npos)
        << r.doc.dump().substr(0, 200) << " -> " << spec.status().message();
  }
}

constexpr const char* kPipelineYaml = R"(
kind: Pipeline
name: iris
description: Make a data set, train, evaluate
global_env: |
  DATA_DIR=/mnt/{{creator}}/iris
  # a comment
  SEED=7
parallelism: 2
max_active_runs: 3
depends_on_past: true
expired_limit: 1h
schedule:
  cron: "0 2 * * *"
  timezone: Asia/Shanghai
  start_time: "2026-12-01 00:00:00"
  catchup: all
webhook:
  url: http://127.0.0.1:9000/hook
  on: [failed, succeeded]
tasks:
  - name: make-data
    template: make-dataset
    args: {--rows: 500, --out: "{{DATA_DIR}}/{{run_id}}.csv"}
  - name: train
    label: Train it
    template: public/train-sklearn
    depends_on: make-data
    args: {--data: /inputs/make-data/data.csv}
    resources: {cpu: 2, memory: 4G}
    timeout: 10m
    retries: 2
    retry_backoff: 5s
    node_selector: "cpu=true,org=public"
    env: {SEED: "{{SEED}}"}
  - name: evaluate
    template: evaluate-model
    depends_on: [train]
    args: {--model: "{{tasks.make-data.outputs.path}}", --report: "{{ tasks.train.outputs.model_path }}"}
    retry: 1
    resource_gpu: 1
    resource_memory: 512M
    working_dir: /mnt/{{creator}}
    command: python3 eval.py --date {{execution_date}}
    skip: true
)";

class PipelineSpecTest : public ::testing::Test {
 protected:
  PipelineSpec Parsed(const Json& doc) {
    auto spec = ParsePipelineSpec(doc);
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    return spec.ok() ? *spec : PipelineSpec();
  }

  // A pipeline of tasks {name, depends_on, args} for DAG and variable checks.
  static Json Tasks(const Json& tasks, const Json& extra = Json::object()) {
    Json doc = {{"name", "p"}, {"tasks", Json::array()}};
    for (const auto& t : tasks) {
      Json task = {{"name", t[0]}, {"template", "tpl"}, {"depends_on", t[1]}};
      if (t.size() > 2) task["args"] = t[2];
      doc["tasks"].push_back(task);
    }
    doc.update(extra);
    return doc;
  }

  std::string ValidationError(const Json& doc) {
    auto spec = ParsePipelineSpec(doc);
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    if (!spec.ok()) return "";
    Status st = ValidatePipeline(*spec);
    EXPECT_FALSE(st.ok()) << doc.dump();
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
    return st.message();
  }
};

TEST_F(PipelineSpecTest, ParsesAYamlDocument) {
  PipelineSpec s = Parsed(Doc(kPipelineYaml));
  EXPECT_EQ(s.project, "public");
  EXPECT_EQ(s.name, "iris");
  EXPECT_EQ(s.global_env, (std::map<std::string, std::string>{{"DATA_DIR", "/mnt/{{creator}}/iris"}, {"SEED", "7"}}));
  EXPECT_EQ(s.parallelism, 2);
  EXPECT_EQ(s.max_active_runs, 3);
  EXPECT_TRUE(s.depends_on_past);
  EXPECT_EQ(s.expired_limit_seconds, 3600);
  ASSERT_TRUE(s.schedule);
  EXPECT_EQ(s.schedule->cron, "0 2 * * *");
  EXPECT_EQ(s.schedule->timezone, "Asia/Shanghai");
  ASSERT_TRUE(s.schedule->start_time);
  EXPECT_EQ(*s.schedule->start_time, 1796054400);  // 2026-11-30T16:00:00Z: midnight in Shanghai (UTC+8)
  EXPECT_EQ(s.schedule->catchup, "all");
  EXPECT_TRUE(s.schedule->enabled);
  ASSERT_TRUE(s.webhook);
  EXPECT_EQ(s.webhook->on, (std::vector<std::string>{"failed", "succeeded"}));
  ASSERT_EQ(s.tasks.size(), 3u);

  const TaskSpec& train = s.tasks[1];
  EXPECT_EQ(train.label, "Train it");
  EXPECT_EQ(train.template_name, "public/train-sklearn");
  EXPECT_EQ(train.depends_on, std::vector<std::string>{"make-data"});  // a single string
  EXPECT_EQ(train.cpu, 2.0);
  EXPECT_EQ(train.memory_bytes, 4LL << 30);
  EXPECT_FALSE(train.gpu);
  EXPECT_EQ(train.timeout_seconds, 600);
  EXPECT_EQ(train.retries, 2);
  EXPECT_EQ(train.retry_backoff_seconds, 5);
  EXPECT_EQ(train.node_selector, (std::map<std::string, std::string>{{"cpu", "true"}, {"org", "public"}}));

  const TaskSpec& evaluate = s.tasks[2];
  EXPECT_EQ(evaluate.retries, 1);                   // cube-studio's `retry`
  EXPECT_EQ(evaluate.gpu, 1.0);                     // resource_gpu
  EXPECT_EQ(evaluate.memory_bytes, 512LL << 20);    // resource_memory
  EXPECT_EQ(evaluate.retry_backoff_seconds, 10);    // default
  EXPECT_EQ(evaluate.command, (std::vector<std::string>{"python3", "eval.py", "--date", "{{execution_date}}"}));
  EXPECT_TRUE(evaluate.skip);
  EXPECT_EQ(s.Find("evaluate"), &s.tasks[2]);
  EXPECT_EQ(s.Find("nope"), nullptr);

  EXPECT_TRUE(ValidatePipeline(s).ok()) << ValidatePipeline(s).ToString();
}

TEST_F(PipelineSpecTest, ToJsonRoundTripsAndIsStable) {
  PipelineSpec s = Parsed(Doc(kPipelineYaml));
  Json stored = s.ToJson();
  EXPECT_EQ(stored["kind"], "Pipeline");
  EXPECT_EQ(stored["expired_limit"], 3600);
  EXPECT_EQ(stored["schedule"]["start_time"], "2026-11-30T16:00:00Z");
  EXPECT_EQ(stored["tasks"][1]["timeout"], 600);
  EXPECT_EQ(stored["tasks"][1]["resources"], Json::parse(R"({"cpu": 2, "memory": "4G"})"));
  EXPECT_EQ(stored["tasks"][2]["resources"], Json::parse(R"({"memory": "512M", "gpu": 1})"));
  EXPECT_EQ(stored["tasks"][2]["retries"], 1);
  EXPECT_FALSE(stored["tasks"][2].contains("retry"));
  PipelineSpec again = Parsed(stored);
  EXPECT_EQ(again.ToJson().dump(), stored.dump());
  EXPECT_EQ(s.ToJson().dump(), stored.dump());
  EXPECT_EQ(again.schedule->start_time, s.schedule->start_time);

  // Without schedule and webhook both are null, and still round-trip.
  PipelineSpec plain = Parsed(Tasks(Json::parse(R"([["a", []]])")));
  Json plain_json = plain.ToJson();
  EXPECT_TRUE(plain_json["schedule"].is_null());
  EXPECT_TRUE(plain_json["webhook"].is_null());
  EXPECT_EQ(plain_json["parallelism"], 4);
  EXPECT_EQ(plain_json["max_active_runs"], 1);
  EXPECT_EQ(Parsed(plain_json).ToJson().dump(), plain_json.dump());
}

TEST_F(PipelineSpecTest, StartTimeForms) {
  struct Row {
    const char* start;
    const char* timezone;
    int64_t unix_seconds;
  } rows[] = {
      {"2026-11-29T00:00:00Z", "Asia/Shanghai", 1795910400},       // RFC 3339: the zone does not matter
      {"2026-11-29T08:00:00+08:00", "UTC", 1795910400},            // an explicit offset
      {"2026-11-28T19:00:00-05:00", "UTC", 1795910400},
      {"2026-11-29 00:00:00", "UTC", 1795910400},                  // local time in the schedule's zone
      {"2026-11-29 08:00:00", "Asia/Shanghai", 1795910400},
      {"2026-03-08 02:30:00", "America/New_York", 1772953200},     // skipped by DST: the end of the gap (07:00Z)
  };
  for (const Row& r : rows) {
    Json doc = Tasks(Json::parse(R"([["a", []]])"),
                     {{"schedule", {{"cron", "@daily"}, {"timezone", r.timezone}, {"start_time", r.start}}}});
    PipelineSpec s = Parsed(doc);
    ASSERT_TRUE(s.schedule && s.schedule->start_time) << r.start;
    EXPECT_EQ(*s.schedule->start_time, r.unix_seconds) << r.start << " in " << r.timezone;
  }
}

TEST(DurationTest, Table) {
  struct Row {
    Json value;
    int64_t seconds;  // -1: refused
  } rows[] = {
      {600, 600},   {"600", 600},   {"30s", 30},  {"10m", 600},   {"2h", 7200},    {"1d", 86400},
      {"1h30m", 5400}, {" 5s ", 5}, {0, 0},       {60.0, 60},     {"", -1},        {"10x", -1},
      {"1h30", -1}, {"-5", -1},     {-5, -1},     {1.5, -1},      {true, -1},      {"m", -1},
      {"99999999999d", -1},
  };
  for (const Row& r : rows) {
    auto d = ParseDuration("timeout", r.value);
    if (r.seconds < 0) {
      ASSERT_FALSE(d.ok()) << r.value;
      EXPECT_EQ(d.status().message().rfind("timeout: ", 0), 0u) << d.status().message();
    } else {
      ASSERT_TRUE(d.ok()) << r.value << ": " << d.status().ToString();
      EXPECT_EQ(*d, r.seconds) << r.value;
    }
  }
}

TEST_F(PipelineSpecTest, ParseRefusalsNameTheField) {
  Json one = Json::parse(R"([{"name": "a", "template": "t"}])");
  auto with = [&](const Json& extra) {
    Json doc = {{"name", "p"}, {"tasks", one}};
    doc.update(extra);
    return doc;
  };
  auto task = [&](const Json& extra) {
    Json t = {{"name", "a"}, {"template", "t"}};
    t.update(extra);
    return Json{{"name", "p"}, {"tasks", Json::array({t})}};
  };
  struct Row {
    Json doc;
    const char* message;
  } rows[] = {
      {Json{{"name", "p"}}, "tasks: is required"},
      {with({{"tasks", Json::array()}}), "tasks: a pipeline needs at least one task"},
      {with({{"tasks", "a"}}), "tasks: must be a list"},
      {with({{"parallelism", 0}}), "parallelism: must be between 1 and 1000"},
      {with({{"max_active_runs", 101}}), "max_active_runs: must be between 1 and 100"},
      {with({{"depends_on_past", "yes"}}), "depends_on_past: must be true or false"},
      {with({{"expired_limit", "soon"}}), "expired_limit: \"soon\" is not a duration"},
      {with({{"owner", "me"}}), "owner: unknown field"},
      {with({{"global_env", "X"}}), "global_env (line 1): \"X\" is not KEY=VALUE"},
      {with({{"schedule", {{"timezone", "UTC"}}}}), "schedule.cron: is required"},
      {with({{"schedule", {{"cron", "@daily"}, {"catchup", "some"}}}}), "schedule.catchup: \"some\" is not none, latest or all"},
      {with({{"schedule", {{"cron", "@daily"}, {"start_time", "tomorrow"}}}}), "schedule.start_time: must be a time"},
      {with({{"schedule", {{"cron", "@daily"}, {"start_time", "2026-02-30 00:00:00"}}}}),
       "schedule.start_time: \"2026-02-30 00:00:00\" is not a valid time"},
      {with({{"schedule", {{"cron", "@daily"}, {"every", 1}}}}), "schedule.every: unknown field"},
      {with({{"webhook", {{"url", "ftp://x"}}}}), "webhook.url: \"ftp://x\" must start with http:// or https://"},
      {with({{"webhook", {{"url", "http://x"}, {"on", {"failed", "exploded"}}}}}),
       "webhook.on[1]: \"exploded\" is not failed, succeeded or stopped"},
      {with({{"webhook", {{"url", "http://x"}, {"on", Json::array()}}}}), "webhook.on: must name at least one"},
      {with({{"tasks", {{{"template", "t"}}}}}), "tasks[0].name: is required"},
      {with({{"tasks", {{{"name", "A b"}, {"template", "t"}}}}}), "tasks[0].name: "},
      {task({{"image", "x"}}), "tasks[0] (a).image: unknown field"},
      {task({{"template", ""}}), "tasks[0] (a).template: is required"},
      {task({{"template", "a/b/c"}}), "tasks[0] (a).template: "},
      {task({{"retries", 21}}), "tasks[0] (a).retries: must be between 0 and 20"},
      {task({{"retry", -1}}), "tasks[0] (a).retry: must be between 0 and 20"},
      {task({{"retries", 1}, {"retry", 1}}), "tasks[0] (a).retry: give retries or retry, not both"},
      {task({{"resources", {{"cpu", 1}}}, {"resource_cpu", 2}}), "tasks[0] (a).resource_cpu: give resources.cpu or resource_cpu"},
      {task({{"resources", {{"memory", "lots"}}}}), "tasks[0] (a).resources.memory: \"lots\" is not a size"},
      {task({{"resource_gpu", "one"}}), "tasks[0] (a).resource_gpu: must be a number of GPUs"},
      {task({{"timeout", "forever"}}), "tasks[0] (a).timeout: \"forever\" is not a duration"},
      {task({{"retry_backoff", -1}}), "tasks[0] (a).retry_backoff: must not be negative"},
      {task({{"node_selector", "gpu"}}), "tasks[0] (a).node_selector[0]: \"gpu\" is not key=value"},
      {task({{"volume_mount", "x(pvc):relative"}}), "tasks[0] (a).volume_mount[0]: mount path \"relative\" must be absolute"},
      {task({{"depends_on", {{{"a", 1}}}}}), "tasks[0] (a).depends_on[0]: must be a task name"},
      {task({{"args", {1, 2}}}), "tasks[0] (a).args: must be an object"},
      {task({{"skip", "no"}}), "tasks[0] (a).skip: must be true or false"},
  };
  for (const Row& r : rows) {
    auto spec = ParsePipelineSpec(r.doc);
    ASSERT_FALSE(spec.ok()) << r.doc.dump();
    EXPECT_EQ(spec.status().code(), Code::kInvalidArgument);
    EXPECT_NE(spec.status().message().find(r.message), std::string::npos) << r.doc.dump() << " -> "
                                                                        << spec.status().message();
  }
}

TEST_F(PipelineSpecTest, ValidationRefusals) {
  struct Row {
    Json doc;
    const char* message;  // the whole message
  } rows[] = {
      // A two-task cycle, named from the first task on it in document order.
      {Tasks(Json::parse(R"([["prep", []], ["train", ["evaluate", "prep"]], ["evaluate", ["train"]]])")),
       "tasks: cycle train -> evaluate -> train"},
      // A longer cycle below an innocent task; c is first on the cycle.
      {Tasks(Json::parse(R"([["c", ["e"]], ["d", ["c"]], ["e", ["d"]], ["f", ["e"]]])")),
       "tasks: cycle c -> d -> e -> c"},
      {Tasks(Json::parse(R"([["a", []], ["a", []]])")), "tasks[1].name: duplicate task name \"a\" (also tasks[0])"},
      {Tasks(Json::parse(R"([["a", ["trian"]]])")), "tasks[0] (a).depends_on: unknown task \"trian\""},
      {Tasks(Json::parse(R"([["a", ["a"]]])")), "tasks[0] (a).depends_on: a task cannot depend on itself"},
      {Tasks(Json::parse(R"([["a", [], {"--x": "{{ nope }}"}]])")),
       "tasks[0] (a).args.--x: unknown variable {{nope}} (use execution_date, run_id, pipeline_name, pipeline_id, "
       "creator, runner, a global_env key, or tasks.TASK.outputs.KEY)"},
      {Tasks(Json::parse(
           R"([["make", []], ["train", ["make"]], ["evaluate", ["make"], {"--model": "{{tasks.train.outputs.model}}"}]])")),
       "tasks[2] (evaluate).args.--model: {{tasks.train.outputs.model}} refers to task \"train\", which is not "
       "upstream of \"evaluate\""},
      {Tasks(Json::parse(R"([["a", [], {"--x": "{{tasks.a.outputs.k}}"}]])")),
       "tasks[0] (a).args.--x: {{tasks.a.outputs.k}} refers to task \"a\", which is not upstream of \"a\""},
      {Tasks(Json::parse(R"([["a", [], {"--x": ["ok", {"k": "{{tasks.zz.outputs.k}}"}]}]])")),
       "tasks[0] (a).args.--x[1].k: {{tasks.zz.outputs.k}} refers to unknown task \"zz\""},
      {Tasks(Json::parse(R"([["a", []], ["b", ["a"], {"--x": "{{tasks.a.model}}"}]])")),
       "tasks[1] (b).args.--x: {{tasks.a.model}} is not an output reference (use {{tasks.TASK.outputs.KEY}})"},
      {Tasks(Json::parse(R"([["a", [], {"--x": "{{run_id"}]])")),
       "tasks[0] (a).args.--x: unclosed \"{{\" at character 1 (write {{name}})"},
      {Tasks(Json::parse(R"([["a", []]])"), {{"global_env", {{"M", "{{tasks.a.outputs.m}}"}}}}),
       "global_env.M: {{tasks.a.outputs.m}}: global_env values may use only execution_date, run_id, pipeline_name, "
       "pipeline_id, creator and runner"},
      {Tasks(Json::parse(R"([["a", []]])"), {{"global_env", {{"A", "x"}, {"B", "{{A}}"}}}}),
       "global_env.B: {{A}}: global_env values may use only execution_date, run_id, pipeline_name, pipeline_id, "
       "creator and runner"},
      {Tasks(Json::parse(R"([["a", []]])"), {{"schedule", {{"cron", "61 * * * *"}}}}),
       "schedule.cron: minute \"61\""},
      {Tasks(Json::parse(R"([["a", []]])"), {{"schedule", {{"cron", "0 2 * * *"}, {"timezone", "Mars/Base"}}}}),
       "schedule.timezone: unknown time zone \"Mars/Base\""},
  };
  for (const Row& r : rows) {
    std::string message = ValidationError(r.doc);
    EXPECT_EQ(message.rfind(r.message, 0), 0u) << r.doc.dump() << "\n  got: " << message;
  }
}

TEST_F(PipelineSpecTest, VariablesResolveThroughAncestorsEnvAndCommand) {
  Json doc = Tasks(Json::parse(R"([
      ["make", [], {"--out": "{{DATA}}/{{ run_id }}"}],
      ["train", ["make"], {"--in": "{{tasks.make.outputs.path}}"}],
      ["evaluate", ["train"], {"--data": "{{tasks.make.outputs.path}}", "--m": "{{tasks.train.outputs.model-1}}"}]])"),
                   {{"global_env", {{"DATA", "/mnt/{{creator}}/{{pipeline_name}}-{{pipeline_id}}"}}}});
  doc["tasks"][2]["env"] = {{"WHEN", "{{execution_date}} by {{runner}}"}};
  doc["tasks"][2]["working_dir"] = "/mnt/{{creator}}";
  doc["tasks"][2]["command"] = {"run", "{{tasks.train.outputs.model}}"};
  PipelineSpec s = Parsed(doc);
  Status st = ValidatePipeline(s);
  EXPECT_TRUE(st.ok()) << st.ToString();  // make is a transitive ancestor of evaluate

  s.tasks[2].env["BAD"] = "{{who}}";
  st = ValidatePipeline(s);
  EXPECT_EQ(st.message().rfind("tasks[2] (evaluate).env.BAD: unknown variable {{who}}", 0), 0u) << st.message();
  s.tasks[2].env.erase("BAD");
  s.tasks[2].command.push_back("{{tasks.evaluate.outputs.x}}");
  st = ValidatePipeline(s);
  EXPECT_EQ(st.message().rfind("tasks[2] (evaluate).command[2]: ", 0), 0u) << st.message();
  s.tasks[2].command.pop_back();
  s.tasks[0].working_dir = "{{nope}}";
  st = ValidatePipeline(s);
  EXPECT_EQ(st.message().rfind("tasks[0] (make).working_dir: unknown variable {{nope}}", 0), 0u) << st.message();
}

TEST_F(PipelineSpecTest, ValidateRefusesCodeBuiltSpecsToo) {
  PipelineSpec empty;
  empty.name = "p";
  EXPECT_EQ(ValidatePipeline(empty).message(), "tasks: a pipeline needs at least one task");
  PipelineSpec s = Parsed(Tasks(Json::parse(R"([["a", []]])")));
  s.schedule = ScheduleSpec{};
  s.schedule->cron = "* * *";
  EXPECT_EQ(ValidatePipeline(s).message().rfind("schedule.cron: expected 5 fields", 0), 0u)
      << ValidatePipeline(s).message();
}

TEST_F(PipelineSpecTest, TopologicalOrderKeepsDocumentOrderAmongReadyTasks) {
  // A diamond written bottom-up, plus an independent task.
  PipelineSpec s = Parsed(Tasks(Json::parse(
      R"([["report", ["left", "right"]], ["right", ["root"]], ["solo", []], ["left", ["root"]], ["root", []]])")));
  ASSERT_TRUE(ValidatePipeline(s).ok()) << ValidatePipeline(s).ToString();
  EXPECT_EQ(TopologicalOrder(s), (std::vector<std::string>{"solo", "root", "right", "left", "report"}));
}

class ResolveTemplatesTest : public PipelineSpecTest {
 protected:
  ResolveTemplatesTest() {
    auto train = ParseTemplateSpec(Json::parse(R"({"name": "train", "image": "py", "args": {"G": {
        "--n": {"type": "int", "default": 10}, "--model": {"type": "enum", "choice": ["lr", "rf"]}}}})"));
    EXPECT_TRUE(train.ok()) << train.status().ToString();
    templates_["train"] = *train;
    auto echo = ParseTemplateSpec(Json::parse(R"({"name": "echo", "project": "team", "image": "busybox"})"));
    EXPECT_TRUE(echo.ok()) << echo.status().ToString();
    templates_["team/echo"] = *echo;
  }

  TemplateLookup Lookup() {
    return [this](const std::string& name) -> Result<TemplateSpec> {
      ++lookups_;
      if (name == "broken") return errors::Unavailable("store is down");
      auto it = templates_.find(name);
      if (it == templates_.end()) return errors::NotFound("job template", name);
      return it->second;
    };
  }

  PipelineSpec Pipeline(const std::string& json) { return Parsed(Json::parse(json)); }

  std::map<std::string, TemplateSpec> templates_;
  int lookups_ = 0;
};

TEST_F(ResolveTemplatesTest, StoresNormalisedArgsAndMapsTasksToTemplates) {
  PipelineSpec s = Pipeline(R"({"name": "p", "tasks": [
      {"name": "a", "template": "train", "args": {"--n": "5", "--model": "rf"}},
      {"name": "b", "template": "train", "args": {"--model": "{{tasks.a.outputs.best}}"}, "depends_on": "a"},
      {"name": "c", "template": "team/echo"}]})");
  auto resolved = ResolveTemplates(&s, Lookup());
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->size(), 3u);
  EXPECT_EQ(resolved->at("a").name, "train");
  EXPECT_EQ(resolved->at("c").project, "team");
  EXPECT_EQ(lookups_, 2);  // one lookup per distinct template
  EXPECT_EQ(s.tasks[0].args, Json::parse(R"({"--n": 5, "--model": "rf"})"));
  EXPECT_EQ(s.tasks[1].args, Json::parse(R"({"--n": 10, "--model": "{{tasks.a.outputs.best}}"})"));
  EXPECT_EQ(s.tasks[2].args, Json::object());
}

TEST_F(ResolveTemplatesTest, ErrorsNameTheTaskAndLeaveTheSpecUnchanged) {
  const char* doc = R"({"name": "p", "tasks": [
      {"name": "a", "template": "train", "args": {"--n": "5", "--model": "rf"}},
      {"name": "b", "template": "%s", "args": %s}]})";
  struct Row {
    const char* tpl;
    const char* args;
    Code code;
    const char* message;
  } rows[] = {
      {"trian", "{}", Code::kInvalidArgument, "tasks[1] (b).template: job template \"trian\" not found"},
      {"train", R"({"--n": 1})", Code::kInvalidArgument, "tasks[1] (b).args.--model: is required"},
      {"train", R"({"--model": "svm"})", Code::kInvalidArgument,
       "tasks[1] (b).args.--model: \"svm\" is not one of \"lr\", \"rf\""},
      {"train", R"({"--model": "rf", "--lr": 1})", Code::kInvalidArgument,
       "tasks[1] (b).args.--lr: unknown argument"},
      {"broken", "{}", Code::kUnavailable, "store is down"},
  };
  for (const Row& r : rows) {
    char buf[512];
    std::snprintf(buf, sizeof(buf), doc, r.tpl, r.args);
    PipelineSpec s = Pipeline(buf);
    Json before = s.ToJson();
    auto resolved = ResolveTemplates(&s, Lookup());
    ASSERT_FALSE(resolved.ok()) << buf;
    EXPECT_EQ(resolved.status().code(), r.code) << buf;
    EXPECT_EQ(resolved.status().message().rfind(r.message, 0), 0u) << resolved.status().message();
    EXPECT_EQ(s.ToJson(), before);  // task a's args were not normalised
  }
}

}  // namespace
}  // namespace quader::pipeline
