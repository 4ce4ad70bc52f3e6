#include "runtime/kubernetes/api_client.h"

#include "core/log_stamp.h"
#include "runtime/kubernetes/mapping.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <thread>

#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "core/url.h"
#include "runtime/run_sync.h"

namespace quader::runtime::kubernetes {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr uint64_t kMaxReplyBytes = 256ull << 20;  // a big list; logs and watches are streamed
constexpr size_t kMaxErrorBytes = 1 << 20;
constexpr std::chrono::milliseconds kConnectTimeout{10000};

struct Endpoint {
  bool tls = true;
  std::string host;    // without brackets
  std::string port;
  std::string prefix;  // a path the server sits under ("" usually)
};

Result<Endpoint> ParseServer(const std::string& server) {
  Endpoint e;
  std::string rest;
  if (server.rfind("https://", 0) == 0) {
    rest = server.substr(8);
  } else if (server.rfind("http://", 0) == 0) {
    e.tls = false;
    rest = server.substr(7);
  } else {
    return errors::Invalid("server", "\"" + server + "\" is not an https:// or http:// URL");
  }
  size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    e.prefix = rest.substr(slash);
    rest = rest.substr(0, slash);
    while (!e.prefix.empty() && e.prefix.back() == '/') e.prefix.pop_back();
  }
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) return errors::Invalid("server", "\"" + server + "\": unclosed [");
    e.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') e.port = rest.substr(close + 2);
  } else {
    size_t colon = rest.find(':');
    e.host = rest.substr(0, colon);
    if (colon != std::string::npos) e.port = rest.substr(colon + 1);
  }
  if (e.host.empty()) return errors::Invalid("server", "\"" + server + "\" has no host");
  if (e.port.empty()) e.port = e.tls ? "443" : "80";
  return e;
}

std::string Describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  std::string m = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    char buf[256];
    ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof buf);
    m = buf;
  }
  return m;
}

bool IsIpAddress(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// One connection, plain or TLS, driven synchronously: each operation is
// started asynchronously on a private io_context and run to completion, so
// basic_stream's deadlines apply.
class Connection {
 public:
  Connection(const ClusterAccess& access, Endpoint endpoint)
      : access_(access), endpoint_(std::move(endpoint)), tls_ctx_(ssl::context::tls_client) {}

  Status Open() {
    if (endpoint_.tls) {
      QUADER_RETURN_IF_ERROR(SetUpTls());
      tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, tls_ctx_);
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(ioc_);
    }
    tcp::resolver resolver(ioc_);
    beast::error_code ec;
    auto results = resolver.resolve(endpoint_.host, endpoint_.port, ec);
    if (ec) return Unreachable("cannot resolve " + endpoint_.host + ": " + Describe(ec));
    Lowest().expires_after(kConnectTimeout);
    ec = Run([&](auto h) { Lowest().async_connect(results, [h](beast::error_code e, auto&&) { h(e); }); });
    if (ec) return Unreachable(Describe(ec));
    if (tls_) {
      if (!IsIpAddress(endpoint_.host)) SSL_set_tlsext_host_name(tls_->native_handle(), endpoint_.host.c_str());
      if (!access_.insecure_skip_verify) tls_->set_verify_callback(ssl::host_name_verification(endpoint_.host));
      ec = Run([&](auto h) { tls_->async_handshake(ssl::stream_base::client, h); });
      if (ec) return Unreachable("TLS handshake failed: " + Describe(ec));
    }
    return Status::Ok();
  }

  void SetDeadline(std::optional<std::chrono::milliseconds> timeout) {
    if (timeout) {
      Lowest().expires_after(*timeout);
    } else {
      Lowest().expires_never();
    }
  }

  int native_handle() { return Lowest().socket().native_handle(); }
  asio::io_context& ioc() { return ioc_; }
  beast::ssl_stream<beast::tcp_stream>* tls() { return tls_.get(); }
  beast::tcp_stream* plain() { return plain_.get(); }

  Status Send(http::request<http::string_body>& req) {
    beast::error_code ec = Run([&](auto h) {
      if (tls_) {
        http::async_write(*tls_, req, h);
      } else {
        http::async_write(*plain_, req, h);
      }
    });
    return ec ? Unreachable("sending the request: " + Describe(ec)) : Status::Ok();
  }

  Result<std::pair<int, std::string>> ReadWhole() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxReplyBytes);
    beast::error_code ec = Run([&](auto h) {
      if (tls_) {
        http::async_read(*tls_, buffer_, parser, h);
      } else {
        http::async_read(*plain_, buffer_, parser, h);
      }
    });
    if (ec) return Unreachable("reading the reply: " + Describe(ec));
    return std::make_pair(static_cast<int>(parser.get().result_int()), std::move(parser.get().body()));
  }

  // Reads the header, then streams a 2xx body to `sink`; a non-2xx body is
  // collected into `*error_body`. Returns the HTTP status.
  Result<int> ReadStreaming(const std::function<bool(std::string_view)>& sink, std::string* error_body) {
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    beast::error_code ec = Run([&](auto h) {
      if (tls_) {
        http::async_read_header(*tls_, buffer_, parser, h);
      } else {
        http::async_read_header(*plain_, buffer_, parser, h);
      }
    });
    if (ec) return Unreachable("reading the reply: " + Describe(ec));
    int status = static_cast<int>(parser.get().result_int());
    bool ok = status >= 200 && status < 300;
    char piece[16384];
    while (!parser.is_done()) {
      parser.get().body().data = piece;
      parser.get().body().size = sizeof piece;
      ec = Run([&](auto h) {
        if (tls_) {
          http::async_read_some(*tls_, buffer_, parser, h);
        } else {
          http::async_read_some(*plain_, buffer_, parser, h);
        }
      });
      if (ec == http::error::need_buffer) ec = {};
      // A server may close a TLS stream without close_notify at the end of a watch.
      if (ec == ssl::error::stream_truncated || ec == http::error::end_of_stream) break;
      if (ec) return Unreachable("reading the reply: " + Describe(ec));
      std::string_view data(piece, sizeof piece - parser.get().body().size);
      if (data.empty()) continue;
      if (!ok) {
        if (error_body->size() < kMaxErrorBytes) error_body->append(data);
      } else if (!sink(data)) {
        break;
      }
    }
    return status;
  }

 private:
  Status SetUpTls() {
    beast::error_code ec;
    if (access_.insecure_skip_verify) {
      tls_ctx_.set_verify_mode(ssl::verify_none);
    } else {
      tls_ctx_.set_verify_mode(ssl::verify_peer);
      if (!access_.ca_pem.empty()) {
        tls_ctx_.add_certificate_authority(asio::buffer(access_.ca_pem), ec);
        if (ec) return errors::Invalid("certificate-authority", "is not a PEM certificate: " + Describe(ec));
      } else {
        tls_ctx_.set_default_verify_paths(ec);
      }
    }
    if (!access_.client_cert_pem.empty()) {
      tls_ctx_.use_certificate_chain(asio::buffer(access_.client_cert_pem), ec);
      if (ec) return errors::Invalid("client-certificate", "is not a PEM certificate: " + Describe(ec));
      tls_ctx_.use_private_key(asio::buffer(access_.client_key_pem), ssl::context::pem, ec);
      if (ec) return errors::Invalid("client-key", "is not a PEM key matching the certificate: " + Describe(ec));
    }
    return Status::Ok();
  }

  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  Status Unreachable(const std::string& why) const {
    return errors::Unavailable("kubernetes API server " + access_.server + " (context " + access_.context +
                               "): " + why);
  }

  template <typename Initiate>
  beast::error_code Run(Initiate&& initiate) {
    return RunToCompletion(ioc_, std::forward<Initiate>(initiate));
  }

  const ClusterAccess& access_;
  const Endpoint endpoint_;
  asio::io_context ioc_;
  ssl::context tls_ctx_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::unique_ptr<beast::tcp_stream> plain_;
  beast::flat_buffer buffer_;
};

Status ApiError(int code, std::string_view method, const std::string& path, std::string_view body) {
  std::string message, reason;
  Json j = Json::parse(body, nullptr, false);
  if (j.is_object()) {
    if (auto m = j.find("message"); m != j.end() && m->is_string()) message = m->get<std::string>();
    if (auto r = j.find("reason"); r != j.end() && r->is_string()) reason = r->get<std::string>();
  }
  if (message.empty()) message = std::string(body.substr(0, 200));
  std::string what = std::string(method) + " " + path + ": " + message;
  switch (code) {
    case 400:
    case 422:
      return errors::Invalid("manifest", what);
    case 401:
      return errors::Unauthenticated("the kubernetes API refused the credentials: " + what);
    case 403:
      return errors::Denied("the kubernetes API forbids it: " + what);
    case 404:
      return Status(Code::kNotFound, what);
    case 409:
      if (reason == "AlreadyExists") return Status(Code::kAlreadyExists, what);
      return errors::Conflict(what);
    case 410:
      return errors::Conflict("gone: " + what);
    default:
      return errors::Internal("kubernetes API answered " + std::to_string(code) + ": " + what);
  }
}

struct KindInfo {
  std::string plural;
  bool namespaced = true;
};

const std::map<std::string, KindInfo>& Kinds() {
  static const std::map<std::string, KindInfo> kinds = {
      {"Pod", {"pods"}},
      {"Service", {"services"}},
      {"PersistentVolumeClaim", {"persistentvolumeclaims"}},
      {"ConfigMap", {"configmaps"}},
      {"Secret", {"secrets"}},
      {"ServiceAccount", {"serviceaccounts"}},
      {"Event", {"events"}},
      {"Namespace", {"namespaces", false}},
      {"Deployment", {"deployments"}},
      {"Job", {"jobs"}},
      {"HorizontalPodAutoscaler", {"horizontalpodautoscalers"}},
      {"VirtualService", {"virtualservices"}},
      {"Role", {"roles"}},
      {"RoleBinding", {"rolebindings"}},
      {"ClusterRole", {"clusterroles", false}},
      {"ClusterRoleBinding", {"clusterrolebindings", false}},
      {"PodMetrics", {"pods"}},
  };
  return kinds;
}

}  // namespace

Result<std::string> CollectionPath(const std::string& api_version, const std::string& kind, const std::string& ns) {
  auto it = Kinds().find(kind);
  if (it == Kinds().end()) return errors::Invalid("kind", "\"" + kind + "\" is not a kind Quader manages");
  if (api_version.empty()) return errors::Invalid("apiVersion", "is missing for " + kind);
  std::string path = api_version.find('/') == std::string::npos ? "/api/" + api_version : "/apis/" + api_version;
  if (it->second.namespaced) path += "/namespaces/" + ns;
  return path + "/" + it->second.plural;
}

bool IsGone(const Status& status) {
  return status.code() == Code::kConflict && status.message().rfind("gone:", 0) == 0;
}


ApiClient::ApiClient(ClusterAccess access) : access_(std::move(access)) {}

namespace {

http::request<http::string_body> MakeRequest(const ClusterAccess& access, const Endpoint& e, std::string_view method,
                                             const std::string& path, const std::optional<Json>& body) {
  http::request<http::string_body> req;
  req.method(http::string_to_verb(beast::string_view(method.data(), method.size())));
  req.target(e.prefix + path);
  req.version(11);
  req.set(http::field::host, e.host.find(':') != std::string::npos ? "[" + e.host + "]:" + e.port
                                                                      : e.host + ":" + e.port);
  req.set(http::field::user_agent, "quader");
  req.set(http::field::accept, "application/json");
  std::string token = access.token;
  if (!access.token_file.empty()) {
    std::ifstream in(access.token_file);
    std::ostringstream s;
    s << in.rdbuf();
    if (in) token = s.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  }
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (body) {
    req.set(http::field::content_type, "application/json");
    req.body() = body->dump();
  }
  req.prepare_payload();
  return req;
}

}  // namespace

Result<Json> ApiClient::Call(std::string_view method, const std::string& path, const std::optional<Json>& body,
                             std::chrono::milliseconds timeout) const {
  QUADER_ASSIGN_OR_RETURN(Endpoint e, ParseServer(access_.server));
  Connection conn(access_, e);
  QUADER_RETURN_IF_ERROR(conn.Open());
  conn.SetDeadline(timeout);
  auto req = MakeRequest(access_, e, method, path, body);
  QUADER_RETURN_IF_ERROR(conn.Send(req));
  QUADER_ASSIGN_OR_RETURN(auto reply, conn.ReadWhole());
  if (reply.first < 200 || reply.first >= 300) return ApiError(reply.first, method, path, reply.second);
  if (reply.second.empty()) return Json();
  Json j = Json::parse(reply.second, nullptr, false);
  if (j.is_discarded()) return errors::Internal("kubernetes API: " + path + " did not answer JSON");
  return j;
}

void StreamCancel::Cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void StreamCancel::Reset() {
  std::lock_guard lock(mu_);
  cancelled_ = false;
}

bool StreamCancel::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

bool StreamCancel::Attach(int fd) {
  std::lock_guard lock(mu_);
  fd_ = fd;
  return !cancelled_;
}

Status ApiClient::Stream(const std::string& path, const std::function<bool(std::string_view)>& sink,
                         StreamCancel* cancel) const {
  QUADER_ASSIGN_OR_RETURN(Endpoint e, ParseServer(access_.server));
  Connection conn(access_, e);
  QUADER_RETURN_IF_ERROR(conn.Open());
  struct Detach {
    StreamCancel* c;
    ~Detach() {
      if (c) c->Attach(-1);
    }
  } detach{cancel};
  if (cancel && !cancel->Attach(conn.native_handle())) return Status::Ok();
  conn.SetDeadline(kDefaultTimeout);
  auto req = MakeRequest(access_, e, "GET", path, std::nullopt);
  QUADER_RETURN_IF_ERROR(conn.Send(req));
  conn.SetDeadline(std::nullopt);
  std::string error_body;
  auto read = conn.ReadStreaming(sink, &error_body);
  if (!read.ok() && cancel && cancel->cancelled()) return Status::Ok();
  QUADER_ASSIGN_OR_RETURN(int status, std::move(read));
  if (status < 200 || status >= 300) return ApiError(status, "GET", path, error_body);
  return Status::Ok();
}

namespace {

std::string NamespaceOf(const Json& object, const ClusterAccess& access) {
  std::string ns = StringOr(Child(object, "metadata"), "namespace");
  return ns.empty() ? access.ns : ns;
}

}  // namespace

Result<Json> ApiClient::Create(const Json& object) const {
  QUADER_ASSIGN_OR_RETURN(std::string path, CollectionPath(StringOr(object, "apiVersion"), StringOr(object, "kind"),
                                                           NamespaceOf(object, access_)));
  return Call("POST", path, object);
}

Result<Json> ApiClient::Apply(const Json& object, const Adjust& adjust) const {
  auto created = Create(object);
  if (created.ok() || created.status().code() != Code::kAlreadyExists) return created;
  std::string name = StringOr(Child(object, "metadata"), "name");
  QUADER_ASSIGN_OR_RETURN(std::string path, CollectionPath(StringOr(object, "apiVersion"), StringOr(object, "kind"),
                                                           NamespaceOf(object, access_)));
  path += "/" + name;
  QUADER_ASSIGN_OR_RETURN(Json current, Call("GET", path));
  Json replacement = object;
  replacement["metadata"]["resourceVersion"] = StringOr(Child(current, "metadata"), "resourceVersion");
  // A Service keeps the cluster IP it was given.
  const Json& cluster_ip = Child(Child(current, "spec"), "clusterIP");
  if (StringOr(object, "kind") == "Service" && cluster_ip.is_string()) {
    replacement["spec"]["clusterIP"] = cluster_ip;
  }
  if (adjust) QUADER_RETURN_IF_ERROR(adjust(current, replacement));
  return Call("PUT", path, replacement);
}

Result<Json> ApiClient::Get(const std::string& api_version, const std::string& kind, const std::string& name) const {
  QUADER_ASSIGN_OR_RETURN(std::string path, CollectionPath(api_version, kind, access_.ns));
  return Call("GET", path + "/" + name);
}

Result<Json> ApiClient::List(const std::string& api_version, const std::string& kind,
                             const std::string& label_selector) const {
  QUADER_ASSIGN_OR_RETURN(std::string path, CollectionPath(api_version, kind, access_.ns));
  if (!label_selector.empty()) path += "?labelSelector=" + PercentEncode(label_selector);
  return Call("GET", path);
}

Status ApiClient::Delete(const std::string& api_version, const std::string& kind, const std::string& name,
                         std::optional<int> grace_seconds) const {
  QUADER_ASSIGN_OR_RETURN(std::string path, CollectionPath(api_version, kind, access_.ns));
  path += "/" + name + "?propagationPolicy=Background";
  if (grace_seconds) path += "&gracePeriodSeconds=" + std::to_string(*grace_seconds);
  auto done = Call("DELETE", path);
  if (!done.ok() && done.status().code() == Code::kNotFound) return Status::Ok();
  return done.status();
}

Result<WatchEvent> ParseWatchEvent(std::string_view line, const std::string& path) {
  Json j = Json::parse(line, nullptr, false);
  if (!j.is_object()) return errors::Internal("kubernetes API: a watch event is not JSON");
  WatchEvent ev{"", Json::object()};
  if (auto type = j.find("type"); type != j.end() && type->is_string()) ev.type = type->get<std::string>();
  if (auto object = j.find("object"); object != j.end()) {
    if (!object->is_object()) return errors::Internal("kubernetes API: a watch event's object is not an object");
    ev.object = std::move(*object);
  }
  if (ev.type == "ERROR") {
    int code = 500;
    auto c = ev.object.find("code");
    if (c != ev.object.end() && c->is_number_integer() && *c >= 100 && *c <= 599) code = c->get<int>();
    return ApiError(code, "WATCH", path, ev.object.dump());
  }
  return ev;
}

Status ApiClient::Watch(const std::string& api_version, const std::string& kind, const std::string& label_selector,
                        const std::string& resource_version, const std::function<bool(const WatchEvent&)>& on_event,
                        int timeout_seconds, StreamCancel* cancel) const {
  QUADER_ASSIGN_OR_RETURN(std::string path, CollectionPath(api_version, kind, access_.ns));
  path += "?watch=1&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(timeout_seconds);
  if (!resource_version.empty()) path += "&resourceVersion=" + PercentEncode(resource_version);
  if (!label_selector.empty()) path += "&labelSelector=" + PercentEncode(label_selector);
  std::string pending;
  Status result = Status::Ok();
  Status streamed = Stream(path, [&](std::string_view data) {
    pending.append(data);
    size_t start = 0, nl;
    while ((nl = pending.find('\n', start)) != std::string::npos) {
      std::string_view line(pending.data() + start, nl - start);
      start = nl + 1;
      if (line.empty()) continue;
      auto ev = ParseWatchEvent(line, path);
      if (!ev.ok()) {
        result = ev.status();
        return false;
      }
      if (!on_event(*ev)) return false;
    }
    pending.erase(0, start);
    return true;
  }, cancel);
  QUADER_RETURN_IF_ERROR(streamed);
  return result;
}

namespace {

// The exit code in an exec's status (channel 3): 0 for Success, N for a
// NonZeroExitCode's ExitCode cause; nullopt otherwise.
std::optional<int> ExecExitCode(const std::string& text) {
  Json status = Json::parse(text, nullptr, false);
  if (!status.is_object()) return std::nullopt;
  if (status.value("status", "") == "Success") return 0;
  const Json& details = status.contains("details") ? status["details"] : Json();
  if (!details.is_object() || !details.contains("causes") || !details["causes"].is_array()) return std::nullopt;
  for (const Json& cause : details["causes"]) {
    if (cause.is_object() && cause.value("reason", "") == "ExitCode") {
      try {
        return std::stoi(cause.value("message", ""));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

// pods/exec on a WebSocket over `Next` (the connection's TLS or plain
// stream), bridged to a socket pair on a thread of its own running the
// connection's io_context: what the user's end gives goes out on channel 0;
// channels 1 and 2 come back into it; channel 3 carries the exit status.
template <class Next>
class ExecTerminal final : public Terminal {
 public:
  ExecTerminal(std::unique_ptr<Connection> conn, Next& next)
      : conn_(std::move(conn)), ws_(next), local_(conn_->ioc()) {}

  ~ExecTerminal() override {
    if (thread_.joinable()) {
      if (user_fd_ >= 0) ::shutdown(user_fd_, SHUT_RDWR);  // the bridge sees the end of input and closes
      asio::post(conn_->ioc(), [this] { CloseWs(); });
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (!done_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return done_; })) conn_->ioc().stop();
      }
      thread_.join();
    }
    if (user_fd_ >= 0) ::close(user_fd_);
  }

  // The upgrade, then the bridge's thread. Errors: the API server's own.
  Status Start(const http::request<http::string_body>& req, const std::string& host, const std::string& path,
               int rows, int cols) {
    ws_.set_option(websocket::stream_base::decorator([req](websocket::request_type& up) {
      for (const auto& field : req) {
        if (field.name() == http::field::authorization || field.name() == http::field::user_agent) {
          up.set(field.name(), field.value());
        }
      }
      up.set(http::field::sec_websocket_protocol, "v4.channel.k8s.io");
    }));
    ws_.binary(true);
    websocket::response_type res;
    beast::error_code ec = RunToCompletion(conn_->ioc(), [&](auto h) {
      ws_.async_handshake(res, host, std::string(req.target()), h);
    });
    if (ec) {
      int status = static_cast<int>(res.result_int());
      if (status != 0 && status != 101) return ApiError(status, "GET", path, res.body());
      return errors::Unavailable("pods/exec did not open: " + ec.message());
    }
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return errors::Internal(std::string("socketpair: ") + std::strerror(errno));
    }
    user_fd_ = pair[0];
    local_.assign(pair[1]);
    (void)Resize(rows, cols);
    thread_ = std::thread([this] {
      conn_->ioc().restart();
      ReadWs();
      ReadLocal();
      conn_->ioc().run();
      beast::error_code ignored;
      local_.close(ignored);
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      done_cv_.notify_all();
    });
    return Status::Ok();
  }

  int fd() const override { return user_fd_; }

  Status Resize(int rows, int cols) override {
    Json size = {{"Width", ClampTerminalSize(cols)}, {"Height", ClampTerminalSize(rows)}};
    std::string message = std::string(1, '\x04') + size.dump();
    asio::post(conn_->ioc(), [this, message] { Queue(message); });
    return Status::Ok();
  }

  std::optional<int> Finish() override {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return done_; });
    return exit_code_;
  }

 private:
  void ReadWs() {
    ws_.async_read(in_, [this](beast::error_code ec, size_t) {
      if (ec) return Ended();
      std::string message = beast::buffers_to_string(in_.data());
      in_.consume(in_.size());
      if (!message.empty()) {
        const char channel = message[0];
        std::string_view data(message.data() + 1, message.size() - 1);
        if (channel == 1 || channel == 2) {
          while (!data.empty()) {  // the user's end is read by its owner; a full one slows the pod's output
            ssize_t n = ::send(local_.native_handle(), data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EAGAIN) {
              pollfd p{local_.native_handle(), POLLOUT, 0};
              ::poll(&p, 1, 1000);
              continue;
            }
            if (n <= 0) break;
            data.remove_prefix(static_cast<size_t>(n));
          }
        } else if (channel == 3) {
          std::lock_guard<std::mutex> lock(mu_);
          exit_code_ = ExecExitCode(std::string(data));
        }
      }
      ReadWs();
    });
  }

  void ReadLocal() {
    local_.async_read_some(asio::buffer(keys_), [this](beast::error_code ec, size_t n) {
      if (ec) return CloseWs();  // the user's end closed: hang up
      Queue(std::string(1, '\0') + std::string(keys_.data(), n));
      ReadLocal();
    });
  }

  void Queue(std::string message) {
    if (closing_) return;
    outbox_.push_back(std::move(message));
    if (outbox_.size() == 1) WriteNext();
  }

  void WriteNext() {
    if (outbox_.empty()) return;
    ws_.async_write(asio::buffer(outbox_.front()), [this](beast::error_code ec, size_t) {
      outbox_.pop_front();
      if (ec) {
        outbox_.clear();
        return;
      }
      WriteNext();
    });
  }

  void CloseWs() {
    if (closing_) return;
    closing_ = true;
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(5));
    ws_.async_close(websocket::close_code::normal, [](beast::error_code) {});
  }

  // The pod's side has gone: the user's end reads the end of the stream.
  void Ended() {
    beast::error_code ignored;
    local_.cancel(ignored);
    ::shutdown(local_.native_handle(), SHUT_RDWR);
    beast::get_lowest_layer(ws_).cancel();
  }

  std::unique_ptr<Connection> conn_;
  websocket::stream<Next&> ws_;
  asio::posix::stream_descriptor local_;
  int user_fd_ = -1;
  std::thread thread_;
  beast::flat_buffer in_;
  std::array<char, 8192> keys_{};
  std::deque<std::string> outbox_;
  bool closing_ = false;
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;                // guarded by mu_
  std::optional<int> exit_code_;     // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<Terminal>> ApiClient::Exec(const std::string& pod, const std::string& container,
                                                  const std::vector<std::string>& command, int rows, int cols) const {
  QUADER_ASSIGN_OR_RETURN(Endpoint e, ParseServer(access_.server));
  std::string path = "/api/v1/namespaces/" + access_.ns + "/pods/" + PercentEncode(pod) + "/exec?stdin=true&stdout=true&tty=true";
  if (!container.empty()) path += "&container=" + PercentEncode(container);
  for (const std::string& arg : command) path += "&command=" + PercentEncode(arg);
  auto conn = std::make_unique<Connection>(access_, e);
  QUADER_RETURN_IF_ERROR(conn->Open());
  auto req = MakeRequest(access_, e, "GET", path, std::nullopt);
  const std::string host = std::string(req[http::field::host]);
  if (auto* tls = conn->tls()) {
    auto t = std::make_unique<ExecTerminal<beast::ssl_stream<beast::tcp_stream>>>(std::move(conn), *tls);
    QUADER_RETURN_IF_ERROR(t->Start(req, host, path, rows, cols));
    return std::unique_ptr<Terminal>(std::move(t));
  }
  beast::tcp_stream* plain = conn->plain();
  auto t = std::make_unique<ExecTerminal<beast::tcp_stream>>(std::move(conn), *plain);
  QUADER_RETURN_IF_ERROR(t->Start(req, host, path, rows, cols));
  return std::unique_ptr<Terminal>(std::move(t));
}

Status ApiClient::Logs(const std::string& pod, bool follow, const std::function<bool(std::string_view)>& sink) const {
  // The kubelet's capture times (timestamps=true), in Quader's form
  // (core/log_stamp.h).
  std::string path = "/api/v1/namespaces/" + access_.ns + "/pods/" + pod + "/log?timestamps=true";
  if (follow) path += "&follow=true";
  LogStampFilter stamps(LogStampFilter::Mode::kNormalize);
  bool open = true;
  Status st = Stream(path, [&](std::string_view data) { return open = sink(stamps.Feed(data)); });
  if (const std::string rest = stamps.Finish(); open && !rest.empty()) (void)sink(rest);
  return st;
}

}  // namespace quader::runtime::kubernetes
