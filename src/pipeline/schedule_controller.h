#pragma once
// The cron (SPEC §5, docs/pipelines.md "Schedules"): at each fire time of an
// enabled pipeline schedule it produces one schedule record (`comed`), then
// decides from the pipeline's settings whether to launch a run (`created`)
// or records why not (`skipped: max_active_runs`, `skipped: depends_on_past`,
// `skipped: expired`). Fire times that passed while the server was down are
// handled by the schedule's catch-up policy (none, latest, all).
//
// One thread sleeps until the next fire time of any pipeline (to the
// millisecond, not a polling tick) or until Notify(). Public methods are
// thread-safe.

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/wake_loop.h"
#include "store/pipelines.h"
#include "store/store.h"

namespace quader::pipeline {

// The next fire time (Unix seconds) of `pipeline`'s enabled schedule after
// the fires already recorded; nullopt without one. What the API shows as
// `next_fire`, computed the way the controller plans.
std::optional<int64_t> NextFireTime(store::Tx& tx, const store::PipelineRecord& pipeline);

class ScheduleController {
 public:
  // Creates a run of `pipeline` for a schedule record inside the caller's
  // transaction and returns its id (pipeline/launch.h + RunController::CreateRun).
  // On error its writes are rolled back (a savepoint) and the record becomes
  // `skipped: cannot launch: MESSAGE`.
  using Launcher = std::function<Result<int64_t>(store::Tx& tx, const store::PipelineRecord& pipeline,
                                                 int64_t execution_date, int64_t schedule_id)>;

  // `launched` is called after a transaction that created runs commits.
  ScheduleController(store::Store& store, const Clock& clock, Launcher launch, std::function<void()> launched);
  ~ScheduleController();  // Stop()s

  void Start();
  void Stop();
  // Re-plans: a pipeline was saved or deleted, or a run ended (a record
  // waiting on depends_on_past may go now).
  void Notify();

  // Fire-time errors (record produced minus fire time, ms) of the last 10,000
  // fires, for the benchmark and /metrics.
  std::vector<int64_t> FireErrors() const;

 private:
  // One pass (core/wake_loop.h): plans again when pipelines changed, fires what is due.
  void Pass();
  // How long the loop may sleep: until the next fire time, at most a minute (5 s on a shared store).
  std::chrono::milliseconds UntilNextPass() const;
  // Recomputes every enabled schedule's next fire time; returns the earliest.
  std::optional<int64_t> Replan();
  // Produces the records due for these pipelines up to `now` (one
  // transaction), then decides each pipeline's waiting records.
  void FireAll(const std::vector<int64_t>& pipeline_ids, int64_t now_ms);
  void DecideWaiting(int64_t pipeline_id);

  store::Store& store_;
  const Clock& clock_;
  Launcher launch_;
  std::function<void()> launched_;

  const bool shared_ = store_.dialect() == "postgresql";  // other servers change pipelines too

  WakeLoop loop_;
  std::mutex mu_;
  bool notified_ = true;  // guarded by mu_: pipelines changed since the last pass

  // Owned by the loop thread.
  std::map<int64_t, int64_t> next_fire_;  // pipeline id -> Unix seconds
  std::optional<int64_t> earliest_;       // the next fire time, Unix seconds

  mutable std::mutex errors_mu_;
  std::deque<int64_t> fire_errors_;  // guarded by errors_mu_
};

}  // namespace quader::pipeline
