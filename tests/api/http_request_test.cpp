// ParseRequest (api/http_server.h): the server's parser and limits without a
// socket, as fuzz/http_fuzz.cpp drives it.
#include <gtest/gtest.h>

#include "api/handlers/common.h"
#include "api/http_server.h"

namespace quader::api {
namespace {

TEST(ParseRequestTest, ReadsWhatAConnectionReads) {
  auto req = ParseRequest(
      "POST /api/v1/a%2Fb/x?limit=10&q=a+b&flag&k=%3D HTTP/1.1\r\nHost: h\r\nX-Thing: One\r\n"
      "Content-Length: 4\r\n\r\nbodyEXTRA");
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  EXPECT_EQ(req->method, "POST");
  EXPECT_EQ(req->target, "/api/v1/a%2Fb/x?limit=10&q=a+b&flag&k=%3D");
  EXPECT_EQ(req->path, "/api/v1/a/b/x");
  EXPECT_EQ(req->query, (std::map<std::string, std::string>{{"limit", "10"}, {"q", "a b"}, {"flag", ""}, {"k", "="}}));
  EXPECT_EQ(req->Header("x-thing"), "One");
  EXPECT_EQ(req->body, "body");

  auto chunked = ParseRequest("PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_TRUE(chunked.ok()) << chunked.status().ToString();
  EXPECT_EQ(chunked->body, "abcde");
}

TEST(ParseRequestTest, RefusesWhatTheServerRefuses) {
  HttpServerOptions small;
  small.max_body_bytes = 8;
  small.max_header_bytes = 64;
  struct Case {
    std::string wire;
    Code code;
    const char* contains;
  } cases[] = {
      {"", Code::kInvalidArgument, "incomplete"},
      {"GET /x HTTP/1.1\r\nHost: h\r\n", Code::kInvalidArgument, "incomplete"},
      {"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", Code::kInvalidArgument, "incomplete"},
      {"GET /x HTTP/9.9\r\n\r\n", Code::kInvalidArgument, "malformed"},
      {"G\x01T /x HTTP/1.1\r\n\r\n", Code::kInvalidArgument, "malformed"},
      {"POST /x HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789", Code::kPayloadTooLarge, "limit of 8 bytes"},
      {"GET /x HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n", Code::kPayloadTooLarge, "headers"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.wire);
    auto req = ParseRequest(c.wire, small);
    ASSERT_FALSE(req.ok());
    EXPECT_EQ(req.status().code(), c.code) << req.status().ToString();
    EXPECT_NE(req.status().message().find(c.contains), std::string::npos) << req.status().message();
  }
}

// {id} path segments: numbers that std::stoll can hold, else names (a
// 20-digit id used to throw out_of_range, a 500).
TEST(IsNumericIdTest, DigitsThatFitAnInt64) {
  EXPECT_TRUE(IsNumericId("42"));
  EXPECT_TRUE(IsNumericId(std::string(18, '9')));
  EXPECT_FALSE(IsNumericId(std::string(19, '9')));
  EXPECT_FALSE(IsNumericId("99999999999999999999999"));
  EXPECT_FALSE(IsNumericId(""));
  EXPECT_FALSE(IsNumericId("4a"));
}

}  // namespace
}  // namespace quader::api
