// The rules between stored templates and pipelines (pipeline/catalog.h):
// which template a task's name reaches, alias uniqueness, and from when a
// changed schedule fires.
#include "pipeline/catalog.h"

#include <gtest/gtest.h>

namespace quader::pipeline {
namespace {

store::TemplateRecord Template(int64_t project_id, const std::string& project, const std::string& name,
                               const std::string& alias = "") {
  store::TemplateRecord t;
  t.project_id = project_id;
  t.project = project;
  t.name = name;
  Json spec = {{"name", name}};
  if (!alias.empty()) spec["alias"] = alias;
  t.spec = spec.dump();
  return t;
}

TEST(CatalogTest, ATasksTemplateNameReachesItsOwnProjectsAndPublicsOnly) {
  const auto own = Template(7, "team", "train", "训练");
  const auto pub = Template(1, "public", "echo");
  struct Row {
    std::string name;
    int64_t pipeline_project;
    const store::TemplateRecord* t;
    bool reaches;
  };
  for (const Row& r : std::vector<Row>{{"train", 7, &own, true},
                                       {"team/train", 7, &own, true},
                                       {"训练", 7, &own, true},
                                       {"team/训练", 7, &own, true},
                                       {"train", 8, &own, false},  // another project's template
                                       {"team/train", 8, &own, false},
                                       {"trai", 7, &own, false},
                                       {"echo", 8, &pub, true},
                                       {"public/echo", 7, &pub, true},
                                       {"other/echo", 7, &pub, false}}) {
    EXPECT_EQ(NamesTemplate(r.name, r.pipeline_project, NamesOf(*r.t)), r.reaches) << r.name << " from " << r.pipeline_project;
  }
}

TEST(CatalogTest, AnAliasNamesOneTemplate) {
  std::vector<store::TemplateRecord> project = {Template(7, "team", "train", "训练"), Template(7, "team", "eval")};
  TemplateSpec spec;
  spec.name = "new";
  EXPECT_TRUE(CheckAliasFree(project, spec).ok());  // no alias
  spec.alias = "fresh";
  EXPECT_TRUE(CheckAliasFree(project, spec).ok());
  for (const char* taken : {"训练", "eval"}) {
    spec.alias = taken;
    Status st = CheckAliasFree(project, spec);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << taken;
    EXPECT_EQ(st.message().rfind("alias: ", 0), 0u) << st.message();
  }
  // A template keeps its own alias when it is saved again.
  spec.name = "train";
  spec.alias = "训练";
  EXPECT_TRUE(CheckAliasFree(project, spec).ok());
}

TEST(CatalogTest, AScheduleCountsFromWhenItLastChanged) {
  auto parse = [](const std::string& schedule) {
    Json doc = {{"name", "p"}, {"tasks", Json::array({{{"name", "t"}, {"template", "x"}}})}};
    if (!schedule.empty()) doc["schedule"] = Json::parse(schedule);
    auto spec = ParsePipelineSpec(doc);
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    return *spec;
  };
  const PipelineSpec daily = parse(R"({"cron": "0 2 * * *", "timezone": "Asia/Shanghai"})");
  const PipelineSpec hourly = parse(R"({"cron": "0 * * * *", "timezone": "Asia/Shanghai"})");
  const PipelineSpec none = parse("");
  EXPECT_EQ(ScheduleSince(daily, std::nullopt, std::nullopt, 500), 500);  // new pipeline
  EXPECT_EQ(ScheduleSince(daily, daily, 100, 500), 100);                  // schedule unchanged: kept
  EXPECT_EQ(ScheduleSince(hourly, daily, 100, 500), 500);                 // changed: from now
  EXPECT_EQ(ScheduleSince(none, daily, 100, 500), std::nullopt);          // removed
  EXPECT_EQ(ScheduleSince(daily, none, std::nullopt, 500), 500);          // added
}

}  // namespace
}  // namespace quader::pipeline
