#pragma once
// Runs hyperparameter-search experiments (SPEC §6, docs/hpo.md): asks each
// experiment's tuner for parameters, starts each trial as a workload on the
// runtime with its values appended to the command as `--name=value` and the
// `nni` module on PYTHONPATH, feeds final results back to the tuner and
// intermediate results to the assessor (early stopping), and ends the
// experiment at max_trials, max_duration, too many failures, an exhausted
// search space, or a stop.
//
// Threads: one controller thread owns the in-memory state of active
// experiments (tuner, assessor, trials) and does every store write except
// the metrics trials report (the API writes those and calls
// MetricReported). Each running trial has a thread that starts (or
// re-attaches to) its workload, waits for it, enforces its timeout, saves its
// log, and removes the workload once the outcome is stored.
//
// Restart: a trial is recorded `running` with its workload's name before the
// workload starts. A restarted server rebuilds each tuner and assessor by
// replaying the stored trials in order, re-attaches to trial workloads that
// still exist, and marks those that vanished `failed` (or `succeeded` when
// their final result had arrived), so no trial is lost or run twice.
//
// Public methods are thread-safe.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/wake_loop.h"
#include "experiment/states.h"
#include "registry/blob_store.h"
#include "workload/attempt_set.h"
#include "runtime/runtime.h"
#include "store/experiments.h"
#include "store/store.h"

namespace quader::experiment {

struct ExperimentControllerOptions {
  std::string data_dir;  // experiments/ID/{files,trials/SEQ/{trial.log,output}}
  std::string instance;  // the runtime instance label (runtime/factory.h InstanceId)
  std::string sdk_dir;   // the directory holding the `nni` package (sdk/python); mounted read-only
  std::chrono::seconds stop_grace{5};
  std::chrono::milliseconds tick{500};  // how often limits (max_duration) are checked
  // Where the data sets experiments name are kept; null: naming one fails it.
  registry::BlobStore* blobs = nullptr;
};

struct ExperimentControllerStats {
  int64_t active_experiments = 0;
  int64_t running_trials = 0;
  int64_t trials_started = 0;
  int64_t trials_finished = 0;
  int64_t trials_early_stopped = 0;
};

// Where trials' workloads mount the `nni` package, first on their PYTHONPATH.
inline constexpr const char* kSdkMountPath = "/opt/quader/sdk";

class ExperimentController {
 public:
  ExperimentController(store::Store& store, const Clock& clock, runtime::Runtime& runtime,
                       ExperimentControllerOptions options);
  ~ExperimentController();  // Stop()s

  // The URL trials use to reach this server's API (QUADER_API_URL); set
  // once the listener is bound, before Start.
  void SetApiUrl(const std::string& url);
  void Start();
  // Stops the threads; running trial workloads are left running (the next server adopts them).
  void Stop();
  // Wakes the controller: an experiment was created or asked to stop.
  void Notify();
  // A trial reported a result (the API stored it): the assessor looks at it.
  void MetricReported(int64_t trial_id);

  // True when `w` (labelled kind=trial) belongs to a trial the store still
  // records as running with that workload: AdoptWorkloads' owner check.
  bool OwnsWorkload(const runtime::WorkloadStatus& w);

  // Streams a trial's log: the saved file once it is over, the runtime's log
  // while it runs; with `follow`, until it ends.
  Status FollowLog(int64_t experiment_id, int sequence, bool follow,
                   const std::function<bool(std::string_view)>& write);
  std::string LogPath(int64_t experiment_id, int sequence) const;
  // Where a trial's /outputs is kept (its artifacts).
  std::string OutputsDir(int64_t experiment_id, int sequence) const;
  // Removes an experiment's files (after DeleteExperiment).
  void RemoveExperimentFiles(int64_t experiment_id) const;

  ExperimentControllerStats stats() const;

 private:
  struct TrialHandle;
  struct ActiveTrial;
  struct ExperimentState;
  struct Event;

  // One pass (core/wake_loop.h): new experiments and stops, trial events, then each experiment advanced.
  void Pass();
  void LoadExperiments();
  Status LoadExperiment(const store::ExperimentRecord& rec);
  void HandleEvents(std::vector<Event> events);
  void Assess(ExperimentState& e, ActiveTrial& t);
  void Advance(ExperimentState& e);
  Status LaunchTrial(ExperimentState& e);
  runtime::WorkloadSpec BuildSpec(const ExperimentState& e, const store::TrialRecord& t, const std::string& token);
  // Starts (or, with `adopt`, re-attaches to) the trial's attempt: a
  // workload::Attempt whose thread reports its end as an event.
  void StartThread(ExperimentState& e, ActiveTrial& t, runtime::WorkloadSpec spec, bool adopt);
  void TrialEnded(ExperimentState& e, ActiveTrial& t, TrialState state, const std::string& reason,
                  std::optional<int> exit_code);
  void Finish(ExperimentState& e, const std::string& state, const std::string& reason);
  // Marks the experiment as ending `succeeded` when `value` (trial `sequence`'s
  // final result) reaches its objective_goal; false when it does not or it is
  // already stopping. The caller cancels the running trials.
  bool MaybeGoalReached(ExperimentState& e, int sequence, double value);
  void CancelRunning(ExperimentState& e, TrialState state, const std::string& reason);
  void Post(Event e);
  bool Stopping();

  store::Store& store_;
  const Clock& clock_;
  runtime::Runtime& runtime_;
  ExperimentControllerOptions options_;

  WakeLoop loop_;  // its thread: a pass every tick, or when notified or an event arrives
  std::mutex mu_;
  bool stopping_ = false;                           // guarded by mu_
  bool notified_ = true;                            // guarded by mu_
  std::vector<Event> events_;                       // guarded by mu_
  workload::AttemptSet<TrialHandle> attempts_;  // the trials' attempts until their threads are joined
  std::string api_url_;                             // guarded by mu_

  // Owned by the controller thread.
  std::map<int64_t, std::unique_ptr<ExperimentState>> experiments_;

  mutable std::mutex stats_mu_;
  ExperimentControllerStats stats_;  // guarded by stats_mu_
};

// The trial a token belongs to (the `nni` module's credential), if it is
// still running or pending; kUnauthenticated otherwise.
Result<store::TrialRecord> AuthenticateTrial(store::Tx& tx, const std::string& token);

}  // namespace quader::experiment
