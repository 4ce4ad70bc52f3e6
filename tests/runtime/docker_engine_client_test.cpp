// The Docker Engine API client against a real engine (docker_test_env.h), and
// its error mapping when there is none.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "runtime/docker/engine_client.h"
#include "runtime/docker_test_env.h"

namespace quader::runtime::docker {
namespace {

using namespace std::chrono_literals;

TEST(EngineClientNoEngineTest, MissingSocketIsUnavailableNamingIt) {
  EngineClient client("/nonexistent/quader/engine.sock");
  Status ping = client.Ping(1000ms);
  EXPECT_EQ(ping.code(), Code::kUnavailable);
  EXPECT_NE(ping.message().find("unix:///nonexistent/quader/engine.sock"), std::string::npos)
      << ping.message();
  EXPECT_EQ(client.Call("GET", "/containers/json").status().code(), Code::kUnavailable);
  EXPECT_EQ(client.Stream("/events", [](std::string_view) { return true; }).code(),
            Code::kUnavailable);
}

class EngineClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = testing::OpenDockerTestEnv().release(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override {
    QUADER_REQUIRE_DOCKER_ENV(env_);
    client_ = std::make_unique<EngineClient>(env_->socket_path);
  }
  void TearDown() override {
    if (client_ && !created_.empty()) {
      (void)client_->Call("DELETE", "/containers/" + created_ + "?force=true");
    }
  }

  // Creates (not starts) a busybox container running `script`; returns its id.
  std::string Create(const std::string& script) {
    Json body = {{"Image", testing::kTestImage},
                 {"Cmd", {"sh", "-c", script}},
                 {"Labels", {{"quader.test", "engine-client"}}}};
    auto created = client_->Call("POST", "/containers/create", body);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    created_ = created.ok() ? (*created)["Id"].get<std::string>() : "";
    return created_;
  }

  static testing::DockerTestEnv* env_;
  std::unique_ptr<EngineClient> client_;
  std::string created_;
};

testing::DockerTestEnv* EngineClientTest::env_ = nullptr;

TEST_F(EngineClientTest, PingsAndReadsJson) {
  EXPECT_TRUE(client_->Ping(2000ms).ok());
  auto version = client_->Call("GET", "/version");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_TRUE(version->contains("ApiVersion")) << version->dump();
}

TEST_F(EngineClientTest, UnknownContainerIsNotFoundWithTheEngineMessage) {
  auto inspect = client_->Call("GET", "/containers/quader-no-such-container/json");
  EXPECT_EQ(inspect.status().code(), Code::kNotFound);
  EXPECT_NE(inspect.status().message().find("quader-no-such-container"), std::string::npos)
      << inspect.status().message();
  EXPECT_NE(inspect.status().message().find("HTTP 404"), std::string::npos);
}

TEST_F(EngineClientTest, WaitReturnsTheExitCodeAndLogsStream) {
  std::string id = Create("echo out; echo err >&2; exit 5");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(client_->Call("POST", "/containers/" + id + "/start").ok());
  auto code = client_->Wait(id, 30000ms);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 5);
  std::string raw;
  Status st = client_->Stream("/containers/" + id + "/logs?stdout=true&stderr=true",
                              [&](std::string_view data) {
                                raw.append(data);
                                return true;
                              });
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::string text;
  LogDemuxer demuxer;
  demuxer.Feed(raw, &text);
  EXPECT_EQ(text, "out\nerr\n");
  EXPECT_EQ(demuxer.pending(), 0u);
  ASSERT_GE(raw.size(), 8u);
  EXPECT_EQ(raw[0], 1);  // stdout frame first
}

TEST_F(EngineClientTest, DeadlineIsUnavailable) {
  std::string id = Create("sleep 30");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(client_->Call("POST", "/containers/" + id + "/start").ok());
  auto begin = std::chrono::steady_clock::now();
  auto code = client_->Wait(id, 300ms);
  EXPECT_EQ(code.status().code(), Code::kUnavailable);
  EXPECT_NE(code.status().message().find("timed out"), std::string::npos)
      << code.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);
}

TEST_F(EngineClientTest, SendPostsARawBodyToAnUnprefixedTarget) {
  std::string body = R"({"Image": ")" + std::string(testing::kTestImage) + R"(", "Cmd": ["true"]})";
  std::string reply;
  Status st = client_->Send("POST", "/v1.41/containers/create", body, "application/json",
                            [&](std::string_view data) {
                              reply.append(data);
                              return true;
                            });
  ASSERT_TRUE(st.ok()) << st.ToString();
  Json created = Json::parse(reply, nullptr, false);
  ASSERT_TRUE(created.contains("Id")) << reply;
  created_ = created["Id"].get<std::string>();
  Status missing = client_->Send("POST", "/v1.41/containers/quader-no-such-container/start", "", "",
                                 [](std::string_view) { return true; });
  EXPECT_EQ(missing.code(), Code::kNotFound) << missing.ToString();
}

TEST_F(EngineClientTest, StreamErrorIsMapped) {
  Status st = client_->Stream("/containers/quader-no-such-container/logs?stdout=true",
                              [](std::string_view) { return true; });
  EXPECT_EQ(st.code(), Code::kNotFound) << st.ToString();
}

}  // namespace
}  // namespace quader::runtime::docker
