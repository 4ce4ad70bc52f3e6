#pragma once
// A small blocking HTTP/1.1 client for the CLI and the tests: one request per
// call on a fresh loopback/TCP connection. Not for the server's hot paths.

#include <map>
#include <string>

#include "core/status.h"

namespace quader::cli {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
};

// Sends `method url` with `body`. `url` is "http://host:port/path?query".
// Headers are sent as given; Content-Length is added for a body. Returns
// kUnavailable when the server cannot be reached (naming it) and
// kInvalidArgument for a malformed URL. An HTTP error status is not a
// Status error: it is in HttpReply::status.
Result<HttpReply> HttpRequest(const std::string& method, const std::string& url,
                              const std::string& body = "",
                              const std::map<std::string, std::string>& headers = {},
                              int timeout_seconds = 30);

// Splits "http://host:port/path" into its parts. Only http:// is supported.
struct ParsedUrl {
  std::string host;
  std::string port;
  std::string target;  // path and query, at least "/"
};
Result<ParsedUrl> ParseHttpUrl(const std::string& url);

}  // namespace quader::cli
