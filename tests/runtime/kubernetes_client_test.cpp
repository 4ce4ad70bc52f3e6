// ApiClient and kubeconfig tests against FakeKubeApi (fake_kube_api.h): a
// real HTTPS server on loopback, so TLS, client certificates and tokens are
// exercised for real.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "fakes/log_lines.h"
#include "fakes/temp_dir.h"
#include "runtime/fake_kube_api.h"
#include "runtime/kubernetes/api_client.h"
#include "runtime/kubernetes/kubeconfig.h"

namespace quader::runtime::kubernetes {
namespace {

using namespace std::chrono_literals;
using quader::testing::TempDir;
using testing::FakeKubeApi;
using testing::GenerateTestPki;

constexpr const char* kPods = "/api/v1/namespaces/default/pods";

// Polls `done` until it holds or 5 s pass.
bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

Json Pod(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
  Json l = Json::object();
  for (const auto& [k, v] : labels) l[k] = v;
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"labels", l}}},
          {"spec", {{"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}};
}

Json Service(const std::string& name, int port) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}}},
          {"spec", {{"selector", {{"app", name}}}, {"ports", {{{"port", port}}}}}}};
}

std::string WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string Base64(const std::string& in) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += table[(n >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// A loopback port nothing listens on.
int ClosedPort() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

class KubernetesClientTest : public ::testing::Test {
 protected:
  FakeKubeApi fake_;
  ApiClient client_{fake_.Access()};
};

// --- paths -------------------------------------------------------------------------

TEST(KubernetesPathsTest, CollectionPathsOfCoreAndGroupKinds) {
  EXPECT_EQ(*CollectionPath("v1", "Pod", "ns1"), "/api/v1/namespaces/ns1/pods");
  EXPECT_EQ(*CollectionPath("v1", "Service", "ns1"), "/api/v1/namespaces/ns1/services");
  EXPECT_EQ(*CollectionPath("apps/v1", "Deployment", "x"), "/apis/apps/v1/namespaces/x/deployments");
  EXPECT_EQ(*CollectionPath("autoscaling/v2", "HorizontalPodAutoscaler", "x"),
            "/apis/autoscaling/v2/namespaces/x/horizontalpodautoscalers");
  EXPECT_EQ(*CollectionPath("v1", "Namespace", "ignored"), "/api/v1/namespaces");
  auto bad = CollectionPath("v1", "Frobnicator", "x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("Frobnicator"), std::string::npos);
}

// A watch stream's lines, as the API sends them or as a broken server might
// (fuzz/kubernetes_fuzz.cpp): never an exception, never a non-object object.
TEST(KubernetesWatchEventTest, LinesBecomeEventsOrErrors) {
  struct Case {
    const char* line;
    Code code;             // kOk: an event
    const char* type;      // its type
    const char* contains;  // in its object's dump, or in the error
  } cases[] = {
      {R"({"type": "ADDED", "object": {"metadata": {"name": "a"}}})", Code::kOk, "ADDED", "\"a\""},
      {R"({"type": "BOOKMARK"})", Code::kOk, "BOOKMARK", "{}"},
      {R"({"type": 7, "object": {}})", Code::kOk, "", "{}"},
      {R"({"object": {"metadata": 1}})", Code::kOk, "", "\"metadata\":1"},
      {R"({"type": "ADDED", "object": 5})", Code::kInternal, "", "not an object"},
      {R"({"type": "ADDED", "object": null})", Code::kInternal, "", "not an object"},
      {R"([1, 2])", Code::kInternal, "", "not JSON"},
      {R"({"type": "ADDED", )", Code::kInternal, "", "not JSON"},
      {R"({"type": "ERROR", "object": {"code": 410, "message": "too old"}})", Code::kConflict, "", "too old"},
      {R"({"type": "ERROR", "object": {"code": "410", "message": 3}})", Code::kInternal, "", "WATCH"},
      {R"({"type": "ERROR", "object": {"code": 1e300}})", Code::kInternal, "", "WATCH"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    auto ev = ParseWatchEvent(c.line, kPods);
    if (c.code == Code::kOk) {
      ASSERT_TRUE(ev.ok()) << ev.status().ToString();
      EXPECT_EQ(ev->type, c.type);
      EXPECT_TRUE(ev->object.is_object());
      EXPECT_NE(ev->object.dump().find(c.contains), std::string::npos) << ev->object.dump();
    } else {
      ASSERT_FALSE(ev.ok());
      EXPECT_EQ(ev.status().code(), c.code) << ev.status().ToString();
      EXPECT_NE(ev.status().message().find(c.contains), std::string::npos) << ev.status().message();
    }
  }
  EXPECT_TRUE(IsGone(ParseWatchEvent(R"({"type": "ERROR", "object": {"code": 410}})", kPods).status()));
}


// --- objects -------------------------------------------------------------------------

TEST_F(KubernetesClientTest, CreateThenGet) {
  auto created = client_.Create(Pod("p1", {{"app", "a"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE((*created)["metadata"].value("resourceVersion", "").empty());
  EXPECT_FALSE((*created)["metadata"].value("uid", "").empty());
  EXPECT_EQ((*created)["metadata"]["namespace"], "default");  // from the access

  auto got = client_.Get("v1", "Pod", "p1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["metadata"]["name"], "p1");
  EXPECT_EQ((*got)["metadata"]["labels"]["app"], "a");
  EXPECT_EQ((*got)["metadata"]["uid"], (*created)["metadata"]["uid"]);
  EXPECT_EQ(fake_.requests("POST"), 1);
  EXPECT_EQ(fake_.last_headers()["accept"], "application/json");

  auto missing = client_.Get("v1", "Pod", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos) << missing.status().message();
}

TEST_F(KubernetesClientTest, CreateUsesTheObjectsNamespace) {
  Json pod = Pod("p1");
  pod["metadata"]["namespace"] = "other";
  ASSERT_TRUE(client_.Create(pod).ok());
  EXPECT_TRUE(fake_.Get("/api/v1/namespaces/other/pods/p1"));
  EXPECT_FALSE(fake_.Get("/api/v1/namespaces/default/pods/p1"));
}

TEST_F(KubernetesClientTest, CreateTwiceIsAlreadyExists) {
  ASSERT_TRUE(client_.Create(Pod("p1")).ok());
  auto again = client_.Create(Pod("p1"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists) << again.status().ToString();
  EXPECT_NE(again.status().message().find("p1"), std::string::npos) << again.status().message();
}

TEST_F(KubernetesClientTest, ApplyCreatesThenReplacesWithTheCurrentVersion) {
  auto first = client_.Apply(Service("web", 80));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(fake_.requests("PUT"), 0);
  // A cluster IP the API server assigned is kept by the replacement.
  ASSERT_TRUE(fake_.Mutate("/api/v1/namespaces/default/services/web",
                           [](Json& s) { s["spec"]["clusterIP"] = "10.96.0.7"; }));
  std::string before = fake_.Get("/api/v1/namespaces/default/services/web")->at("metadata").value("resourceVersion", "");

  auto second = client_.Apply(Service("web", 8080));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(fake_.requests("PUT"), 1);
  auto log = fake_.request_log();
  EXPECT_EQ(log.back(), "PUT /api/v1/namespaces/default/services/web");
  auto stored = fake_.Get("/api/v1/namespaces/default/services/web");
  ASSERT_TRUE(stored);
  EXPECT_EQ((*stored)["spec"]["ports"][0]["port"], 8080);
  EXPECT_EQ((*stored)["spec"]["clusterIP"], "10.96.0.7");
  EXPECT_EQ((*stored)["metadata"]["uid"], (*first)["metadata"]["uid"]);
  EXPECT_GT(std::stol((*stored)["metadata"].value("resourceVersion", "0")), std::stol(before));
}

TEST_F(KubernetesClientTest, StalePutIsConflict) {
  auto created = client_.Create(Pod("p1"));
  ASSERT_TRUE(created.ok());
  // Someone else changes it: our copy's resourceVersion is stale now.
  ASSERT_TRUE(fake_.Mutate(std::string(kPods) + "/p1", [](Json& p) { p["metadata"]["labels"]["x"] = "y"; }));
  Json stale = *created;
  stale["metadata"]["labels"]["mine"] = "1";
  auto put = client_.Call("PUT", std::string(kPods) + "/p1", stale);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), Code::kConflict) << put.status().ToString();
  EXPECT_FALSE(IsGone(put.status()));
  EXPECT_NE(put.status().message().find("modified"), std::string::npos) << put.status().message();
}

TEST_F(KubernetesClientTest, DeleteThenDeleteAgainIsOk) {
  ASSERT_TRUE(client_.Create(Pod("p1")).ok());
  Status gone = client_.Delete("v1", "Pod", "p1", 5);
  ASSERT_TRUE(gone.ok()) << gone.ToString();
  EXPECT_FALSE(fake_.Get(std::string(kPods) + "/p1"));
  auto log = fake_.request_log();
  EXPECT_NE(log.back().find("DELETE /api/v1/namespaces/default/pods/p1?"), std::string::npos) << log.back();
  EXPECT_NE(log.back().find("gracePeriodSeconds=5"), std::string::npos) << log.back();
  EXPECT_NE(log.back().find("propagationPolicy=Background"), std::string::npos) << log.back();

  Status again = client_.Delete("v1", "Pod", "p1");
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(fake_.requests("DELETE"), 2);
}

TEST_F(KubernetesClientTest, ListFiltersByLabelSelector) {
  ASSERT_TRUE(client_.Create(Pod("a-web", {{"app", "a"}, {"tier", "web"}})).ok());
  ASSERT_TRUE(client_.Create(Pod("a-db", {{"app", "a"}, {"tier", "db"}})).ok());
  ASSERT_TRUE(client_.Create(Pod("b-web", {{"app", "b"}, {"tier", "web"}})).ok());

  auto some = client_.List("v1", "Pod", "app=a,tier=web");
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  ASSERT_EQ((*some)["items"].size(), 1u) << some->dump();
  EXPECT_EQ((*some)["items"][0]["metadata"]["name"], "a-web");
  EXPECT_EQ((*some)["kind"], "PodList");
  EXPECT_EQ((*some)["metadata"]["resourceVersion"], std::to_string(fake_.resource_version()));

  auto app_a = client_.List("v1", "Pod", "app=a");
  ASSERT_TRUE(app_a.ok());
  EXPECT_EQ((*app_a)["items"].size(), 2u);
  auto all = client_.List("v1", "Pod", "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)["items"].size(), 3u);
  auto none = client_.List("apps/v1", "Deployment", "");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)["items"].empty());
}

// --- watches -----------------------------------------------------------------------------

TEST_F(KubernetesClientTest, WatchDeliversChangesAfterTheVersion) {
  ASSERT_TRUE(client_.Create(Pod("before", {{"app", "a"}})).ok());
  auto list = client_.List("v1", "Pod", "app=a");
  ASSERT_TRUE(list.ok());
  std::string from = (*list)["metadata"]["resourceVersion"];

  // Changes after the list: one matching pod's life, and a pod the selector skips.
  ASSERT_TRUE(client_.Create(Pod("p1", {{"app", "a"}})).ok());
  ASSERT_TRUE(client_.Create(Pod("other", {{"app", "b"}})).ok());
  ASSERT_TRUE(fake_.Mutate(std::string(kPods) + "/p1", [](Json& p) { p["status"]["phase"] = "Running"; }));

  std::mutex mu;
  std::vector<WatchEvent> events;
  Status watched;
  std::thread watcher([&] {
    watched = client_.Watch("v1", "Pod", "app=a", from, [&](const WatchEvent& ev) {
      std::lock_guard lock(mu);
      events.push_back(ev);
      return ev.type != "DELETED";
    }, 5);
  });
  // The replayed ones arrive, then a live one.
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu);
    return events.size() >= 2;
  }));
  ASSERT_TRUE(client_.Delete("v1", "Pod", "p1").ok());
  watcher.join();
  ASSERT_TRUE(watched.ok()) << watched.ToString();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, "ADDED");
  EXPECT_EQ(events[1].type, "MODIFIED");
  EXPECT_EQ(events[1].object["status"]["phase"], "Running");
  EXPECT_EQ(events[2].type, "DELETED");
  for (const auto& ev : events) EXPECT_EQ(ev.object["metadata"]["name"], "p1");
  auto log = fake_.request_log();
  bool sent_selector = false;
  for (const auto& r : log) {
    if (r.find("watch=") != std::string::npos && r.find("labelSelector=app%3Da") != std::string::npos &&
        r.find("resourceVersion=" + from) != std::string::npos) {
      sent_selector = true;
    }
  }
  EXPECT_TRUE(sent_selector);
}

TEST_F(KubernetesClientTest, WatchReassemblesEventsLargerThanAReadBuffer) {
  std::string from = std::to_string(fake_.resource_version());
  Json big = Pod("big");
  big["metadata"]["annotations"]["blob"] = std::string(200000, 'x');
  ASSERT_TRUE(client_.Create(big).ok());
  ASSERT_TRUE(client_.Create(Pod("small")).ok());
  std::vector<WatchEvent> events;
  Status watched = client_.Watch("v1", "Pod", "", from, [&](const WatchEvent& ev) {
    events.push_back(ev);
    return events.size() < 2;
  }, 5);
  ASSERT_TRUE(watched.ok()) << watched.ToString();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].object["metadata"]["annotations"]["blob"].get<std::string>().size(), 200000u);
  EXPECT_EQ(events[1].object["metadata"]["name"], "small");
}

TEST_F(KubernetesClientTest, WatchEndedByTheServerIsOk) {
  std::atomic<bool> done{false};
  Status watched = errors::Internal("not yet");
  std::thread watcher([&] {
    watched = client_.Watch("v1", "Pod", "", std::to_string(fake_.resource_version()),
                            [](const WatchEvent&) { return true; }, 30);
    done = true;
  });
  ASSERT_TRUE(Eventually([&] { return fake_.open_watches() == 1; }));
  fake_.EndWatches();
  ASSERT_TRUE(Eventually([&] { return done.load(); }));
  watcher.join();
  EXPECT_TRUE(watched.ok()) << watched.ToString();
}

TEST_F(KubernetesClientTest, WatchEndsAtItsTimeout) {
  auto start = std::chrono::steady_clock::now();
  Status watched = client_.Watch("v1", "Pod", "", std::to_string(fake_.resource_version()),
                                 [](const WatchEvent&) { return true; }, 1);
  EXPECT_TRUE(watched.ok()) << watched.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_NE(fake_.request_log().back().find("timeoutSeconds=1"), std::string::npos);
}

TEST_F(KubernetesClientTest, WatchCanBeCancelled) {
  StreamCancel cancel;
  std::atomic<bool> done{false};
  Status watched = errors::Internal("not yet");
  std::thread watcher([&] {
    watched = client_.Watch("v1", "Pod", "", "", [](const WatchEvent&) { return true; }, 30, &cancel);
    done = true;
  });
  ASSERT_TRUE(Eventually([&] { return fake_.open_watches() == 1; }));
  cancel.Cancel();
  ASSERT_TRUE(Eventually([&] { return done.load(); }));
  watcher.join();
  EXPECT_TRUE(watched.ok()) << watched.ToString();
}

class KubernetesWatchGoneTest : public KubernetesClientTest, public ::testing::WithParamInterface<bool> {};

TEST_P(KubernetesWatchGoneTest, AnExpiredVersionIsGone) {
  fake_.SetGoneAsEvent(GetParam());
  ASSERT_TRUE(client_.Create(Pod("p1")).ok());
  std::string old = std::to_string(fake_.resource_version());
  ASSERT_TRUE(client_.Create(Pod("p2")).ok());
  fake_.CompactHistory();

  int events = 0;
  Status watched = client_.Watch("v1", "Pod", "", old, [&](const WatchEvent&) {
    ++events;
    return true;
  }, 5);
  ASSERT_FALSE(watched.ok());
  EXPECT_TRUE(IsGone(watched)) << watched.ToString();
  EXPECT_EQ(events, 0);

  // The list's version is fine to watch from.
  auto list = client_.List("v1", "Pod", "");
  ASSERT_TRUE(list.ok());
  Status fresh = client_.Watch("v1", "Pod", "", (*list)["metadata"]["resourceVersion"],
                               [](const WatchEvent&) { return true; }, 1);
  EXPECT_TRUE(fresh.ok()) << fresh.ToString();
}

INSTANTIATE_TEST_SUITE_P(HttpAndErrorEvent, KubernetesWatchGoneTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ErrorEvent" : "Http410"; });

// --- logs ----------------------------------------------------------------------------

TEST_F(KubernetesClientTest, LogsWhole) {
  ASSERT_TRUE(client_.Create(Pod("p1")).ok());
  fake_.SetLog("p1", "one\ntwo\n");
  std::string got;
  Status st = client_.Logs("p1", false, [&](std::string_view d) {
    got.append(d);
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  // The kubelet's capture times, in Quader's form.
  EXPECT_EQ(quader::testing::Unstamped(got), "one\ntwo\n");
  EXPECT_EQ(fake_.request_log().back(), "GET /api/v1/namespaces/default/pods/p1/log?timestamps=true");
}

TEST_F(KubernetesClientTest, LogsOfAMissingPodAreNotFound) {
  Status st = client_.Logs("ghost", false, [](std::string_view) { return true; });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kNotFound) << st.ToString();
}

TEST_F(KubernetesClientTest, LogsFollowedUntilTheContainerEnds) {
  ASSERT_TRUE(client_.Create(Pod("p1")).ok());
  fake_.SetLog("p1", "one\n");
  std::mutex mu;
  std::string got;
  std::atomic<bool> done{false};
  Status st = errors::Internal("not yet");
  std::thread follower([&] {
    st = client_.Logs("p1", true, [&](std::string_view d) {
      std::lock_guard lock(mu);
      got.append(d);
      return true;
    });
    done = true;
  });
  auto text = [&] {
    std::lock_guard lock(mu);
    return got;
  };
  auto lines = [&] {
    const std::string t = text();
    return std::count(t.begin(), t.end(), '\n');
  };
  ASSERT_TRUE(Eventually([&] { return lines() == 1; })) << text();
  fake_.AppendLog("p1", "two\n");
  ASSERT_TRUE(Eventually([&] { return lines() == 2; })) << text();
  EXPECT_FALSE(done.load());
  fake_.EndLog("p1");
  ASSERT_TRUE(Eventually([&] { return done.load(); }));
  follower.join();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(quader::testing::Unstamped(text()), "one\ntwo\n");
  EXPECT_NE(fake_.request_log().back().find("follow=true"), std::string::npos);
}

TEST_F(KubernetesClientTest, LogsFollowStopsWhenTheSinkSaysSo) {
  ASSERT_TRUE(client_.Create(Pod("p1")).ok());
  fake_.SetLog("p1", "one\n");
  std::string got;
  Status st = client_.Logs("p1", true, [&](std::string_view d) {
    got.append(d);
    return false;
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(quader::testing::Unstamped(got), "one\n");
}

// --- authentication and TLS --------------------------------------------------------------

TEST_F(KubernetesClientTest, BearerTokenIsSent) {
  fake_.SetToken("s3cret");
  ApiClient client(fake_.Access());
  auto list = client.List("v1", "Pod", "");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(fake_.last_headers()["authorization"], "Bearer s3cret");
}

TEST_F(KubernetesClientTest, WrongOrMissingTokenIsUnauthenticated) {
  fake_.SetToken("s3cret");
  ClusterAccess wrong = fake_.Access();
  wrong.token = "guess";
  auto denied = ApiClient(wrong).List("v1", "Pod", "");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), Code::kUnauthenticated) << denied.status().ToString();
  EXPECT_NE(denied.status().message().find("Unauthorized"), std::string::npos) << denied.status().message();

  ClusterAccess none = fake_.Access();
  none.token.clear();
  auto anonymous = ApiClient(none).Get("v1", "Pod", "p1");
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.status().code(), Code::kUnauthenticated) << anonymous.status().ToString();

  // A watch is refused the same way.
  Status watch = ApiClient(wrong).Watch("v1", "Pod", "", "", [](const WatchEvent&) { return true; }, 1);
  EXPECT_EQ(watch.code(), Code::kUnauthenticated) << watch.ToString();
}

TEST_F(KubernetesClientTest, TokenFileIsReadOnEveryRequest) {
  TempDir dir;
  fake_.SetToken("first");
  ClusterAccess a = fake_.Access();
  a.token.clear();
  a.token_file = WriteFile(dir.File("token"), "first\n");
  ApiClient client(a);
  ASSERT_TRUE(client.List("v1", "Pod", "").ok());
  EXPECT_EQ(fake_.last_headers()["authorization"], "Bearer first");
  // Rotated.
  fake_.SetToken("second");
  WriteFile(dir.File("token"), "second");
  auto rotated = client.List("v1", "Pod", "");
  EXPECT_TRUE(rotated.ok()) << rotated.status().ToString();
}

TEST_F(KubernetesClientTest, ClientCertificateWhenRequired) {
  fake_.RequireClientCert(true);
  auto with_cert = ApiClient(fake_.Access()).List("v1", "Pod", "");
  EXPECT_TRUE(with_cert.ok()) << with_cert.status().ToString();

  ClusterAccess no_cert = fake_.Access();
  no_cert.client_cert_pem.clear();
  no_cert.client_key_pem.clear();
  auto refused = ApiClient(no_cert).List("v1", "Pod", "");
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().code() == Code::kUnavailable || refused.status().code() == Code::kUnauthenticated)
      << refused.status().ToString();
  const std::string& m = refused.status().message();
  EXPECT_NE(m.find(fake_.url()), std::string::npos) << m;
  EXPECT_TRUE(m.find("certificate") != std::string::npos || m.find("handshake") != std::string::npos) << m;
}

TEST_F(KubernetesClientTest, MalformedClientCertificateIsInvalid) {
  ClusterAccess a = fake_.Access();
  a.client_key_pem = "-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n";
  auto r = ApiClient(a).List("v1", "Pod", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("client-key"), std::string::npos) << r.status().message();
}

TEST_F(KubernetesClientTest, AnotherCertificateAuthorityIsRefused) {
  TempDir other_dir;
  auto other = GenerateTestPki(other_dir.path());
  ClusterAccess a = fake_.Access();
  a.ca_pem = other.ca_pem;
  auto r = ApiClient(a).List("v1", "Pod", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("certificate verify failed"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(fake_.url()), std::string::npos) << r.status().message();
}

TEST_F(KubernetesClientTest, TheSystemRootsDoNotTrustTheTestCa) {
  ClusterAccess a = fake_.Access();
  a.ca_pem.clear();
  auto r = ApiClient(a).List("v1", "Pod", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
}

TEST_F(KubernetesClientTest, InsecureSkipVerifyNeedsNoCa) {
  ClusterAccess a = fake_.Access();
  a.ca_pem.clear();
  a.insecure_skip_verify = true;
  auto r = ApiClient(a).List("v1", "Pod", "");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(KubernetesClientTest, HostNameIsVerifiedAgainstTheCertificate) {
  ClusterAccess by_name = fake_.Access();
  by_name.server = "https://localhost:" + std::to_string(fake_.port());
  auto ok = ApiClient(by_name).List("v1", "Pod", "");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST_F(KubernetesClientTest, ServerDownIsUnavailableNamingTheServer) {
  ClusterAccess a = fake_.Access();
  a.server = "https://127.0.0.1:" + std::to_string(ClosedPort());
  auto r = ApiClient(a).Get("v1", "Pod", "p1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find(a.server), std::string::npos) << r.status().message();
  Status watch = ApiClient(a).Watch("v1", "Pod", "", "", [](const WatchEvent&) { return true; }, 1);
  EXPECT_EQ(watch.code(), Code::kUnavailable) << watch.ToString();
}

TEST_F(KubernetesClientTest, MalformedServerUrlIsInvalid) {
  ClusterAccess a = fake_.Access();
  a.server = "ftp://example";
  auto r = ApiClient(a).Get("v1", "Pod", "p1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
}

// --- kubeconfig -----------------------------------------------------------------------------

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = GenerateTestPki(pki_dir_.path());
    WriteFile(dir_.File("certs/ca.crt"), pki_.ca_pem);
    WriteFile(dir_.File("certs/client.crt"), pki_.client_cert_pem);
    WriteFile(dir_.File("certs/client.key"), pki_.client_key_pem);
    path_ = WriteFile(dir_.File("config"),
                      "apiVersion: v1\n"
                      "kind: Config\n"
                      "current-context: alpha\n"
                      "clusters:\n"
                      "- name: alpha-cluster\n"
                      "  cluster:\n"
                      "    server: https://127.0.0.1:6443\n"
                      "    certificate-authority-data: " + Base64(pki_.ca_pem) + "\n"
                      "- name: beta-cluster\n"
                      "  cluster:\n"
                      "    server: https://beta.example:443/\n"
                      "    certificate-authority: certs/ca.crt\n"
                      "- name: insecure-cluster\n"
                      "  cluster:\n"
                      "    server: https://10.0.0.1\n"
                      "    insecure-skip-tls-verify: true\n"
                      "users:\n"
                      "- name: alpha-user\n"
                      "  user:\n"
                      "    client-certificate-data: " + Base64(pki_.client_cert_pem) + "\n"
                      "    client-key-data: " + Base64(pki_.client_key_pem) + "\n"
                      "- name: beta-user\n"
                      "  user:\n"
                      "    token: beta-token\n"
                      "- name: exec-user\n"
                      "  user:\n"
                      "    exec:\n"
                      "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                      "      command: aws\n"
                      "      args: [eks, get-token]\n"
                      "- name: files-user\n"
                      "  user:\n"
                      "    client-certificate: certs/client.crt\n"
                      "    client-key: certs/client.key\n"
                      "    tokenFile: tokens/t\n"
                      "- name: half-user\n"
                      "  user:\n"
                      "    client-certificate-data: " + Base64(pki_.client_cert_pem) + "\n"
                      "contexts:\n"
                      "- name: alpha\n"
                      "  context:\n"
                      "    cluster: alpha-cluster\n"
                      "    user: alpha-user\n"
                      "    namespace: team-a\n"
                      "- name: beta\n"
                      "  context:\n"
                      "    cluster: beta-cluster\n"
                      "    user: beta-user\n"
                      "- name: eks\n"
                      "  context:\n"
                      "    cluster: beta-cluster\n"
                      "    user: exec-user\n"
                      "- name: files\n"
                      "  context:\n"
                      "    cluster: insecure-cluster\n"
                      "    user: files-user\n"
                      "    namespace: ns-f\n"
                      "- name: half\n"
                      "  context:\n"
                      "    cluster: insecure-cluster\n"
                      "    user: half-user\n"
                      "- name: lost\n"
                      "  context:\n"
                      "    cluster: no-such-cluster\n"
                      "    user: beta-user\n");
  }

  TempDir pki_dir_;
  TempDir dir_;
  testing::TestPki pki_;
  std::string path_;
};

TEST_F(KubeconfigTest, CurrentContextWithEmbeddedCertificates) {
  auto a = LoadKubeconfig(path_, "");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->context, "alpha");
  EXPECT_EQ(a->server, "https://127.0.0.1:6443");
  EXPECT_EQ(a->ca_pem, pki_.ca_pem);
  EXPECT_EQ(a->client_cert_pem, pki_.client_cert_pem);
  EXPECT_EQ(a->client_key_pem, pki_.client_key_pem);
  EXPECT_TRUE(a->token.empty());
  EXPECT_EQ(a->ns, "team-a");
  EXPECT_FALSE(a->insecure_skip_verify);
}

TEST_F(KubeconfigTest, NamedContextWithCaFileAndToken) {
  auto a = LoadKubeconfig(path_, "beta");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->context, "beta");
  EXPECT_EQ(a->server, "https://beta.example:443");  // no trailing slash
  EXPECT_EQ(a->ca_pem, pki_.ca_pem);                  // certs/ca.crt, relative to the kubeconfig
  EXPECT_EQ(a->token, "beta-token");
  EXPECT_TRUE(a->client_cert_pem.empty());
  EXPECT_EQ(a->ns, "default");
}

TEST_F(KubeconfigTest, CertificateFilesTokenFileAndInsecureCluster) {
  auto a = LoadKubeconfig(path_, "files");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->server, "https://10.0.0.1");
  EXPECT_TRUE(a->insecure_skip_verify);
  EXPECT_TRUE(a->ca_pem.empty());
  EXPECT_EQ(a->client_cert_pem, pki_.client_cert_pem);
  EXPECT_EQ(a->client_key_pem, pki_.client_key_pem);
  EXPECT_EQ(a->token_file, dir_.File("tokens/t"));
  EXPECT_EQ(a->ns, "ns-f");
}

TEST_F(KubeconfigTest, MissingContextIsNamed) {
  auto a = LoadKubeconfig(path_, "nope");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
  EXPECT_NE(a.status().message().find("\"nope\""), std::string::npos) << a.status().message();
}

TEST_F(KubeconfigTest, MissingClusterIsNamed) {
  auto a = LoadKubeconfig(path_, "lost");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
  EXPECT_NE(a.status().message().find("no-such-cluster"), std::string::npos) << a.status().message();
}

TEST_F(KubeconfigTest, ExecPluginIsRefusedClearly) {
  auto a = LoadKubeconfig(path_, "eks");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
  EXPECT_NE(a.status().message().find("exec"), std::string::npos) << a.status().message();
  EXPECT_NE(a.status().message().find("exec-user"), std::string::npos) << a.status().message();
}

TEST_F(KubeconfigTest, CertificateWithoutKeyIsRefused) {
  auto a = LoadKubeconfig(path_, "half");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
  EXPECT_NE(a.status().message().find("half-user"), std::string::npos) << a.status().message();
}

TEST_F(KubeconfigTest, MissingFileAndBadYamlAreInvalid) {
  auto missing = LoadKubeconfig(dir_.File("absent"), "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kInvalidArgument);
  WriteFile(dir_.File("bad"), "clusters: [\n");
  auto bad = LoadKubeconfig(dir_.File("bad"), "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
}

TEST_F(KubeconfigTest, AKubeconfigReachesTheServer) {
  FakeKubeApi fake;
  fake.RequireClientCert(true);
  fake.SetToken("tok");
  std::string path = WriteFile(dir_.File("fake/config"),
                               "current-context: fake\n"
                               "clusters:\n"
                               "- name: c\n"
                               "  cluster:\n"
                               "    server: " + fake.url() + "\n"
                               "    certificate-authority: ca.crt\n"
                               "users:\n"
                               "- name: u\n"
                               "  user:\n"
                               "    client-certificate-data: " + Base64(fake.pki().client_cert_pem) + "\n"
                               "    client-key-data: " + Base64(fake.pki().client_key_pem) + "\n"
                               "    token: tok\n"
                               "contexts:\n"
                               "- name: fake\n"
                               "  context: {cluster: c, user: u, namespace: ns1}\n");
  WriteFile(dir_.File("fake/ca.crt"), fake.pki().ca_pem);
  auto a = LoadKubeconfig(path, "");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ApiClient client(*a);
  ASSERT_TRUE(client.Create(Pod("p1")).ok());
  EXPECT_TRUE(fake.Get("/api/v1/namespaces/ns1/pods/p1"));
}

// Sets environment variables for one test, restoring them after.
class ScopedEnv {
 public:
  void Set(const char* name, const std::string& value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    setenv(name, value.c_str(), 1);
  }
  void Unset(const char* name) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    unsetenv(name);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(InClusterAccessTest, ServiceAccountFilesAndEnvironment) {
  FakeKubeApi fake;
  fake.SetToken("sa-token");
  TempDir account;
  WriteFile(account.File("token"), "sa-token\n");
  WriteFile(account.File("ca.crt"), fake.pki().ca_pem);
  WriteFile(account.File("namespace"), "jobs\n");
  ScopedEnv env;
  env.Set("KUBERNETES_SERVICE_HOST", "127.0.0.1");
  env.Set("KUBERNETES_SERVICE_PORT", std::to_string(fake.port()));

  auto a = InClusterAccess(account.path());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->context, "in-cluster");
  EXPECT_EQ(a->server, "https://127.0.0.1:" + std::to_string(fake.port()));
  EXPECT_EQ(a->ca_pem, fake.pki().ca_pem);
  EXPECT_EQ(a->token_file, account.File("token"));
  EXPECT_EQ(a->ns, "jobs");

  ApiClient client(*a);
  auto created = client.Create(Pod("p1"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(fake.last_headers()["authorization"], "Bearer sa-token");
  EXPECT_TRUE(fake.Get("/api/v1/namespaces/jobs/pods/p1"));
}

TEST(InClusterAccessTest, Ipv6HostIsBracketed) {
  TempDir account;
  WriteFile(account.File("token"), "t");
  WriteFile(account.File("ca.crt"), "ca");
  ScopedEnv env;
  env.Set("KUBERNETES_SERVICE_HOST", "fd00::1");
  env.Set("KUBERNETES_SERVICE_PORT", "443");
  auto a = InClusterAccess(account.path());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->server, "https://[fd00::1]:443");
  EXPECT_EQ(a->ns, "default");
}

TEST(InClusterAccessTest, OutsideAClusterIsUnavailable) {
  TempDir account;
  ScopedEnv env;
  env.Unset("KUBERNETES_SERVICE_HOST");
  auto a = InClusterAccess(account.path());
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kUnavailable);
  EXPECT_NE(a.status().message().find("KUBERNETES_SERVICE_HOST"), std::string::npos) << a.status().message();

  env.Set("KUBERNETES_SERVICE_HOST", "10.0.0.1");
  env.Set("KUBERNETES_SERVICE_PORT", "443");
  auto no_token = InClusterAccess(account.path());
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.status().code(), Code::kUnavailable) << no_token.status().ToString();
}

TEST(DiscoverAccessTest, KubeconfigVariableWins) {
  TempDir dir;
  std::string path = WriteFile(dir.File("config"),
                               "current-context: one\n"
                               "clusters: [{name: c, cluster: {server: 'https://one.example'}}]\n"
                               "users: [{name: u, user: {token: t}}]\n"
                               "contexts: [{name: one, context: {cluster: c, user: u}}]\n");
  ScopedEnv env;
  env.Set("KUBECONFIG", path + ":" + dir.File("second"));
  auto a = DiscoverAccess("");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->server, "https://one.example");
  EXPECT_EQ(a->token, "t");
}

}  // namespace
}  // namespace quader::runtime::kubernetes
