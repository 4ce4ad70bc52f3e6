#pragma once
// A small HTTP/1.1 + WebSocket server for gateway tests, on 127.0.0.1 and a
// free port, with its own event loop thread. Behaviour by path:
//   /health        200 when healthy (set_healthy), else 503
//   /big?n=BYTES   a chunked body of n bytes ('x'), in 64 KiB chunks
//   /slow          chunked: "first", then after 1.5 s "last"
//   /ws            WebSocket echo
//   anything else  200, body = the server's name, header X-Upstream = name
// Request bodies are read in a streaming way and counted; the first 1 MiB
// is kept. Every request is recorded. `set_delay` delays every response.

#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace quader::gateway::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct RecordedRequest {
  std::string method;
  std::string target;
  std::string host;
  std::string body;  // first 1 MiB
  size_t body_bytes = 0;
  std::string forwarded_for;
  std::string cookie;
  std::string authorization;
};

class TestUpstream {
 public:
  explicit TestUpstream(std::string name) : name_(std::move(name)), acceptor_(ioc_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, Accept(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TestUpstream() { Stop(); }

  void Stop() {
    if (stopped_.exchange(true)) return;
    asio::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    ioc_.stop();
    thread_.join();
  }

  uint16_t port() const { return port_; }
  const std::string& name() const { return name_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  void set_healthy(bool h) { healthy_ = h; }
  void set_delay(std::chrono::milliseconds d) { delay_ms_ = static_cast<int>(d.count()); }
  // Closes each connection 50 ms after a response although it promised
  // keep-alive (as an upstream's idle timeout does).
  void set_close_idle(bool v) { close_idle_ = v; }
  std::vector<RecordedRequest> recorded() {
    std::lock_guard<std::mutex> lock(mu_);
    return recorded_;
  }
  // Requests other than health checks.
  int served() {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& r : recorded_) n += r.target != "/health";
    return n;
  }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      beast::error_code ec;
      tcp::socket s(ioc_);
      co_await acceptor_.async_accept(s, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ++connections_;
      asio::co_spawn(ioc_, Serve(std::move(s)), [](std::exception_ptr) {});
    }
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buf;
    beast::error_code ec;
    std::vector<char> chunk(64 * 1024);
    for (;;) {
      http::request_parser<http::empty_body> hp;
      hp.header_limit(64 * 1024);
      hp.body_limit(std::numeric_limits<std::uint64_t>::max());
      co_await http::async_read_header(stream, buf, hp, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ++requests_;
      if (websocket::is_upgrade(hp.get())) {
        websocket::stream<beast::tcp_stream> ws(std::move(stream));
        co_await ws.async_accept(hp.get(), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        for (;;) {
          beast::flat_buffer msg;
          co_await ws.async_read(msg, asio::redirect_error(asio::use_awaitable, ec));
          if (ec) co_return;
          ws.text(ws.got_text());
          co_await ws.async_write(msg.data(), asio::redirect_error(asio::use_awaitable, ec));
          if (ec) co_return;
        }
      }
      RecordedRequest rec;
      rec.method = std::string(hp.get().method_string());
      rec.target = std::string(hp.get().target());
      rec.host = std::string(hp.get()[http::field::host]);
      rec.forwarded_for = std::string(hp.get()["X-Forwarded-For"]);
      rec.cookie = std::string(hp.get()[http::field::cookie]);
      rec.authorization = std::string(hp.get()[http::field::authorization]);
      bool keep = hp.get().keep_alive();
      http::request_parser<http::buffer_body> bp{std::move(hp)};
      bp.body_limit(std::numeric_limits<std::uint64_t>::max());
      while (!bp.is_done()) {
        bp.get().body().data = chunk.data();
        bp.get().body().size = chunk.size();
        co_await http::async_read_some(stream, buf, bp, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == http::error::need_buffer) ec = {};
        if (ec) co_return;
        size_t n = chunk.size() - bp.get().body().size;
        rec.body_bytes += n;
        if (rec.body.size() < (1 << 20)) rec.body.append(chunk.data(), std::min(n, (1u << 20) - rec.body.size()));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        recorded_.push_back(rec);
      }
      if (int d = delay_ms_.load()) {
        asio::steady_timer t(ioc_, std::chrono::milliseconds(d));
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      std::string path = rec.target.substr(0, rec.target.find('?'));
      if (path == "/big" || path == "/slow") {
        http::response<http::empty_body> head{http::status::ok, 11};
        head.chunked(true);
        head.keep_alive(keep);
        http::response_serializer<http::empty_body> sr{head};
        co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        if (path == "/big") {
          size_t n = std::stoull(rec.target.substr(rec.target.find("n=") + 2));
          std::string block(64 * 1024, 'x');
          while (n > 0 && !ec) {
            size_t k = std::min(n, block.size());
            co_await asio::async_write(stream, http::make_chunk(asio::buffer(block.data(), k)),
                                       asio::redirect_error(asio::use_awaitable, ec));
            n -= k;
          }
        } else {
          std::string first = "first", last = "last";
          co_await asio::async_write(stream, http::make_chunk(asio::buffer(first)),
                                     asio::redirect_error(asio::use_awaitable, ec));
          asio::steady_timer t(ioc_, std::chrono::milliseconds(1500));
          co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          co_await asio::async_write(stream, http::make_chunk(asio::buffer(last)),
                                     asio::redirect_error(asio::use_awaitable, ec));
        }
        if (ec) co_return;
        co_await asio::async_write(stream, http::make_chunk_last(), asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !keep) co_return;
        continue;
      }
      http::response<http::string_body> res{http::status::ok, 11};
      if (path == "/health") {
        res.result(healthy_ ? http::status::ok : http::status::service_unavailable);
        res.body() = healthy_ ? "ok" : "down";
      } else {
        res.body() = name_;
      }
      res.set("X-Upstream", name_);
      res.keep_alive(keep);
      res.prepare_payload();
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep) co_return;
      if (close_idle_) {
        asio::steady_timer t(ioc_, std::chrono::milliseconds(50));
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_return;
      }
    }
  }

  const std::string name_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<int> connections_{0}, requests_{0}, delay_ms_{0};
  std::atomic<bool> healthy_{true}, close_idle_{false};
  std::mutex mu_;
  std::vector<RecordedRequest> recorded_;
};

// A port with nothing listening (bound once, then closed).
inline uint16_t DeadPort() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// A blocking HTTP/1.1 client with keep-alive, for tests.
class Client {
 public:
  explicit Client(uint16_t port) : stream_(ioc_) {
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  struct Reply {
    int status = 0;
    std::string body;
    std::string upstream;  // X-Upstream
    std::string location;
    bool ok = false;  // transport succeeded
  };
  Reply Get(const std::string& host, const std::string& target, const std::string& method = "GET",
            const std::string& body = "", bool keep_alive = true) {
    Reply out;
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, host);
    req.keep_alive(keep_alive);
    if (!body.empty() || method == "POST") {
      req.body() = body;
      req.prepare_payload();
    }
    beast::error_code ec;
    http::write(stream_, req, ec);
    if (ec) return out;
    http::response_parser<http::string_body> p;
    p.body_limit(std::numeric_limits<std::uint64_t>::max());
    http::read(stream_, buf_, p, ec);
    if (ec) return out;
    out.ok = true;
    out.status = p.get().result_int();
    out.body = p.get().body();
    out.upstream = std::string(p.get()["X-Upstream"]);
    out.location = std::string(p.get()[http::field::location]);
    return out;
  }
  beast::tcp_stream& stream() { return stream_; }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
};

}  // namespace quader::gateway::testing
