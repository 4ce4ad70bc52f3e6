#include "auth/auth_fixture.h"
#include "auth/session_cache.h"

#include <future>
#include <thread>
#include "store/projects.h"
#include "store/users.h"

namespace quader::auth {
namespace {

class UsersTest : public AuthFixture {};

TEST_F(UsersTest, BootstrapCreatesAdminAndPublicOnce) {
  std::string generated;
  ASSERT_TRUE(Bootstrap(*store_, clock_, "", &generated).ok());
  EXPECT_TRUE(generated.empty());  // the admin already existed: nothing new to print
  EXPECT_TRUE(admin_.is_admin);
  ASSERT_TRUE(store_->Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto pub, store::GetProject(tx, "public"));
    QUADER_ASSIGN_OR_RETURN(auto role, store::GetRole(tx, pub.id, admin_.user_id));
    EXPECT_EQ(role, "dev");
    return Status::Ok();
  }).ok());
}

TEST_F(UsersTest, GeneratedAdminPasswordWorks) {
  testing::TempDir dir;
  auto s = store::OpenStore("sqlite:" + dir.File("x.db"));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Migrate().ok());
  std::string generated;
  ASSERT_TRUE(Bootstrap(**s, clock_, "", &generated).ok());
  ASSERT_GE(generated.size(), 16u);
  EXPECT_TRUE(Login(**s, clock_, "admin", generated, 60).ok());
}

TEST_F(UsersTest, NewUsersJoinPublicAsDev) {
  Principal bob = AddUser("bob");
  ASSERT_TRUE(store_->Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto pub, store::GetProject(tx, "public"));
    QUADER_ASSIGN_OR_RETURN(auto role, store::GetRole(tx, pub.id, bob.user_id));
    EXPECT_EQ(role, "dev");
    return Status::Ok();
  }).ok());
}

TEST_F(UsersTest, CreateUserValidates) {
  Status st = store_->Write([&](store::Tx& tx) { return CreateUser(tx, {"Bad Name", "password1", "", false}, 1).status(); });
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  st = store_->Write([&](store::Tx& tx) { return CreateUser(tx, {"short", "pw", "", false}, 1).status(); });
  EXPECT_NE(st.message().find("password: must be at least 8"), std::string::npos) << st.message();
  st = store_->Write([&](store::Tx& tx) { return CreateUser(tx, {"admin", "password1", "", false}, 1).status(); });
  EXPECT_EQ(st.code(), Code::kAlreadyExists);
}

TEST_F(UsersTest, WrongPasswordAndUnknownUserLookTheSame) {
  AddUser("carol");
  auto wrong = Login(*store_, clock_, "carol", "nope-nope", 60);
  auto unknown = Login(*store_, clock_, "nobody", "nope-nope", 60);
  EXPECT_EQ(wrong.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), unknown.status().message());
}

TEST_F(UsersTest, TokensExpireAndLogoutRevokes) {
  AddUser("dave");
  auto session = Login(*store_, clock_, "dave", "password-dave", 100);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->token.rfind("qdr_", 0), 0u);
  // Only the hash is stored.
  ASSERT_TRUE(store_->Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT token_hash FROM tokens"));
    for (const auto& r : rows) EXPECT_NE(r.Str(0), session->token);
    return Status::Ok();
  }).ok());
  auto who = Authenticate(*store_, clock_, session->token);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->username, "dave");
  clock_.Advance(100);
  EXPECT_EQ(Authenticate(*store_, clock_, session->token).status().code(), Code::kUnauthenticated);

  auto again = Login(*store_, clock_, "dave", "password-dave", 100);
  auto who2 = Authenticate(*store_, clock_, again->token);
  ASSERT_TRUE(who2.ok());
  ASSERT_TRUE(Logout(*store_, *who2).ok());
  EXPECT_EQ(Authenticate(*store_, clock_, again->token).status().code(), Code::kUnauthenticated);
}

TEST_F(UsersTest, InactiveUsersCannotSignIn) {
  AddUser("erin");
  auto session = Login(*store_, clock_, "erin", "password-erin", 100);
  ASSERT_TRUE(store_->Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto u, store::GetUser(tx, "erin"));
    u.active = false;
    return store::UpdateUser(tx, u, 1);
  }).ok());
  EXPECT_FALSE(Login(*store_, clock_, "erin", "password-erin", 100).ok());
  EXPECT_FALSE(Authenticate(*store_, clock_, session->token).ok());
}

TEST_F(UsersTest, RevokeSessionsKeepsOnlyTheNamedOne) {
  AddUser("fred");
  AddUser("gina");
  auto a = Login(*store_, clock_, "fred", "password-fred", 100);
  auto b = Login(*store_, clock_, "fred", "password-fred", 100);
  auto other = Login(*store_, clock_, "gina", "password-gina", 100);
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  int64_t revoked = -1;
  ASSERT_TRUE(store_->Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(revoked, RevokeSessions(tx, a->user.id, HashToken(a->token)));
    return Status::Ok();
  }).ok());
  EXPECT_EQ(revoked, 1);
  EXPECT_TRUE(Authenticate(*store_, clock_, a->token).ok());   // the one kept (a self-change)
  EXPECT_FALSE(Authenticate(*store_, clock_, b->token).ok());  // every other session of fred
  EXPECT_TRUE(Authenticate(*store_, clock_, other->token).ok());  // other users untouched
  ASSERT_TRUE(store_->Write([&](store::Tx& tx) { return RevokeSessions(tx, a->user.id, "").status(); }).ok());
  EXPECT_FALSE(Authenticate(*store_, clock_, a->token).ok());
}

TEST_F(UsersTest, SessionCacheForgetsRevokedTokensAtOnce) {
  AddUser("hana");
  SessionCache cache(*store_, clock_, std::chrono::hours(1));
  auto session = Login(*store_, clock_, "hana", "password-hana", 3600);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(cache.Lookup(session->token).has_value());
  ASSERT_TRUE(store_->Write([&](store::Tx& tx) { return RevokeSessions(tx, session->user.id, "").status(); }).ok());
  // Without the note the cache still answers from memory for its ttl...
  EXPECT_TRUE(cache.Lookup(session->token).has_value());
  // ...and with it, no longer.
  NoteTokensRevoked();
  EXPECT_FALSE(cache.Lookup(session->token).has_value());
  // Logout notes it itself.
  auto again = Login(*store_, clock_, "hana", "password-hana", 3600);
  ASSERT_TRUE(cache.Lookup(again->token).has_value());
  ASSERT_TRUE(Logout(*store_, *Authenticate(*store_, clock_, again->token)).ok());
  EXPECT_FALSE(cache.Lookup(again->token).has_value());
}

TEST_F(UsersTest, LoginOnBusyPasswordWorkersIsUnavailableNotAFailure) {
  AddUser("ivan");
  PasswordWorkers workers(1, 0);  // one thread, nothing may wait behind it
  std::promise<void> running, release;
  std::thread holder([&] {
    (void)workers.Run([&] {
      running.set_value();
      release.get_future().wait();
    });
  });
  running.get_future().wait();
  auto st = Login(*store_, clock_, "ivan", "password-ivan", 60, &workers);
  release.set_value();
  holder.join();
  EXPECT_EQ(st.status().code(), Code::kUnavailable) << st.status().ToString();
  EXPECT_TRUE(Login(*store_, clock_, "ivan", "password-ivan", 60, &workers).ok());
  EXPECT_EQ(Login(*store_, clock_, "ivan", "wrong-password", 60, &workers).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(Login(*store_, clock_, "nobody", "wrong-password", 60, &workers).status().code(),
            Code::kUnauthenticated);
}

}  // namespace
}  // namespace quader::auth
