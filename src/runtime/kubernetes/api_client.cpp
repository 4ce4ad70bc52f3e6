#include "runtime/kubernetes/api_client.h"
#include "runtime/kubernetes/mapping.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <sys/socket.h>

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

Status ApiClient::Logs(const std::string& pod, bool follow, const std::function<bool(std::string_view)>& sink) const {
  std::string path = "/api/v1/namespaces/" + access_.ns + "/pods/" + pod + "/log";
  if (follow) path += "?follow=true";
  return Stream(path, sink);
}

}  // namespace quader::runtime::kubernetes
