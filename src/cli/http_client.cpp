#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace quader::cli {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

Result<ParsedUrl> ParseHttpUrl(const std::string& url) {
  const std::string kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    return errors::Invalid("server", "\"" + url + "\" must start with http://");
  }
  std::string rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  ParsedUrl out;
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = hostport.rfind(':');
  // "[::1]" has colons but no port: a port colon comes after the closing bracket.
  bool bracketed = hostport.find('[') != std::string::npos;
  if (colon == std::string::npos || (bracketed && hostport.find(']') > colon)) {
    out.host = hostport;
    out.port = "80";
  } else {
    out.host = hostport.substr(0, colon);
    out.port = hostport.substr(colon + 1);
  }
  if (out.host.size() > 1 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty() || out.port.empty()) return errors::Invalid("server", "\"" + url + "\" has no host");
  return out;
}

Result<HttpReply> HttpRequest(const std::string& method, const std::string& url,
                              const std::string& body,
                              const std::map<std::string, std::string>& headers,
                              int timeout_seconds) {
  QUADER_ASSIGN_OR_RETURN(ParsedUrl u, ParseHttpUrl(url));
  try {
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(timeout_seconds));
    auto endpoints = resolver.resolve(u.host, u.port);
    stream.connect(endpoints);

    http::request<http::string_body> req{http::string_to_verb(method), u.target, 11};
    // An IPv6 literal goes back in brackets, or the Host header is ambiguous.
    std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    req.set(http::field::host, host + ":" + u.port);
    req.set(http::field::user_agent, "quader-cli");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST" || method == "PUT") {
      req.body() = body;
      req.prepare_payload();
    }
    http::write(stream, req);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    http::read(stream, buffer, parser);
    auto res = parser.release();

    HttpReply reply;
    reply.status = res.result_int();
    reply.body = std::move(res.body());
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(field.value());
    }
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return reply;
  } catch (const std::exception& e) {
    return errors::Unavailable("cannot reach " + u.host + ":" + u.port + ": " + e.what());
  }
}

}  // namespace quader::cli
