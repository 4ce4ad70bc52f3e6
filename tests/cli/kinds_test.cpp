// Tests cli/kinds.h and cli/commands/kind_args.h: the words users type for
// kinds, and the API paths `get` and `delete` call for them.

#include "cli/kinds.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "cli/commands/kind_args.h"

namespace quader::cli {
namespace {

struct KindCase {
  const char* word;
  const char* kind;  // expected KindSpec::name
};

// Every form a user may type resolves to its kind.
const KindCase kKindCases[] = {
    {"project", "project"},
    {"projects", "project"},
    {"proj", "project"},
    {"Projects", "project"},
    {"user", "user"},
    {"users", "user"},
    {"member", "member"},
    {"members", "member"},
    {"template", "template"},
    {"pipelines", "pipeline"},
    {"run", "run"},
    {"schedules", "schedule"},
    {"nb", "notebook"},
    {"experiments", "experiment"},
    {"svc", "service"},
    {"inference-services", "inference-service"},
    {"isvc", "inference-service"},
    {"images", "image"},
    {"image-build", "image-build"},
    {"imagebuilds", "image-build"},
};

TEST(KindsTest, ResolvesSingularPluralAndShortForms) {
  for (const KindCase& c : kKindCases) {
    auto kind = ResolveKind(c.word);
    ASSERT_TRUE(kind.ok()) << c.word << ": " << kind.status().ToString();
    EXPECT_EQ(kind.value()->name, c.kind) << c.word;
  }
}

TEST(KindsTest, UnknownKindIsAnInvalidArgumentNamingTheWordAndTheKnownKinds) {
  for (const char* word : {"widgets", "", "project-s", "pro"}) {
    auto kind = ResolveKind(word);
    ASSERT_FALSE(kind.ok()) << word;
    EXPECT_EQ(kind.status().code(), Code::kInvalidArgument);
    EXPECT_NE(kind.status().message().find("\"" + std::string(word) + "\""), std::string::npos);
    EXPECT_NE(kind.status().message().find("projects, users, members"), std::string::npos);
  }
}

TEST(KindsTest, EveryCollectionOfTheContractHasAKind) {
  std::vector<std::string> collections;
  for (const KindSpec& kind : Kinds()) collections.emplace_back(kind.collection);
  for (const char* expected :
       {"users", "projects", "members", "images", "image-builds", "templates", "pipelines", "runs",
        "schedules", "notebooks", "experiments", "services", "inference-services"}) {
    EXPECT_NE(std::find(collections.begin(), collections.end(), expected), collections.end())
        << expected;
  }
}

TEST(KindsTest, PathsFollowEachScope) {
  const KindSpec& projects = *ResolveKind("projects").value();
  const KindSpec& pipelines = *ResolveKind("pipelines").value();
  const KindSpec& members = *ResolveKind("members").value();
  const KindSpec& isvc = *ResolveKind("isvc").value();
  EXPECT_EQ(ListPath(projects, ""), "/projects");
  EXPECT_EQ(ItemPath(projects, "team-a", ""), "/projects/team-a");
  // A project filter means nothing for global kinds and is not sent.
  EXPECT_EQ(ListPath(projects, "x"), "/projects");
  EXPECT_EQ(ListPath(pipelines, ""), "/pipelines");
  EXPECT_EQ(ListPath(pipelines, "team-a"), "/pipelines?project=team-a");
  EXPECT_EQ(ItemPath(pipelines, "train", "team-a"), "/pipelines/train?project=team-a");
  EXPECT_EQ(ListPath(isvc, ""), "/inference-services");
  EXPECT_EQ(ListPath(members, "team-a"), "/projects/team-a/members");
  EXPECT_EQ(ItemPath(members, "bob", "team-a"), "/projects/team-a/members/bob");
  EXPECT_EQ(ItemPath(projects, "a b/c", ""), "/projects/a%20b%2Fc");
}

TEST(KindArgsTest, GetMembersTakesTheProjectFromNameOrFlag) {
  const KindSpec& members = *ResolveKind("members").value();
  auto by_name = PathForGet(members, {"members", "team-a", ""});
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->path, "/projects/team-a/members");
  EXPECT_TRUE(by_name->is_list);

  auto by_flag = PathForGet(members, {"members", "", "team-a"});
  ASSERT_TRUE(by_flag.ok());
  EXPECT_EQ(by_flag->path, "/projects/team-a/members");

  auto one = PathForGet(members, {"member", "bob", "team-a"});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->path, "/projects/team-a/members/bob");
  EXPECT_FALSE(one->is_list);

  auto none = PathForGet(members, {"members", "", ""});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("--project"), std::string::npos);
}

TEST(KindArgsTest, GetListsWithoutNameAndShowsOneWithName) {
  const KindSpec& projects = *ResolveKind("projects").value();
  EXPECT_TRUE(PathForGet(projects, {"projects", "", ""})->is_list);
  auto one = PathForGet(projects, {"project", "team-a", ""});
  EXPECT_FALSE(one->is_list);
  EXPECT_EQ(one->path, "/projects/team-a");
}

TEST(KindArgsTest, DeleteMemberNeedsTheProjectFlag) {
  const KindSpec& members = *ResolveKind("members").value();
  EXPECT_FALSE(PathForDelete(members, {"member", "bob", ""}).ok());
  EXPECT_EQ(PathForDelete(members, {"member", "bob", "team-a"})->path,
            "/projects/team-a/members/bob");
}

TEST(KindsTest, RunsAndSchedulesAreAddressedById) {
  const KindSpec& runs = *ResolveKind("runs").value();
  EXPECT_EQ(ItemPath(runs, "12", ""), "/runs/12");
  EXPECT_EQ(ListPath(runs, "team-a"), "/runs?project=team-a");
  auto get = PathForGet(runs, {"run", "12", ""});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->path, "/runs/12");
  EXPECT_FALSE(get->is_list);
  EXPECT_EQ(PathForDelete(runs, {"run", "12", ""})->path, "/runs/12");
}

TEST(KindsTest, PipelineKindsHaveTheirOwnColumns) {
  auto headers = [](std::string_view word) {
    std::string out;
    for (const Column& c : ColumnsFor(*ResolveKind(word).value())) {
      out += (out.empty() ? "" : " ") + std::string(c.header) + "=" + std::string(c.field);
    }
    return out;
  };
  EXPECT_EQ(headers("template"),
            "NAME=name PROJECT=project IMAGE=image VERSION=version CREATED=created_at");
  EXPECT_EQ(headers("pipeline"),
            "NAME=name PROJECT=project SCHEDULE=schedule.cron ZONE=schedule.timezone LAST-RUN=last_run.state");
  EXPECT_EQ(headers("run"),
            "ID=id PIPELINE=pipeline STATE=state TRIGGER=trigger RUNNER=runner "
            "STARTED=started_at FINISHED=finished_at");
  EXPECT_EQ(headers("schedule"),
            "ID=id PIPELINE=pipeline EXECUTION=execution_date_local STATE=state RUN=run_id");
}

}  // namespace
}  // namespace quader::cli
