#pragma once
// A small, bounded pool for password hashing and checking (argon2id costs
// about 64 MiB and tens of milliseconds each), so a flood of sign-ins cannot
// occupy every API worker: an API worker hands the work over and waits, and
// when every thread is busy and `max_waiting` more calls already wait, Run
// refuses at once instead of queueing. At most threads + max_waiting API
// workers ever wait here.
//
// Thread-safe. The destructor finishes the work already queued.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"

namespace quader::auth {

class PasswordWorkers {
 public:
  // Sized for a server: max(1, min(2, hardware threads / 2)) threads, 3 waiting.
  static constexpr size_t kMaxWaiting = 3;
  static int DefaultThreads();

  PasswordWorkers(int threads = DefaultThreads(), size_t max_waiting = kMaxWaiting);
  ~PasswordWorkers();
  PasswordWorkers(const PasswordWorkers&) = delete;
  PasswordWorkers& operator=(const PasswordWorkers&) = delete;

  // Runs `work` on a pool thread and returns when it is done. kUnavailable
  // at once (without running it) when threads + max_waiting calls are
  // already in the pool (running or queued).
  Status Run(const std::function<void()>& work);

  // Calls queued and not yet started (for tests and metrics).
  size_t waiting() const;

 private:
  struct Job {
    const std::function<void()>* work;
    bool done = false;
  };
  void Loop();

  const size_t max_waiting_;
  const size_t capacity_;  // threads + max_waiting
  mutable std::mutex mu_;
  std::condition_variable wake_;       // a job was queued, or stopping
  std::condition_variable finished_;   // a job is done
  std::deque<Job*> queue_;             // guarded by mu_
  size_t accepted_ = 0;                // Run calls not yet returned; guarded by mu_
  bool stopping_ = false;              // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace quader::auth
