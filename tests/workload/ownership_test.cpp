// Ownership by labels (workload/ownership.h): which object a workload's
// labels name, as a table of label sets.
#include "workload/ownership.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace quader::workload
