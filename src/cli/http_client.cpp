#include "cli/http_client.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>
#include <limits>
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

namespace {

// The request as sent by both calls: Host, User-Agent, then `headers`.
http::request<http::string_body> MakeRequest(const std::string& method, const ParsedUrl& u,
                                             const std::string& body,
                                             const std::map<std::string, std::string>& headers) {
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
  return req;
}

// Connects `stream` to the URL's server and sends `req`; throws on failure.
void Send(boost::asio::io_context& ioc, beast::tcp_stream& stream, const ParsedUrl& u,
          const http::request<http::string_body>& req) {
  tcp::resolver resolver(ioc);
  stream.connect(resolver.resolve(u.host, u.port));
  http::write(stream, req);
}

template <typename Fields>
void CopyHeaders(const Fields& fields, HttpReply& reply) {
  for (const auto& field : fields) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(field.value());
  }
}

std::string Unreachable(const ParsedUrl& u, const std::exception& e) {
  return "cannot reach " + u.host + ":" + u.port + ": " + e.what();
}

// Reads the whole reply (a body of at most `limit` bytes) and closes the
// connection; throws on failure.
HttpReply ReadReply(beast::tcp_stream& stream, uint64_t limit) {
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(limit);
  http::read(stream, buffer, parser);
  auto res = parser.release();
  HttpReply reply;
  reply.status = res.result_int();
  reply.body = std::move(res.body());
  CopyHeaders(res, reply);
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return reply;
}

}  // namespace

Result<HttpReply> HttpRequest(const std::string& method, const std::string& url,
                              const std::string& body,
                              const std::map<std::string, std::string>& headers,
                              int timeout_seconds) {
  QUADER_ASSIGN_OR_RETURN(ParsedUrl u, ParseHttpUrl(url));
  try {
    boost::asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(timeout_seconds));
    Send(ioc, stream, u, MakeRequest(method, u, body, headers));
    return ReadReply(stream, 256 * 1024 * 1024);
  } catch (const std::exception& e) {
    return errors::Unavailable(Unreachable(u, e));
  }
}

Result<HttpReply> HttpStreamRequest(const std::string& method, const std::string& url,
                                    const std::map<std::string, std::string>& headers,
                                    const BodySink& sink, int timeout_seconds) {
  QUADER_ASSIGN_OR_RETURN(ParsedUrl u, ParseHttpUrl(url));
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  // A followed log has no length. Not boost::none: Boost 1.74 compares a
  // Content-Length against an empty limit as if it were exceeded.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  HttpReply reply;
  try {
    stream.expires_after(std::chrono::seconds(timeout_seconds));
    Send(ioc, stream, u, MakeRequest(method, u, "", headers));
    http::read_header(stream, buffer, parser);
  } catch (const std::exception& e) {
    return errors::Unavailable(Unreachable(u, e));
  }
  reply.status = parser.get().result_int();
  CopyHeaders(parser.get(), reply);
  const bool success = reply.status >= 200 && reply.status < 300;
  if (success) stream.expires_never();

  // read_some returns as soon as some of the body is parsed, so each piece
  // reaches the sink when it arrives rather than when the buffer fills.
  std::array<char, 16 * 1024> piece{};
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    beast::error_code ec;
    http::read_some(stream, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    size_t n = piece.size() - parser.get().body().size;
    if (n > 0 && success && !sink(std::string_view(piece.data(), n))) break;
    if (n > 0 && !success) reply.body.append(piece.data(), n);
    if (ec) {
      return errors::Unavailable("the connection to " + u.host + ":" + u.port +
                                 " broke off: " + ec.message());
    }
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return reply;
}

Result<HttpReply> HttpUploadRequest(const std::string& method, const std::string& url,
                                    const std::map<std::string, std::string>& headers, int fd, int64_t size,
                                    const std::function<void(int64_t sent)>& progress, int timeout_seconds) {
  QUADER_ASSIGN_OR_RETURN(ParsedUrl u, ParseHttpUrl(url));
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  http::request<http::empty_body> head{http::string_to_verb(method), u.target, 11};
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  head.set(http::field::host, host + ":" + u.port);
  head.set(http::field::user_agent, "quader-cli");
  for (const auto& [k, v] : headers) head.set(k, v);
  head.content_length(static_cast<uint64_t>(size));
  bool sent_all = false;
  try {
    stream.expires_after(std::chrono::seconds(timeout_seconds));
    tcp::resolver resolver(ioc);
    stream.connect(resolver.resolve(u.host, u.port));
    http::request_serializer<http::empty_body> sr{head};
    http::write_header(stream, sr);
    std::vector<char> piece(256 * 1024);
    int64_t sent = 0;
    while (sent < size) {
      ssize_t n = read(fd, piece.data(), static_cast<size_t>(std::min<int64_t>(piece.size(), size - sent)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errors::Internal(std::string("reading the file: ") + std::strerror(errno));
      if (n == 0) return errors::Invalid("file", "it became shorter while being sent");
      stream.expires_after(std::chrono::seconds(timeout_seconds));
      boost::asio::write(stream, boost::asio::buffer(piece.data(), static_cast<size_t>(n)));
      sent += n;
      if (progress) progress(sent);
    }
    sent_all = true;
  } catch (const std::exception& e) {
    // A refusal answered before the whole body was taken: read it below.
    if (!stream.socket().is_open()) return errors::Unavailable(Unreachable(u, e));
  }
  try {
    stream.expires_after(std::chrono::seconds(timeout_seconds));
    return ReadReply(stream, 64 * 1024 * 1024);
  } catch (const std::exception& e) {
    return errors::Unavailable(std::string(sent_all ? "" : "the upload broke off: ") + Unreachable(u, e));
  }
}

}  // namespace quader::cli
