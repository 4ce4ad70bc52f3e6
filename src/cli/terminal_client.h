#pragma once
// The client side of a terminal in a workload (GET .../terminal upgraded to
// a WebSocket, docs/api.md "Terminals"): what `quader exec` and the tests
// talk through. Binary messages carry the terminal's bytes both ways; a
// resize is a text message; the server closes with "exit N" when the
// command ends. Not thread-safe: one owner.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace quader::cli {

class TerminalSession {
 public:
  ~TerminalSession();

  // Opens `url` (http://host:port/api/v1/...terminal?...) with the bearer
  // `token`. kUnavailable when the server cannot be reached; the server's
  // own error (its status and message) when it refuses the terminal.
  [[nodiscard]] static Result<std::unique_ptr<TerminalSession>> Open(const std::string& url, const std::string& token,
                                                                     int timeout_seconds = 30);

  // The keyboard: bytes for the command's terminal.
  [[nodiscard]] Status Send(std::string_view bytes);
  [[nodiscard]] Status Resize(int rows, int cols);
  // Waits up to `timeout` for the terminal's output and appends it to `out`.
  // False once the terminal has closed (see close_reason()).
  [[nodiscard]] Result<bool> Read(std::string* out, std::chrono::milliseconds timeout);
  // Ends the session from this side.
  void Close();

  // Why the server closed it: "exit N" when the command ended.
  const std::string& close_reason() const;
  // The N of "exit N"; nullopt before the close or when it gave none.
  std::optional<int> exit_code() const;

  // For `quader exec`: runs the session against this process's terminal
  // (raw mode while it lasts, the window size followed) or its piped stdin,
  // until the command ends; returns its exit code (1 when unknown).
  int Interact();

 private:
  class Impl;
  explicit TerminalSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace quader::cli
