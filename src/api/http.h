#pragma once
// Requests and responses as handlers see them: decoupled from the wire so
// handlers are plain functions that can be unit-tested without sockets.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/access.h"
#include "core/documents.h"
#include "core/status.h"

namespace quader::api {

// Reads the next piece of a streamed request body into `out` (at most `n`
// bytes): the count read, 0 at the body's end, an error when the client
// stops sending or breaks the message. See Request::body_reader.
using BodyReader = std::function<Result<size_t>(char* out, size_t n)>;

struct Request {
  std::string method;                         // "GET"
  std::string target;                         // raw "/api/v1/x?y=1"
  std::string path;                           // percent-decoded path, no query
  std::map<std::string, std::string> query;   // decoded query parameters
  std::map<std::string, std::string> headers; // lower-cased names
  std::string body;
  // Set instead of `body` on routes that stream their body (Router
  // RouteDoc::streamed_body: uploads): the body is read from the connection
  // as the handler asks for it, so a body of gigabytes never sits in memory.
  // A handler that answers before reading to the end closes the connection.
  BodyReader body_reader;
  std::string remote;                         // peer address, for logs

  // Filled by the router.
  std::map<std::string, std::string> params;  // {name} segments of the route
  std::optional<auth::Principal> principal;   // set on authenticated routes

  const std::string& Header(const std::string& lower_name) const;
  const std::string& Param(const std::string& name) const { return params.at(name); }
  // The caller; only valid on routes that require authentication.
  const auth::Principal& who() const { return *principal; }
};

// Sends one piece of a streamed body; returns false once the client has gone
// (the producer should then stop). An empty piece sends nothing and only
// checks that the client is still connected: producers waiting for output
// call it now and then.
using ChunkWriter = std::function<bool(std::string_view chunk)>;

// A WebSocket the server bridges to a byte stream (a terminal): binary
// messages from the client are written to `fd`, what `fd` gives is sent as
// binary messages, text messages are control messages (JSON) handed to
// `control`; once `fd` ends, `finish` names why, in the close frame.
// Destroying it (after the bridge ends, or when the upgrade fails) ends what
// it owns (the terminal's command).
struct Duplex {
  int fd = -1;
  std::function<void(std::string_view text)> control;
  std::function<std::string()> finish;
  // When set, called by the server once the stream is within its limits and
  // before the upgrade is answered: it starts what the bridge carries and
  // fills the fields above; an error is answered instead of the upgrade.
  std::function<Status(Duplex&)> open;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // When set, the headers are sent at once and the body is produced by
  // calling `stream` (chunked transfer encoding) on a worker thread; `body`
  // is ignored. Used for following logs. It may block for as long as it
  // produces output; it must return when `write` returns false.
  std::function<void(const ChunkWriter& write)> stream;
  // When set, the request was a WebSocket upgrade (see IsWebSocketUpgrade):
  // the server accepts it and bridges it to this, on a thread of its own
  // within the stream limits.
  std::shared_ptr<Duplex> duplex;
};

// The request asks to open a WebSocket (GET with Upgrade: websocket).
bool IsWebSocketUpgrade(const Request& req);

// 200 (or `status`) with `value` as compact JSON.
Response JsonReply(const Json& value, int status = 200);
// The documented error body for a non-ok Status, with its HTTP status.
Response ErrorReply(const Status& status);
// HTTP status for a code (400, 401, ...).
int HttpStatusOf(Code code);

// Parses a request body as one JSON object (errors name "body").
Result<Json> JsonBody(const Request& req);

// "%2F" -> "/", "+" kept as is in paths; in queries "+" means space.
std::string PercentDecode(const std::string& s, bool plus_is_space);

}  // namespace quader::api
