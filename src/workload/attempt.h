#pragma once
// One attempt of a workload, supervised from its start to its removal: the
// state machine pipeline tasks and experiment trials share.
//
// On its own thread an Attempt
//   1. starts the workload (waiting while its image is missing,
//      workload/image_wait.h), or re-attaches to the one an earlier server
//      started (`adopt`);
//   2. waits for its end (Runtime::Wait: event-driven where the runtime can),
//      enforcing a deadline, honouring Cancel(), sampling peak memory;
//   3. saves the whole log to `log_path` with a closing line saying how it
//      ended, and reports the end once through `hooks.ended`;
//   4. waits until the owner has stored that end (Persisted()), and only then
//      removes the workload.
// Crash safety follows from the order: a server killed at any moment finds
// the workload still there (and adopts it) or the end already stored.
// Abandon() (the server is stopping) ends the thread at the next step
// without reporting and leaves the workload running for the next server.
//
// Threads: the hooks run on the attempt's thread; public methods are
// thread-safe. The destructor joins the thread, so destroy an Attempt only
// after Persisted() or Abandon(), and never from its own hooks.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.h"
#include "runtime/runtime.h"

namespace quader::workload {

// How an attempt ended.
struct AttemptEnd {
  enum class How {
    kSucceeded,  // exited 0 (and `check` found nothing wrong)
    kFailed,     // exited non-zero, OOM, timed out, could not start, or vanished
    kCanceled,   // Cancel() was called: stopped on request
  };
  How how = How::kFailed;
  std::string reason;              // "" on success; else says why ("exited with code 3", "timed out after 60s")
  bool lost = false;               // adopting found no workload (and start_if_missing was false)
  runtime::WorkloadStatus status;  // the last status seen: exit code, OOM, node, times
  int64_t peak_memory = 0;         // bytes; 0 without sampling
};

struct AttemptOptions {
  std::string log_path;  // the saved log; also gets a line while it waits for its image or cannot start
  bool adopt = false;    // re-attach to an existing workload named spec.name
  // Adopting and none exists: start it (a pipeline task recorded running
  // before its workload started) or report it lost (a trial).
  bool start_if_missing = true;
  int64_t deadline_ms = 0;      // on the clock, Unix ms; 0: none
  int64_t timeout_seconds = 0;  // for the reason: "timed out after 60s"
  std::chrono::seconds stop_grace{5};
  std::chrono::milliseconds stats_interval{0};  // peak memory sampling period; 0: none
  std::string tag;                              // names it in the server's log: "run 3 task train"
};

struct AttemptHooks {
  std::function<void(const runtime::WorkloadStatus&)> started;  // optional: it runs (started or adopted)
  std::function<void(const std::string& reason)> waiting;        // optional: waiting for its image
  std::function<void(AttemptEnd& end)> check;  // optional: on success, before the log is saved; may fail it
  std::function<void(AttemptEnd end)> ended;   // required: the owner stores it, then calls Persisted()
  std::function<void()> exited;                // optional: the thread's last act (the owner may reap it)
};

class Attempt {
 public:
  Attempt(runtime::Runtime& runtime, const Clock& clock, runtime::WorkloadSpec spec, AttemptOptions options,
          AttemptHooks hooks);
  ~Attempt();

  Attempt(const Attempt&) = delete;
  Attempt& operator=(const Attempt&) = delete;

  // Starts the supervising thread (once).
  void Start();
  // Stops the workload (after stop_grace); it ends kCanceled with `reason`,
  // and its log closes with "== <log_line>". The first call wins.
  void Cancel(const std::string& reason, const std::string& log_line);
  bool canceled() const { return cancel_.load(); }
  // The owner stored the end: the workload is removed and the thread ends.
  void Persisted();
  // The server is stopping: the thread ends without reporting; the
  // workload keeps running.
  void Abandon();

  const runtime::WorkloadSpec& spec() const { return spec_; }

 private:
  void Run();
  bool Abandoned();
  // Starts or adopts; false when the thread should end (abandoned, or the end was reported).
  bool Begin(runtime::WorkloadStatus* status);
  // Waits for the end; nullopt when abandoned.
  std::optional<AttemptEnd> Supervise(runtime::WorkloadStatus status);
  void Report(AttemptEnd end);
  void WriteLogLine(const std::string& line);

  runtime::Runtime& runtime_;
  const Clock& clock_;
  const runtime::WorkloadSpec spec_;
  const AttemptOptions options_;
  const AttemptHooks hooks_;

  std::atomic<bool> cancel_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::string cancel_reason_;    // guarded by mu_
  std::string cancel_log_line_;  // guarded by mu_
  bool persisted_ = false;       // guarded by mu_
  bool abandon_ = false;         // guarded by mu_
  std::thread thread_;
};

}  // namespace quader::workload
