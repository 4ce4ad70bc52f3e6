#include "gateway/traffic.h"

#include <gtest/gtest.h>

#include <tuple>

namespace quader::gateway {
namespace {

TEST(ParseCanaryTest, AcceptsCommaAndSemicolonLists) {
  auto r = ParseCanary("svc1:20%,svc2:30%");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((std::map<std::string, int>{{"svc1", 20}, {"svc2", 30}}), *r);
  r = ParseCanary(" svc1:20 ; svc2:80%; ");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((std::map<std::string, int>{{"svc1", 20}, {"svc2", 80}}), *r);
  r = ParseCanary("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(ParseCanaryTest, RefusesSumOver100AndBadItems) {
  auto r = ParseCanary("a:60%,b:50%");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Code::kInvalidArgument, r.status().code());
  EXPECT_NE(std::string::npos, r.status().message().find("canary"));
  EXPECT_NE(std::string::npos, r.status().message().find("110"));
  for (const char* bad : {"a:101%", "a:-1%", "a", "a:x%", "A_B:10%", ":10%", "a:10%,a:20%", "a:1.5%"}) {
    auto b = ParseCanary(bad);
    EXPECT_FALSE(b.ok()) << bad;
    EXPECT_EQ(Code::kInvalidArgument, b.status().code()) << bad;
    EXPECT_EQ(0u, b.status().message().find("canary: ")) << b.status().message();
  }
  EXPECT_TRUE(ParseCanary("a:100%").ok());
  EXPECT_TRUE(ParseCanary("a:0%").ok());
}

TEST(ParseShadowTest, AllowsSumOver100ButNotItemsOver100) {
  auto r = ParseShadow("a:100%;b:50%");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(2u, r->size());
  auto bad = ParseShadow("a:150%");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(0u, bad.status().message().find("shadow: "));
}

TEST(ParseHealthTest, PortPathAndShell) {
  auto h = ParseHealth("8080:/v1/models/resnet/metadata");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(HealthSpec::Kind::kHttp, h->kind);
  EXPECT_EQ(8080, h->port);
  EXPECT_EQ("/v1/models/resnet/metadata", h->path);
  h = ParseHealth("shell:curl -f localhost:8080/ping");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(HealthSpec::Kind::kShell, h->kind);
  EXPECT_EQ("curl -f localhost:8080/ping", h->command);
  for (const char* bad : {"", "8080", "8080:ping", "0:/x", "70000:/x", "http:/x", "shell:", "8080:/a b"}) {
    auto b = ParseHealth(bad);
    EXPECT_FALSE(b.ok()) << bad;
    EXPECT_EQ(0u, b.status().message().find("health")) << b.status().message();
  }
}

TEST(ParseHpaTest, Metrics) {
  auto h = ParseHpa("cpu:50%,mem:60%;gpu=70");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(50, h->cpu.value());
  EXPECT_EQ(60, h->mem.value());
  EXPECT_EQ(70, h->gpu.value());
  EXPECT_TRUE(ParseHpa("").value().empty());
  for (const char* bad : {"cpu", "disk:50%", "cpu:0%", "cpu:101%", "cpu:50%,cpu:60%", "cpu:fast"}) {
    auto b = ParseHpa(bad);
    EXPECT_FALSE(b.ok()) << bad;
    EXPECT_EQ(0u, b.status().message().find("hpa: ")) << b.status().message();
  }
}

// cube-studio's guide writes its example as `cpu:50%,mem:%50,gpu:50%`.
TEST(ParseHpaTest, TheGuidesExampleAsWritten) {
  for (const char* text : {"cpu:50%,mem:%50,gpu:50%", "gpu=%50; mem = % 50 ;cpu:50"}) {
    auto h = ParseHpa(text);
    ASSERT_TRUE(h.ok()) << text << ": " << h.status().ToString();
    EXPECT_EQ(std::make_tuple(50, 50, 50), std::make_tuple(h->cpu.value(), h->mem.value(), h->gpu.value())) << text;
  }
}

TEST(ParseHpaTest, MalformedStringsAreRefusedNamingTheItem) {
  struct Row {
    const char* input;
    const char* fragment;  // in the message, after "hpa: "; empty: accepted
  };
  const Row rows[] = {
      {"mem:%50%", "two percent signs"},          // the sign on both sides
      {"mem:%", "is not a percentage"},           // a sign and no number
      {"mem:%%50", "is not a percentage"},        // two signs in front
      {"cpu:5%0", "is not a percentage"},         // a sign inside the number
      {"cpu:-50%", "is not a percentage"},        // negative
      {"cpu:50%,", ""},                           // a trailing separator is ignored (ok)
      {"gpu:%0", "outside 1-100"},                // zero with the sign first
      {"gpu:%101", "outside 1-100"},              // too much with the sign first
      {"cpu50%", "is not metric:percent"},        // no separator
      {"disk:%50", "unknown metric \"disk\""},  // unknown metric
      {"mem:%50,mem:50%", "named twice"},         // the same metric twice, either form
  };
  for (const Row& row : rows) {
    auto b = ParseHpa(row.input);
    if (std::string(row.fragment).empty()) {
      EXPECT_TRUE(b.ok()) << row.input << ": " << b.status().ToString();
      continue;
    }
    ASSERT_FALSE(b.ok()) << row.input;
    EXPECT_EQ(0u, b.status().message().find("hpa: ")) << b.status().message();
    EXPECT_NE(std::string::npos, b.status().message().find(row.fragment))
        << row.input << ": " << b.status().message();
  }
}

TEST(ParseMetricsTest, PortPath) {
  auto m = ParseMetrics("8501:/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(8501, m->port);
  EXPECT_EQ("/metrics", m->path);
  EXPECT_FALSE(ParseMetrics("metrics").ok());
  EXPECT_FALSE(ParseMetrics("99999:/metrics").ok());
  EXPECT_EQ(0u, ParseMetrics("x:/m").status().message().find("metrics: "));
}

TEST(ValidateCustomHostTest, MustEndWithWildcardDomain) {
  EXPECT_EQ("x.service.local", ValidateCustomHost("X.Service.Local", "*.service.local").value());
  EXPECT_EQ("a.b.service.local", ValidateCustomHost("http://a.b.service.local:8080/path", "service.local").value());
  for (const char* bad : {"service.local", "x.other.local", "xservice.local", "bad_host!.service.local",
                          "ftp://x.service.local", ""}) {
    auto r = ValidateCustomHost(bad, "*.service.local");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(0u, r.status().message().find("host: ")) << r.status().message();
  }
  EXPECT_FALSE(ValidateCustomHost("x.service.local", "").ok());
}

TEST(InferenceServiceNameTest, DigitsOfTheVersion) {
  EXPECT_EQ("serving-resnet-2024011", InferenceServiceName("serving", "resnet", "v2024.01.1").value());
  EXPECT_EQ("tfserving-mnist-1", InferenceServiceName("tfserving", "MNIST", "v1").value());
  auto r = InferenceServiceName("serving", "resnet", "latest");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(0u, r.status().message().find("model_version: "));
  EXPECT_FALSE(InferenceServiceName("serving", "res_net", "v1").ok());
  EXPECT_FALSE(InferenceServiceName("", "resnet", "v1").ok());
  EXPECT_FALSE(InferenceServiceName("serving", std::string(60, 'a'), "v1").ok());
}

}  // namespace
}  // namespace quader::gateway
