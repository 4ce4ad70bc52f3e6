// The gray upgrade by host (serving/takeover.h): which services the newest
// live one on a host takes offline, and never before it is live.
#include "serving/takeover.h"

#include <gtest/gtest.h>

namespace quader::serving {
namespace {

HostService Svc(int64_t id, std::string host, int64_t deployed_at, bool live, bool online = true,
                std::string project = "team") {
  HostService s;
  s.id = id;
  s.project = std::move(project);
  s.host = std::move(host);
  s.deployed_at = deployed_at;
  s.online = online;
  s.live = live && online;
  return s;
}

std::vector<std::pair<int64_t, int64_t>> Pairs(const std::vector<Takeover>& t) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& x : t) out.push_back({x.retired, x.by});
  return out;
}

using P = std::vector<std::pair<int64_t, int64_t>>;

TEST(TakeoverTest, TheNewServiceTakesTheOlderOnesOfflineOnceLive) {
  // Before the new one (3) has a ready replica, nothing changes.
  EXPECT_EQ(Pairs(Takeovers({Svc(1, "a.x", 10, true), Svc(2, "a.x", 20, true), Svc(3, "a.x", 30, false)})),
            (P{{1, 2}}));
  // Once it is live, both older ones go, whether live or not.
  auto t = Takeovers({Svc(1, "a.x", 10, true), Svc(2, "a.x", 20, false), Svc(3, "a.x", 30, true)});
  EXPECT_EQ(Pairs(t), (P{{1, 3}, {2, 3}}));
  EXPECT_EQ(t[0].host, "a.x");
}

TEST(TakeoverTest, OnlyTheSameProjectAndHostAndOnlyOnlineServices) {
  EXPECT_TRUE(Takeovers({Svc(1, "a.x", 10, true), Svc(2, "b.x", 20, true)}).empty());  // other host
  EXPECT_TRUE(Takeovers({Svc(1, "a.x", 10, true, true, "p1"), Svc(2, "a.x", 20, true, true, "p2")}).empty());
  // An offline (or debug/test) one is not online: it is neither taken nor taker.
  EXPECT_TRUE(Takeovers({Svc(1, "a.x", 10, false, false), Svc(2, "a.x", 20, true)}).empty());
  EXPECT_TRUE(Takeovers({Svc(1, "a.x", 10, true), Svc(2, "a.x", 20, true, false)}).empty());
  EXPECT_TRUE(Takeovers({Svc(1, "", 10, true), Svc(2, "", 20, true)}).empty());  // no host
  EXPECT_TRUE(Takeovers({}).empty());
}

TEST(TakeoverTest, DeployingAnOlderServiceAgainMakesItTheNewest) {
  // Service 1 was changed (deployed) after 2: once live it takes 2 offline.
  EXPECT_EQ(Pairs(Takeovers({Svc(1, "a.x", 50, true), Svc(2, "a.x", 20, true)})), (P{{2, 1}}));
  // Deployed in the same second: the higher id is the newer.
  EXPECT_EQ(Pairs(Takeovers({Svc(2, "a.x", 20, true), Svc(1, "a.x", 20, true)})), (P{{1, 2}}));
  EXPECT_TRUE(DeployedAfter(Svc(1, "a.x", 21, false), Svc(2, "a.x", 20, false)));
  EXPECT_FALSE(DeployedAfter(Svc(1, "a.x", 20, false), Svc(2, "a.x", 20, false)));
}

}  // namespace
}  // namespace quader::serving
