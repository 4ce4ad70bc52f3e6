#pragma once
// The world a CLI command sees, injected so tests can run commands
// in-process: the streams it reads and writes, and how it waits between
// polls of the server.

#include <chrono>
#include <functional>
#include <istream>
#include <ostream>
#include <thread>

namespace quader::cli {

// Borrowed streams; the owner keeps them alive while a command runs.
struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool in_is_tty = false;  // stdin is a terminal: prompt and hide typed passwords
  // Waits between two polls (`run --wait`, `logs -f`). Empty: really sleeps.
  // Tests pass one that returns at once and records the interval.
  std::function<void(std::chrono::milliseconds)> sleep = {};
  // Commands that run until interrupted (`get --watch`) ask this between
  // polls: true once the user asked them to stop. Empty: SIGINT or SIGTERM
  // to the process (cli/interrupt.h). Tests pass one that counts polls.
  std::function<bool()> interrupted = {};
};

inline void Pause(const Io& io, std::chrono::milliseconds interval) {
  if (io.sleep) {
    io.sleep(interval);
  } else {
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace quader::cli
