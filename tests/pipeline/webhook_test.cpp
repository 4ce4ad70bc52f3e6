// Where webhooks may go (pipeline/webhook.h): the address rules and the
// admin's allow list, as tables.
#include "pipeline/webhook.h"

#include <gtest/gtest.h>

namespace quader::pipeline {
namespace {

std::vector<Cidr> Allow(const std::string& text) {
  auto list = ParseCidrList("--webhook-allow", text);
  EXPECT_TRUE(list.ok()) << list.status().ToString();
  return list.ok() ? *list : std::vector<Cidr>{};
}

TEST(WebhookGuardTest, RefusesLoopbackLinkLocalAndUnspecifiedByDefault) {
  WebhookGuard guard;
  struct Row {
    const char* address;
    bool ok;
    const char* kind;  // in the message when refused
    const char* why;
  } rows[] = {
      {"127.0.0.1", false, "a loopback", "IPv4 loopback"},
      {"127.8.9.10", false, "a loopback", "all of 127/8"},
      {"::1", false, "a loopback", "IPv6 loopback"},
      {"::ffff:127.0.0.1", false, "a loopback", "IPv4-mapped loopback is loopback"},
      {"169.254.169.254", false, "a link-local", "the cloud metadata address"},
      {"fe80::1", false, "a link-local", "IPv6 link-local"},
      {"0.0.0.0", false, "an unspecified", "reaches this machine"},
      {"0.1.2.3", false, "an unspecified", "0/8 is 'this network'"},
      {"::", false, "an unspecified", "IPv6 unspecified"},
      {"10.1.2.3", true, "", "private ranges are allowed (corporate receivers)"},
      {"192.168.1.5", true, "", "private"},
      {"172.16.0.1", true, "", "private"},
      {"fd00::1", true, "", "IPv6 unique local"},
      {"93.184.216.34", true, "", "public"},
  };
  for (const auto& r : rows) {
    Status st = guard.CheckAddress("http://x/", r.address, 80, false);
    EXPECT_EQ(st.ok(), r.ok) << r.address << ": " << r.why;
    if (!r.ok) {
      EXPECT_EQ(st.code(), Code::kPermissionDenied) << r.address;
      EXPECT_NE(st.message().find(r.kind), std::string::npos) << st.message();
      EXPECT_NE(st.message().find("--webhook-allow"), std::string::npos) << st.message();
    }
  }
}

TEST(WebhookGuardTest, RefusesThisServersOwnPortsOnItsOwnAddresses) {
  WebhookGuard guard;
  guard.AddOwnPort(8080);
  EXPECT_EQ(guard.CheckAddress("http://x/", "10.0.0.5", 8080, /*own_address=*/true).code(), Code::kPermissionDenied);
  EXPECT_TRUE(guard.CheckAddress("http://x/", "10.0.0.5", 9000, true).ok()) << "another port of this machine";
  EXPECT_TRUE(guard.CheckAddress("http://x/", "10.0.0.6", 8080, false).ok()) << "the same port elsewhere";
}

TEST(WebhookGuardTest, TheAllowListOpensExactlyItsRanges) {
  WebhookGuard guard(Allow("127.0.0.1, 169.254.0.0/16,::1/128"));
  guard.AddOwnPort(8080);
  EXPECT_TRUE(guard.CheckAddress("u", "127.0.0.1", 8080, true).ok());
  EXPECT_FALSE(guard.CheckAddress("u", "127.0.0.2", 80, false).ok()) << "a /32 is one address";
  EXPECT_TRUE(guard.CheckAddress("u", "169.254.1.1", 80, false).ok());
  EXPECT_TRUE(guard.CheckAddress("u", "::1", 80, false).ok());
  EXPECT_TRUE(guard.CheckAddress("u", "::ffff:127.0.0.1", 80, false).ok()) << "mapped is the IPv4 address";
}

TEST(WebhookGuardTest, ParseCidrListRefusesMalformedEntries) {
  struct Row {
    const char* text;
    const char* fragment;
  } rows[] = {
      {"10.0.0.0/33", "prefix length must be 0-32"},
      {"::/129", "prefix length must be 0-128"},
      {"example.com", "is not an address or CIDR"},
      {"10.0.0.0/", "prefix length"},
  };
  for (const auto& r : rows) {
    auto list = ParseCidrList("--webhook-allow", r.text);
    ASSERT_FALSE(list.ok()) << r.text;
    EXPECT_EQ(list.status().code(), Code::kInvalidArgument);
    EXPECT_NE(list.status().message().find(r.fragment), std::string::npos) << list.status().message();
  }
  EXPECT_TRUE(ParseCidrList("f", "").ok());
}

TEST(WebhookGuardTest, CheckWebhookUrlChecksLiteralAddressesAndLocalhostWhenSaved) {
  struct Row {
    const char* url;
    bool ok;
    const char* why;
  } rows[] = {
      {"http://127.0.0.1:9/hook", false, "literal loopback"},
      {"http://[::1]:9/hook", false, "bracketed IPv6 loopback"},
      {"http://localhost/hook", false, "localhost is loopback"},
      {"http://api.LOCALHOST:80/", false, "*.localhost is loopback"},
      {"http://169.254.169.254/latest/meta-data", false, "metadata service"},
      {"https://hooks.example.com/x", true, "a name is checked when sent, after resolving"},
      {"http://10.0.0.8:8080/x", true, "private"},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(CheckWebhookUrl(r.url, nullptr).ok(), r.ok) << r.url << ": " << r.why;
  }
  WebhookGuard allowed(Allow("127.0.0.1"));
  EXPECT_TRUE(CheckWebhookUrl("http://localhost:9/hook", &allowed).ok());
  EXPECT_EQ(CheckWebhookUrl("ftp://x/", nullptr).code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckWebhookUrl("http://x:99999/", nullptr).code(), Code::kInvalidArgument);
}

TEST(WebhookGuardTest, PostWebhookRefusesARefusedAddressWithoutConnecting) {
  auto r = PostWebhook("http://127.0.0.1:9/hook", Json::object(), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied) << r.status().ToString();
}

}  // namespace
}  // namespace quader::pipeline
