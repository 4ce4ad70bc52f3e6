#pragma once
// The plan of one run: which tasks may start, what a finished attempt means
// for the rest of the DAG, and when the run is over (docs/pipelines.md
// "Runs"). Pure: no store, clock, runtime or threads; the caller passes the
// time in and carries the decisions out (STYLE rule 23, like ninja's Plan).
//
// The rules:
//   - A task is ready once each upstream task succeeded or was skipped. Ready
//     tasks start in the order they became ready (at creation: task order),
//     at most `parallelism` running at once.
//   - A task with `skip` set ends `skipped` when it would start, without
//     taking a slot; its downstream tasks go on as after a success.
//   - A failed attempt is retried while attempts are left: the task goes back
//     to `pending` and is ready again `retry_backoff_seconds * 2^(attempt-1)`
//     later (at most a day). The last failure makes the task `failed` and
//     every pending task downstream of it `upstream_failed`.
//   - Stop: pending tasks end `stopped`; running ones end `stopped` when their
//     attempt ends (whatever its exit), unless it succeeded; nothing starts.
//   - The run is over when no task is running and each is terminal: `stopped`
//     if it was stopped, else `failed` if a task failed, else `stopped` if a
//     task was stopped, else `succeeded`.
//
// Crash recovery: built from the tasks' stored states, a plan continues
// where the stored run stood: `running` tasks count against parallelism
// (the caller re-attaches to their workloads), pending ones whose upstream
// tasks are done are ready (or wait out a stored retry backoff).
//
// Single-threaded: owned by the run controller's loop.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/states.h"

namespace quader::pipeline {

// A task as the plan sees it.
struct PlanTask {
  std::string name;
  std::vector<int> upstream;  // indexes into the run's tasks; duplicates are ignored
  bool skip = false;
  int max_attempts = 1;  // retries + 1
  int64_t retry_backoff_seconds = 0;
  // Where the task stood (a new run: pending, attempt 0).
  TaskState state = TaskState::kPending;
  int attempt = 0;
  std::optional<int64_t> not_before_ms;  // a retry's backoff ends then
  std::optional<int64_t> ready_at_ms;    // when it became ready (kept across a restart)
};

// A task's state in the plan: what the caller records.
struct PlanTaskStatus {
  TaskState state = TaskState::kPending;
  int attempt = 0;                       // attempts started so far
  std::string reason;                    // why it is in its state ("" when there is nothing to say)
  std::optional<int64_t> not_before_ms;  // pending for a retry: not before then
  std::optional<int64_t> ready_at_ms;    // when it last became ready (or will, for a retry)
  std::optional<int64_t> finished_at_ms; // when the plan ended it (skip, stop, upstream failure, outcome)
};

// How an attempt ended.
enum class AttemptOutcome { kSucceeded, kFailed, kStopped };

class Plan {
 public:
  // `tasks` in run order; `parallelism` below 1 counts as 1. Tasks stored as
  // running count as started and running.
  Plan(std::vector<PlanTask> tasks, int parallelism, int64_t now_ms);

  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  // The tasks to start now, in ready order: each is now `running`, its
  // attempt counted. Resolves skipped tasks and due retries on the way.
  // Empty while stopping.
  std::vector<int> FindWork(int64_t now_ms);

  // An attempt of running task `task` ended. A failure is retried while
  // attempts are left, unless `may_retry` is false (the task could not even
  // be started). Ignored for a task that is not running.
  void AttemptFinished(int task, AttemptOutcome outcome, const std::string& reason, int64_t now_ms,
                       bool may_retry = true);

  // Stops the run (idempotent): see the rules above. The caller cancels the
  // running tasks' workloads and reports their ends through AttemptFinished.
  void Stop(int64_t now_ms);

  // Each task whose status changed since the last call, once, in the order of
  // their first change. Becoming ready is not a change worth a write of its
  // own: ready_at_ms travels with the task's start.
  std::vector<int> TakeChanged();

  // The earliest time a retry waits for; nullopt when none does.
  std::optional<int64_t> NextRetryMs() const;

  // True once no task runs and every task is terminal.
  bool done() const;
  // The run's state: pending until a task starts or is skipped, running
  // until done(), then its outcome (see the rules above).
  RunState run_state() const;
  // Why the run ended as it did ("task train failed"); "" while it runs.
  std::string run_reason() const;

  bool stopping() const { return stopping_; }
  int running() const { return running_; }
  size_t size() const { return tasks_.size(); }
  const PlanTaskStatus& task(int i) const { return status_[static_cast<size_t>(i)]; }
  const std::string& name(int i) const { return tasks_[static_cast<size_t>(i)].name; }

 private:
  void Ready(int task, int64_t now_ms);
  void UpstreamDone(int task, int64_t now_ms);  // `task` succeeded or was skipped
  void End(int task, TaskState state, std::string reason, int64_t now_ms);
  // Ends every pending task downstream of `task`.
  void EndDescendants(int task, TaskState state, const std::string& reason, int64_t now_ms);
  std::string UpstreamCulprit(int task) const;
  void Changed(int task);

  std::vector<PlanTask> tasks_;
  std::vector<std::vector<int>> downstream_;
  std::vector<int> waiting_;  // per task: upstream tasks not yet succeeded or skipped
  std::vector<PlanTaskStatus> status_;
  std::deque<int> ready_;
  std::vector<int> delayed_;  // retries waiting for their backoff
  int parallelism_;
  int running_ = 0;
  int open_ = 0;  // tasks not terminal
  bool started_ = false;
  bool stopping_ = false;
  std::vector<int> changed_;
  std::vector<bool> is_changed_;
};

}  // namespace quader::pipeline
