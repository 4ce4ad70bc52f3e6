#include "cli/interrupt.h"

#include <thread>

namespace quader::cli {
namespace {

// Written by the signal handler, read by the command's thread.
volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void OnInterrupt(int) { g_interrupted = 1; }

}  // namespace

InterruptScope::InterruptScope() {
  g_interrupted = 0;
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // checked between polls; a request under way (short) finishes first
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

bool InterruptScope::Interrupted() { return g_interrupted != 0; }

bool IsInterrupted(const Io& io) { return io.interrupted ? io.interrupted() : InterruptScope::Interrupted(); }

bool WaitUnlessInterrupted(const Io& io, std::chrono::milliseconds interval) {
  if (IsInterrupted(io)) return true;
  if (io.sleep) {
    io.sleep(interval);
    return IsInterrupted(io);
  }
  constexpr std::chrono::milliseconds kSlice{50};
  auto deadline = std::chrono::steady_clock::now() + interval;
  while (std::chrono::steady_clock::now() < deadline) {
    if (IsInterrupted(io)) return true;
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        kSlice, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())));
  }
  return IsInterrupted(io);
}

}  // namespace quader::cli
