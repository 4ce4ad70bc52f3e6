#pragma once
// The HTTP/1.1 server on Boost.Beast: accepts connections, reads requests
// with size and time limits, hands them to a handler on a worker pool (so
// store calls never block the event loop), writes responses with keep-alive,
// records metrics and an access log line per request.
//
// Thread-safe. Start() once, then Stop() from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/access_log.h"
#include "api/http.h"
#include "api/metrics.h"
#include "core/status.h"

namespace quader::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see port())
  size_t max_body_bytes = 8 * 1024 * 1024;
  // Requests for which this says yes (by method and decoded path) are not
  // read whole: their handler runs, on a thread of its own within the
  // stream limits, as soon as the head is in, and reads the body through
  // Request::body_reader, at most `max_streamed_body_bytes` of it. The
  // client may send `Expect: 100-continue`: the interim answer goes out
  // when the handler first reads. Each read waits at most `read_timeout`.
  std::function<bool(const std::string& method, const std::string& path)> streamed_body;
  uint64_t max_streamed_body_bytes = uint64_t{1} << 40;
  size_t max_header_bytes = 64 * 1024;
  // Deadline for reading one request, including waiting for it on an idle
  // keep-alive connection.
  std::chrono::seconds read_timeout{30};
  int io_threads = 2;
  int worker_threads = 8;
  // Streamed answers (followed logs, downloads) each run on a thread of their
  // own, not on the workers, so open streams never starve other requests; at
  // most this many at once, and this many per user (more: 503). A client that
  // takes no bytes for `stream_write_timeout` is dropped.
  int max_streams = 256;
  int max_streams_per_user = 16;
  // Of those, uploads (streamed request bodies), counted by client address.
  int max_uploads = 32;
  int max_uploads_per_address = 8;
  // An upload slower than this on average, once a minute has passed, is cut
  // off: a trickle cannot hold a slot for hours.
  int64_t min_upload_bytes_per_second = 1024;
  std::chrono::seconds stream_write_timeout{30};
  // Where the access log goes (access_log.h): a file rotated by size, or
  // "" for the server's own log.
  std::string access_log_path;
  size_t access_log_max_bytes = kAccessLogMaxBytes;
  size_t access_log_max_files = kAccessLogMaxFiles;
};

// Reads one HTTP/1.1 request from `wire` with the limits of `options`, as a
// connection does, into a Request (method, target, decoded path and query,
// lower-cased headers, body). kPayloadTooLarge over a limit, kInvalidArgument
// for a malformed or incomplete request. Bytes after the request are ignored.
// For tests and fuzzing (fuzz/http_fuzz.cpp); connections use the same code.
Result<Request> ParseRequest(std::string_view wire, const HttpServerOptions& options = {});

// Produces the response and names the route for metrics. Runs on a worker.
using RequestHandler = std::function<Response(Request&, std::string* route_label)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, RequestHandler handler, Metrics& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Opens the access log, binds and starts serving on background threads.
  // kUnavailable when the address cannot be bound or the access log opened.
  Status Start();
  // The bound port (useful with port 0). Valid after Start().
  uint16_t port() const;
  // Stops accepting, closes connections, joins threads. Idempotent.
  void Stop();

  class Impl;  // the Beast machinery, in http_server.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace quader::api
