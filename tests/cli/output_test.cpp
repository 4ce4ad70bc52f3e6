// Tests cli/output.h: cell text, table alignment and column choice, and the
// json/yaml renderings `quader get -o` prints.

#include "cli/output.h"

#include <gtest/gtest.h>

#include "cli/kinds.h"

namespace quader::cli {
namespace {

std::span<const Column> ColumnsOf(std::string_view kind) {
  return ColumnsFor(*ResolveKind(kind).value());
}

TEST(OutputTest, TableAlignsEveryColumnToItsWidestCell) {
  const Column columns[] = {{"NAME", "name"}, {"ROLE", "role"}, {"NOTE", "note"}};
  std::vector<Json> rows = {
      {{"name", "a"}, {"role", "creator"}, {"note", "x"}},
      {{"name", "long-name"}, {"role", "dev"}, {"note", "longer note"}},
  };
  EXPECT_EQ(RenderTable(columns, rows),
            "NAME        ROLE      NOTE\n"
            "a           creator   x\n"
            "long-name   dev       longer note\n");
}

TEST(OutputTest, TableHasNoTrailingSpacesWhenTheLastCellIsShort) {
  const Column columns[] = {{"NAME", "name"}, {"DESCRIPTION", "description"}};
  std::string table = RenderTable(columns, {{{"name", "p"}, {"description", ""}}});
  EXPECT_EQ(table, "NAME   DESCRIPTION\np      -\n");
}

TEST(OutputTest, TableCountsUtf8CharactersNotBytes) {
  const Column columns[] = {{"NAME", "name"}, {"X", "x"}};
  std::string table =
      RenderTable(columns, {{{"name", "été"}, {"x", "1"}}, {{"name", "abcd"}, {"x", "2"}}});
  EXPECT_EQ(table, "NAME   X\nété    1\nabcd   2\n");
}

TEST(OutputTest, ProjectTableShowsRoleCreatorAndDescription) {
  Json project = {{"name", "team-a"},      {"description", "Team A\nsecond line"},
                  {"created_by", "alice"}, {"created_at", "2026-11-29T10:00:00Z"},
                  {"role", nullptr},       {"expand", {{"cluster", "dev"}}}};
  EXPECT_EQ(Render(Format::kTable, ColumnsOf("projects"), Json::array({project})),
            "NAME     ROLE   CREATED-BY   CREATED                DESCRIPTION\n"
            "team-a   -      alice        2026-11-29T10:00:00Z   Team A second line\n");
}

TEST(OutputTest, UserTableShowsFlagsAsTrueFalse) {
  Json user = {{"username", "bob"},
               {"email", "b@example.com"},
               {"admin", false},
               {"active", true},
               {"created_at", "2026-11-29T10:00:00Z"}};
  EXPECT_EQ(Render(Format::kTable, ColumnsOf("user"), user),
            "USERNAME   ADMIN   ACTIVE   EMAIL           CREATED\n"
            "bob        false   true     b@example.com   2026-11-29T10:00:00Z\n");
}

TEST(OutputTest, KindsWithoutColumnsUseNameProjectAndCreated) {
  Json builds = Json::array({{{"id", "b-1"}, {"project", "public"}, {"created_at", "t1"}}});
  EXPECT_EQ(Render(Format::kTable, ColumnsOf("image-builds"), builds),
            "NAME   PROJECT   CREATED\n"
            "b-1    public    t1\n");
}

TEST(OutputTest, NotebooksShowTypeStateOwnerAndUrl) {
  Json nbs = Json::array({{{"name", "lab"}, {"project", "public"}, {"type", "jupyter"}, {"state", "running"},
                           {"created_by", "alice"}, {"url", "http://h:8081/notebook/public/lab/"}, {"reason", ""}}});
  EXPECT_EQ(Render(Format::kTable, ColumnsOf("notebook"), nbs),
            "NAME   PROJECT   TYPE      STATE     OWNER   URL                                  REASON\n"
            "lab    public    jupyter   running   alice   http://h:8081/notebook/public/lab/   -\n");
}

TEST(OutputTest, CellTextRendersEachJsonType) {
  Json row = {{"s", "a\tb"}, {"n", 3},          {"t", true},      {"z", nullptr},
              {"e", ""},     {"o", {{"k", 1}}}, {"l", {1, "two"}}};
  EXPECT_EQ(CellText(row, {"S", "s"}), "a b");
  EXPECT_EQ(CellText(row, {"N", "n"}), "3");
  EXPECT_EQ(CellText(row, {"T", "t"}), "true");
  EXPECT_EQ(CellText(row, {"Z", "z"}), "-");
  EXPECT_EQ(CellText(row, {"E", "e"}), "-");
  EXPECT_EQ(CellText(row, {"M", "missing"}), "-");
  EXPECT_EQ(CellText(row, {"O", "o"}), R"({"k":1})");
  EXPECT_EQ(CellText(row, {"L", "l"}), R"([1,"two"])");
  EXPECT_EQ(CellText(row, {"F", "missing", "s"}), "a b");
}

TEST(OutputTest, JsonIsPrettyAndKeepsEveryField) {
  Json list = Json::array({{{"name", "a"}, {"expand", {{"cluster", "dev"}}}}});
  std::string text = Render(Format::kJson, ColumnsOf("projects"), list);
  EXPECT_EQ(text, list.dump(2) + "\n");
  EXPECT_EQ(Json::parse(text), list);
}

TEST(OutputTest, YamlRoundTripsThroughTheDocumentParser) {
  Json project = {{"name", "team-a"}, {"role", "creator"}, {"expand", {{"cluster", "dev"}}}};
  std::string text = Render(Format::kYaml, ColumnsOf("projects"), project);
  EXPECT_NE(text.find("name: team-a"), std::string::npos) << text;
  auto docs = ParseDocuments(text);
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ(docs->front(), project);
}

TEST(OutputTest, ParseFormatAcceptsOnlyTheThreeFormats) {
  EXPECT_EQ(ParseFormat("table").value(), Format::kTable);
  EXPECT_EQ(ParseFormat("json").value(), Format::kJson);
  EXPECT_EQ(ParseFormat("yaml").value(), Format::kYaml);
  auto bad = ParseFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("\"xml\""), std::string::npos);
}

TEST(OutputTest, DottedFieldsLookIntoNestedObjects) {
  const Column cron{"SCHEDULE", "schedule.cron"};
  const Column state{"LAST-RUN", "last_run.state"};
  Json scheduled = {{"schedule", {{"cron", "0 2 * * *"}}}, {"last_run", {{"state", "failed"}}}};
  EXPECT_EQ(CellText(scheduled, cron), "0 2 * * *");
  EXPECT_EQ(CellText(scheduled, state), "failed");
  // Null, missing, or not an object on the way: no value.
  Json bare = {{"schedule", nullptr}, {"last_run", "12"}};
  EXPECT_EQ(CellText(bare, cron), "-");
  EXPECT_EQ(CellText(bare, state), "-");
  EXPECT_EQ(CellText(Json::object(), cron), "-");
  EXPECT_EQ(CellText(scheduled, {"X", "schedule.cron.more"}), "-");
}

TEST(OutputTest, PipelineTableShowsScheduleAndLastRun) {
  Json items = Json::array(
      {{{"name", "iris"}, {"project", "public"}, {"schedule", {{"cron", "0 2 * * *"}, {"timezone", "Asia/Shanghai"}}},
        {"last_run", {{"id", 12}, {"state", "succeeded"}}}},
       {{"name", "adhoc"}, {"project", "team-a"}, {"schedule", nullptr}, {"last_run", nullptr}}});
  EXPECT_EQ(Render(Format::kTable, ColumnsOf("pipelines"), items),
            "NAME    PROJECT   SCHEDULE    ZONE            LAST-RUN\n"
            "iris    public    0 2 * * *   Asia/Shanghai   succeeded\n"
            "adhoc   team-a    -           -               -\n");
}

TEST(OutputTest, RunScheduleAndTemplateTables) {
  Json run = {{"id", 12},
              {"pipeline", "iris"},
              {"state", "running"},
              {"trigger", "manual"},
              {"runner", "admin"},
              {"started_at", "2026-11-29T02:00:00.000Z"},
              {"finished_at", nullptr}};
  EXPECT_EQ(Render(Format::kTable, ColumnsOf("runs"), Json::array({run})),
            "ID   PIPELINE   STATE     TRIGGER   RUNNER   STARTED                    FINISHED\n"
            "12   iris       running   manual    admin    2026-11-29T02:00:00.000Z   -\n");

  Json record = {{"id", 40},
                 {"pipeline", "iris"},
                 {"execution_date_local", "2026-11-30 02:00:00"},
                 {"state", "skipped: max_active_runs"},
                 {"run_id", nullptr}};
  EXPECT_EQ(Render(Format::kTable, ColumnsOf("sched"), Json::array({record})),
            "ID   PIPELINE   EXECUTION             STATE                      RUN\n"
            "40   iris       2026-11-30 02:00:00   skipped: max_active_runs   -\n");

  Json tmpl = {{"name", "train-sklearn"},
               {"project", "public"},
               {"image", "quader/python:3.11"},
               {"version", "Release"},
               {"created_at", "2026-11-29T10:00:00Z"}};
  EXPECT_EQ(Render(Format::kTable, ColumnsOf("tmpl"), tmpl),
            "NAME            PROJECT   IMAGE                VERSION   CREATED\n"
            "train-sklearn   public    quader/python:3.11   Release   2026-11-29T10:00:00Z\n");
}

}  // namespace
}  // namespace quader::cli
