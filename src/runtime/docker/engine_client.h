#pragma once
// A small Docker Engine API client over a unix socket (Docker, or Podman's
// `podman system service`, which serves the same API). Every call opens its
// own connection, so the client is thread-safe and holds no connection state.
// Paths are given without the version prefix; the client adds `/v1.41`.
//
// Errors: a missing socket or a refused connection is kUnavailable naming the
// socket; an HTTP 404 is kNotFound, 409 kConflict (kAlreadyExists when the
// engine says a name is already in use, which Podman reports as a 500), 400
// kInvalidArgument, anything else kInternal. Messages carry the engine's
// `message` field.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/documents.h"
#include "core/status.h"

namespace quader::runtime::docker {

// Receives a streamed response body piece by piece. Return false to stop.
using BodySink = std::function<bool(std::string_view data)>;

class EngineClient {
 public:
  static constexpr const char* kApiVersion = "v1.41";
  static constexpr std::chrono::milliseconds kDefaultTimeout{30000};

  // `socket_path` is a filesystem path (not a unix:// URL). Connects lazily.
  explicit EngineClient(std::string socket_path);

  const std::string& socket_path() const { return socket_path_; }

  // GET /_ping (unversioned). Ok when the engine answers 200 "OK" within `timeout`.
  [[nodiscard]] Status Ping(std::chrono::milliseconds timeout) const;

  // Sends `method` (GET, POST, DELETE) to `/v1.41<path>` with an optional JSON
  // body and returns the parsed JSON reply (null for an empty body, e.g. 204).
  // 304 (already started / already stopped) counts as success. kUnavailable
  // when the socket cannot be reached or the reply takes longer than `timeout`.
  [[nodiscard]] Result<Json> Call(std::string_view method, const std::string& path,
                                  const std::optional<Json>& body = std::nullopt,
                                  std::chrono::milliseconds timeout = kDefaultTimeout) const;

  // Like Call, for a reply that is not JSON (an exec's output stream): waits
  // for the whole reply, up to `timeout`, and drops its body.
  [[nodiscard]] Status CallDroppingBody(std::string_view method, const std::string& path,
                                        const std::optional<Json>& body, std::chrono::milliseconds timeout) const;

  // GET `/v1.41<path>` and hand the (de-chunked) body to `sink` as it arrives,
  // with no deadline: returns when the engine ends the body, when `sink`
  // returns false, or on an error (mapped as for Call, from the error body).
  [[nodiscard]] Status Stream(const std::string& path, const BodySink& sink) const;

  // Like Stream, for any method and a raw body: sends `body` (of `content_type`;
  // none when empty) to `target` exactly as given — no version prefix, so
  // "/v1.41/build?..." or Podman's "/v4.0.0/libpod/build?..." — with no
  // deadline after connecting, and streams the reply body to `sink`.
  [[nodiscard]] Status Send(std::string_view method, const std::string& target,
                            const std::string& body, const std::string& content_type,
                            const BodySink& sink) const;

  // POSTs `body` to `/v1.41<path>` asking to take over the connection
  // (Connection: Upgrade, Upgrade: tcp: an exec's start with a terminal) and
  // returns the connection's descriptor, now a raw stream both ways, once the
  // engine has answered 101 (or 200) — the caller owns it. The engine's error
  // otherwise, as for Call.
  [[nodiscard]] Result<int> Hijack(const std::string& path, const Json& body,
                                   std::chrono::milliseconds timeout = kDefaultTimeout) const;

  // POST /containers/{id}/wait?condition=not-running: blocks until the container
  // stops (or `timeout` passes: kUnavailable) and returns its exit code.
  [[nodiscard]] Result<int> Wait(const std::string& id, std::chrono::milliseconds timeout) const;

 private:
  const std::string socket_path_;
};

// Turns a non-2xx engine reply into a Status (see the header comment). `body`
// is the raw error body; its `message` field is used when it is JSON.
Status EngineError(int http_status, std::string_view method, const std::string& path,
                   std::string_view body);

// Splits the multiplexed log stream of a container created with Tty=false
// (8-byte frames: stream type, 3 zero bytes, big-endian payload length) into
// plain output. Frames may be cut anywhere between Feed calls.
// Not thread-safe; one decoder per stream.
class LogDemuxer {
 public:
  // Appends the payloads of every complete frame seen so far to `*out`.
  void Feed(std::string_view data, std::string* out);
  // Bytes held back waiting for the rest of a frame.
  size_t pending() const { return buffer_.size(); }

 private:
  std::string buffer_;
};


}  // namespace quader::runtime::docker
