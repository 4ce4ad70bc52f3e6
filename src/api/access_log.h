#pragma once
// The HTTP access log: one line per request (peer, method and target,
// status, bytes, time, user), written to its own file and rotated by size,
// so a busy or hammered server cannot fill its disk with it.
//
// Rotation: when a line would take the file past `max_bytes`, access.log
// becomes access.1.log, access.1.log becomes access.2.log, ... and the
// oldest beyond `max_files` is deleted (spdlog's rotating sink). With no
// path the lines go to the server's own log instead, as one stream.
//
// Thread-safe.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace spdlog {
class logger;
}

namespace quader::api {

// Defaults for `quader server`: 64 MiB per file, 3 old files kept.
inline constexpr size_t kAccessLogMaxBytes = 64 * 1024 * 1024;
inline constexpr size_t kAccessLogMaxFiles = 3;

class AccessLog {
 public:
  // Opens (creating its directory) the log at `path`; "" logs through the
  // server's log. kUnavailable naming the path when it cannot be opened;
  // kInvalidArgument for max_bytes 0.
  static Result<std::unique_ptr<AccessLog>> Open(const std::string& path, size_t max_bytes = kAccessLogMaxBytes,
                                                 size_t max_files = kAccessLogMaxFiles);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Appends one line (the time is prefixed; no newline needed). Never
  // throws: a write that fails is reported once to the server's log.
  void Write(std::string_view line);

 private:
  explicit AccessLog(std::shared_ptr<spdlog::logger> logger);

  const std::shared_ptr<spdlog::logger> logger_;  // null: the default logger
};

}  // namespace quader::api
