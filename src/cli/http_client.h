#pragma once
// A small blocking HTTP/1.1 client for the CLI and the tests: one request per
// call on a fresh loopback/TCP connection. Not for the server's hot paths.

#include <functional>
#include <map>
#include <string>
#include <string_view>

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

// Receives the pieces of a streamed body, in order, as they arrive. Returns
// false to stop reading (the rest of the body is dropped).
using BodySink = std::function<bool(std::string_view piece)>;

// Like HttpRequest, but a 2xx reply's body is not collected: each piece is
// handed to `sink` as soon as it is read (a chunked body arrives decoded),
// and HttpReply::body stays empty. Any other status's body is collected in
// HttpReply::body as usual, so that its error can be decoded.
// `timeout_seconds` bounds connecting, sending and reading the header (and
// an error body); a 2xx body may take as long as the server keeps sending,
// as when following a log. kUnavailable when the server cannot be reached or
// the connection breaks before the body is complete.
Result<HttpReply> HttpStreamRequest(const std::string& method, const std::string& url,
                                    const std::map<std::string, std::string>& headers,
                                    const BodySink& sink, int timeout_seconds = 30);

// Sends `size` bytes read from `fd` as the body (Content-Length), in pieces,
// calling `progress` with the bytes sent so far after each, then reads the
// reply like HttpRequest. Memory stays flat whatever the size. When the
// server answers before taking the whole body (a refusal), that answer is
// returned. `timeout_seconds` bounds each step, not the whole upload.
Result<HttpReply> HttpUploadRequest(const std::string& method, const std::string& url,
                                    const std::map<std::string, std::string>& headers, int fd, int64_t size,
                                    const std::function<void(int64_t sent)>& progress, int timeout_seconds = 60);

// Splits "http://host:port/path" into its parts. Only http:// is supported.
struct ParsedUrl {
  std::string host;
  std::string port;
  std::string target;  // path and query, at least "/"
};
Result<ParsedUrl> ParseHttpUrl(const std::string& url);

}  // namespace quader::cli
