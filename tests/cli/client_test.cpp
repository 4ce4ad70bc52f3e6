// Tests cli/client.h (error decoding, URLs, what goes on the wire) and the
// URL parsing of cli/http_client.h.

#include "cli/client.h"

#include <gtest/gtest.h>

#include "fake_server.h"

namespace quader::cli {
namespace {

using testing::FakeServer;

HttpReply Reply(int status, std::string body) { return HttpReply{status, std::move(body), {}}; }

struct DecodeCase {
  int status;
  const char* body;
  Code code;
  const char* message;  // expected message (for errors)
};

// Error replies: the code and message come from the body when it is the
// documented error object, else from the HTTP status.
const DecodeCase kErrorCases[] = {
    {404, R"({"error": {"code": "not_found", "message": "project \"x\" not found"}})",
     Code::kNotFound, "project \"x\" not found"},
    {400, R"({"error": {"code": "invalid_argument", "message": "spec.foo: unknown field"}})",
     Code::kInvalidArgument, "spec.foo: unknown field"},
    {409, R"({"error": {"code": "already_exists", "message": "user \"bob\" already exists"}})",
     Code::kAlreadyExists, "user \"bob\" already exists"},
    {401, R"({"error": {"code": "unauthenticated", "message": "wrong password"}})",
     Code::kUnauthenticated, "wrong password"},
    // A code the CLI does not know falls back to the HTTP status.
    {403, R"({"error": {"code": "quota_exceeded", "message": "too many"}})",
     Code::kPermissionDenied, "too many"},
    // No message: the code stands in for it.
    {405, R"({"error": {"code": "method_not_allowed"}})", Code::kMethodNotAllowed,
     "method_not_allowed"},
    // Not an error object (a proxy's page): the status and the body's start.
    {502, "<html>\nBad Gateway</html>", Code::kUnavailable, "HTTP 502: <html> Bad Gateway</html>"},
    {500, "", Code::kInternal, "HTTP 500"},
    {404, R"({"items": []})", Code::kNotFound, R"(HTTP 404: {"items": []})"},
};

TEST(DecodeReplyTest, ErrorsCarryTheServersCodeAndMessage) {
  for (const DecodeCase& c : kErrorCases) {
    auto decoded = DecodeReply(Reply(c.status, c.body));
    ASSERT_FALSE(decoded.ok()) << c.body;
    EXPECT_EQ(decoded.status().code(), c.code) << c.body;
    EXPECT_EQ(decoded.status().message(), c.message) << c.body;
  }
}

TEST(DecodeReplyTest, SuccessGivesTheJsonBody) {
  auto decoded = DecodeReply(Reply(200, R"({"items": [{"name": "a"}]})"));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)["items"][0]["name"], "a");

  auto empty = DecodeReply(Reply(204, ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty.value(), Json::object());

  auto html = DecodeReply(Reply(200, "<!doctype html>"));
  ASSERT_FALSE(html.ok());
  EXPECT_EQ(html.status().code(), Code::kInternal);
  EXPECT_NE(html.status().message().find("<!doctype html>"), std::string::npos);
}

TEST(ServerUrlTest, NormalizesAndRejectsWhatTheClientCannotUse) {
  EXPECT_EQ(NormalizeServerUrl("http://127.0.0.1:8080/").value(), "http://127.0.0.1:8080");
  EXPECT_EQ(NormalizeServerUrl("localhost:8080").value(), "http://localhost:8080");
  EXPECT_EQ(NormalizeServerUrl("http://h/quader//").value(), "http://h/quader");
  for (const char* bad : {"https://h:8443", "http://", "http://:80", "ftp://h", "http://h/?x=1"}) {
    auto url = NormalizeServerUrl(bad);
    ASSERT_FALSE(url.ok()) << bad;
    EXPECT_EQ(url.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(ServerUrlTest, ParseHttpUrlSplitsHostPortAndTarget) {
  auto plain = ParseHttpUrl("http://example.com");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->host, "example.com");
  EXPECT_EQ(plain->port, "80");
  EXPECT_EQ(plain->target, "/");

  auto full = ParseHttpUrl("http://127.0.0.1:8080/api/v1/projects?project=a");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->host, "127.0.0.1");
  EXPECT_EQ(full->port, "8080");
  EXPECT_EQ(full->target, "/api/v1/projects?project=a");

  auto v6 = ParseHttpUrl("http://[::1]:9000/x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "9000");

  auto v6_default = ParseHttpUrl("http://[::1]/");
  ASSERT_TRUE(v6_default.ok());
  EXPECT_EQ(v6_default->host, "::1");
  EXPECT_EQ(v6_default->port, "80");
}

TEST(EscapeTest, EncodesAllButUnreservedCharacters) {
  EXPECT_EQ(EscapeComponent("team-a_1.x~"), "team-a_1.x~");
  EXPECT_EQ(EscapeComponent("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
  EXPECT_EQ(EscapeComponent("é"), "%C3%A9");
}

TEST(ClientTest, FromConfigNeedsServerAndToken) {
  for (const Config& config : {Config{"", "t", "u"}, Config{"http://h:1", "", "u"}}) {
    auto client = Client::FromConfig(config);
    ASSERT_FALSE(client.ok());
    EXPECT_EQ(client.status().code(), Code::kUnauthenticated);
    EXPECT_EQ(client.status().message(), kNotLoggedIn);
  }
  EXPECT_TRUE(Client::FromConfig({"http://h:1", "t", "u"}).ok());
}

TEST(ClientTest, SendsBearerTokenAndContentTypeToTheApiBase) {
  FakeServer server;
  server.SetReply("POST", "/api/v1/apply", 200, R"({"results": []})");
  Client client(server.url(), "qdr_abc");
  auto reply = client.PostText("/apply", "kind: Project\nname: a\n", "application/yaml");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/api/v1/apply");
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer qdr_abc");
  EXPECT_EQ(requests[0].headers["content-type"], "application/yaml");
  EXPECT_EQ(requests[0].body, "kind: Project\nname: a\n");
}

TEST(ClientTest, WithoutTokenSendsNoAuthorization) {
  FakeServer server;
  server.SetReply("POST", "/api/v1/login", 200, R"({"token": "t"})");
  auto reply = Client(server.url(), "").Post("/login", {{"username", "a"}});
  ASSERT_TRUE(reply.ok());
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.count("authorization"), 0u);
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  EXPECT_EQ(Json::parse(requests[0].body), Json({{"username", "a"}}));
}

TEST(ClientTest, RefusedTokenSaysHowToLogInAgain) {
  FakeServer server;
  server.SetReply("GET", "/api/v1/projects", 401,
                  R"({"error": {"code": "unauthenticated", "message": "token expired"}})");
  auto reply = Client(server.url(), "old").Get("/projects");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(reply.status().message(),
            "token expired; log in again: quader login --server " + server.url() + " --user NAME");
}

TEST(ClientTest, UnreachableServerIsUnavailableNamingIt) {
  std::string url;
  {
    FakeServer closed;  // bind a free port, then release it
    url = closed.url();
  }
  auto reply = Client(url, "t").Get("/projects");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kUnavailable);
  EXPECT_NE(reply.status().message().find(url.substr(7)), std::string::npos)
      << reply.status().message();
}

TEST(ClientStreamTest, HandsEachChunkToTheSinkAsItArrives) {
  FakeServer server;
  server.SetStreamReply("GET", "/api/v1/runs/1/tasks/t/logs?follow=1",
                        {"first\n", "second\n", "third"}, /*gated=*/true);
  std::vector<std::string> pieces;
  std::vector<int> sent_when_received;
  Status status = Client(server.url(), "qdr_abc")
                      .GetStream("/runs/1/tasks/t/logs?follow=1", [&](std::string_view piece) {
                        pieces.emplace_back(piece);
                        sent_when_received.push_back(server.chunks_sent());
                        server.ReleaseChunk();  // only now may the next chunk go
                        return true;
                      });
  ASSERT_TRUE(status.ok()) << status.ToString();
  // Each chunk was seen while the server still held the next one back.
  EXPECT_EQ(pieces, (std::vector<std::string>{"first\n", "second\n", "third"}));
  EXPECT_EQ(sent_when_received, (std::vector<int>{1, 2, 3}));
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer qdr_abc");
}

TEST(ClientStreamTest, AnErrorReplyIsDecodedNotStreamed) {
  FakeServer server;
  server.SetReply("GET", "/api/v1/runs/9/tasks/t/logs", 404,
                  R"({"error": {"code": "not_found", "message": "run \"9\" not found"}})");
  bool called = false;
  Status status = Client(server.url(), "t").GetStream("/runs/9/tasks/t/logs",
                                                      [&](std::string_view) {
                                                        called = true;
                                                        return true;
                                                      });
  EXPECT_EQ(status.code(), Code::kNotFound);
  EXPECT_EQ(status.message(), "run \"9\" not found");
  EXPECT_FALSE(called);
}

TEST(ClientStreamTest, APlainBodyArrivesWholeAndTheSinkMayStopEarly) {
  FakeServer server;
  server.SetReply("GET", "/api/v1/x", 200, "0123456789");
  std::string body;
  ASSERT_TRUE(Client(server.url(), "t")
                  .GetStream("/x",
                             [&](std::string_view piece) {
                               body += piece;
                               return true;
                             })
                  .ok());
  EXPECT_EQ(body, "0123456789");

  server.SetStreamReply("GET", "/api/v1/y", {"a", "b", "c"});
  std::string first;
  ASSERT_TRUE(Client(server.url(), "t")
                  .GetStream("/y",
                             [&](std::string_view piece) {
                               first += piece;
                               return false;
                             })
                  .ok());
  EXPECT_EQ(first.substr(0, 1), "a");
}

TEST(ClientStreamTest, UnreachableServerIsUnavailable) {
  std::string url;
  {
    FakeServer closed;
    url = closed.url();
  }
  Status status = Client(url, "t").GetStream("/x", [](std::string_view) { return true; });
  EXPECT_EQ(status.code(), Code::kUnavailable);
}

}  // namespace
}  // namespace quader::cli
