// The one mount rule (api/handlers/mount_check.h) and the public rule
// (auth::CheckPublicWrite), as tables.
#include "api/handlers/mount_check.h"

#include <gtest/gtest.h>

namespace quader::api {
namespace {

std::vector<auth::VolumeMount> Mounts(const std::string& text) {
  auto m = auth::ParseVolumeMounts("volume_mount", text);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : std::vector<auth::VolumeMount>{};
}

TEST(MountCheckTest, NonAdminsMountRamVolumesAndTheHostPathsTheProjectOffers) {
  store::ProjectRecord team;
  team.name = "team";
  team.expand = R"({"volume_mount": "data/shared(hostpath):/shared;ws(pvc):/mnt"})";
  auth::Principal bob{2, "bob", false, ""};
  auth::Principal admin{1, "admin", true, ""};
  struct Row {
    const char* mounts;
    bool ok;
    const char* why;
  } rows[] = {
      {"1G(memory):/dev/shm", true, "RAM is nobody's data"},
      {"other(pvc):/v", true, "a volume: each user gets their own sub-directory"},
      {"data/shared(hostpath):/elsewhere", true, "the project offers this host path (any mount path)"},
      {"/etc(hostpath):/x", false, "a host path the project does not offer"},
      {"data(hostpath):/x", false, "a parent of an offered host path is not offered"},
      {"1G(memory):/dev/shm;/(hostpath):/host", false, "the second entry"},
  };
  for (const auto& r : rows) {
    Status st = CheckMountsAllowed(bob, team, "volume_mount", Mounts(r.mounts));
    EXPECT_EQ(st.ok(), r.ok) << r.mounts << ": " << r.why << " " << st.ToString();
    if (!r.ok) EXPECT_EQ(st.code(), Code::kPermissionDenied);
    EXPECT_TRUE(CheckMountsAllowed(admin, team, "volume_mount", Mounts(r.mounts)).ok()) << "admins mount anything";
  }
  Status st = CheckMountsAllowed(bob, team, "tasks[0] (a).volume_mount", Mounts("ws(pvc):/w;/etc(hostpath):/x"));
  EXPECT_EQ(st.message(), "tasks[0] (a).volume_mount[1]: \"/etc\" is not among the mounts of project \"team\"; "
                          "an admin can add it to the project's expand");
}

TEST(PublicWriteTest, InPublicOnlyTheCreatorOrAnAdminChanges) {
  auth::Principal bob{2, "bob", false, ""};
  auth::Principal alice{3, "alice", false, ""};
  auth::Principal admin{1, "admin", true, ""};
  EXPECT_TRUE(auth::CheckPublicWrite(bob, "public", "bob", "pipeline", "p").ok());
  EXPECT_TRUE(auth::CheckPublicWrite(admin, "public", "bob", "pipeline", "p").ok());
  EXPECT_TRUE(auth::CheckPublicWrite(alice, "team", "bob", "pipeline", "p").ok()) << "other projects: roles decide";
  Status st = auth::CheckPublicWrite(alice, "public", "bob", "pipeline", "p");
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(st.message(), "only its creator or an admin may change public pipeline p");
}

}  // namespace
}  // namespace quader::api
