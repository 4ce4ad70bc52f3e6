// Helper for bench/gateway_proxy.sh: a small fast upstream, and the Quader
// gateway in front of it with a plain route, a 50/50 split or a mirror.
//
//   gateway_proxy_bench upstream PORT [THREADS]
//   gateway_proxy_bench gateway PORT plain|split|mirror UPSTREAM_PORT [MIRROR_PORT] [THREADS]
//
// Runs until killed.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gateway/gateway.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

asio::awaitable<void> Serve(tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buf;
  for (;;) {
    http::request<http::string_body> req;
    co_await http::async_read(stream, buf, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    http::response<http::string_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain");
    res.body() = "hello from the upstream\n";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !req.keep_alive()) co_return;
  }
}

asio::awaitable<void> Accept(tcp::acceptor& acceptor) {
  for (;;) {
    tcp::socket s(acceptor.get_executor());
    beast::error_code ec;
    co_await acceptor.async_accept(s, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), Serve(std::move(s)), asio::detached);
  }
}

int RunUpstream(uint16_t port, int threads) {
  asio::io_context ioc(threads);
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::co_spawn(ioc, Accept(acceptor), asio::detached);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  return 0;
}

int RunGateway(uint16_t port, const std::string& mode, uint16_t up, uint16_t mirror, int threads) {
  using namespace quader::gateway;
  prometheus::Registry registry;
  GatewayOptions opt;
  opt.port = port;
  opt.io_threads = threads;
  Gateway gw(opt, &registry);
  std::vector<Upstream> ups = {{"app", {{"127.0.0.1", up}}, {}}, {"canary", {{"127.0.0.1", up}}, {}}};
  Route r;
  r.host = "bench.service.local";
  r.targets = {{"app", 1}};
  if (mode == "split") r.targets = {{"app", 50}, {"canary", 50}};
  if (mode == "mirror") {
    ups.push_back({"shadow", {{"127.0.0.1", mirror}}, {}});
    r.mirrors = {{"shadow", 100}};
  }
  auto table = RouteTable::Build(ups, {r});
  if (!table.ok()) {
    std::cerr << table.status().ToString() << "\n";
    return 2;
  }
  gw.SetRoutes(*table);
  auto st = gw.Start();
  if (!st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  asio::io_context main;
  asio::signal_set signals(main, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { main.stop(); });
  main.run();
  auto s = gw.stats();
  std::cerr << "gateway(" << mode << "): requests " << s.requests << ", upstream connections "
            << s.upstream_connections_opened << ", mirrors sent " << s.mirrors_sent << ", dropped "
            << s.mirrors_dropped << "\n";
  gw.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 2 && a[0] == "upstream") {
    return RunUpstream(static_cast<uint16_t>(std::stoi(a[1])), a.size() > 2 ? std::stoi(a[2]) : 2);
  }
  if (a.size() >= 4 && a[0] == "gateway") {
    uint16_t mirror = a.size() > 4 ? static_cast<uint16_t>(std::stoi(a[4])) : 0;
    int threads = a.size() > 5 ? std::stoi(a[5]) : 2;
    return RunGateway(static_cast<uint16_t>(std::stoi(a[1])), a[2], static_cast<uint16_t>(std::stoi(a[3])),
                      mirror, threads);
  }
  std::cerr << "usage: gateway_proxy_bench upstream PORT [THREADS]\n"
               "       gateway_proxy_bench gateway PORT plain|split|mirror UPSTREAM_PORT [MIRROR_PORT] [THREADS]\n";
  return 2;
}
