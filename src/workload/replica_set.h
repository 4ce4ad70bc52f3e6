#pragma once
// A replica set: the workloads one object keeps running (a service's
// replicas, a notebook's server), each of one generation of the object's
// spec and at a replica index. Its owner's controller, once per pass, sorts
// the workloads it listed (TakeCensus), removes the ones that ended
// (RemoveEnded: their reason is counted as a failure), and starts what is
// missing (StartMissing), backing off after failures.
//
// The back-off belongs to a generation: 1 s after the first failure,
// doubling up to 60 s, cleared by a ready replica; a new generation (a
// corrected spec) starts at once, without waiting out the old one's. The
// last failure is kept across passes, so a set that keeps failing can say
// why long after the pass that saw its replica end. A start that fails only
// for a missing image waits for it (ImageWaits) without counting as a
// failure. Used by one controller thread; not thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "runtime/runtime.h"
#include "workload/image_wait.h"

namespace quader::workload {

// A label's value as a number; -1 when absent or not a number.
int64_t LabelNumber(const runtime::WorkloadStatus& w, const char* key);

// True when `w` has ended: failed, succeeded, or in no state the runtime knows.
bool HasEnded(const runtime::WorkloadStatus& w);

// Why an ended workload ended, in words: "killed: out of memory", the
// runtime's reason, "exited with code N", or "ended".
std::string EndReason(const runtime::WorkloadStatus& w);

struct Replica {
  const runtime::WorkloadStatus* workload = nullptr;  // into the census's input
  int index = 0;                                      // quader.replica; 0 when absent
  int64_t generation = -1;                            // quader.generation; -1 when absent
};

// One owner's workloads as a pass found them.
struct Census {
  std::vector<Replica> current;  // alive, of the wanted generation
  std::vector<Replica> old;      // alive, of another generation
  std::vector<Replica> ended;    // ended, of any generation
  std::set<int> CurrentIndexes() const;
};

// Sorts `mine` (which must outlive the census) against `generation`.
Census TakeCensus(const std::vector<runtime::WorkloadStatus>& mine, int64_t generation);

// The last lines of the log at `path` (at most 3, from its last 4 KiB),
// joined by " | " and cut to 300 characters; "" when it has none.
std::string LastOutput(const std::string& path);

class ReplicaSet {
 public:
  // `log_dir` (may be ""): where the log of each replica that ended is kept,
  // as `OWNER/replica-INDEX.previous.log`, for inspection after a restart.
  ReplicaSet(runtime::Runtime& runtime, const Clock& clock, std::string log_dir = "")
      : runtime_(runtime), clock_(clock), log_dir_(std::move(log_dir)) {}

  // Where replica `index` of `owner`'s previous instance's log is kept ("" without a log_dir).
  std::string PreviousLogPath(int64_t owner, int index) const;
  // Sends that log to `write`; kNotFound when none is kept. Thread-safe.
  Status SendPreviousLog(int64_t owner, int index, const std::function<bool(std::string_view)>& write) const;

  struct Started {
    int index = 0;
    runtime::WorkloadSpec spec;
    runtime::WorkloadStatus status;
  };
  struct Starts {
    std::vector<Started> started;
    // Set when a start did not happen: the reason while waiting for an
    // image (`waiting_began` on the first pass of a wait), or "could not
    // start: …" (counted as a failure).
    std::string waiting;
    bool waiting_began = false;
    std::string failure;
    int failed_index = -1;
  };

  // Starts up to `count` replicas of generation `generation` of `owner`, at
  // the lowest indexes not in `taken`, `spec_of(index)` making each spec;
  // none while the generation backs off (`waiting` then still says what
  // its image wait said). Stops at the first start that fails.
  Starts StartMissing(int64_t owner, int64_t generation, int count, const std::set<int>& taken,
                      const std::function<runtime::WorkloadSpec(int index)>& spec_of);

  // An ended replica of `owner`: its log kept (PreviousLogPath, closed by a
  // line saying how it ended), removed from the runtime and, when of
  // `generation`, counted as a failure of it. Returns why it ended, with its
  // last output: "exited with code 3; last output: boom".
  std::string RemoveEnded(int64_t owner, int64_t generation, const Replica& replica);

  // A replica of `owner` of `generation` passed its readiness check: its
  // failures (and the last one's reason) are forgotten.
  void Ready(int64_t owner, int64_t generation);

  // Failures of `owner`'s `generation` since its last ready replica, and
  // the last one's reason ("" when none).
  int failures(int64_t owner, int64_t generation) const;
  std::string last_failure(int64_t owner, int64_t generation) const;

  // Forgets the back-off, image waits and kept logs of every owner not in
  // `owners` (the ones that still exist).
  void Keep(const std::set<int64_t>& owners);

 private:
  struct Backoff {
    int64_t generation = -1;
    int failures = 0;
    int64_t not_before_ms = 0;
    std::string last_failure;
    std::string waiting;  // the reason while its start waits for an image
  };
  // `owner`'s back-off for `generation`, started afresh for a new one.
  Backoff& BackoffOf(int64_t owner, int64_t generation);
  void Failed(Backoff& b, const std::string& why);
  int64_t NowMs() const { return ToUnixMillis(clock_.Now()); }

  runtime::Runtime& runtime_;
  const Clock& clock_;
  const std::string log_dir_;
  ImageWaits image_waits_;  // keyed by owner
  std::map<int64_t, Backoff> backoff_;
};

}  // namespace quader::workload
