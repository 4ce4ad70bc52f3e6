#pragma once
// Ctrl-C for commands that run until interrupted (`get --watch`): while an
// InterruptScope lives, SIGINT and SIGTERM set a flag instead of killing
// the process, so the command can stop between two polls, say nothing more
// and exit 0. The previous handlers come back when the scope ends.

#include <chrono>
#include <csignal>

#include "cli/io.h"

namespace quader::cli {

// Not copyable; one at a time per process (signal handlers are global).
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // True once SIGINT or SIGTERM arrived during this scope.
  static bool Interrupted();

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// `io.interrupted` when set, else InterruptScope::Interrupted().
bool IsInterrupted(const Io& io);

// Waits `interval` (io.sleep when set), waking early when interrupted.
// Returns true when interrupted.
bool WaitUnlessInterrupted(const Io& io, std::chrono::milliseconds interval);

}  // namespace quader::cli
