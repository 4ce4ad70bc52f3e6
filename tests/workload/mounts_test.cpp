// The one mount resolver (src/workload/mounts.h) with the user guide's own
// expand strings: every kind of work of a user sees one /mnt/$user.
#include "workload/mounts.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "auth/expand.h"
#include "fakes/temp_dir.h"

namespace quader::workload {
namespace {

namespace fs = std::filesystem;
using quader::testing::TempDir;

std::vector<auth::VolumeMount> Expand(const std::string& volume_mount) {
  auto settings = auth::ParseExpand(Json{{"volume_mount", volume_mount}});
  EXPECT_TRUE(settings.ok()) << volume_mount << ": " << settings.status().ToString();
  return settings.ok() ? settings->volume_mounts : std::vector<auth::VolumeMount>{};
}

const runtime::Mount* At(const std::vector<runtime::Mount>& mounts, const std::string& target) {
  for (const auto& m : mounts) {
    if (m.target == target) return &m;
  }
  return nullptr;
}

void ExpectOnePerTarget(const std::vector<runtime::Mount>& mounts) {
  std::set<std::string> seen;
  for (const auto& m : mounts) EXPECT_TRUE(seen.insert(m.target).second) << m.target << " is mounted twice";
}

class MountsTest : public ::testing::Test {
 protected:
  MountRequest Request(std::vector<const std::vector<auth::VolumeMount>*> layers, bool archives = false) {
    return {dir_.path(), "alice", true, archives, std::move(layers)};
  }
  std::string Work() const { return dir_.path() + "/users/alice/work"; }
  TempDir dir_;
};

TEST_F(MountsTest, WithoutExpandTheUserGetsTheirWorkDirectory) {
  auto mounts = ResolveMounts(Request({}));
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].target, "/mnt/alice");
  EXPECT_EQ(mounts[0].source, Work());
  EXPECT_EQ(mounts[0].claim, kUsersClaim);
  EXPECT_EQ(mounts[0].sub_path, "alice/work");
  EXPECT_TRUE(fs::is_directory(Work()));
}

// The example project ml-team (examples/projects/ml-team.yaml, the guide's
// expand): its workspace pvc at /mnt IS /mnt/alice, not a second mount there.
TEST_F(MountsTest, TheGuidesWorkspacePvcAtMntIsThePersonalDirectory) {
  auto project = Expand("kubeflow-user-workspace(pvc):/mnt;data/aidata(hostpath):/aidata;4G(memory):/dev/shm");
  for (bool archives : {false, true}) {  // tasks, trials, services; notebooks
    auto mounts = ResolveMounts(Request({&project}, archives));
    ExpectOnePerTarget(mounts);
    const runtime::Mount* mnt = At(mounts, "/mnt/alice");
    ASSERT_NE(mnt, nullptr);
    EXPECT_EQ(mnt->source, Work()) << "the same host directory as in every other project";
    EXPECT_EQ(mnt->claim, "kubeflow-user-workspace") << "on a cluster: the project's claim";
    EXPECT_EQ(mnt->sub_path, "alice");
    ASSERT_NE(At(mounts, "/aidata"), nullptr);
    EXPECT_EQ(At(mounts, "/aidata")->source, dir_.path() + "/data/aidata");
    ASSERT_NE(At(mounts, "/dev/shm"), nullptr);
    EXPECT_EQ(At(mounts, "/dev/shm")->size_bytes, 4LL << 30);
    EXPECT_EQ(At(mounts, "/archives/alice") != nullptr, archives);
  }
}

// The guide's image-building expand: workspace and archives, comma-separated,
// with a trailing slash as users type it.
TEST_F(MountsTest, TheGuidesWorkspaceAndArchivesPvcs) {
  auto project = Expand("kubeflow-user-workspace(pvc):/mnt/,kubeflow-archives(pvc):/archives");
  auto mounts = ResolveMounts(Request({&project}, true));
  ExpectOnePerTarget(mounts);
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(At(mounts, "/mnt/alice")->source, Work());
  EXPECT_EQ(At(mounts, "/archives/alice")->source, dir_.path() + "/users/alice/archives");
  EXPECT_EQ(At(mounts, "/archives/alice")->claim, "kubeflow-archives");
}

// A mount at a parent of /mnt/alice composes with it: the parent first.
TEST_F(MountsTest, AMountAtAParentComesBeforeThePersonalDirectory) {
  auto project = Expand("shared(hostpath):/mnt;1G(memory):/mnt/alice/tmp");
  auto mounts = ResolveMounts(Request({&project}));
  ExpectOnePerTarget(mounts);
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0].target, "/mnt");
  EXPECT_EQ(mounts[1].target, "/mnt/alice");
  EXPECT_EQ(mounts[2].target, "/mnt/alice/tmp");
}

// Other pvc entries are per user, under volumes/; a later layer (the
// template's, the task's) replaces an earlier one at the same target.
TEST_F(MountsTest, LaterLayersReplaceEarlierOnesAtTheSameTarget) {
  auto project = Expand("team-data(pvc):/data;4G(memory):/dev/shm");
  auto tmpl = Expand("8G(memory):/dev/shm");
  auto task = Expand("other(pvc):/data");
  auto mounts = ResolveMounts(Request({&project, &tmpl, &task}));
  ExpectOnePerTarget(mounts);
  EXPECT_EQ(At(mounts, "/dev/shm")->size_bytes, 8LL << 30);
  ASSERT_NE(At(mounts, "/data/alice"), nullptr);
  EXPECT_EQ(At(mounts, "/data/alice")->source, dir_.path() + "/volumes/other/alice");
  EXPECT_EQ(At(mounts, "/data/alice")->claim, "other");
}

TEST_F(MountsTest, ABuildGetsOnlyItsOwnMounts) {
  auto config = Expand("kubeflow-user-workspace(pvc):/mnt");
  auto mounts = ResolveMounts({dir_.path(), "alice", false, false, {&config}});
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].target, "/mnt/alice");
  EXPECT_EQ(mounts[0].source, Work()) << "the same /mnt/alice as the user's tasks";
}

}  // namespace
}  // namespace quader::workload
