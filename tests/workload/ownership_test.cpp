// Ownership by labels (workload/ownership.h): which object a workload's
// labels name, as a table of label sets.
#include "workload/ownership.h"

#include <gtest/gtest.h>

#include "fakes/fake_runtime.h"
#include "runtime/labels.h"

namespace quader::workload {
namespace {

runtime::WorkloadStatus With(std::map<std::string, std::string> labels) {
  runtime::WorkloadStatus w;
  w.name = "w";
  w.labels = std::move(labels);
  return w;
}

TEST(OwnerOfTest, ReadsKindIdAndMemberFromTheLabels) {
  using runtime::kLabelKind, runtime::kLabelOwner, runtime::kLabelTask, runtime::kLabelTrial, runtime::kLabelReplica;
  struct Row {
    std::map<std::string, std::string> labels;
    bool owned;
    std::string kind, member;
    int64_t id;
  };
  const std::vector<Row> rows = {
      {{{kLabelKind, "task"}, {kLabelOwner, "12"}, {kLabelTask, "train"}}, true, "task", "train", 12},
      {{{kLabelKind, "trial"}, {kLabelOwner, "3"}, {kLabelTrial, "7"}}, true, "trial", "7", 3},
      {{{kLabelKind, "service"}, {kLabelOwner, "5"}, {kLabelReplica, "1"}}, true, "service", "1", 5},
      {{{kLabelKind, "notebook"}, {kLabelOwner, "9"}}, true, "notebook", "", 9},
      // no owner, or one that is not a positive number: nobody's
      {{{kLabelKind, "task"}, {kLabelTask, "train"}}, false, "", "", 0},
      {{{kLabelKind, "task"}, {kLabelOwner, "-1"}}, false, "", "", 0},
      {{{kLabelKind, "task"}, {kLabelOwner, "0"}}, false, "", "", 0},
      {{{kLabelKind, "task"}, {kLabelOwner, "12abc"}}, false, "", "", 0},
      {{{kLabelKind, "task"}, {kLabelOwner, "99999999999999999999999"}}, false, "", "", 0},
  };
  for (const Row& row : rows) {
    std::optional<Owner> o = OwnerOf(With(row.labels));
    ASSERT_EQ(o.has_value(), row.owned) << row.labels.begin()->second;
    if (!o) continue;
    EXPECT_EQ(o->kind, row.kind);
    EXPECT_EQ(o->id, row.id);
    EXPECT_EQ(o->member, row.member);
  }
}

TEST(ListByOwnerTest, GroupsThisInstancesWorkloadsOfOneKindByOwner) {
  using namespace runtime;
  quader::testing::FakeRuntime rt;
  auto start = [&](const std::string& name, std::map<std::string, std::string> labels) {
    WorkloadSpec spec;
    spec.name = name;
    spec.command = {"true"};
    spec.labels = std::move(labels);
    ASSERT_TRUE(rt.Start(spec).ok());
  };
  std::map<std::string, std::string> base = {{kLabelManaged, "true"}, {kLabelInstance, "i1"}, {kLabelKind, "service"}};
  auto with = [&](std::map<std::string, std::string> extra) {
    auto l = base;
    for (auto& [k, v] : extra) l[k] = v;
    return l;
  };
  start("a0", with({{kLabelOwner, "7"}, {kLabelReplica, "0"}}));
  start("a1", with({{kLabelOwner, "7"}, {kLabelReplica, "1"}}));
  start("b0", with({{kLabelOwner, "9"}}));
  start("stray", with({}));                                         // no owner: key 0
  start("other-kind", with({{kLabelKind, "notebook"}, {kLabelOwner, "7"}}));
  start("other-server", with({{kLabelInstance, "i2"}, {kLabelOwner, "7"}}));
  auto grouped = ListByOwner(rt, "i1", "service");
  ASSERT_TRUE(grouped.ok()) << grouped.status().ToString();
  ASSERT_EQ(grouped->size(), 3u);
  EXPECT_EQ(grouped->at(7).size(), 2u);
  EXPECT_EQ(grouped->at(9).size(), 1u);
  ASSERT_EQ(grouped->at(0).size(), 1u);
  EXPECT_EQ(grouped->at(0)[0].name, "stray");
}

}  // namespace
}  // namespace quader::workload
