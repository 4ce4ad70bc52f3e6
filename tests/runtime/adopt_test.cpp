#include "runtime/adopt.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "fakes/fake_runtime.h"
#include "runtime/labels.h"

namespace quader::runtime {
namespace {

class AdoptTest : public ::testing::Test {
 protected:
  void Add(const std::string& name, const std::string& instance, const std::string& kind,
           const std::string& owner) {
    WorkloadSpec spec;
    spec.name = name;
    spec.labels = {{kLabelManaged, "true"}, {kLabelInstance, instance}, {kLabelKind, kind}, {kLabelOwner, owner}};
    ASSERT_TRUE(rt_.Start(spec).ok());
  }
  testing::FakeRuntime rt_;
};

TEST_F(AdoptTest, KeepsWhatOwnersClaimRemovesOrphansIgnoresOtherInstances) {
  Add("task-live", "me", "task", "7");       // its run still wants it
  Add("task-gone", "me", "task", "8");       // its run was deleted
  Add("notebook-x", "me", "notebook", "1");  // no controller for notebooks: orphan
  Add("stranger", "other", "task", "7");     // another server's: not ours to touch
  std::map<std::string, OwnerCheck> owners = {
      {"task", [](const WorkloadStatus& w) { return w.labels.at(kLabelOwner) == "7"; }}};
  auto report = AdoptWorkloads(rt_, "me", owners);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->adopted, 1);
  EXPECT_EQ(report->removed, 2);
  std::vector<std::string> stopped = rt_.stopped();
  std::sort(stopped.begin(), stopped.end());
  EXPECT_EQ(stopped, (std::vector<std::string>{"notebook-x", "task-gone"}));
  EXPECT_TRUE(rt_.Inspect("task-live").ok());  // adopted, not restarted
  EXPECT_TRUE(rt_.Inspect("stranger").ok());
  EXPECT_EQ(rt_.started().size(), 4u);         // nothing was started again
}

}  // namespace
}  // namespace quader::runtime
