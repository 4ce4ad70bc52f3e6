#include "cli/client.h"

#include <array>
#include <cctype>
#include <utility>

namespace quader::cli {
namespace {

constexpr char kApiBase[] = "/api/v1";
constexpr int kTimeoutSeconds = 120;

constexpr std::array<Code, 10> kWireCodes = {
    Code::kInvalidArgument, Code::kUnauthenticated,  Code::kPermissionDenied,
    Code::kNotFound,        Code::kMethodNotAllowed, Code::kAlreadyExists,
    Code::kConflict,        Code::kPayloadTooLarge,  Code::kUnavailable,
    Code::kInternal,
};

std::string Excerpt(const std::string& body) {
  constexpr size_t kMax = 200;
  std::string out = body.substr(0, kMax);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return body.size() > kMax ? out + "..." : out;
}

}  // namespace

Client::Client(std::string server, std::string token)
    : server_(std::move(server)), token_(std::move(token)) {}

Result<Client> Client::FromConfig(const Config& config) {
  if (config.server.empty() || config.token.empty()) {
    return Status(Code::kUnauthenticated, kNotLoggedIn);
  }
  QUADER_ASSIGN_OR_RETURN(std::string server, NormalizeServerUrl(config.server));
  return Client(std::move(server), config.token);
}

Result<Client> Client::FromLogin() {
  QUADER_ASSIGN_OR_RETURN(Config config, LoadConfig(ConfigPath()));
  return FromConfig(WithEnvironment(std::move(config)));
}

Result<Json> Client::Get(const std::string& path) const { return Send("GET", path, "", ""); }

Result<Json> Client::Delete(const std::string& path) const { return Send("DELETE", path, "", ""); }

Result<Json> Client::Post(const std::string& path, const Json& body) const {
  return Send("POST", path, body.dump(), "application/json");
}

Result<Json> Client::Put(const std::string& path, const Json& body) const {
  return Send("PUT", path, body.dump(), "application/json");
}

Result<Json> Client::PostText(const std::string& path, const std::string& text,
                              const std::string& content_type) const {
  return Send("POST", path, text, content_type);
}

Result<Json> Client::Send(const std::string& method, const std::string& path,
                          const std::string& body, const std::string& content_type) const {
  std::map<std::string, std::string> headers = Headers("application/json");
  if (!content_type.empty()) headers["Content-Type"] = content_type;
  QUADER_ASSIGN_OR_RETURN(HttpReply reply, HttpRequest(method, server_ + kApiBase + path, body,
                                                       headers, kTimeoutSeconds));
  Result<Json> decoded = DecodeReply(reply);
  if (!decoded.ok()) return ExplainRefusal(decoded.status());
  return decoded;
}

Result<Json> Client::Upload(const std::string& path, int fd, int64_t size,
                            const std::function<void(int64_t sent)>& progress) const {
  std::map<std::string, std::string> headers = Headers("application/json");
  headers["Content-Type"] = "application/octet-stream";
  QUADER_ASSIGN_OR_RETURN(HttpReply reply, HttpUploadRequest("POST", server_ + kApiBase + path, headers, fd, size,
                                                             progress, kTimeoutSeconds));
  Result<Json> decoded = DecodeReply(reply);
  if (!decoded.ok()) return ExplainRefusal(decoded.status());
  return decoded;
}

Status Client::GetStream(const std::string& path, const BodySink& sink) const {
  QUADER_ASSIGN_OR_RETURN(
      HttpReply reply, HttpStreamRequest("GET", server_ + kApiBase + path,
                                         Headers("text/plain, application/json"), sink,
                                         kTimeoutSeconds));
  if (reply.status >= 200 && reply.status < 300) return Status::Ok();
  return ExplainRefusal(DecodeReply(reply).status());
}

std::map<std::string, std::string> Client::Headers(const std::string& accept) const {
  std::map<std::string, std::string> headers = {{"Accept", accept}};
  if (!token_.empty()) headers["Authorization"] = "Bearer " + token_;
  return headers;
}

Status Client::ExplainRefusal(const Status& status) const {
  if (status.code() != Code::kUnauthenticated || token_.empty()) return status;
  // The stored token was refused (expired or revoked): say how to fix it.
  return Status(Code::kUnauthenticated,
                status.message() + "; log in again: quader login --server " + server_ +
                    " --user NAME");
}

Code CodeFromName(std::string_view name, int http_status) {
  for (Code code : kWireCodes) {
    if (name == CodeName(code)) return code;
  }
  return CodeFromHttpStatus(http_status);
}

Code CodeFromHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 405:
      return Code::kMethodNotAllowed;
    case 409:
      return Code::kConflict;
    case 413:
      return Code::kPayloadTooLarge;
    case 502:
    case 503:
    case 504:
      return Code::kUnavailable;
    default:
      return http_status >= 500 ? Code::kInternal : Code::kInvalidArgument;
  }
}

Result<Json> DecodeReply(const HttpReply& reply) {
  bool success = reply.status >= 200 && reply.status < 300;
  Result<Json> body =
      reply.body.empty() ? Result<Json>(Json::object()) : ParseJson(reply.body, kServerReplyLimits);
  if (success) {
    if (!body.ok())
      return errors::Internal("the server sent a reply that is not JSON: " + Excerpt(reply.body));
    return body;
  }
  if (body.ok() && body->is_object() && body->contains("error") && (*body)["error"].is_object()) {
    const Json& error = (*body)["error"];
    std::string code = error.value("code", "");
    std::string message = error.contains("message") && error["message"].is_string()
                              ? error["message"].get<std::string>()
                              : "";
    if (message.empty()) message = code.empty() ? "HTTP " + std::to_string(reply.status) : code;
    return Status(CodeFromName(code, reply.status), message);
  }
  std::string message = "HTTP " + std::to_string(reply.status);
  if (!reply.body.empty()) message += ": " + Excerpt(reply.body);
  return Status(CodeFromHttpStatus(reply.status), message);
}

Result<std::string> NormalizeServerUrl(const std::string& url) {
  std::string out = url;
  if (out.find("://") == std::string::npos) out = "http://" + out;
  while (!out.empty() && out.back() == '/') out.pop_back();
  auto parsed = ParseHttpUrl(out);
  if (!parsed.ok()) return parsed.status();
  if (out.find_first_of("?#") != std::string::npos) {
    return errors::Invalid("server", "\"" + url + "\" must not have a query or fragment");
  }
  return out;
}

std::string EscapeComponent(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace quader::cli
