#include "pipeline/webhook.h"

#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

namespace quader::pipeline {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;
};

Result<Url> ParseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else {
    return errors::Invalid("webhook.url", "\"" + url + "\" must start with http:// or https://");
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.empty()) return errors::Invalid("webhook.url", "\"" + url + "\" has no host");
  return u;
}

template <typename Stream>
int Exchange(Stream& stream, const Url& u, const std::string& body) {
  http::request<http::string_body> req{http::verb::post, u.target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::user_agent, "quader-webhook");
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return static_cast<int>(res.result_int());
}

}  // namespace

Result<int> PostWebhook(const std::string& url, const Json& payload) {
  QUADER_ASSIGN_OR_RETURN(Url u, ParseUrl(url));
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(u.host, u.port);
    if (u.tls) {
      asio::ssl::context ctx(asio::ssl::context::tls_client);
      ctx.set_default_verify_paths();
      ctx.set_verify_mode(asio::ssl::verify_peer);
      beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
      SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str());
      stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
      beast::get_lowest_layer(stream).connect(endpoints);
      stream.handshake(asio::ssl::stream_base::client);
      return Exchange(stream, u, payload.dump());
    }
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(endpoints);
    return Exchange(stream, u, payload.dump());
  } catch (const std::exception& e) {
    return errors::Unavailable("webhook " + url + ": " + e.what());
  }
}

void SendWebhookAsync(const std::string& url, const Json& payload) {
  std::thread([url, payload] {
    auto r = PostWebhook(url, payload);
    if (!r.ok()) spdlog::warn("[pipeline] webhook failed: {}", r.status().message());
    else if (*r >= 300) spdlog::warn("[pipeline] webhook {} answered HTTP {}", url, *r);
    else spdlog::info("[pipeline] webhook {} called ({}): HTTP {}", url, payload.value("event", ""), *r);
  }).detach();
}

}  // namespace quader::pipeline
