#include "runtime/docker/engine_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/url.h"
#include "runtime/run_sync.h"

namespace quader::runtime::docker {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using LocalStream = beast::basic_stream<asio::local::stream_protocol>;

constexpr uint64_t kMaxReplyBytes = 64ull << 20;  // inspect/list replies; logs are streamed
constexpr size_t kMaxErrorBytes = 1 << 20;

struct Reply {
  int status = 0;
  std::string body;
};

std::string Describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

// One connection to the engine, driven synchronously: each operation is started
// asynchronously on a private io_context and run to completion on the calling
// thread, which is what lets basic_stream enforce deadlines. Single-threaded.
class Connection {
 public:
  explicit Connection(const std::string& socket_path) : socket_path_(socket_path), stream_(ioc_) {}

  // Sets the deadline for everything that follows; nullopt means none.
  void SetDeadline(std::optional<std::chrono::milliseconds> timeout) {
    if (timeout) {
      stream_.expires_after(*timeout);
    } else {
      stream_.expires_never();
    }
  }

  Status Open() {
    // The endpoint constructor throws for a path longer than sun_path allows.
    if (socket_path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return errors::Unavailable("docker engine socket path is too long for a unix socket: " +
                                 socket_path_);
    }
    asio::local::stream_protocol::endpoint endpoint(socket_path_);
    beast::error_code ec = Run([&](auto handler) { stream_.async_connect(endpoint, handler); });
    if (ec) {
      return errors::Unavailable("docker engine at unix://" + socket_path_ +
                                 " cannot be reached: " + Describe(ec));
    }
    return Status::Ok();
  }

  Status Send(http::request<http::string_body>& request) {
    beast::error_code ec = Run([&](auto handler) { http::async_write(stream_, request, handler); });
    return ec ? Broken("sending the request", ec) : Status::Ok();
  }

  // Reads a whole reply into memory (for JSON calls).
  Result<Reply> ReadWhole() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxReplyBytes);
    beast::error_code ec =
        Run([&](auto handler) { http::async_read(stream_, buffer_, parser, handler); });
    if (ec) return Broken("reading the reply", ec);
    return Reply{static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
  }

  // Reads the reply header, then hands the body to `sink` piece by piece. For a
  // non-2xx reply, the body is collected (up to kMaxErrorBytes) into `*error_body`
  // instead. Returns the HTTP status.
  Result<int> ReadStreaming(const BodySink& sink, std::string* error_body) {
    http::response_parser<http::buffer_body> parser;
    // Not boost::none: Boost 1.74 compares `content_length > body_limit_` as optionals, so
    // "no limit" rejects every reply that has a Content-Length.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    beast::error_code ec =
        Run([&](auto handler) { http::async_read_header(stream_, buffer_, parser, handler); });
    if (ec) return Broken("reading the reply header", ec);
    int status = static_cast<int>(parser.get().result_int());
    bool ok = status >= 200 && status < 300;
    char piece[16384];
    while (!parser.is_done()) {
      parser.get().body().data = piece;
      parser.get().body().size = sizeof piece;
      // read_some: hand over whatever arrived (a followed log trickles in), not a full buffer.
      ec = Run([&](auto handler) { http::async_read_some(stream_, buffer_, parser, handler); });
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return Broken("reading the reply body", ec);
      std::string_view data(piece, sizeof piece - parser.get().body().size);
      if (data.empty()) continue;
      if (!ok) {
        if (error_body->size() < kMaxErrorBytes) error_body->append(data);
      } else if (!sink(data)) {
        break;  // the caller has seen enough; closing the connection ends the request
      }
    }
    return status;
  }

 private:
  template <typename Initiate>
  beast::error_code Run(Initiate&& initiate) {
    return RunToCompletion(ioc_, std::forward<Initiate>(initiate));
  }

  Status Broken(const std::string& what, const beast::error_code& ec) {
    return errors::Unavailable("docker engine at unix://" + socket_path_ + ": " + what + ": " +
                               Describe(ec));
  }

  const std::string socket_path_;
  asio::io_context ioc_;
  LocalStream stream_;
  beast::flat_buffer buffer_;
};

http::request<http::string_body> MakeRequest(http::verb verb, const std::string& target,
                                             const std::optional<Json>& body) {
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, "docker");
  request.set(http::field::user_agent, "quader");
  if (body) {
    request.set(http::field::content_type, "application/json");
    // Replace invalid UTF-8 instead of throwing: the body is built from user input.
    request.body() = body->dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  request.prepare_payload();
  return request;
}

Result<Reply> Exchange(const std::string& socket_path, http::verb verb, const std::string& target,
                       const std::optional<Json>& body, std::chrono::milliseconds timeout) {
  Connection connection(socket_path);
  connection.SetDeadline(timeout);
  QUADER_RETURN_IF_ERROR(connection.Open());
  auto request = MakeRequest(verb, target, body);
  QUADER_RETURN_IF_ERROR(connection.Send(request));
  return connection.ReadWhole();
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

EngineClient::EngineClient(std::string socket_path) : socket_path_(std::move(socket_path)) {}

Result<int> EngineClient::Hijack(const std::string& path, const Json& body, std::chrono::milliseconds timeout) const {
  const std::string target = std::string("/") + kApiVersion + path;
  auto request = MakeRequest(http::verb::post, target, body);
  request.set(http::field::connection, "Upgrade");
  request.set(http::field::upgrade, "tcp");
  std::ostringstream wire;
  wire << request;
  const std::string text = wire.str();
  if (socket_path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return errors::Unavailable("docker engine socket path is too long for a unix socket: " + socket_path_);
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errors::Unavailable(std::string("socket: ") + std::strerror(errno));
  auto fail = [&](Status st) -> Status {
    ::close(fd);
    return st;
  };
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return fail(errors::Unavailable("docker engine at unix://" + socket_path_ + " cannot be reached: " +
                                    std::strerror(errno)));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto wait_for = [&](short events) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, events, 0};
    return left.count() > 0 && ::poll(&p, 1, static_cast<int>(left.count())) == 1;
  };
  for (size_t sent = 0; sent < text.size();) {
    if (!wait_for(POLLOUT)) return fail(errors::Unavailable("docker engine: sending " + path + " timed out"));
    ssize_t n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0 && errno != EINTR) return fail(errors::Unavailable("docker engine: sending " + path + " failed"));
    if (n > 0) sent += static_cast<size_t>(n);
  }
  // The header, a byte at a time: whatever follows it is the stream's, and
  // must stay in the descriptor for its new owner.
  std::string head;
  while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
    if (head.size() > 64 * 1024 || !wait_for(POLLIN)) {
      return fail(errors::Unavailable("docker engine: no answer to " + path));
    }
    char c;
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n == 0) return fail(errors::Unavailable("docker engine: the connection closed during " + path));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errors::Unavailable("docker engine: reading the answer to " + path + " failed"));
    }
    head.push_back(c);
  }
  int status = 0;
  if (std::sscanf(head.c_str(), "HTTP/1.%*d %d", &status) != 1) {
    return fail(errors::Internal("docker engine: a malformed answer to " + path));
  }
  if (status == 101 || status == 200) return fd;
  // An error: its body says why (read what arrives within a moment).
  std::string error_body;
  char buf[4096];
  while (error_body.size() < kMaxErrorBytes && wait_for(POLLIN)) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    error_body.append(buf, static_cast<size_t>(n));
    if (error_body.find('}') != std::string::npos) break;
  }
  ::close(fd);
  return EngineError(status, "POST", path, error_body);
}

Status EngineClient::Ping(std::chrono::milliseconds timeout) const {
  QUADER_ASSIGN_OR_RETURN(Reply reply,
                          Exchange(socket_path_, http::verb::get, "/_ping", std::nullopt, timeout));
  if (reply.status != 200) return EngineError(reply.status, "GET", "/_ping", reply.body);
  return Status::Ok();
}

Status EngineClient::CallDroppingBody(std::string_view method, const std::string& path,
                                      const std::optional<Json>& body, std::chrono::milliseconds timeout) const {
  http::verb verb = http::string_to_verb(beast::string_view(method.data(), method.size()));
  if (verb == http::verb::unknown) {
    return errors::Internal("docker engine: unknown HTTP method " + std::string(method));
  }
  QUADER_ASSIGN_OR_RETURN(Reply reply,
                          Exchange(socket_path_, verb, std::string("/") + kApiVersion + path, body, timeout));
  if ((reply.status >= 200 && reply.status < 300) || reply.status == 304) return Status::Ok();
  return EngineError(reply.status, method, path, reply.body);
}

Result<Json> EngineClient::Call(std::string_view method, const std::string& path,
                                const std::optional<Json>& body,
                                std::chrono::milliseconds timeout) const {
  http::verb verb = http::string_to_verb(beast::string_view(method.data(), method.size()));
  if (verb == http::verb::unknown) {
    return errors::Internal("docker engine: unknown HTTP method " + std::string(method));
  }
  std::string target = std::string("/") + kApiVersion + path;
  QUADER_ASSIGN_OR_RETURN(Reply reply, Exchange(socket_path_, verb, target, body, timeout));
  bool ok = (reply.status >= 200 && reply.status < 300) || reply.status == 304;
  if (!ok) return EngineError(reply.status, method, path, reply.body);
  if (reply.body.empty()) return Json(nullptr);
  Json parsed = Json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return errors::Internal("docker engine: " + std::string(method) + " " + path +
                            ": reply is not JSON: " + reply.body.substr(0, 200));
  }
  return parsed;
}

Status EngineClient::Stream(const std::string& path, const BodySink& sink) const {
  return Send("GET", std::string("/") + kApiVersion + path, "", "", sink);
}

Status EngineClient::Send(std::string_view method, const std::string& target,
                          const std::string& body, const std::string& content_type,
                          const BodySink& sink) const {
  http::verb verb = http::string_to_verb(beast::string_view(method.data(), method.size()));
  if (verb == http::verb::unknown) {
    return errors::Internal("docker engine: unknown HTTP method " + std::string(method));
  }
  Connection connection(socket_path_);
  connection.SetDeadline(kDefaultTimeout);
  QUADER_RETURN_IF_ERROR(connection.Open());
  http::request<http::string_body> request = MakeRequest(verb, target, std::nullopt);
  if (!content_type.empty()) request.set(http::field::content_type, content_type);
  request.body() = body;
  request.prepare_payload();
  connection.SetDeadline(std::nullopt);  // a large build context, a log followed for days
  QUADER_RETURN_IF_ERROR(connection.Send(request));
  std::string error_body;
  QUADER_ASSIGN_OR_RETURN(int status, connection.ReadStreaming(sink, &error_body));
  if (status < 200 || status >= 300) return EngineError(status, method, target, error_body);
  return Status::Ok();
}

Result<int> EngineClient::Wait(const std::string& id, std::chrono::milliseconds timeout) const {
  std::string path = "/containers/" + PercentEncode(id) + "/wait?condition=not-running";
  QUADER_ASSIGN_OR_RETURN(Json reply, Call("POST", path, std::nullopt, timeout));
  if (!reply.is_object() || !reply.contains("StatusCode") ||
      !reply["StatusCode"].is_number_integer()) {
    return errors::Internal("docker engine: POST " + path + ": no StatusCode in " + reply.dump());
  }
  return reply["StatusCode"].get<int>();
}

Status EngineError(int http_status, std::string_view method, const std::string& path,
                   std::string_view body) {
  std::string message;
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
    message = parsed["message"].get<std::string>();
  } else {
    message = std::string(body.substr(0, 500));
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
      message.pop_back();
    }
  }
  std::string text = "docker engine: " + std::string(method) + " " + path + ": " + message +
                     " (HTTP " + std::to_string(http_status) + ")";
  // Docker answers a taken name with 409; Podman with 500 and "... already in use".
  if (Contains(message, "already in use")) return {Code::kAlreadyExists, text};
  switch (http_status) {
    case 400:
      return {Code::kInvalidArgument, text};
    case 404:
      return {Code::kNotFound, text};
    case 409:
      return {Code::kConflict, text};
    default:
      return {Code::kInternal, text};
  }
}

void LogDemuxer::Feed(std::string_view data, std::string* out) {
  buffer_.append(data);
  size_t pos = 0;
  while (buffer_.size() - pos >= 8) {
    const auto* header = reinterpret_cast<const unsigned char*>(buffer_.data() + pos);
    size_t length = (size_t{header[4]} << 24) | (size_t{header[5]} << 16) |
                    (size_t{header[6]} << 8) | size_t{header[7]};
    if (buffer_.size() - pos - 8 < length) break;
    out->append(buffer_, pos + 8, length);
    pos += 8 + length;
  }
  buffer_.erase(0, pos);
}


}  // namespace quader::runtime::docker
