#include "api/router.h"

#include <gtest/gtest.h>

namespace quader::api {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  RouterTest()
      : router_([](const Request& req) -> Result<auth::Principal> {
          bool from_cookie = false;
          if (TokenOf(req, &from_cookie) == "good") return auth::Principal{1, "alice", false, "h"};
          return errors::Unauthenticated("bad token");
        }) {
    router_.Add("GET", "/api/v1/things", Access::kSignedIn,
                [](Request& req) { return JsonReply({{"who", req.who().username}}); }, {});
    router_.Add("GET", "/api/v1/things/{name}", Access::kSignedIn,
                [](Request& req) { return JsonReply({{"name", req.Param("name")}}); }, {});
    router_.Add("GET", "/api/v1/things/special", Access::kPublic,
                [](Request&) { return JsonReply({{"special", true}}); }, {});
    router_.Add("POST", "/api/v1/things", Access::kSignedIn,
                [](Request&) { return JsonReply({{"created", true}}, 201); }, {});
    router_.Add("GET", "/api/v1/boom", Access::kPublic,
                [](Request&) -> Response { throw std::runtime_error("boom"); }, {});
  }

  Response Send(const std::string& method, const std::string& path,
                std::map<std::string, std::string> headers = {{"authorization", "Bearer good"}}) {
    Request req;
    req.method = method;
    req.path = path;
    req.headers = std::move(headers);
    return router_.Dispatch(req, &route_);
  }

  Router router_;
  std::string route_;
};

TEST_F(RouterTest, MatchesPathParamsAndPrefersLiterals) {
  Response r = Send("GET", "/api/v1/things/box");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json::parse(r.body)["name"], "box");
  EXPECT_EQ(route_, "/api/v1/things/{name}");
  r = Send("GET", "/api/v1/things/special", {});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(route_, "/api/v1/things/special");
}

TEST_F(RouterTest, UnknownRouteIs404AndWrongMethodIs405) {
  Response r = Send("GET", "/api/v1/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Json::parse(r.body)["error"]["code"], "not_found");
  EXPECT_EQ(route_, "unmatched");
  r = Send("DELETE", "/api/v1/things");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Json::parse(r.body)["error"]["code"], "method_not_allowed");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "GET, POST");
}

TEST_F(RouterTest, SignedInRoutesNeedAGoodToken) {
  EXPECT_EQ(Send("GET", "/api/v1/things", {}).status, 401);
  EXPECT_EQ(Send("GET", "/api/v1/things", {{"authorization", "Bearer bad"}}).status, 401);
  Response ok = Send("GET", "/api/v1/things");
  EXPECT_EQ(Json::parse(ok.body)["who"], "alice");
}

TEST_F(RouterTest, CookieSessionsNeedTheCsrfHeaderToWrite) {
  std::map<std::string, std::string> cookie = {{"cookie", "a=b; quader_session=good"}};
  EXPECT_EQ(Send("GET", "/api/v1/things", cookie).status, 200);
  Response denied = Send("POST", "/api/v1/things", cookie);
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("X-Requested-With"), std::string::npos);
  cookie["x-requested-with"] = "quader";
  EXPECT_EQ(Send("POST", "/api/v1/things", cookie).status, 201);
  // A bearer token needs no such header.
  EXPECT_EQ(Send("POST", "/api/v1/things").status, 201);
}

TEST_F(RouterTest, HandlerExceptionsBecome500) {
  Response r = Send("GET", "/api/v1/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Json::parse(r.body)["error"]["code"], "internal");
}

TEST(HttpTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%2Fb+c", false), "a/b+c");
  EXPECT_EQ(PercentDecode("a%2Fb+c", true), "a/b c");
  EXPECT_EQ(PercentDecode("bad%zz", false), "bad%zz");
}

}  // namespace
}  // namespace quader::api
