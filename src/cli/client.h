#pragma once
// REST calls from the CLI to one Quader server: adds the bearer token, sends
// JSON or raw document text, and decodes the server's error body
// {"error": {"code", "message"}} into a Status (docs/api.md "Errors").

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "cli/config.h"
#include "cli/http_client.h"
#include "core/documents.h"
#include "core/status.h"

namespace quader::cli {

// The message for a command that needs a login when there is none.
inline constexpr char kNotLoggedIn[] = "not logged in: run quader login --server URL --user NAME";

// Immutable after construction; each call opens its own connection.
class Client {
 public:
  // `server` as returned by NormalizeServerUrl; `token` may be empty (login).
  Client(std::string server, std::string token);

  // A client for the logged-in server (config plus environment overrides).
  // kUnauthenticated with kNotLoggedIn when there is no server or no token;
  // kInvalidArgument when the stored server URL is malformed.
  [[nodiscard]] static Result<Client> FromConfig(const Config& config);
  // FromConfig for the config file at ConfigPath() with the environment
  // applied; also fails when that file cannot be read.
  [[nodiscard]] static Result<Client> FromLogin();

  // `path` is below /api/v1 ("/projects/team-a", query included). Each
  // returns the decoded JSON body of a 2xx reply, the server's error as a
  // Status otherwise, or kUnavailable when the server cannot be reached.
  [[nodiscard]] Result<Json> Get(const std::string& path) const;
  [[nodiscard]] Result<Json> Delete(const std::string& path) const;
  [[nodiscard]] Result<Json> Post(const std::string& path, const Json& body) const;
  [[nodiscard]] Result<Json> Put(const std::string& path, const Json& body) const;
  // Sends `text` unchanged with the given Content-Type.
  [[nodiscard]] Result<Json> PostText(const std::string& path, const std::string& text,
                                      const std::string& content_type) const;

  // POSTs `size` bytes of `fd` as the body (application/octet-stream),
  // streamed, reporting the bytes sent to `progress` (an upload).
  [[nodiscard]] Result<Json> Upload(const std::string& path, int fd, int64_t size,
                                    const std::function<void(int64_t sent)>& progress) const;

  // GETs `path` and hands each piece of a 2xx reply's body to `sink` as it
  // arrives (logs, which stream for as long as a followed task runs). Errors
  // as for Get; kUnavailable also when the body breaks off.
  [[nodiscard]] Status GetStream(const std::string& path, const BodySink& sink) const;

  const std::string& server() const { return server_; }
  const std::string& token() const { return token_; }

 private:
  std::map<std::string, std::string> Headers(const std::string& accept) const;
  // Adds how to log in again when the server refused the stored token.
  Status ExplainRefusal(const Status& status) const;
  Result<Json> Send(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& content_type) const;

  const std::string server_;
  const std::string token_;
};

// The Code for a wire name ("not_found" -> kNotFound); unknown names map to
// the code of the HTTP status instead (see CodeFromHttpStatus).
Code CodeFromName(std::string_view name, int http_status);
// The Code for an HTTP status alone (404 -> kNotFound, 5xx -> kInternal...).
Code CodeFromHttpStatus(int http_status);

// A 2xx reply gives its JSON body (an empty body is {}); a 2xx body that is
// not JSON is kInternal. Any other status gives the error the body names, or
// when the body is not an error object, a Status from the HTTP status whose
// message quotes the start of the body.
[[nodiscard]] Result<Json> DecodeReply(const HttpReply& reply);

// Validates a server URL and normalises it to "http://host:port[/prefix]"
// with no trailing '/'. A URL without a scheme gets "http://". Only http is
// supported: anything else is kInvalidArgument naming the URL.
[[nodiscard]] Result<std::string> NormalizeServerUrl(const std::string& url);

// Percent-encodes everything but unreserved characters (RFC 3986), for a
// path segment or a query value.
std::string EscapeComponent(std::string_view text);

}  // namespace quader::cli
