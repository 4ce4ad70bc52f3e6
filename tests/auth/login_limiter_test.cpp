// The sign-in limits, on a fake clock: per name (growing lockouts), per
// address (a window of failures, attempts in flight), and the password
// workers' bound.
#include "auth/login_limiter.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "auth/password_workers.h"
#include "fakes/fake_clock.h"

namespace quader::auth {
namespace {

using Outcome = LoginLimiter::Outcome;

class LoginLimiterTest : public ::testing::Test {
 protected:
  // One admitted attempt that ends with `outcome`; the refusal if refused.
  std::optional<LoginRefusal> Try(const std::string& user, Outcome outcome, const std::string& address = "10.0.0.1") {
    auto refusal = limiter_.Admit(user, address);
    if (!refusal) limiter_.Finish(user, address, outcome);
    return refusal;
  }
  void Fail(const std::string& user, int times, const std::string& address = "10.0.0.1") {
    for (int i = 0; i < times; ++i) ASSERT_FALSE(Try(user, Outcome::kFailure, address)) << "attempt " << i;
  }

  testing::FakeClock clock_;
  LoginLimits limits_;  // the defaults: 5 per name, 1 minute doubling; 20 per address a minute
  LoginLimiter limiter_{clock_, limits_};
};

TEST_F(LoginLimiterTest, FifthFailureLocksTheNameForAMinuteThenLockoutsDouble) {
  Fail("alice", 5);
  auto r = Try("alice", Outcome::kSuccess);  // even the right password is not checked now
  ASSERT_TRUE(r);
  EXPECT_EQ(r->limit, "user_failures");
  EXPECT_EQ(r->retry_after_seconds, 60);
  EXPECT_NE(r->message.find("user \"alice\" (the limit is 5 failures within 15 minutes)"), std::string::npos)
      << r->message;
  clock_.Advance(59);
  EXPECT_EQ(Try("alice", Outcome::kSuccess)->retry_after_seconds, 1);
  clock_.Advance(1);
  // The lock is over; one more failure locks again, for twice as long.
  Fail("alice", 1);
  EXPECT_EQ(Try("alice", Outcome::kSuccess)->retry_after_seconds, 120);
  clock_.Advance(120);
  Fail("alice", 1);
  EXPECT_EQ(Try("alice", Outcome::kSuccess)->retry_after_seconds, 240);
  // After the lock a successful sign-in works and forgets everything.
  clock_.Advance(240);
  EXPECT_FALSE(Try("alice", Outcome::kSuccess));
  Fail("alice", 4);
  EXPECT_FALSE(Try("alice", Outcome::kSuccess));
}

TEST_F(LoginLimiterTest, LockoutsStopGrowingAtTheMaximum) {
  Fail("bob", 5);
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(Try("bob", Outcome::kFailure)->retry_after_seconds);
    Fail("bob", 1);
  }
  EXPECT_EQ(Try("bob", Outcome::kSuccess)->retry_after_seconds, 3600);
}

TEST_F(LoginLimiterTest, FailuresAreForgottenAfterAQuietWindow) {
  Fail("carol", 4);
  clock_.Advance(15 * 60);
  Fail("carol", 4);  // a fresh count: four more do not lock
  EXPECT_FALSE(Try("carol", Outcome::kSuccess));
}

TEST_F(LoginLimiterTest, UnknownNamesAreCountedLikeKnownOnes) {
  // The limiter never asks whether a name exists: "nobody" locks the same way.
  Fail("nobody", 5);
  EXPECT_EQ(Try("nobody", Outcome::kFailure)->limit, "user_failures");
  EXPECT_FALSE(Try("somebody-else", Outcome::kFailure));
}

TEST_F(LoginLimiterTest, TwentyFailuresFromOneAddressInAMinuteRefuseItUntilTheWindowEnds) {
  for (int i = 0; i < 20; ++i) Fail("user" + std::to_string(i), 1);  // different names: no name locks
  clock_.Advance(10);
  auto r = Try("fresh", Outcome::kSuccess);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->limit, "address_failures");
  EXPECT_EQ(r->retry_after_seconds, 50);
  EXPECT_NE(r->message.find("from 10.0.0.1 (the limit is 20 failures per 1 minute)"), std::string::npos) << r->message;
  EXPECT_FALSE(Try("fresh", Outcome::kSuccess, "10.0.0.2"));  // other addresses are not affected
  clock_.Advance(50);
  EXPECT_FALSE(Try("fresh", Outcome::kSuccess));
}

TEST_F(LoginLimiterTest, AttemptsInFlightPerAddressAreCapped) {
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(limiter_.Admit("u", "10.0.0.9"));
  auto r = limiter_.Admit("u", "10.0.0.9");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->limit, "address_in_flight");
  EXPECT_EQ(r->retry_after_seconds, 1);
  limiter_.Finish("u", "10.0.0.9", Outcome::kNotChecked);  // counts as nothing, frees a place
  EXPECT_FALSE(limiter_.Admit("u", "10.0.0.9"));
  // Not checked attempts never lock a name.
  for (int i = 0; i < 4; ++i) limiter_.Finish("u", "10.0.0.9", Outcome::kNotChecked);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(Try("u", Outcome::kNotChecked, "10.0.0.9"));
}

TEST_F(LoginLimiterTest, VeryLongNamesAreCountedByTheirPrefix) {
  std::string name(100000, 'x');
  Fail(name, 5);
  auto r = Try(name + "y", Outcome::kSuccess);
  ASSERT_TRUE(r);
  EXPECT_LT(r->message.size(), 400u);
}

TEST(PasswordWorkersTest, RefusesAtOnceWhenThreadsAndWaitingPlacesAreTaken) {
  PasswordWorkers workers(1, 1);
  std::promise<void> running, release;
  std::shared_future<void> released = release.get_future().share();
  std::thread first([&] {
    EXPECT_TRUE(workers.Run([&] {
      running.set_value();
      released.wait();
    }).ok());
  });
  running.get_future().wait();
  std::thread second([&] { EXPECT_TRUE(workers.Run([&] { released.wait(); }).ok()); });
  // The second call takes the one waiting place (poll, with a deadline).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (workers.waiting() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(workers.waiting(), 1u);
  bool ran = false;
  Status third = workers.Run([&] { ran = true; });
  EXPECT_EQ(third.code(), Code::kUnavailable);
  EXPECT_NE(third.message().find("the limit is 2: 1 running, 1 waiting"), std::string::npos) << third.message();
  EXPECT_FALSE(ran);
  release.set_value();
  first.join();
  second.join();
  EXPECT_TRUE(workers.Run([&] { ran = true; }).ok());
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace quader::auth
