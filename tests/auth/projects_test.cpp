#include "auth/projects.h"

#include "auth/auth_fixture.h"
#include "store/projects.h"

namespace quader::auth {
namespace {

class ProjectsTest : public AuthFixture {
 protected:
  Status Write(const std::function<Status(store::Tx&)>& fn) { return store_->Write(fn); }

  Status Create(const Principal& who, const std::string& name, Json expand = Json::object()) {
    ProjectSpec spec;
    spec.name = name;
    spec.expand = expand;
    return Write([&](store::Tx& tx) { return CreateProject(tx, who, spec, now()).status(); });
  }

  Status AddMember(const Principal& who, const std::string& project, const std::string& user,
                   const std::string& role = kRoleDev) {
    return Write([&](store::Tx& tx) {
      return PutMember(tx, who, project, {user, role}, true, now()).status();
    });
  }

  Status Check(const Principal& who, const std::string& project, ProjectAction action) {
    return store_->Read([&](store::Tx& tx) { return CheckProject(tx, who, project, action).status(); });
  }
};

TEST_F(ProjectsTest, AnyUserCreatesAProjectAndBecomesItsCreator) {
  Principal alice = AddUser("alice");
  ASSERT_TRUE(Create(alice, "team-a").ok());
  ASSERT_TRUE(store_->Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(ProjectAccess a, CheckProject(tx, alice, "team-a", ProjectAction::kManage));
    EXPECT_EQ(a.role, "creator");
    EXPECT_EQ(a.project.created_by, "alice");
    return Status::Ok();
  }).ok());
  EXPECT_EQ(Create(alice, "team-a").code(), Code::kAlreadyExists);
}

TEST_F(ProjectsTest, NonMembersGetNotFoundLikeAMissingProject) {
  Principal alice = AddUser("alice");
  Principal bob = AddUser("bob");
  ASSERT_TRUE(Create(alice, "secret").ok());
  Status hidden = Check(bob, "secret", ProjectAction::kView);
  Status missing = Check(bob, "no-such", ProjectAction::kView);
  EXPECT_EQ(hidden.code(), Code::kNotFound);
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_EQ(hidden.message(), "project \"secret\" not found");
  // Admins see everything.
  EXPECT_TRUE(Check(admin_, "secret", ProjectAction::kManage).ok());
}

TEST_F(ProjectsTest, OnlyCreatorsManageMembers) {
  Principal alice = AddUser("alice");
  Principal bob = AddUser("bob");
  AddUser("carol");
  ASSERT_TRUE(Create(alice, "team").ok());
  ASSERT_TRUE(AddMember(alice, "team", "bob").ok());
  EXPECT_TRUE(Check(bob, "team", ProjectAction::kUse).ok());
  Status denied = AddMember(bob, "team", "carol");
  EXPECT_EQ(denied.code(), Code::kPermissionDenied);
  EXPECT_EQ(AddMember(alice, "team", "bob").code(), Code::kAlreadyExists);
  EXPECT_EQ(AddMember(alice, "team", "nobody").code(), Code::kInvalidArgument);
  EXPECT_EQ(AddMember(alice, "team", "carol", "boss").code(), Code::kInvalidArgument);
  // Promote bob; now he may manage.
  ASSERT_TRUE(Write([&](store::Tx& tx) { return PutMember(tx, alice, "team", {"bob", kRoleCreator}, false, now()).status(); }).ok());
  EXPECT_TRUE(AddMember(bob, "team", "carol").ok());
}

TEST_F(ProjectsTest, TheLastCreatorCannotLeaveAndPublicKeepsEveryone) {
  Principal alice = AddUser("alice");
  AddUser("bob");
  ASSERT_TRUE(Create(alice, "team").ok());
  ASSERT_TRUE(AddMember(alice, "team", "bob").ok());
  Status last = Write([&](store::Tx& tx) { return RemoveMember(tx, alice, "team", "alice"); });
  EXPECT_EQ(last.code(), Code::kConflict);
  Status demote = Write([&](store::Tx& tx) { return PutMember(tx, alice, "team", {"alice", kRoleDev}, false, now()).status(); });
  EXPECT_EQ(demote.code(), Code::kConflict);
  EXPECT_TRUE(Write([&](store::Tx& tx) { return RemoveMember(tx, alice, "team", "bob"); }).ok());
  Status pub = Write([&](store::Tx& tx) { return RemoveMember(tx, admin_, "public", "alice"); });
  EXPECT_EQ(pub.code(), Code::kConflict);
  EXPECT_EQ(Write([&](store::Tx& tx) { return DeleteProject(tx, admin_, "public"); }).code(), Code::kConflict);
}

TEST_F(ProjectsTest, OnlyAdminsSetExpand) {
  Principal alice = AddUser("alice");
  Json expand = {{"cluster", "dev"}};
  EXPECT_EQ(Create(alice, "team", expand).code(), Code::kPermissionDenied);
  ASSERT_TRUE(Create(alice, "team").ok());
  ProjectSpec change;
  change.name = "team";
  change.expand = expand;
  Status st = Write([&](store::Tx& tx) { return UpdateProject(tx, alice, change, now()).status(); });
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  st = Write([&](store::Tx& tx) { return UpdateProject(tx, admin_, change, now()).status(); });
  EXPECT_TRUE(st.ok()) << st.ToString();
  // The creator may still change the description (expand unchanged).
  ProjectSpec desc;
  desc.name = "team";
  desc.description = "ours";
  desc.expand = expand;
  st = Write([&](store::Tx& tx) { return UpdateProject(tx, alice, desc, now()).status(); });
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(ProjectsTest, BadExpandChangesNothing) {
  ASSERT_TRUE(Create(admin_, "team", {{"cluster", "dev"}}).ok());
  ProjectSpec bad;
  bad.name = "team";
  bad.expand = Json{{"volume_mount", "x(nfs):/data"}};
  Status st = Write([&](store::Tx& tx) { return UpdateProject(tx, admin_, bad, now()).status(); });
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  ASSERT_TRUE(store_->Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto p, store::GetProject(tx, "team"));
    EXPECT_EQ(Json::parse(p.expand), Json({{"cluster", "dev"}}));
    return Status::Ok();
  }).ok());
}

TEST_F(ProjectsTest, ApplyIsIdempotent) {
  AddUser("bob");
  auto spec = ParseProjectSpec(Json::parse(R"({"kind": "Project", "name": "ml", "description": "d",
      "expand": {"node_selector": "org=public"}, "members": [{"username": "bob", "role": "ops"}]})"), true);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  Change first, second;
  ASSERT_TRUE(Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(first, ApplyProject(tx, admin_, *spec, now()));
    return Status::Ok();
  }).ok());
  ASSERT_TRUE(Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(second, ApplyProject(tx, admin_, *spec, now()));
    return Status::Ok();
  }).ok());
  EXPECT_EQ(first, Change::kCreated);
  EXPECT_EQ(second, Change::kUnchanged);
  spec->description = "changed";
  Change third;
  ASSERT_TRUE(Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(third, ApplyProject(tx, admin_, *spec, now()));
    return Status::Ok();
  }).ok());
  EXPECT_EQ(third, Change::kUpdated);
}

TEST_F(ProjectsTest, SpecRefusesUnknownFields) {
  auto r = ParseProjectSpec(Json::parse(R"({"name": "x", "colour": "red"})"), false);
  EXPECT_EQ(r.status().message(), "colour: unknown field");
  auto m = ParseProjectSpec(Json::parse(R"({"name": "x", "members": [{"username": "a", "role": "king"}]})"), true);
  EXPECT_NE(m.status().message().find("members[0].role: unknown role \"king\""), std::string::npos)
      << m.status().message();
}

}  // namespace
}  // namespace quader::auth
