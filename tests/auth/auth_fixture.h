#pragma once
// A real SQLite store in a temp dir with the bootstrap done: `admin`
// (password "adminpass") and `public`, plus helpers to add users.

#include <gtest/gtest.h>

#include "auth/passwords.h"
#include "auth/users.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "store/store.h"

namespace quader::auth {

class AuthFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto s = store::OpenStore("sqlite:" + dir_.File("q.db"));
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->Migrate().ok());
    std::string generated;
    ASSERT_TRUE(Bootstrap(*store_, clock_, "adminpass", &generated).ok());
    admin_ = Who("admin");
  }

  // Creates a user (password "password-<name>") and returns them as a caller.
  Principal AddUser(const std::string& name) {
    store::UserRecord rec;
    Status st = store_->Write([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(rec, CreateUser(tx, {name, "password-" + name, "", false}, now()));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return Principal{rec.id, name, false, ""};
  }

  Principal Who(const std::string& name) {
    auto session = Login(*store_, clock_, name, name == "admin" ? "adminpass" : "password-" + name, 3600);
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    return *Authenticate(*store_, clock_, session->token);
  }

  int64_t now() const { return clock_.seconds(); }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  Principal admin_;
};

}  // namespace quader::auth
