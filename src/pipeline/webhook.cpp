#include "pipeline/webhook.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <sstream>
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
  if (authority.find('@') != std::string::npos) {
    return errors::Invalid("webhook.url", "\"" + url + "\" must not hold a user name or password");
  }
  size_t bracket = authority.find(']');
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.size() >= 2 && u.host.front() == '[' && u.host.back() == ']') u.host = u.host.substr(1, u.host.size() - 2);
  if (u.host.empty()) return errors::Invalid("webhook.url", "\"" + url + "\" has no host");
  return u;
}

Result<uint16_t> PortOf(const std::string& url, const std::string& text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(text) < 1 || std::stoi(text) > 65535) {
    return errors::Invalid("webhook.url", "\"" + url + "\": port \"" + text + "\" is not 1-65535");
  }
  return static_cast<uint16_t>(std::stoi(text));
}

std::vector<uint8_t> BytesOf(const asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return {b.begin(), b.end()};
  }
  auto b = a.to_v6().to_bytes();
  return {b.begin(), b.end()};
}

// IPv4-mapped IPv6 (::ffff:127.0.0.1) is the IPv4 address it maps.
asio::ip::address Unmapped(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

bool InCidr(const std::vector<uint8_t>& bytes, const Cidr& c) {
  if (bytes.size() != c.network.size()) return false;
  for (int bit = 0; bit < c.prefix; ++bit) {
    int mask = 0x80 >> (bit % 8);
    if ((bytes[bit / 8] & mask) != (c.network[bit / 8] & mask)) return false;
  }
  return true;
}

// Why `a` is never a webhook's destination by default, or "".
std::string RefusedKind(const asio::ip::address& a) {
  if (a.is_unspecified()) return "an unspecified";
  if (a.is_loopback()) return "a loopback";
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    if (b[0] == 0) return "an unspecified";  // 0.0.0.0/8: "this network"
    if (b[0] == 169 && b[1] == 254) return "a link-local";
  } else if (a.to_v6().is_link_local()) {
    return "a link-local";
  }
  return "";
}

// This machine's interface addresses.
std::vector<asio::ip::address> OwnAddresses() {
  std::vector<asio::ip::address> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
      out.push_back(asio::ip::address_v4(ntohl(in->sin_addr.s_addr)));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), in6->sin6_addr.s6_addr, 16);
      out.push_back(asio::ip::address_v6(b));
    }
  }
  freeifaddrs(list);
  return out;
}

bool IsOwn(const asio::ip::address& a, const std::vector<asio::ip::address>& own) {
  return std::find(own.begin(), own.end(), a) != own.end();
}

Status CheckWith(const WebhookGuard* guard, const std::string& url, const asio::ip::address& a, uint16_t port,
                 bool own) {
  if (guard) return guard->CheckAddress(url, a.to_string(), port, own);
  WebhookGuard defaults;
  return defaults.CheckAddress(url, a.to_string(), port, own);
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

Result<std::vector<Cidr>> ParseCidrList(const std::string& field, const std::string& text) {
  std::vector<Cidr> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) continue;
    size_t slash = item.find('/');
    boost::system::error_code ec;
    auto a = asio::ip::make_address(item.substr(0, slash), ec);
    if (ec) return errors::Invalid(field, "\"" + item + "\" is not an address or CIDR (e.g. 10.0.0.0/8)");
    Cidr c;
    c.network = BytesOf(a);
    int max = static_cast<int>(c.network.size() * 8);
    c.prefix = max;
    if (slash != std::string::npos) {
      std::string bits = item.substr(slash + 1);
      if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(bits) > max) {
        return errors::Invalid(field, "\"" + item + "\": prefix length must be 0-" + std::to_string(max));
      }
      c.prefix = std::stoi(bits);
    }
    out.push_back(std::move(c));
  }
  return out;
}

void WebhookGuard::AddOwnPort(uint16_t port) {
  std::lock_guard<std::mutex> lock(mu_);
  own_ports_.insert(port);
}

Status WebhookGuard::CheckAddress(const std::string& url, const std::string& address, uint16_t port,
                                  bool own_address) const {
  boost::system::error_code ec;
  auto a = asio::ip::make_address(address, ec);
  if (ec) return errors::Invalid("webhook.url", "\"" + url + "\": \"" + address + "\" is not an address");
  a = Unmapped(a);
  std::vector<uint8_t> bytes = BytesOf(a);
  for (const auto& c : allow_) {
    if (InCidr(bytes, c)) return Status::Ok();
  }
  std::string why = RefusedKind(a);
  if (why.empty() && own_address) {
    std::lock_guard<std::mutex> lock(mu_);
    if (own_ports_.count(port)) why = "this server's own";
  }
  if (why.empty()) return Status::Ok();
  return errors::Denied("webhook.url: \"" + url + "\" goes to " + a.to_string() + ":" + std::to_string(port) +
                        ", " + why + " address; an admin can allow it with quader server --webhook-allow");
}

Status CheckWebhookUrl(const std::string& url, const WebhookGuard* guard) {
  QUADER_ASSIGN_OR_RETURN(Url u, ParseUrl(url));
  QUADER_ASSIGN_OR_RETURN(uint16_t port, PortOf(url, u.port));
  std::string host = u.host;
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  if (host == "localhost" || (host.size() > 10 && host.compare(host.size() - 10, 10, ".localhost") == 0)) {
    host = "127.0.0.1";
  }
  boost::system::error_code ec;
  auto a = asio::ip::make_address(host, ec);
  if (ec) return Status::Ok();  // a name: checked after it is resolved, at send time
  a = Unmapped(a);
  return CheckWith(guard, url, a, port, IsOwn(a, OwnAddresses()));
}

Result<int> PostWebhook(const std::string& url, const Json& payload, const WebhookGuard* guard) {
  QUADER_ASSIGN_OR_RETURN(Url u, ParseUrl(url));
  QUADER_ASSIGN_OR_RETURN(uint16_t port, PortOf(url, u.port));
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    // Resolve once and connect only to the addresses that pass, so a name
    // cannot answer differently between the check and the connect.
    std::vector<asio::ip::tcp::endpoint> endpoints;
    Status refused = Status::Ok();
    std::vector<asio::ip::address> own = OwnAddresses();
    for (const auto& e : resolver.resolve(u.host, u.port)) {
      asio::ip::address a = Unmapped(e.endpoint().address());
      Status st = CheckWith(guard, url, a, port, IsOwn(a, own));
      if (st.ok()) {
        endpoints.push_back(e.endpoint());
      } else if (refused.ok()) {
        refused = st;
      }
    }
    if (endpoints.empty()) {
      return refused.ok() ? errors::Unavailable("webhook " + url + ": the host has no address") : refused;
    }
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

void SendWebhookAsync(const std::string& url, const Json& payload, std::shared_ptr<const WebhookGuard> guard) {
  std::thread([url, payload, guard] {
    auto r = PostWebhook(url, payload, guard.get());
    if (!r.ok()) spdlog::warn("[pipeline] webhook failed: {}", r.status().message());
    else if (*r >= 300) spdlog::warn("[pipeline] webhook {} answered HTTP {}", url, *r);
    else spdlog::info("[pipeline] webhook {} called ({}): HTTP {}", url, payload.value("event", ""), *r);
  }).detach();
}

}  // namespace quader::pipeline
