// Overrides of one run's parameters (pipeline/launch.h): read from a
// request body, refused by name, applied to a pipeline's spec.
#include <gtest/gtest.h>

#include "pipeline/launch.h"

namespace quader::pipeline {
namespace {

PipelineSpec Spec() {
  auto spec = ParsePipelineSpec(Json::parse(R"({"name": "p", "global_env": {"G": "g", "KEEP": "k"},
    "tasks": [{"name": "train", "template": "t", "args": {"--lr": 0.5, "--model": "svm"}, "env": {"A": "1"}},
              {"name": "eval", "template": "t", "depends_on": ["train"]}]})"));
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return *spec;
}

TEST(RunOverridesTest, AppliedValuesReplaceOrAddAndNothingElseChanges) {
  auto o = ParseRunOverrides(Json::parse(
      R"({"global_env": {"G": "new", "N": 3, "B": true}, "tasks": {"train": {"args": {"--lr": 0.1}, "env": {"S": "7"}}}})"));
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  PipelineSpec spec = Spec();
  ASSERT_TRUE(ApplyOverrides(*o, &spec).ok());
  EXPECT_EQ(spec.global_env, (std::map<std::string, std::string>{{"G", "new"}, {"KEEP", "k"}, {"N", "3"}, {"B", "true"}}));
  EXPECT_EQ(spec.tasks[0].args, Json::parse(R"({"--lr": 0.1, "--model": "svm"})"));
  EXPECT_EQ(spec.tasks[0].env, (std::map<std::string, std::string>{{"A", "1"}, {"S", "7"}}));
  EXPECT_EQ(spec.tasks[1].args, Spec().tasks[1].args);
  // None at all.
  for (const char* none : {"{}", "null"}) {
    auto empty = ParseRunOverrides(Json::parse(none));
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->empty());
  }
}

TEST(RunOverridesTest, BadOverridesAreRefusedByName) {
  struct Row {
    const char* body;
    const char* field;
  };
  for (const Row& row : {Row{"[1]", "body"}, Row{R"({"bogus": 1})", "bogus"},
                         Row{R"({"global_env": [1]})", "global_env"}, Row{R"({"global_env": {"K": {}}})", "global_env.K"},
                         Row{R"({"global_env": {"A=B": "x"}})", "global_env"}, Row{R"({"global_env": {"": "x"}})", "global_env"},
                         Row{R"({"tasks": []})", "tasks"}, Row{R"({"tasks": {"train": 1}})", "tasks.train"},
                         Row{R"({"tasks": {"train": {"args": [1]}}})", "tasks.train.args"},
                         Row{R"({"tasks": {"train": {"image": "x"}}})", "tasks.train.image"},
                         Row{R"({"tasks": {"train": {"env": {"K": null}}}})", "tasks.train.env.K"},
                         Row{R"({"tasks": {"train": {"env": {"X\nY": "1"}}}})", "tasks.train.env"},
                         Row{R"({"global_env": {"1ST": "1"}})", "global_env"}}) {
    auto o = ParseRunOverrides(Json::parse(row.body));
    ASSERT_FALSE(o.ok()) << row.body;
    EXPECT_EQ(o.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(o.status().message().rfind(row.field, 0), 0u) << row.body << ": " << o.status().message();
  }
  // Parameters, not payloads.
  Json big = {{"global_env", {{"BLOB", std::string(70 * 1024, 'x')}}}};
  auto too_big = ParseRunOverrides(big);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().message().rfind("body: overrides are larger than 64 KiB", 0), 0u);
  auto unknown = ParseRunOverrides(Json::parse(R"({"tasks": {"nope": {"env": {"K": "v"}}}})"));
  ASSERT_TRUE(unknown.ok());
  PipelineSpec spec = Spec();
  Status st = ApplyOverrides(*unknown, &spec);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "tasks.nope: the pipeline has no such task");
}

}  // namespace
}  // namespace quader::pipeline
