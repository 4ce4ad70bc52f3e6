#include "gateway/gateway.h"


#include <atomic>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

namespace quader::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kChunkBytes = 64 * 1024;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Completion for co_spawn: a coroutine that throws is logged, never rethrown
// into the event loop (a request must not take the gateway down).
struct LogException {
  const char* what;
  void operator()(std::exception_ptr e) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::warn("[gateway] {} ended with an exception: {}", what, ex.what());
    } catch (...) {
      spdlog::warn("[gateway] {} ended with an unknown exception", what);
    }
  }
};

// One backend's health; shared by every table that names its address.
struct BackendState {
  explicit BackendState(const Backend& b)
      : backend(b),
        address(b.address()),
        endpoint(asio::ip::make_address(b.host), b.port) {}
  const Backend backend;
  const std::string address;
  const tcp::endpoint endpoint;
  std::atomic<bool> active_healthy{true};
  std::atomic<int64_t> down_until_ns{0};  // passive health
  std::atomic<int> consecutive_5xx{0};
  // Active check bookkeeping: touched only on io thread 0.
  int ok_streak = 0;
  int fail_streak = 0;
  Clock::time_point next_check{};
  bool checking = false;

  bool PassiveDown(int64_t now) const { return now < down_until_ns.load(std::memory_order_relaxed); }
  bool Healthy(int64_t now) const { return active_healthy.load(std::memory_order_relaxed) && !PassiveDown(now); }
};

struct UpstreamMetrics {
  prometheus::Counter* by_class[6] = {};  // index: status / 100 (0 unused)
  prometheus::Histogram* latency = nullptr;
  prometheus::Counter* errors_5xx = nullptr;
  prometheus::Counter* mirrors_sent = nullptr;
  prometheus::Counter* mirrors_dropped = nullptr;
  prometheus::Gauge* healthy_backends = nullptr;
};

struct UpstreamRuntime {
  std::string name;
  std::vector<std::shared_ptr<BackendState>> backends;
  std::atomic<unsigned> rr{0};
  UpstreamMetrics metrics;

  bool AnyHealthy(int64_t now) const {
    for (const auto& b : backends) {
      if (b->Healthy(now)) return true;
    }
    return false;
  }
  // Round robin over healthy backends not yet tried; nullptr when none.
  BackendState* PickHealthy(int64_t now, const std::vector<BackendState*>& tried) {
    size_t n = backends.size();
    if (n == 0) return nullptr;
    unsigned start = rr.fetch_add(1, std::memory_order_relaxed);
    for (size_t i = 0; i < n; ++i) {
      BackendState* b = backends[(start + i) % n].get();
      if (!b->Healthy(now)) continue;
      if (std::find(tried.begin(), tried.end(), b) != tried.end()) continue;
      return b;
    }
    return nullptr;
  }
};

// A route table with its runtime: backend health and metric handles.
struct Active {
  std::shared_ptr<const RouteTable> table;
  std::vector<std::unique_ptr<UpstreamRuntime>> upstreams;  // by table upstream index
};

// Idle keep-alive upstream connections of one io thread, by backend address.
struct Pool {
  struct Idle {
    beast::tcp_stream stream;
    Clock::time_point since;
  };
  std::unordered_map<std::string, std::vector<Idle>> idle;
};

// Hop-by-hop headers (RFC 9110 7.6.1) and those the Connection header names.
template <class Fields>
void StripHopByHop(Fields& f, bool keep_upgrade) {
  std::vector<std::string> named;
  for (auto token : http::token_list(f[http::field::connection])) {
    std::string t(token.data(), token.size());
    for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t != "close" && t != "keep-alive" && t != "upgrade") named.push_back(t);
  }
  for (const auto& n : named) f.erase(n);
  f.erase(http::field::connection);
  f.erase("Keep-Alive");
  f.erase("Proxy-Connection");
  f.erase(http::field::te);
  f.erase(http::field::trailer);
  if (!keep_upgrade) f.erase(http::field::upgrade);
}

bool IsUpgrade(const http::request_header<>& req) {
  if (req[http::field::upgrade].empty()) return false;
  return http::token_list(req[http::field::connection]).exists("upgrade");
}

thread_local std::mt19937 tls_rng{std::random_device{}()};

// Why a request is answered by the gateway itself.
struct Rejection {
  http::status status;
  std::string text;
  std::string reason;  // the rejected_total label
  bool keep = false;   // the client connection may carry another request
  std::string location;
};

}  // namespace

class Gateway::Impl {
 public:
  Impl(GatewayOptions options, prometheus::Registry* registry);
  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  uint16_t port() const { return port_; }
  void SetRoutes(std::shared_ptr<const RouteTable> table);
  std::shared_ptr<const RouteTable> routes() const { return active_.load()->table; }
  std::vector<BackendHealth> Health() const;
  GatewayStats stats() const;

 private:
  awaitable<void> AcceptLoop();
  awaitable<void> Serve(tcp::socket socket, int thread);
  // Handles one request whose header is in `hp`; true when the client
  // connection may carry another request.
  awaitable<bool> HandleOne(beast::tcp_stream& client, beast::flat_buffer& buf,
                            http::request_parser<http::empty_body>& hp, int thread,
                            const std::string& remote, std::vector<char>& chunk, beast::flat_buffer& ubuf);
  // HandleOne's steps, in order, over one Exchange.
  struct Exchange;
  std::optional<Rejection> Admit(http::request_header<>& head, const Active& active, bool keep_if_rejected,
                                 std::string* host_header, const RouteTable::CompiledRoute** route);
  void PickMirrors(Exchange& x, std::uint64_t content_length);
  void DropMirrors(Exchange& x);
  void RewriteRequest(Exchange& x, const std::string& remote, const std::string& host_header);
  awaitable<bool> ConnectAndSendHead(Exchange& x);
  awaitable<bool> StreamRequestBody(Exchange& x);
  void SendMirrors(Exchange& x, std::string body);
  awaitable<bool> ReadResponseHead(Exchange& x, std::optional<http::response_parser<http::buffer_body>>& rpo);
  void CountResponse(BackendState* backend, int status);
  awaitable<void> TunnelUpgrade(Exchange& x, http::response<http::buffer_body>& res, int status);
  awaitable<bool> StreamResponse(Exchange& x, http::response_parser<http::buffer_body>& rp, int status);
  awaitable<void> Reply(beast::tcp_stream& s, http::status status, std::string text, bool keep_alive,
                        const std::string& reason, std::string location = {});
  awaitable<std::optional<beast::tcp_stream>> Connect(BackendState* b, std::chrono::milliseconds timeout);
  std::optional<beast::tcp_stream> TakeIdle(int thread, const std::string& address);
  void PutIdle(int thread, const std::string& address, beast::tcp_stream stream);
  awaitable<void> Tunnel(std::shared_ptr<beast::tcp_stream> client, std::shared_ptr<beast::tcp_stream> up);
  awaitable<void> Pump(std::shared_ptr<beast::tcp_stream> from, std::shared_ptr<beast::tcp_stream> to);
  awaitable<void> Mirror(std::shared_ptr<const Active> active, int upstream,
                         std::shared_ptr<http::request<http::string_body>> req, int thread);
  awaitable<void> HealthLoop();
  awaitable<void> Check(std::shared_ptr<const Active> active, std::shared_ptr<BackendState> b,
                        HealthCheck hc);
  void MarkPassiveDown(BackendState* b);
  static void RefreshHealthyGauges(const Active& active);
  void Observe(UpstreamRuntime* up, int status, Clock::time_point start);
  void Reject(const std::string& reason);

  const GatewayOptions opt_;
  std::shared_ptr<prometheus::Registry> own_registry_;  // when none was passed in
  prometheus::Registry& registry_;
  prometheus::Family<prometheus::Counter>& requests_family_;
  prometheus::Family<prometheus::Histogram>& latency_family_;
  prometheus::Family<prometheus::Counter>& errors_family_;
  prometheus::Family<prometheus::Counter>& mirrors_family_;
  prometheus::Family<prometheus::Counter>& mirror_drops_family_;
  prometheus::Family<prometheus::Gauge>& healthy_family_;
  prometheus::Family<prometheus::Counter>& rejected_family_;

  std::vector<std::unique_ptr<asio::io_context>> iocs_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::unique_ptr<Pool>> pools_;  // one per io thread, touched only there
  std::vector<std::thread> threads_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;

  std::atomic<std::shared_ptr<const Active>> active_;
  mutable std::mutex backends_mu_;
  std::map<std::string, std::shared_ptr<BackendState>> backends_;  // guarded by backends_mu_

  std::atomic<size_t> mirrors_in_flight_{0};
  std::atomic<uint64_t> requests_{0}, connections_opened_{0}, mirrors_sent_{0}, mirrors_dropped_{0},
      retries_{0};
};

Gateway::Impl::Impl(GatewayOptions options, prometheus::Registry* registry)
    : opt_(std::move(options)),
      own_registry_(registry ? nullptr : std::make_shared<prometheus::Registry>()),
      registry_(registry ? *registry : *own_registry_),
      requests_family_(prometheus::BuildCounter()
                           .Name("quader_gateway_requests_total")
                           .Help("Requests proxied, by upstream and status class (2xx, 5xx, ...)")
                           .Register(registry_)),
      latency_family_(prometheus::BuildHistogram()
                          .Name("quader_gateway_request_duration_seconds")
                          .Help("Time from a request's header to the end of its response, by upstream")
                          .Register(registry_)),
      errors_family_(prometheus::BuildCounter()
                         .Name("quader_gateway_upstream_5xx_total")
                         .Help("Responses with a 5xx status (the upstream's or the gateway's), by upstream")
                         .Register(registry_)),
      mirrors_family_(prometheus::BuildCounter()
                          .Name("quader_gateway_mirror_requests_total")
                          .Help("Mirrored copies sent, by mirror upstream")
                          .Register(registry_)),
      mirror_drops_family_(prometheus::BuildCounter()
                               .Name("quader_gateway_mirror_dropped_total")
                               .Help("Mirrored copies dropped (saturated, body too large, no healthy backend)")
                               .Register(registry_)),
      healthy_family_(prometheus::BuildGauge()
                          .Name("quader_gateway_healthy_backends")
                          .Help("Backends currently taking traffic, by upstream")
                          .Register(registry_)),
      rejected_family_(prometheus::BuildCounter()
                           .Name("quader_gateway_rejected_total")
                           .Help("Requests answered by the gateway itself, by reason")
                           .Register(registry_)) {
  int n = std::max(1, opt_.io_threads);
  for (int i = 0; i < n; ++i) {
    iocs_.push_back(std::make_unique<asio::io_context>(1));
    pools_.push_back(std::make_unique<Pool>());
  }
  auto empty = std::make_shared<Active>();
  empty->table = RouteTable::Empty();
  active_.store(std::move(empty));
}

Status Gateway::Impl::Start() {
  if (started_) return errors::Internal("gateway already started");
  beast::error_code ec;
  auto address = asio::ip::make_address(opt_.host, ec);
  if (ec) return errors::Invalid("gateway_listen", "\"" + opt_.host + "\" is not an IP address");
  acceptor_ = std::make_unique<tcp::acceptor>(*iocs_[0]);
  tcp::endpoint ep(address, opt_.port);
  acceptor_->open(ep.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(ep, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return errors::Unavailable("gateway cannot listen on " + opt_.host + ":" + std::to_string(opt_.port) +
                               ": " + ec.message());
  }
  port_ = acceptor_->local_endpoint().port();
  started_ = true;
  asio::co_spawn(*iocs_[0], AcceptLoop(), LogException{"accept loop"});
  asio::co_spawn(*iocs_[0], HealthLoop(), LogException{"health loop"});
  for (auto& ioc : iocs_) {
    guards_.push_back(asio::make_work_guard(*ioc));
    threads_.emplace_back([ioc = ioc.get()] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("[gateway] event loop error: {}", e.what());
        }
      }
    });
  }
  spdlog::info("[gateway] listening on {}:{}", opt_.host, port_);
  return Status::Ok();
}

void Gateway::Impl::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  asio::post(*iocs_[0], [this] {
    beast::error_code ec;
    acceptor_->close(ec);
  });
  for (auto& ioc : iocs_) ioc->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  guards_.clear();
  pools_.clear();  // idle sockets go before their event loops
  acceptor_.reset();
  iocs_.clear();
}

void Gateway::Impl::SetRoutes(std::shared_ptr<const RouteTable> table) {
  if (!table) table = RouteTable::Empty();
  auto active = std::make_shared<Active>();
  active->table = table;
  std::lock_guard<std::mutex> lock(backends_mu_);
  std::set<std::string> used;
  for (const auto& u : table->upstreams()) {
    auto rt = std::make_unique<UpstreamRuntime>();
    rt->name = u.name;
    for (const auto& b : u.backends) {
      auto& state = backends_[b.address()];
      if (!state) {
        state = std::make_shared<BackendState>(b);
        if (!u.health.path.empty() && u.health.start_unhealthy) state->active_healthy.store(false);
      }
      used.insert(b.address());
      rt->backends.push_back(state);
    }
    static const char* kClasses[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int c = 1; c <= 5; ++c) {
      rt->metrics.by_class[c] = &requests_family_.Add({{"upstream", u.name}, {"code", kClasses[c]}});
    }
    rt->metrics.latency = &latency_family_.Add(
        {{"upstream", u.name}},
        prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                0.25, 0.5, 1, 2.5, 5, 10});
    rt->metrics.errors_5xx = &errors_family_.Add({{"upstream", u.name}});
    rt->metrics.mirrors_sent = &mirrors_family_.Add({{"upstream", u.name}});
    rt->metrics.mirrors_dropped = &mirror_drops_family_.Add({{"upstream", u.name}});
    rt->metrics.healthy_backends = &healthy_family_.Add({{"upstream", u.name}});
    rt->metrics.healthy_backends->Set(static_cast<double>(rt->backends.size()));
    active->upstreams.push_back(std::move(rt));
  }
  for (auto it = backends_.begin(); it != backends_.end();) {
    it = used.count(it->first) ? std::next(it) : backends_.erase(it);
  }
  active_.store(std::move(active));
}

std::vector<BackendHealth> Gateway::Impl::Health() const {
  auto active = active_.load();
  std::vector<BackendHealth> out;
  int64_t now = NowNs();
  for (const auto& up : active->upstreams) {
    for (const auto& b : up->backends) {
      out.push_back({up->name, b->address, b->Healthy(now), b->active_healthy.load(), b->PassiveDown(now)});
    }
  }
  return out;
}

GatewayStats Gateway::Impl::stats() const {
  return {requests_.load(), connections_opened_.load(), mirrors_sent_.load(), mirrors_dropped_.load(),
          retries_.load()};
}

awaitable<void> Gateway::Impl::AcceptLoop() {
  size_t next = 0;
  for (;;) {
    int thread = static_cast<int>(next++ % iocs_.size());
    tcp::socket socket(*iocs_[thread]);
    beast::error_code ec;
    co_await acceptor_->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) {  // e.g. out of file descriptors: back off a little
      spdlog::warn("[gateway] accept: {}", ec.message());
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    asio::co_spawn(*iocs_[thread], Serve(std::move(socket), thread), LogException{"connection"});
  }
}

void Gateway::Impl::Reject(const std::string& reason) { rejected_family_.Add({{"reason", reason}}).Increment(); }

awaitable<void> Gateway::Impl::Reply(beast::tcp_stream& s, http::status status, std::string text,
                                     bool keep_alive, const std::string& reason, std::string location) {
  Reject(reason);
  http::response<http::string_body> res{status, 11};
  res.set(http::field::server, "quader-gateway");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  if (!location.empty()) res.set(http::field::location, location);
  res.body() = std::move(text) + "\n";
  res.keep_alive(keep_alive);
  res.prepare_payload();
  beast::error_code ec;
  s.expires_after(opt_.body_timeout);
  co_await http::async_write(s, res, asio::redirect_error(asio::use_awaitable, ec));
}

awaitable<void> Gateway::Impl::Serve(tcp::socket socket, int thread) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  auto remote_ep = socket.remote_endpoint(ec);
  std::string remote = ec ? "" : remote_ep.address().to_string();
  beast::tcp_stream client(std::move(socket));
  beast::flat_buffer buf;
  std::vector<char> chunk(kChunkBytes);
  beast::flat_buffer ubuf;
  for (;;) {
    http::request_parser<http::empty_body> hp;
    hp.header_limit(static_cast<std::uint32_t>(opt_.max_header_bytes));
    // Bodies are streamed, never held: no size limit (Content-Length is
    // checked against it while the header is parsed).
    hp.body_limit(std::numeric_limits<std::uint64_t>::max());
    client.expires_after(opt_.header_timeout);
    co_await http::async_read_header(client, buf, hp, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::header_limit) {
      co_await Reply(client, http::status::request_header_fields_too_large, "request headers are too large",
                     false, "header_too_large");
      break;
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted || ec == asio::error::eof) {
      break;
    }
    if (ec) {
      co_await Reply(client, http::status::bad_request, "malformed request: " + ec.message(), false,
                     "bad_request");
      break;
    }
    bool again = co_await HandleOne(client, buf, hp, thread, remote, chunk, ubuf);
    if (!again) break;
  }
  client.socket().shutdown(tcp::socket::shutdown_send, ec);
  client.close();
}

void Gateway::Impl::MarkPassiveDown(BackendState* b) {
  b->down_until_ns.store(NowNs() + std::chrono::duration_cast<std::chrono::nanoseconds>(opt_.passive_down).count());
}

void Gateway::Impl::Observe(UpstreamRuntime* up, int status, Clock::time_point start) {
  int cls = status / 100;
  if (cls >= 1 && cls <= 5) up->metrics.by_class[cls]->Increment();
  if (cls == 5) up->metrics.errors_5xx->Increment();
  up->metrics.latency->Observe(std::chrono::duration<double>(Clock::now() - start).count());
}

awaitable<std::optional<beast::tcp_stream>> Gateway::Impl::Connect(BackendState* b,
                                                                    std::chrono::milliseconds timeout) {
  beast::tcp_stream s(co_await asio::this_coro::executor);
  beast::error_code ec;
  s.expires_after(timeout);
  co_await s.async_connect(b->endpoint, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return std::nullopt;
  s.socket().set_option(tcp::no_delay(true), ec);
  connections_opened_.fetch_add(1, std::memory_order_relaxed);
  co_return std::optional<beast::tcp_stream>(std::move(s));
}

std::optional<beast::tcp_stream> Gateway::Impl::TakeIdle(int thread, const std::string& address) {
  auto it = pools_[thread]->idle.find(address);
  if (it == pools_[thread]->idle.end()) return std::nullopt;
  auto& v = it->second;
  auto now = Clock::now();
  while (!v.empty()) {
    Pool::Idle idle = std::move(v.back());
    v.pop_back();
    // No liveness probe here (a syscall per request): a bodiless request
    // that finds its pooled connection closed is retried on a fresh one.
    if (now - idle.since > opt_.idle_upstream_timeout) {
      beast::error_code ec;
      idle.stream.socket().close(ec);
      continue;
    }
    return std::optional<beast::tcp_stream>(std::move(idle.stream));
  }
  return std::nullopt;
}

void Gateway::Impl::PutIdle(int thread, const std::string& address, beast::tcp_stream stream) {
  auto& v = pools_[thread]->idle[address];
  if (v.size() >= opt_.max_idle_per_backend) return;
  stream.expires_never();
  v.push_back({std::move(stream), Clock::now()});
}

// One request on its way through the gateway: what HandleOne's steps share.
struct Gateway::Impl::Exchange {
  Exchange(beast::tcp_stream& c, beast::flat_buffer& b, std::vector<char>& ch, beast::flat_buffer& ub, int t)
      : client(c), buf(b), chunk(ch), ubuf(ub), thread(t) {}
  beast::tcp_stream& client;
  beast::flat_buffer& buf;   // the client's read buffer
  std::vector<char>& chunk;  // body bytes in flight, either way
  beast::flat_buffer& ubuf;  // the upstream's read buffer
  const int thread;
  Clock::time_point start;
  std::shared_ptr<const Active> active;
  const RouteTable::CompiledRoute* route = nullptr;
  UpstreamRuntime* up = nullptr;
  bool upgrade = false, client_keep = false, is_head = false, keep_if_rejected = false;
  std::vector<int> mirrors;                                   // mirror upstreams this request goes to
  std::shared_ptr<http::request<http::string_body>> mirror_req;
  std::optional<http::request_parser<http::buffer_body>> bp;  // the request, streamed
  bool bodiless_request = false;
  std::optional<http::request_serializer<http::buffer_body>> sr;
  std::optional<beast::tcp_stream> upstream;
  BackendState* backend = nullptr;
  bool reused = false;  // the upstream connection came from the idle pool
  beast::error_code ec;
};


std::optional<Rejection> Gateway::Impl::Admit(http::request_header<>& head, const Active& active,
                                              bool keep_if_rejected, std::string* host_header,
                                              const RouteTable::CompiledRoute** route) {
  if (head.count(http::field::host) != 1) {
    return Rejection{http::status::bad_request,
                     head.count(http::field::host) ? "more than one Host header" : "missing Host header",
                     "bad_request"};
  }
  *host_header = std::string(head[http::field::host]);
  auto host = NormalizeHostHeader(*host_header);
  if (!host) return Rejection{http::status::bad_request, "malformed Host header", "bad_request"};
  std::string_view target(head.target().data(), head.target().size());
  if (target.empty() || target.front() != '/') {
    return Rejection{http::status::bad_request, "request target must be a path", "bad_request"};
  }
  std::string_view path = target.substr(0, target.find('?'));
  *route = active.table->Match(*host, path);
  if (!*route) return Rejection{http::status::not_found, "no service for host " + *host, "unknown_host", keep_if_rejected};
  if (!(*route)->route.access) return std::nullopt;
  AccessDecision d = (*route)->route.access(
      AccessRequest{std::string_view(head.method_string().data(), head.method_string().size()), target, *host, head});
  switch (d.verdict) {
    case AccessDecision::Verdict::kAllow:
      return std::nullopt;
    case AccessDecision::Verdict::kNotFound:
      return Rejection{http::status::not_found, "not found", "denied", keep_if_rejected};
    case AccessDecision::Verdict::kForbidden:
      return Rejection{http::status::forbidden, "forbidden", "denied", keep_if_rejected};
    case AccessDecision::Verdict::kRedirect:
      return Rejection{http::status::found, "see " + d.location, "redirect", keep_if_rejected, d.location};
  }
  return std::nullopt;
}

void Gateway::Impl::DropMirrors(Exchange& x) {
  for (int m : x.mirrors) x.active->upstreams[m]->metrics.mirrors_dropped->Increment();
  mirrors_dropped_.fetch_add(x.mirrors.size(), std::memory_order_relaxed);
  x.mirrors.clear();
}

void Gateway::Impl::PickMirrors(Exchange& x, std::uint64_t content_length) {
  // Chosen now; their copies go out once the request body is known.
  for (size_t i = 0; i < x.route->route.mirrors.size(); ++i) {
    int percent = x.route->route.mirrors[i].percent;
    if (percent <= 0 || x.upgrade) continue;
    if (percent < 100 && static_cast<int>(tls_rng() % 100) >= percent) continue;
    x.mirrors.push_back(x.route->mirror_upstreams[i]);
  }
  if (!x.mirrors.empty() && content_length > opt_.mirror_max_body_bytes) DropMirrors(x);
}

// The request as the upstream sees it: same message, hop-by-hop removed,
// forwarding headers added, the route's header and cookie changes and
// prefix strip applied.
void Gateway::Impl::RewriteRequest(Exchange& x, const std::string& remote, const std::string& host_header) {
  const Route& route = x.route->route;
  auto& req = x.bp->get();
  StripHopByHop(req, x.upgrade);
  std::string xff(req["X-Forwarded-For"]);
  req.set("X-Forwarded-For", xff.empty() ? remote : xff + ", " + remote);
  if (req["X-Forwarded-Host"].empty()) req.set("X-Forwarded-Host", host_header);
  if (req["X-Forwarded-Proto"].empty()) req.set("X-Forwarded-Proto", "http");
  for (const auto& [name, value] : route.set_headers) {
    if (value.empty()) {
      req.erase(name);
    } else {
      req.set(name, value);
    }
  }
  if ((!route.drop_cookies.empty() && req.count(http::field::cookie)) || !route.set_cookies.empty()) {
    std::vector<std::string> dropped = route.drop_cookies;
    for (const auto& [name, value] : route.set_cookies) dropped.push_back(name);
    std::string kept;
    auto cookies = req.equal_range(http::field::cookie);
    for (auto f = cookies.first; f != cookies.second; ++f) {
      std::string part = DropCookies(std::string_view(f->value().data(), f->value().size()), dropped);
      if (part.empty()) continue;
      kept += kept.empty() ? part : "; " + part;
    }
    for (const auto& [name, value] : route.set_cookies) kept += (kept.empty() ? "" : "; ") + name + "=" + value;
    req.erase(http::field::cookie);
    if (!kept.empty()) req.set(http::field::cookie, kept);
  }
  if (route.strip_prefix && !route.path_prefix.empty()) {
    std::string_view original(req.target().data(), req.target().size());
    std::string rest(original.substr(std::min(original.size(), route.path_prefix.size())));
    if (rest.empty() || rest.front() != '/') rest.insert(rest.begin(), '/');
    req.target(rest);
  }
  req.version(11);
  if (x.upgrade) req.set(http::field::connection, "Upgrade");
  if (!x.mirrors.empty()) {
    x.mirror_req = std::make_shared<http::request<http::string_body>>(req.base());
    x.mirror_req->erase(http::field::transfer_encoding);
    x.mirror_req->erase(http::field::content_length);
  }
}

awaitable<bool> Gateway::Impl::ConnectAndSendHead(Exchange& x) {
  // Connect, retrying other backends on failure; reuse idle connections.
  auto& req = x.bp->get();
  std::vector<BackendState*> tried;
  x.sr.emplace(req);
  req.body().data = nullptr;
  req.body().size = 0;
  req.body().more = !x.bp->is_done();
  for (int attempt = 0; attempt < std::max(1, opt_.connect_attempts) + 1 && !x.upstream; ++attempt) {
    x.backend = x.up->PickHealthy(NowNs(), tried);
    if (!x.backend) break;
    x.reused = false;
    if (!x.upgrade) {
      if (auto idle = TakeIdle(x.thread, x.backend->address)) x.upstream.emplace(std::move(*idle));
      x.reused = x.upstream.has_value();
    }
    if (!x.upstream) {
      auto fresh = co_await Connect(x.backend, opt_.connect_timeout);
      if (fresh) x.upstream.emplace(std::move(*fresh));
    }
    if (!x.upstream) {
      MarkPassiveDown(x.backend);
      tried.push_back(x.backend);
      retries_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    x.upstream->expires_after(opt_.body_timeout);
    if (x.bp->is_done()) {
      // No body: the whole request in one write.
      co_await http::async_write(*x.upstream, *x.sr, asio::redirect_error(asio::use_awaitable, x.ec));
    } else if (x.buf.size() == 0) {
      co_await http::async_write_header(*x.upstream, *x.sr, asio::redirect_error(asio::use_awaitable, x.ec));
    }  // else the header leaves with the first body bytes, already buffered
    if (x.ec == http::error::need_buffer) x.ec = {};
    if (x.ec) {
      // A stale pooled connection: try again on a fresh one (nothing of the
      // body has been read yet). A fresh one failing counts as a connect failure.
      x.ec = {};
      x.upstream.reset();
      if (!x.reused) {
        MarkPassiveDown(x.backend);
        tried.push_back(x.backend);
      }
      x.sr.emplace(req);
      continue;
    }
  }
  co_return x.upstream.has_value();
}

awaitable<bool> Gateway::Impl::StreamRequestBody(Exchange& x) {
  // The request body, chunk by chunk, copied for the mirrors up to their limit.
  auto& req = x.bp->get();
  std::string mirror_body;
  bool request_ok = true;
  while (!x.bp->is_done()) {
    req.body().data = x.chunk.data();
    req.body().size = x.chunk.size();
    x.client.expires_after(opt_.body_timeout);
    co_await http::async_read_some(x.client, x.buf, *x.bp, asio::redirect_error(asio::use_awaitable, x.ec));
    if (x.ec == http::error::need_buffer) x.ec = {};
    if (x.ec) co_return false;  // the client went away mid-body
    size_t n = x.chunk.size() - req.body().size;
    req.body().data = x.chunk.data();
    req.body().size = n;
    req.body().more = !x.bp->is_done();
    if (!x.mirrors.empty()) {
      if (mirror_body.size() + n > opt_.mirror_max_body_bytes) {
        DropMirrors(x);
        mirror_body.clear();
      } else {
        mirror_body.append(x.chunk.data(), n);
      }
    }
    if (n == 0 && req.body().more) continue;
    x.upstream->expires_after(opt_.body_timeout);
    co_await http::async_write(*x.upstream, *x.sr, asio::redirect_error(asio::use_awaitable, x.ec));
    if (x.ec == http::error::need_buffer) x.ec = {};
    if (x.ec) {
      request_ok = false;
      break;
    }
  }
  if (request_ok && !x.sr->is_done()) {
    req.body().data = nullptr;
    req.body().size = 0;
    req.body().more = false;
    co_await http::async_write(*x.upstream, *x.sr, asio::redirect_error(asio::use_awaitable, x.ec));
    if (x.ec == http::error::need_buffer) x.ec = {};
    if (x.ec) request_ok = false;
  }
  if (!request_ok) {
    MarkPassiveDown(x.backend);
    Observe(x.up, 502, x.start);
    co_await Reply(x.client, http::status::bad_gateway,
                   "upstream " + x.up->name + " failed while sending the request", false, "upstream_error");
    co_return false;
  }
  SendMirrors(x, std::move(mirror_body));
  co_return true;
}

void Gateway::Impl::SendMirrors(Exchange& x, std::string body) {
  if (x.mirrors.empty()) return;
  x.mirror_req->body() = std::move(body);
  x.mirror_req->prepare_payload();
  for (int m : x.mirrors) {
    if (mirrors_in_flight_.fetch_add(1) >= opt_.max_mirrors_in_flight) {
      mirrors_in_flight_.fetch_sub(1);
      x.active->upstreams[m]->metrics.mirrors_dropped->Increment();
      mirrors_dropped_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    asio::co_spawn(*iocs_[x.thread], Mirror(x.active, m, x.mirror_req, x.thread), LogException{"mirror"});
  }
}

awaitable<bool> Gateway::Impl::ReadResponseHead(Exchange& x, std::optional<http::response_parser<http::buffer_body>>& rpo) {
  // The response header, skipping interim 100 Continue.
  auto& req = x.bp->get();
  for (bool retried = false;;) {
    rpo.emplace();
    rpo->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (x.is_head) rpo->skip(true);
    x.upstream->expires_after(opt_.response_timeout);
    co_await http::async_read_header(*x.upstream, x.ubuf, *rpo, asio::redirect_error(asio::use_awaitable, x.ec));
    if (!x.ec && rpo->get().result() == http::status::continue_) continue;
    bool stale = x.ec == http::error::end_of_stream || x.ec == asio::error::eof ||
                 x.ec == asio::error::connection_reset || x.ec == asio::error::broken_pipe;
    if (!(stale && x.reused && !retried && x.bodiless_request && x.ubuf.size() == 0)) break;
    // The pooled connection had been closed by the upstream: send the
    // (bodiless, so repeatable) request again on a fresh connection.
    retried = true;
    x.reused = false;
    x.upstream.reset();
    auto fresh = co_await Connect(x.backend, opt_.connect_timeout);
    if (!fresh) break;
    x.upstream.emplace(std::move(*fresh));
    x.sr.emplace(req);
    req.body().data = nullptr;
    req.body().size = 0;
    req.body().more = false;
    x.upstream->expires_after(opt_.body_timeout);
    co_await http::async_write(*x.upstream, *x.sr, asio::redirect_error(asio::use_awaitable, x.ec));
    if (x.ec == http::error::need_buffer) x.ec = {};
    if (x.ec) break;
  }
  if (!x.ec && x.upstream) co_return true;
  if (!x.ec) x.ec = asio::error::connection_reset;  // no fresh connection for the retry
  spdlog::debug("[gateway] upstream {} response header: {}", x.backend->address, x.ec.message());
  bool timeout = x.ec == beast::error::timeout;
  if (!timeout) MarkPassiveDown(x.backend);
  Observe(x.up, timeout ? 504 : 502, x.start);
  co_await Reply(x.client, timeout ? http::status::gateway_timeout : http::status::bad_gateway,
                 "upstream " + x.up->name + (timeout ? " timed out" : " closed the connection"), false,
                 "upstream_error");
  co_return false;
}

void Gateway::Impl::CountResponse(BackendState* backend, int status) {
  // Passive health: a run of 5xx answers takes the backend out for a while.
  if (status >= 500) {
    if (backend->consecutive_5xx.fetch_add(1) + 1 >= opt_.passive_5xx_threshold) {
      backend->consecutive_5xx.store(0);
      MarkPassiveDown(backend);
    }
  } else if (backend->consecutive_5xx.load(std::memory_order_relaxed) != 0) {
    backend->consecutive_5xx.store(0);
  }
}

awaitable<void> Gateway::Impl::TunnelUpgrade(Exchange& x, http::response<http::buffer_body>& res, int status) {
  // Hand both sockets to a byte tunnel; leftovers go first.
  http::response_serializer<http::buffer_body> rs{res};
  x.client.expires_after(opt_.body_timeout);
  co_await http::async_write_header(x.client, rs, asio::redirect_error(asio::use_awaitable, x.ec));
  Observe(x.up, status, x.start);
  if (x.ec) co_return;
  x.client.expires_never();
  x.upstream->expires_never();
  if (x.buf.size()) {
    co_await asio::async_write(*x.upstream, x.buf.data(), asio::redirect_error(asio::use_awaitable, x.ec));
    x.buf.consume(x.buf.size());
  }
  if (x.ubuf.size()) {
    co_await asio::async_write(x.client, x.ubuf.data(), asio::redirect_error(asio::use_awaitable, x.ec));
    x.ubuf.consume(x.ubuf.size());
  }
  if (x.ec) co_return;
  auto c = std::make_shared<beast::tcp_stream>(std::move(x.client));
  auto u = std::make_shared<beast::tcp_stream>(std::move(*x.upstream));
  co_await Tunnel(c, u);
}

awaitable<bool> Gateway::Impl::StreamResponse(Exchange& x, http::response_parser<http::buffer_body>& rp, int status) {
  auto& res = rp.get();
  bool upstream_reusable = res.keep_alive() && !x.upgrade;
  StripHopByHop(res, false);
  bool bodiless = x.is_head || status / 100 == 1 || status == 204 || status == 304;
  if (!bodiless && !res.chunked() && !res.has_content_length()) {
    // Body delimited by the upstream closing: re-frame as chunked.
    res.chunked(true);
    upstream_reusable = false;
  }
  res.keep_alive(x.client_keep);
  res.version(11);
  http::response_serializer<http::buffer_body> rs{res};
  res.body().data = nullptr;
  res.body().size = 0;
  res.body().more = !rp.is_done();
  if (!rp.is_done() && x.ubuf.size() == 0) {
    // The body is not here yet (maybe a slow stream): the header goes now.
    // Otherwise it leaves together with the first body bytes, in one write.
    x.client.expires_after(opt_.body_timeout);
    co_await http::async_write_header(x.client, rs, asio::redirect_error(asio::use_awaitable, x.ec));
  }
  bool client_ok = !x.ec;
  bool upstream_ok = true;
  while (client_ok && !rp.is_done()) {
    res.body().data = x.chunk.data();
    res.body().size = x.chunk.size();
    x.upstream->expires_after(opt_.body_timeout);
    co_await http::async_read_some(*x.upstream, x.ubuf, rp, asio::redirect_error(asio::use_awaitable, x.ec));
    if (x.ec == http::error::need_buffer) x.ec = {};
    if (x.ec) {
      upstream_ok = false;
      break;
    }
    size_t n = x.chunk.size() - res.body().size;
    res.body().data = x.chunk.data();
    res.body().size = n;
    res.body().more = !rp.is_done();
    if (n == 0 && res.body().more) continue;
    x.client.expires_after(opt_.body_timeout);
    co_await http::async_write(x.client, rs, asio::redirect_error(asio::use_awaitable, x.ec));
    if (x.ec == http::error::need_buffer) x.ec = {};
    if (x.ec) client_ok = false;
  }
  if (client_ok && upstream_ok && !rs.is_done()) {
    res.body().data = nullptr;
    res.body().size = 0;
    res.body().more = false;
    co_await http::async_write(x.client, rs, asio::redirect_error(asio::use_awaitable, x.ec));
    if (x.ec == http::error::need_buffer) x.ec = {};
    if (x.ec) client_ok = false;
  }
  Observe(x.up, status, x.start);
  if (upstream_ok && client_ok && upstream_reusable && rp.is_done() && x.ubuf.size() == 0) {
    PutIdle(x.thread, x.backend->address, std::move(*x.upstream));
  }
  // An upstream failing mid-body cannot be reported with a status any more:
  // closing the client connection tells it the response is truncated.
  co_return client_ok && upstream_ok && x.client_keep;
}

awaitable<bool> Gateway::Impl::HandleOne(beast::tcp_stream& client, beast::flat_buffer& buf,
                                         http::request_parser<http::empty_body>& hp, int thread,
                                         const std::string& remote, std::vector<char>& chunk,
                                         beast::flat_buffer& ubuf) {
  ubuf.clear();  // the upstream read buffer, reused across requests
  requests_.fetch_add(1, std::memory_order_relaxed);
  Exchange x(client, buf, chunk, ubuf, thread);
  x.start = Clock::now();
  auto& head = hp.get();
  bool has_body = hp.chunked() || (hp.content_length() && *hp.content_length() > 0);
  // After answering without reading the body, the connection cannot be reused.
  x.keep_if_rejected = head.keep_alive() && !has_body;
  x.active = active_.load();
  std::string host_header;
  if (std::optional<Rejection> r = Admit(head, *x.active, x.keep_if_rejected, &host_header, &x.route)) {
    co_await Reply(client, r->status, r->text, r->keep, r->reason, r->location);
    co_return r->keep;
  }
  int64_t now_ns = NowNs();
  int pick = x.route->picker->Pick([&](int i) {
    return x.active->upstreams[x.route->target_upstreams[i]]->AnyHealthy(now_ns);
  });
  if (pick < 0) {
    co_await Reply(client, http::status::service_unavailable, "no healthy backend", x.keep_if_rejected, "no_healthy");
    co_return x.keep_if_rejected;
  }
  x.up = x.active->upstreams[x.route->target_upstreams[pick]].get();
  x.upgrade = IsUpgrade(head);
  x.client_keep = head.keep_alive() && !x.upgrade;
  x.is_head = head.method() == http::verb::head;
  if (http::token_list(head[http::field::expect]).exists("100-continue")) {
    head.erase(http::field::expect);
    static constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";
    client.expires_after(opt_.body_timeout);
    co_await asio::async_write(client, asio::buffer(k100.data(), k100.size()),
                               asio::redirect_error(asio::use_awaitable, x.ec));
    if (x.ec) co_return false;
  }
  PickMirrors(x, hp.content_length().value_or(0));
  x.bp.emplace(std::move(hp));
  x.bp->body_limit(std::numeric_limits<std::uint64_t>::max());
  x.bodiless_request = x.bp->is_done();
  RewriteRequest(x, remote, host_header);

  if (!co_await ConnectAndSendHead(x)) {
    Reject("upstream_unavailable");
    x.up->metrics.by_class[5]->Increment();
    x.up->metrics.errors_5xx->Increment();
    DropMirrors(x);
    bool none_healthy = !x.up->AnyHealthy(NowNs());
    co_await Reply(client, none_healthy ? http::status::service_unavailable : http::status::bad_gateway,
                   "upstream " + x.up->name + " is unavailable", x.keep_if_rejected, "upstream_unavailable");
    co_return x.keep_if_rejected;
  }
  if (!co_await StreamRequestBody(x)) co_return false;
  std::optional<http::response_parser<http::buffer_body>> rpo;
  if (!co_await ReadResponseHead(x, rpo)) co_return false;
  int status = rpo->get().result_int();
  CountResponse(x.backend, status);
  if (x.upgrade && status == 101) {
    co_await TunnelUpgrade(x, rpo->get(), status);
    co_return false;
  }
  co_return co_await StreamResponse(x, *rpo, status);
}

awaitable<void> Gateway::Impl::Pump(std::shared_ptr<beast::tcp_stream> from, std::shared_ptr<beast::tcp_stream> to) {
  std::vector<char> data(16 * 1024);
  beast::error_code ec;
  for (;;) {
    size_t n = co_await from->async_read_some(asio::buffer(data), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    co_await asio::async_write(*to, asio::buffer(data.data(), n), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  to->socket().shutdown(tcp::socket::shutdown_send, ec);
}

awaitable<void> Gateway::Impl::Tunnel(std::shared_ptr<beast::tcp_stream> client, std::shared_ptr<beast::tcp_stream> up) {
  asio::co_spawn(co_await asio::this_coro::executor, Pump(up, client), LogException{"tunnel"});
  co_await Pump(client, up);
}

awaitable<void> Gateway::Impl::Mirror(std::shared_ptr<const Active> active, int upstream,
                                      std::shared_ptr<http::request<http::string_body>> req, int thread) {
  struct Release {
    std::atomic<size_t>& n;
    ~Release() { n.fetch_sub(1); }
  } release{mirrors_in_flight_};
  UpstreamRuntime* up = active->upstreams[upstream].get();
  BackendState* b = up->PickHealthy(NowNs(), {});
  if (!b) {
    up->metrics.mirrors_dropped->Increment();
    mirrors_dropped_.fetch_add(1, std::memory_order_relaxed);
    co_return;
  }
  auto start = Clock::now();
  std::optional<beast::tcp_stream> s = TakeIdle(thread, b->address);
  if (!s) {
    auto fresh = co_await Connect(b, opt_.connect_timeout);
    if (fresh) s.emplace(std::move(*fresh));
  }
  if (!s) {
    MarkPassiveDown(b);
    up->metrics.mirrors_dropped->Increment();
    mirrors_dropped_.fetch_add(1, std::memory_order_relaxed);
    co_return;
  }
  up->metrics.mirrors_sent->Increment();
  mirrors_sent_.fetch_add(1, std::memory_order_relaxed);
  beast::error_code ec;
  s->expires_after(opt_.mirror_timeout);
  co_await http::async_write(*s, *req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  beast::flat_buffer ubuf;
  http::response_parser<http::buffer_body> rp;
  rp.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (req->method() == http::verb::head) rp.skip(true);
  thread_local std::vector<char> sink(16 * 1024);  // mirrored bodies are dropped here
  co_await http::async_read_header(*s, ubuf, rp, asio::redirect_error(asio::use_awaitable, ec));
  while (!ec && !rp.is_done()) {
    rp.get().body().data = sink.data();
    rp.get().body().size = sink.size();
    co_await http::async_read_some(*s, ubuf, rp, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
  }
  if (ec) co_return;
  Observe(up, rp.get().result_int(), start);
  if (rp.get().keep_alive() && ubuf.size() == 0) PutIdle(thread, b->address, std::move(*s));
}

awaitable<void> Gateway::Impl::HealthLoop() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  beast::error_code ec;
  for (;;) {
    auto active = active_.load();
    auto now = Clock::now();
    const auto& ups = active->table->upstreams();
    for (size_t i = 0; i < ups.size(); ++i) {
      for (const auto& b : active->upstreams[i]->backends) {
        if (ups[i].health.path.empty() || b->checking || now < b->next_check) continue;
        b->checking = true;
        asio::co_spawn(timer.get_executor(), Check(active, b, ups[i].health), LogException{"health check"});
      }
    }
    RefreshHealthyGauges(*active);
    timer.expires_after(opt_.health_tick);
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

void Gateway::Impl::RefreshHealthyGauges(const Active& active) {
  int64_t now = NowNs();
  for (const auto& up : active.upstreams) {
    int healthy = 0;
    for (const auto& b : up->backends) healthy += b->Healthy(now);
    up->metrics.healthy_backends->Set(healthy);
  }
}

awaitable<void> Gateway::Impl::Check(std::shared_ptr<const Active> active, std::shared_ptr<BackendState> b,
                                     HealthCheck hc) {
  bool ok = false;
  auto s = co_await Connect(b.get(), hc.timeout);
  if (s) {
    http::request<http::empty_body> req{http::verb::get, hc.path, 11};
    req.set(http::field::host, b->address);
    req.set(http::field::user_agent, "quader-gateway-health");
    req.keep_alive(false);
    beast::error_code ec;
    s->expires_after(hc.timeout);
    co_await http::async_write(*s, req, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      beast::flat_buffer ubuf;
      http::response_parser<http::string_body> rp;
      rp.body_limit(64 * 1024);
      co_await http::async_read(*s, ubuf, rp, asio::redirect_error(asio::use_awaitable, ec));
      ok = !ec && rp.get().result_int() >= 200 && rp.get().result_int() < 400;
    }
  }
  if (ok) {
    b->fail_streak = 0;
    if (++b->ok_streak >= hc.healthy_threshold && !b->active_healthy.load()) {
      b->active_healthy.store(true);
      b->down_until_ns.store(0);
      spdlog::info("[gateway] backend {} is healthy", b->address);
      RefreshHealthyGauges(*active);
    }
  } else {
    b->ok_streak = 0;
    if (++b->fail_streak >= hc.unhealthy_threshold && b->active_healthy.load()) {
      b->active_healthy.store(false);
      spdlog::info("[gateway] backend {} is unhealthy (GET {} failed {} times)", b->address, hc.path,
                   b->fail_streak);
      RefreshHealthyGauges(*active);
    }
  }
  b->next_check = Clock::now() + hc.interval;
  b->checking = false;
}

Gateway::Gateway(GatewayOptions options, prometheus::Registry* registry)
    : impl_(std::make_unique<Impl>(std::move(options), registry)) {}
Gateway::~Gateway() = default;
Status Gateway::Start() { return impl_->Start(); }
uint16_t Gateway::port() const { return impl_->port(); }
void Gateway::Stop() { impl_->Stop(); }
void Gateway::SetRoutes(std::shared_ptr<const RouteTable> table) { impl_->SetRoutes(std::move(table)); }
std::shared_ptr<const RouteTable> Gateway::routes() const { return impl_->routes(); }

Status Gateway::SetRouteSet(const std::string& source, std::vector<Upstream> upstreams, std::vector<Route> routes) {
  std::lock_guard<std::mutex> lock(sets_mu_);
  auto candidate = sets_;
  candidate[source] = {std::move(upstreams), std::move(routes)};
  std::vector<Upstream> all_upstreams;
  std::vector<Route> all_routes;
  for (const auto& [name, set] : candidate) {
    all_upstreams.insert(all_upstreams.end(), set.first.begin(), set.first.end());
    all_routes.insert(all_routes.end(), set.second.begin(), set.second.end());
  }
  auto table = RouteTable::Build(std::move(all_upstreams), std::move(all_routes));
  if (!table.ok()) return errors::Invalid("routes of " + source, table.status().message());
  sets_ = std::move(candidate);
  impl_->SetRoutes(*table);
  return Status::Ok();
}
std::vector<BackendHealth> Gateway::Health() const { return impl_->Health(); }
GatewayStats Gateway::stats() const { return impl_->stats(); }

}  // namespace quader::gateway
