// The gateway over real loopback HTTP, with small in-test upstreams.
#include "gateway/gateway.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <future>
#include <random>

#include "gateway/test_upstream.h"

namespace quader::gateway {
namespace {

using testing::Client;
using testing::DeadPort;
using testing::TestUpstream;
using namespace std::chrono_literals;

Upstream Up(const std::string& name, std::vector<uint16_t> ports, std::string health_path = "") {
  Upstream u;
  u.name = name;
  for (auto p : ports) u.backends.push_back({"127.0.0.1", p});
  u.health.path = std::move(health_path);
  u.health.interval = 100ms;
  u.health.timeout = 500ms;
  return u;
}

Route To(const std::string& host, std::vector<WeightedTarget> targets, std::string prefix = "") {
  Route r;
  r.host = host;
  r.path_prefix = std::move(prefix);
  r.targets = std::move(targets);
  return r;
}

// Sends raw bytes on a fresh connection and returns all the server sent
// until it closed (or `wait` passed).
std::string Raw(uint16_t port, const std::string& bytes, std::chrono::milliseconds wait = 3000ms) {
  testing::asio::io_context ioc;
  testing::tcp::socket s(ioc);
  s.connect(testing::tcp::endpoint(testing::asio::ip::make_address("127.0.0.1"), port));
  boost::beast::error_code ec;
  testing::asio::write(s, testing::asio::buffer(bytes), ec);
  std::string out;
  char data[4096];
  std::function<void()> read = [&] {
    s.async_read_some(testing::asio::buffer(data), [&](boost::beast::error_code ec, size_t n) {
      out.append(data, n);
      if (!ec) read();
    });
  };
  read();
  ioc.run_for(wait);  // until the server closes, or `wait` passes
  return out;
}

class GatewayTest : public ::testing::Test {
 protected:
  void StartGateway(GatewayOptions opt = {}) {
    opt.port = 0;
    gateway_ = std::make_unique<Gateway>(opt, &registry_);
    Status st = gateway_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void SetUp() override { StartGateway(); }
  void Routes(std::vector<Upstream> ups, std::vector<Route> routes) {
    auto t = RouteTable::Build(std::move(ups), std::move(routes));
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    gateway_->SetRoutes(*t);
  }
  uint16_t port() const { return gateway_->port(); }
  std::string MetricsText() {
    prometheus::TextSerializer s;
    return s.Serialize(registry_.Collect());
  }

  prometheus::Registry registry_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(GatewayTest, RoutesByHostAndLongestPrefix) {
  TestUpstream a("a"), b("b"), c("c");
  Routes({Up("a", {a.port()}), Up("b", {b.port()}), Up("c", {c.port()})},
         {To("a.svc.local", {{"a", 1}}), To("b.svc.local", {{"b", 1}}, "/nb/alice"),
          To("b.svc.local", {{"c", 1}})});
  Client client(port());
  EXPECT_EQ("a", client.Get("a.svc.local", "/").body);
  EXPECT_EQ("a", client.Get("A.SVC.LOCAL:8081", "/x?y=1").body);
  EXPECT_EQ("b", client.Get("b.svc.local", "/nb/alice").body);
  EXPECT_EQ("b", client.Get("b.svc.local", "/nb/alice/lab/tree?x=1").body);
  EXPECT_EQ("c", client.Get("b.svc.local", "/nb/alicex").body);
  EXPECT_EQ("c", client.Get("b.svc.local", "/").body);
  auto rec = b.recorded();
  ASSERT_EQ(2u, rec.size());
  EXPECT_EQ("/nb/alice/lab/tree?x=1", rec[1].target);
  EXPECT_EQ("b.svc.local", rec[1].host);  // Host passed through
  EXPECT_EQ("127.0.0.1", rec[1].forwarded_for);
}

// Several owners of routes (services, notebooks) each replace their own set;
// a set that clashes with another source's is refused and changes nothing.
TEST_F(GatewayTest, RouteSetsOfSeveralSourcesAreMerged) {
  TestUpstream a("a"), b("b"), c("c");
  ASSERT_TRUE(gateway_->SetRouteSet("services", {Up("svc/a", {a.port()})}, {To("a.svc.local", {{"svc/a", 1}})}).ok());
  ASSERT_TRUE(gateway_->SetRouteSet("notebooks", {Up("nb/b", {b.port()})},
                                    {To("gw.local", {{"nb/b", 1}}, "/notebook/p/b")})
                  .ok());
  Client client(port());
  EXPECT_EQ("a", client.Get("a.svc.local", "/").body);
  EXPECT_EQ("b", client.Get("gw.local", "/notebook/p/b/tree").body);
  // Replacing one source's set keeps the other's.
  ASSERT_TRUE(gateway_->SetRouteSet("services", {Up("svc/c", {c.port()})}, {To("c.svc.local", {{"svc/c", 1}})}).ok());
  EXPECT_EQ(404, client.Get("a.svc.local", "/").status);
  EXPECT_EQ("c", client.Get("c.svc.local", "/").body);
  EXPECT_EQ("b", client.Get("gw.local", "/notebook/p/b/tree").body);
  // A clash (the same upstream name, or the same host and prefix) is refused whole.
  Status clash = gateway_->SetRouteSet("notebooks", {Up("svc/c", {b.port()})}, {To("c.svc.local", {{"svc/c", 1}})});
  EXPECT_EQ(clash.code(), Code::kInvalidArgument);
  EXPECT_NE(clash.message().find("routes of notebooks"), std::string::npos) << clash.message();
  EXPECT_EQ("c", client.Get("c.svc.local", "/").body);
  EXPECT_EQ("b", client.Get("gw.local", "/notebook/p/b/tree").body);
}

TEST_F(GatewayTest, BadHostsGet400And404AndTheConnectionLives) {
  TestUpstream a("a");
  Routes({Up("a", {a.port()})}, {To("a.svc.local", {{"a", 1}})});
  Client client(port());
  auto r = client.Get("nope.svc.local", "/");
  EXPECT_EQ(404, r.status);
  EXPECT_NE(std::string::npos, r.body.find("no service for host nope.svc.local"));
  EXPECT_EQ(200, client.Get("a.svc.local", "/").status);  // same connection still usable
  EXPECT_NE(std::string::npos, Raw(port(), "GET / HTTP/1.1\r\n\r\n").find("400"));
  EXPECT_NE(std::string::npos, Raw(port(), "GET / HTTP/1.1\r\nHost: bad host!\r\n\r\n").find("400 Bad Request"));
  EXPECT_NE(std::string::npos, Raw(port(), "GET / HTTP/1.1\r\nHost: a:b:c\r\n\r\n").find("400"));
  EXPECT_NE(std::string::npos, Raw(port(), "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").find("400"));
  EXPECT_NE(std::string::npos, Raw(port(), "garbage\r\n\r\n").find("400"));
  EXPECT_EQ(200, Client(port()).Get("a.svc.local", "/").status);
}

TEST_F(GatewayTest, GarbageNeverTakesItDown) {
  TestUpstream a("a");
  Routes({Up("a", {a.port()})}, {To("a.svc.local", {{"a", 1}})});
  std::mt19937 rng(42);
  const std::vector<std::string> seeds = {
      "GET / HTTP/1.1\r\nHost: a.svc.local\r\n\r\n",
      "POST /x HTTP/1.1\r\nHost: a.svc.local\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "POST /x HTTP/1.1\r\nHost: a.svc.local\r\nContent-Length: -5\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a.svc.local\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
      "GET http://a.svc.local/ HTTP/1.1\r\nHost: a.svc.local\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a.svc.local\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
  };
  for (int i = 0; i < 200; ++i) {
    std::string req = seeds[i % seeds.size()];
    for (int k = 0; k < i % 4; ++k) req[rng() % req.size()] = static_cast<char>(rng() % 256);
    Raw(port(), req, 200ms);
  }
  EXPECT_EQ("a", Client(port()).Get("a.svc.local", "/").body);
}

TEST_F(GatewayTest, OversizedHeadersGet431) {
  TestUpstream a("a");
  Routes({Up("a", {a.port()})}, {To("a.svc.local", {{"a", 1}})});
  std::string req = "GET / HTTP/1.1\r\nHost: a.svc.local\r\nX-Big: " + std::string(20 * 1024, 'x') + "\r\n\r\n";
  EXPECT_NE(std::string::npos, Raw(port(), req).find("431"));
  std::string ok = "GET / HTTP/1.1\r\nHost: a.svc.local\r\nX-Big: " + std::string(8 * 1024, 'x') +
                   "\r\nConnection: close\r\n\r\n";
  EXPECT_NE(std::string::npos, Raw(port(), ok).find("200 OK"));
}

TEST_F(GatewayTest, WeightedSplitWithinTwoPointsOver10000Requests) {
  TestUpstream a("a"), b("b");
  Routes({Up("a", {a.port()}), Up("b", {b.port()})}, {To("m.svc.local", {{"a", 80}, {"b", 20}})});
  Client client(port());
  int n_a = 0, n_b = 0, errors = 0;
  for (int i = 0; i < 10000; ++i) {
    auto r = client.Get("m.svc.local", "/");
    if (r.status != 200) ++errors;
    n_a += r.body == "a";
    n_b += r.body == "b";
  }
  EXPECT_EQ(0, errors);
  EXPECT_NEAR(80.0, n_a / 100.0, 2.0);
  EXPECT_NEAR(20.0, n_b / 100.0, 2.0);
}

TEST_F(GatewayTest, MirrorGetsCopiesAndASlowOrDeadMirrorDoesNotDelayTheClient) {
  TestUpstream a("a"), m("m");
  Route r = To("m.svc.local", {{"a", 1}});
  r.mirrors = {{"m", 100}, {"dead", 100}};
  Routes({Up("a", {a.port()}), Up("m", {m.port()}), Up("dead", {DeadPort()})}, {r});
  Client client(port());
  for (int i = 0; i < 20; ++i) {
    auto res = client.Get("m.svc.local", "/predict", "POST", "body-" + std::to_string(i));
    ASSERT_EQ(200, res.status);
    EXPECT_EQ("a", res.body);  // only the primary's answer comes back
  }
  for (int i = 0; i < 100 && m.served() < 20; ++i) std::this_thread::sleep_for(20ms);
  auto rec = m.recorded();
  ASSERT_EQ(20u, rec.size());
  EXPECT_EQ("POST", rec[0].method);
  EXPECT_EQ("/predict", rec[0].target);
  EXPECT_EQ("m.svc.local", rec[0].host);
  std::set<std::string> bodies;
  for (const auto& x : rec) bodies.insert(x.body);
  EXPECT_EQ(1u, bodies.count("body-7"));

  m.set_delay(2000ms);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(200, client.Get("m.svc.local", "/predict", "POST", "x").status);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_GE(gateway_->stats().mirrors_dropped, 20u);  // the dead mirror's copies
  EXPECT_NE(std::string::npos, MetricsText().find("quader_gateway_mirror_dropped_total{upstream=\"dead\"}"));
}

TEST(GatewayMirrorLimitTest, SaturatedMirrorsAreDroppedAndCounted) {
  prometheus::Registry registry;
  GatewayOptions opt;
  opt.port = 0;
  opt.max_mirrors_in_flight = 2;
  Gateway gw(opt, &registry);
  ASSERT_TRUE(gw.Start().ok());
  TestUpstream a("a"), m("m");
  m.set_delay(1000ms);
  Route r = To("m.svc.local", {{"a", 1}});
  r.mirrors = {{"m", 100}};
  gw.SetRoutes(RouteTable::Build({Up("a", {a.port()}), Up("m", {m.port()})}, {r}).value());
  Client client(gw.port());
  for (int i = 0; i < 10; ++i) ASSERT_EQ(200, client.Get("m.svc.local", "/").status);
  EXPECT_EQ(8u, gw.stats().mirrors_dropped);
  EXPECT_EQ(2u, gw.stats().mirrors_sent);
}

TEST_F(GatewayTest, UnhealthyBackendGetsNoTrafficAndComesBack) {
  TestUpstream b1("b1"), b2("b2");
  b2.set_healthy(false);
  Routes({Up("svc", {b1.port(), b2.port()}, "/health")}, {To("h.svc.local", {{"svc", 1}})});
  for (int i = 0; i < 100; ++i) {
    auto h = gateway_->Health();
    if (h.size() == 2 && !h[1].healthy) break;
    std::this_thread::sleep_for(20ms);
  }
  Client client(port());
  for (int i = 0; i < 50; ++i) EXPECT_EQ("b1", client.Get("h.svc.local", "/").body);
  EXPECT_EQ(0, b2.served());
  EXPECT_NE(std::string::npos, MetricsText().find("quader_gateway_healthy_backends{upstream=\"svc\"} 1"));
  b2.set_healthy(true);
  std::this_thread::sleep_for(400ms);
  int from_b2 = 0;
  for (int i = 0; i < 50; ++i) from_b2 += client.Get("h.svc.local", "/").body == "b2";
  EXPECT_GT(from_b2, 10);
}

TEST_F(GatewayTest, NewBackendCanWaitForItsFirstPassingCheck) {
  TestUpstream old_b("old"), new_b("new");
  new_b.set_healthy(false);
  Upstream svc = Up("svc", {old_b.port()}, "/health");
  svc.health.start_unhealthy = true;
  Routes({svc}, {To("g.svc.local", {{"svc", 1}})});
  Client client(port());
  for (int i = 0; i < 100 && !gateway_->Health()[0].healthy; ++i) std::this_thread::sleep_for(10ms);
  svc.backends.push_back({"127.0.0.1", new_b.port()});  // a second replica joins
  Routes({svc}, {To("g.svc.local", {{"svc", 1}})});
  for (int i = 0; i < 20; ++i) EXPECT_EQ("old", client.Get("g.svc.local", "/").body);
  new_b.set_healthy(true);
  std::this_thread::sleep_for(400ms);
  int from_new = 0;
  for (int i = 0; i < 20; ++i) from_new += client.Get("g.svc.local", "/").body == "new";
  EXPECT_GE(from_new, 5);
}

TEST_F(GatewayTest, RetriesOnConnectFailureWithZeroClientErrors) {
  TestUpstream live("live");
  Routes({Up("svc", {DeadPort(), live.port()})}, {To("r.svc.local", {{"svc", 1}})});
  int errors = 0;
  for (int i = 0; i < 200; ++i) {
    Client client(port());  // new connections: no pooled shortcut
    auto r = client.Get("r.svc.local", "/", "GET", "", false);
    errors += r.status != 200;
  }
  EXPECT_EQ(0, errors);
  EXPECT_EQ(200, live.served());
  EXPECT_GE(gateway_->stats().retries, 1u);
}

TEST_F(GatewayTest, UpstreamDownGives502Then503) {
  Routes({Up("svc", {DeadPort()})}, {To("d.svc.local", {{"svc", 1}})});
  Client client(port());
  auto r = client.Get("d.svc.local", "/");
  EXPECT_TRUE(r.status == 502 || r.status == 503) << r.status;
  EXPECT_EQ(503, client.Get("d.svc.local", "/").status);  // passively marked down
  EXPECT_NE(std::string::npos, MetricsText().find("quader_gateway_requests_total{code=\"5xx\",upstream=\"svc\"}"));
}

TEST_F(GatewayTest, KeepAliveReusesUpstreamConnections) {
  TestUpstream a("a");
  Routes({Up("a", {a.port()})}, {To("k.svc.local", {{"a", 1}})});
  Client client(port());
  for (int i = 0; i < 300; ++i) ASSERT_EQ(200, client.Get("k.svc.local", "/").status);
  EXPECT_EQ(300, a.served());
  EXPECT_LE(a.connections(), 2);
}

TEST_F(GatewayTest, PooledConnectionClosedByTheUpstreamIsRetried) {
  TestUpstream a("a");
  a.set_close_idle(true);
  Routes({Up("a", {a.port()})}, {To("k.svc.local", {{"a", 1}})});
  Client client(port());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(200, client.Get("k.svc.local", "/").status) << i;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(10, a.served());
}

TEST_F(GatewayTest, StreamsLargeAndSlowBodiesWithoutBuffering) {
  TestUpstream a("a");
  Routes({Up("a", {a.port()})}, {To("s.svc.local", {{"a", 1}})});
  {  // 50 MB download through, counted on the fly
    Client client(port());
    auto r = client.Get("s.svc.local", "/big?n=52428800");
    ASSERT_EQ(200, r.status);
    EXPECT_EQ(52428800u, r.body.size());
  }
  {  // 50 MB upload through
    Client client(port());
    auto r = client.Get("s.svc.local", "/upload", "POST", std::string(52428800, 'u'));
    ASSERT_EQ(200, r.status);
    auto rec = a.recorded();
    EXPECT_EQ(52428800u, rec.back().body_bytes);
  }
  {  // the first chunk arrives long before the last one is sent
    Client client(port());
    namespace http = testing::http;
    http::request<http::empty_body> req{http::verb::get, "/slow", 11};
    req.set(http::field::host, "s.svc.local");
    http::write(client.stream(), req);
    auto t0 = std::chrono::steady_clock::now();
    testing::beast::flat_buffer buf;
    http::response_parser<http::buffer_body> p;
    http::read_header(client.stream(), buf, p);
    char data[64];
    std::string got;
    std::chrono::steady_clock::duration first_at{};
    while (!p.is_done()) {
      p.get().body().data = data;
      p.get().body().size = sizeof(data);
      boost::beast::error_code ec;
      http::read_some(client.stream(), buf, p, ec);
      if (ec == http::error::need_buffer) ec = {};
      ASSERT_FALSE(ec) << ec.message();
      size_t n = sizeof(data) - p.get().body().size;
      if (n && got.empty()) first_at = std::chrono::steady_clock::now() - t0;
      got.append(data, n);
    }
    EXPECT_EQ("firstlast", got);
    EXPECT_LT(first_at, 1000ms);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1400ms);
  }
}

TEST_F(GatewayTest, WebSocketEchoThroughTheGateway) {
  TestUpstream a("a");
  Routes({Up("a", {a.port()})}, {To("ws.svc.local", {{"a", 1}})});
  testing::asio::io_context ioc;
  testing::websocket::stream<testing::tcp::socket> ws(ioc);
  ws.next_layer().connect(testing::tcp::endpoint(testing::asio::ip::make_address("127.0.0.1"), port()));
  ws.handshake("ws.svc.local", "/ws");
  for (std::string msg : {std::string("hello"), std::string(200000, 'w'), std::string("bye")}) {
    ws.write(testing::asio::buffer(msg));
    testing::beast::flat_buffer buf;
    ws.read(buf);
    EXPECT_EQ(msg, testing::beast::buffers_to_string(buf.data()));
  }
  ws.close(testing::websocket::close_code::normal);
}

TEST_F(GatewayTest, AnyHostRoutesRewriteWhatTheUpstreamSees) {
  // A notebook-like route: on any host, under a path, with a header set, the
  // platform's session cookie removed and (for code-server) the prefix stripped.
  TestUpstream nb("nb"), code("code"), svc("svc");
  Route jupyter = To(kAnyHost, {{"nb", 1}}, "/notebook/p/lab");
  jupyter.set_headers = {{"Authorization", "token secret"}};
  jupyter.drop_cookies = {"quader_session"};
  Route vscode = To(kAnyHost, {{"code", 1}}, "/notebook/p/code");
  vscode.strip_prefix = true;
  vscode.set_headers = {{"Authorization", ""}};
  Routes({Up("nb", {nb.port()}), Up("code", {code.port()}), Up("svc", {svc.port()})},
         {jupyter, vscode, To("a.svc.local", {{"svc", 1}})});

  std::string reply = Raw(port(),
                          "GET /notebook/p/lab/tree?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n"
                          "Authorization: Bearer user-token\r\n"
                          "Cookie: _xsrf=abc; quader_session=s3cret; other=1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(std::string::npos, reply.find("200 OK")) << reply;
  auto seen = nb.recorded();
  ASSERT_EQ(1u, seen.size());
  EXPECT_EQ("/notebook/p/lab/tree?x=1", seen[0].target);
  EXPECT_EQ("token secret", seen[0].authorization);  // replaced, not added
  EXPECT_EQ("_xsrf=abc; other=1", seen[0].cookie);
  EXPECT_EQ("127.0.0.1:8081", seen[0].host);

  reply = Raw(port(), "GET /notebook/p/code/static/a.js?v=2 HTTP/1.1\r\nHost: Other.Example\r\n"
                      "Authorization: Bearer user-token\r\n"
                      "Cookie: quader_session=s3cret\r\nConnection: close\r\n\r\n");
  EXPECT_NE(std::string::npos, reply.find("200 OK")) << reply;
  ASSERT_EQ(1u, code.recorded().size());
  EXPECT_EQ("/static/a.js?v=2", code.recorded()[0].target);
  EXPECT_EQ("quader_session=s3cret", code.recorded()[0].cookie);  // only routes that drop it do
  EXPECT_EQ("", code.recorded()[0].authorization);  // removed
  EXPECT_EQ("/", [&] {
    Raw(port(), "GET /notebook/p/code HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    return code.recorded().back().target;
  }());

  // A host with routes of its own keeps them; "*" is only the fallback.
  Client c(port());
  EXPECT_EQ("svc", c.Get("a.svc.local", "/").upstream);
  EXPECT_EQ("svc", c.Get("a.svc.local", "/notebook/p/lab/tree").upstream);
  EXPECT_EQ("nb", c.Get("b.svc.local", "/notebook/p/lab/tree").upstream);
  EXPECT_EQ(404, c.Get("b.svc.local", "/elsewhere").status);
}

TEST(GatewaySlowlorisTest, SlowHeaderIsClosedWhileOthersAreServed) {
  prometheus::Registry registry;
  GatewayOptions opt;
  opt.port = 0;
  opt.header_timeout = 1000ms;
  Gateway gw(opt, &registry);
  ASSERT_TRUE(gw.Start().ok());
  TestUpstream a("a");
  gw.SetRoutes(RouteTable::Build({Up("a", {a.port()})}, {To("a.svc.local", {{"a", 1}})}).value());
  auto t0 = std::chrono::steady_clock::now();
  auto slow = std::async(std::launch::async, [&] {
    return Raw(gw.port(), "GET / HTTP/1.1\r\nHost: a.svc.local\r\nX-Slow: 1", 5000ms);
  });
  std::this_thread::sleep_for(100ms);
  Client client(gw.port());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(200, client.Get("a.svc.local", "/").status);
  EXPECT_EQ("", slow.get());  // closed without an answer
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 3000ms);
}

TEST_F(GatewayTest, RouteSwapUnderLoadHasNoErrors) {
  TestUpstream a("a"), b("b");
  auto t1 = RouteTable::Build({Up("a", {a.port()}), Up("b", {b.port()})}, {To("x.svc.local", {{"a", 1}})}).value();
  auto t2 = RouteTable::Build({Up("a", {a.port()}), Up("b", {b.port()})},
                              {To("x.svc.local", {{"b", 1}}), To("y.svc.local", {{"a", 1}})}).value();
  gateway_->SetRoutes(t1);
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0}, done{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      Client client(port());
      while (!stop) {
        auto r = client.Get("x.svc.local", "/");
        if (r.status != 200 || (r.body != "a" && r.body != "b")) ++errors;
        ++done;
      }
    });
  }
  for (int i = 0; i < 100; ++i) {
    gateway_->SetRoutes(i % 2 ? t1 : t2);
    std::this_thread::sleep_for(10ms);
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(0, errors.load());
  EXPECT_GT(done.load(), 100);
  EXPECT_GT(a.served(), 0);
  EXPECT_GT(b.served(), 0);
}

TEST_F(GatewayTest, AccessHookCanHideOrRedirect) {
  TestUpstream nb("nb");
  Route r = To("nb.svc.local", {{"nb", 1}}, "/notebook/alice");
  r.access = [](const AccessRequest& req) {
    auto cookie = req.headers[boost::beast::http::field::cookie];
    if (cookie == "session=alice") return AccessDecision::Allow();
    if (cookie.empty()) return AccessDecision::Redirect("/login?next=" + std::string(req.target));
    return AccessDecision::NotFound();
  };
  Routes({Up("nb", {nb.port()})}, {r});
  Client client(port());
  auto redirect = client.Get("nb.svc.local", "/notebook/alice/lab");
  EXPECT_EQ(302, redirect.status);
  EXPECT_EQ("/login?next=/notebook/alice/lab", redirect.location);
  std::string as_bob = Raw(port(), "GET /notebook/alice HTTP/1.1\r\nHost: nb.svc.local\r\nCookie: session=bob\r\nConnection: close\r\n\r\n");
  EXPECT_NE(std::string::npos, as_bob.find("404"));
  std::string as_alice = Raw(port(), "GET /notebook/alice HTTP/1.1\r\nHost: nb.svc.local\r\nCookie: session=alice\r\nConnection: close\r\n\r\n");
  EXPECT_NE(std::string::npos, as_alice.find("200 OK"));
  EXPECT_EQ(1, nb.served());
}

TEST_F(GatewayTest, MetricsPerUpstream) {
  TestUpstream a("a");
  Routes({Up("a", {a.port()})}, {To("a.svc.local", {{"a", 1}})});
  Client client(port());
  for (int i = 0; i < 3; ++i) client.Get("a.svc.local", "/");
  client.Get("zzz.svc.local", "/");
  std::string text = MetricsText();
  EXPECT_NE(std::string::npos, text.find("quader_gateway_requests_total{code=\"2xx\",upstream=\"a\"} 3"));
  EXPECT_NE(std::string::npos, text.find("quader_gateway_request_duration_seconds_count{upstream=\"a\"} 3"));
  EXPECT_NE(std::string::npos, text.find("quader_gateway_rejected_total{reason=\"unknown_host\"} 1"));
}

}  // namespace
}  // namespace quader::gateway
