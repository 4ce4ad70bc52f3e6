#include "gateway/routes.h"

#include <gtest/gtest.h>

namespace quader::gateway {
namespace {

Upstream Up(const std::string& name, uint16_t port) { return Upstream{name, {Backend{"127.0.0.1", port}}, {}}; }
Route R(const std::string& host, const std::string& prefix, const std::string& up) {
  Route r;
  r.host = host;
  r.path_prefix = prefix;
  r.targets = {{up, 1}};
  return r;
}

TEST(RouteTableTest, MatchesHostThenLongestPrefix) {
  auto t = RouteTable::Build({Up("a", 1), Up("b", 2), Up("c", 3)},
                             {R("B.svc.local", "", "c"), R("b.svc.local", "/nb/alice", "b"),
                              R("b.svc.local", "/nb", "a"), R("a.svc.local", "/", "a")});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto name = [&](std::string_view host, std::string_view path) -> std::string {
    auto* r = (*t)->Match(host, path);
    return r ? (*t)->upstreams()[r->target_upstreams[0]].name : "-";
  };
  EXPECT_EQ("a", name("a.svc.local", "/anything"));
  EXPECT_EQ("b", name("b.svc.local", "/nb/alice"));
  EXPECT_EQ("b", name("b.svc.local", "/nb/alice/lab"));
  EXPECT_EQ("a", name("b.svc.local", "/nb/alicex"));
  EXPECT_EQ("a", name("b.svc.local", "/nb/bob"));
  EXPECT_EQ("c", name("b.svc.local", "/"));
  EXPECT_EQ("-", name("c.svc.local", "/"));
}

TEST(RouteTableTest, RefusesBadTables) {
  EXPECT_FALSE(RouteTable::Build({Up("a", 1), Up("a", 2)}, {}).ok());
  EXPECT_FALSE(RouteTable::Build({Up("a", 0)}, {}).ok());
  EXPECT_FALSE(RouteTable::Build({Up("a", 1)}, {R("x.local", "", "nope")}).ok());
  EXPECT_FALSE(RouteTable::Build({Up("a", 1)}, {R("bad host", "", "a")}).ok());
  EXPECT_FALSE(RouteTable::Build({Up("a", 1)}, {R("x.local", "nb", "a")}).ok());
  EXPECT_FALSE(RouteTable::Build({Up("a", 1)}, {R("x.local", "", "a"), R("X.local", "/", "a")}).ok());
  Route zero = R("x.local", "", "a");
  zero.targets[0].weight = 0;
  EXPECT_FALSE(RouteTable::Build({Up("a", 1)}, {zero}).ok());
  Route mirror = R("x.local", "", "a");
  mirror.mirrors = {{"a", 101}};
  auto bad = RouteTable::Build({Up("a", 1)}, {mirror});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(Code::kInvalidArgument, bad.status().code());
}

TEST(WeightedPickerTest, SmoothAndExact) {
  WeightedPicker p({5, 1, 1});
  std::vector<int> seq;
  for (int i = 0; i < 7; ++i) seq.push_back(p.Pick());
  EXPECT_EQ((std::vector<int>{0, 0, 1, 0, 2, 0, 0}), seq);  // nginx's example order
  WeightedPicker q({80, 20});
  int counts[2] = {0, 0};
  for (int i = 0; i < 10000; ++i) ++counts[q.Pick()];
  EXPECT_EQ(8000, counts[0]);
  EXPECT_EQ(2000, counts[1]);
  EXPECT_EQ(1, q.Pick([](int i) { return i == 1; }));
  EXPECT_EQ(-1, q.Pick([](int) { return false; }));
}

TEST(TrafficToRoutesTest, CanaryAndShadow) {
  auto t = TargetsFromCanary("v1", {{"v2", 20}, {"v3", 30}});
  ASSERT_EQ(3u, t.size());
  EXPECT_EQ("v1", t[0].upstream);
  EXPECT_EQ(50, t[0].weight);
  EXPECT_EQ("v2", t[1].upstream);
  EXPECT_EQ(20, t[1].weight);
  auto all = TargetsFromCanary("v1", {{"v2", 100}});
  ASSERT_EQ(1u, all.size());
  EXPECT_EQ("v2", all[0].upstream);
  EXPECT_EQ(1u, TargetsFromCanary("v1", {}).size());
  auto m = MirrorsFromShadow({{"shadow", 10}, {"off", 0}});
  ASSERT_EQ(1u, m.size());
  EXPECT_EQ(10, m[0].percent);
}

TEST(NormalizeHostHeaderTest, GoodAndBad) {
  EXPECT_EQ("x.service.local", NormalizeHostHeader("X.Service.Local:8081").value());
  EXPECT_EQ("x.service.local", NormalizeHostHeader("x.service.local.").value());
  EXPECT_EQ("127.0.0.1", NormalizeHostHeader("127.0.0.1:80").value());
  EXPECT_EQ("[::1]", NormalizeHostHeader("[::1]:80").value());
  for (const char* bad : {"", "bad host", "x:abc", "x:", "x..y", "-x.local", "[::1", "a/b", "x:123456"}) {
    EXPECT_FALSE(NormalizeHostHeader(bad).has_value()) << bad;
  }
}

TEST(PathHasPrefixTest, SegmentBoundaries) {
  EXPECT_TRUE(PathHasPrefix("/a/b", ""));
  EXPECT_TRUE(PathHasPrefix("/a/b", "/a"));
  EXPECT_TRUE(PathHasPrefix("/a", "/a"));
  EXPECT_FALSE(PathHasPrefix("/ab", "/a"));
  EXPECT_TRUE(PathHasPrefix("/a/b", "/a/"));
  EXPECT_FALSE(PathHasPrefix("/", "/a"));
}

}  // namespace

TEST(RouteTableTest, AnyHostIsTheFallbackAndHeadersAreChecked) {
  auto t = RouteTable::Build({Up("a", 1), Up("b", 2)}, {R("*", "/nb/x", "a"), R("x.local", "", "b")});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ("b", (*t)->Match("x.local", "/nb/x/tree")->route.targets[0].upstream);
  EXPECT_EQ("a", (*t)->Match("y.local", "/nb/x/tree")->route.targets[0].upstream);
  EXPECT_EQ("a", (*t)->Match("127.0.0.1", "/nb/x")->route.targets[0].upstream);
  EXPECT_EQ(nullptr, (*t)->Match("y.local", "/nb/xy"));
  Route bad = R("*", "/nb/x", "a");
  bad.set_headers = {{"X-Bad\r\nInjected", "1"}};
  EXPECT_FALSE(RouteTable::Build({Up("a", 1)}, {bad}).ok());
  bad.set_headers = {{"Authorization", "token a\r\nX-Injected: 1"}};
  EXPECT_FALSE(RouteTable::Build({Up("a", 1)}, {bad}).ok());
  EXPECT_FALSE(RouteTable::Build({Up("a", 1)}, {R("*.local", "", "a")}).ok());
}

TEST(DropCookiesTest, RemovesOnlyTheNamedOnes) {
  EXPECT_EQ("a=1; c=3", DropCookies("a=1; quader_session=x; c=3", {"quader_session"}));
  EXPECT_EQ("", DropCookies("quader_session=x", {"quader_session"}));
  EXPECT_EQ("quader_session_2=y", DropCookies("quader_session=x;quader_session_2=y", {"quader_session"}));
  EXPECT_EQ("a=1", DropCookies(" a=1 ;  ", {"quader_session"}));
  EXPECT_EQ("", DropCookies("", {"quader_session"}));
}

}  // namespace quader::gateway
