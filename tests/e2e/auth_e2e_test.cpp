// Authentication under attack, over HTTP against the real server: sign-in
// limits (429 with Retry-After), /healthz staying fast while sign-ins are
// hammered, sessions revoked on password change and deactivation, and who
// may read /metrics.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {

const char* kAdminPassword = "admin-pass-1";

class AuthE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path());
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", kAdminPassword);
    ASSERT_FALSE(admin_.empty());
  }

  void AddUser(const std::string& name) {
    Json body = {{"username", name}, {"password", "password-" + name}};
    auto r = server_->Call("POST", "/api/v1/users", body.dump(), admin_);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  cli::HttpReply LoginReply(const std::string& user, const std::string& password) {
    Json body = {{"username", user}, {"password", password}};
    return server_->Call("POST", "/api/v1/login", body.dump());
  }

  int Me(const std::string& token) { return server_->Call("GET", "/api/v1/me", "", token).status; }

  // The error body of a refused sign-in, checking status and Retry-After.
  Json Refusal(const cli::HttpReply& r, int status = 429) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_FALSE(r.headers.count("retry-after") == 0) << "no Retry-After";
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) {
      ADD_FAILURE() << r.body;
      return Json::object();
    }
    if (r.headers.count("retry-after")) {
      EXPECT_EQ(std::to_string(j["error"].value("retry_after_seconds", 0)), r.headers.at("retry-after"));
    }
    return j["error"];
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(AuthE2ETest, FiveFailuresLockANameKnownOrNotAndOthersStillSignIn) {
  AddUser("alice");
  AddUser("bob");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(LoginReply("alice", "wrong-password").status, 401);
    EXPECT_EQ(LoginReply("ghost", "wrong-password").status, 401);  // no such user: the same answers
  }
  // Locked: even the right password is refused, with the limit named.
  Json alice = Refusal(LoginReply("alice", "password-alice"));
  EXPECT_EQ(alice["code"], "rate_limited");
  EXPECT_EQ(alice["limit"], "user_failures");
  EXPECT_EQ(alice["retry_after_seconds"], 60);
  EXPECT_NE(alice["message"].get<std::string>().find("5 failures within 15 minutes"), std::string::npos) << alice;
  Json ghost = Refusal(LoginReply("ghost", "whatever-pass"));
  EXPECT_EQ(ghost["limit"], alice["limit"]);
  EXPECT_EQ(ghost["retry_after_seconds"], alice["retry_after_seconds"]);
  // Other names are not locked (10 failures from this address are under its 20).
  EXPECT_FALSE(server_->Login("bob", "password-bob").empty());
}

TEST_F(AuthE2ETest, HealthzStaysFastWhileSixteenLoopsGuessPasswords) {
  AddUser("victim");
  std::atomic<bool> stop{false};
  std::atomic<int> unauthorized{0}, limited{0}, unavailable{0}, other{0};
  std::vector<std::thread> attackers;
  for (int i = 0; i < 16; ++i) {
    attackers.emplace_back([&, i] {
      Json body = {{"username", i % 2 ? "victim" : "nobody-" + std::to_string(i)}, {"password", "guess-guess"}};
      while (!stop) {
        int status = server_->Call("POST", "/api/v1/login", body.dump()).status;
        (status == 401 ? unauthorized : status == 429 ? limited : status == 503 ? unavailable : other)++;
      }
    });
  }
  std::vector<double> ms;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < end) {
    auto start = std::chrono::steady_clock::now();
    auto r = server_->Call("GET", "/healthz");
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    EXPECT_EQ(r.status, 200);
  }
  stop = true;
  for (auto& t : attackers) t.join();
  std::sort(ms.begin(), ms.end());
  ASSERT_FALSE(ms.empty());
  double p50 = ms[ms.size() / 2];
  EXPECT_LT(p50, 100.0) << "p50 of " << ms.size() << " /healthz calls; max " << ms.back();
  EXPECT_GT(limited.load(), 0);
  EXPECT_EQ(other.load(), 0);
  // 20 failures a minute from one address, at most 4 checked at once.
  EXPECT_LE(unauthorized.load(), 20 + 16);
  // The API still answers a signed-in caller.
  EXPECT_EQ(Me(admin_), 200);
  std::cout << "healthz p50 " << p50 << " ms over " << ms.size() << " calls; sign-ins: " << unauthorized << " x401, "
            << limited << " x429, " << unavailable << " x503\n";
}

TEST_F(AuthE2ETest, PasswordChangeAndDeactivationRevokeSessions) {
  AddUser("carol");
  std::string first = server_->Login("carol", "password-carol");
  std::string second = server_->Login("carol", "password-carol");
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  // Her own change keeps the session making it and ends the others.
  auto r = server_->Call("PUT", "/api/v1/users/carol", R"({"password": "carols-new-pass"})", first);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Me(first), 200);
  EXPECT_EQ(Me(second), 401);
  // An admin's change ends them all.
  r = server_->Call("PUT", "/api/v1/users/carol", R"({"password": "set-by-admin-1"})", admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Me(first), 401);
  EXPECT_EQ(Me(admin_), 200);  // the admin's own session is not touched
  // Deactivation ends every session, and reactivation brings none back.
  std::string third = server_->Login("carol", "set-by-admin-1");
  ASSERT_FALSE(third.empty());
  ASSERT_EQ(server_->Call("PUT", "/api/v1/users/carol", R"({"active": false})", admin_).status, 200);
  EXPECT_EQ(Me(third), 401);
  EXPECT_EQ(LoginReply("carol", "set-by-admin-1").status, 401);
  ASSERT_EQ(server_->Call("PUT", "/api/v1/users/carol", R"({"active": true})", admin_).status, 200);
  EXPECT_EQ(Me(third), 401);
  EXPECT_EQ(Me(first), 401);
  EXPECT_EQ(Me(second), 401);
  EXPECT_FALSE(server_->Login("carol", "set-by-admin-1").empty());
}

TEST_F(AuthE2ETest, MetricsNeedAnAdminOrTheScrapeToken) {
  AddUser("dave");
  std::string dave = server_->Login("dave", "password-dave");
  EXPECT_EQ(server_->Call("GET", "/metrics").status, 401);
  EXPECT_EQ(server_->Call("GET", "/metrics", "", "qdr_not-a-token").status, 401);
  EXPECT_EQ(server_->Call("GET", "/metrics", "", dave).status, 403);
  auto ok = server_->Call("GET", "/metrics", "", admin_);
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("quader_http_requests_total"), std::string::npos);

  // A second server with a scrape token (as Prometheus would send it).
  TempDir other;
  std::string token_file = other.File("metrics-token");
  std::ofstream(token_file) << "scrape-token-0123456789\n";
  ServerProcess scraped(other.path(), {"--metrics-token-file", token_file});
  ASSERT_TRUE(scraped.Start()) << scraped.error();
  EXPECT_EQ(scraped.Call("GET", "/metrics", "", "scrape-token-0123456789").status, 200);
  EXPECT_EQ(scraped.Call("GET", "/metrics", "", "scrape-token-0123456788").status, 401);
  EXPECT_EQ(scraped.Call("GET", "/metrics").status, 401);
  // The scrape token is no API token.
  EXPECT_EQ(scraped.Call("GET", "/api/v1/me", "", "scrape-token-0123456789").status, 401);
  scraped.Stop();

  // A token file too short to be a secret is refused at start.
  TempDir bad;
  std::ofstream(bad.File("t")) << "short\n";
  ServerProcess refused(bad.path(), {"--metrics-token-file", bad.File("t")});
  EXPECT_FALSE(refused.Start());
  EXPECT_NE(refused.Output().find("at least 16 characters"), std::string::npos) << refused.Output();
}

}  // namespace
}  // namespace quader::testing
