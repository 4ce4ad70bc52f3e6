#pragma once
// Runs pipelines (SPEC §5, docs/pipelines.md "Runs"): turns each run's
// snapshot into workloads on the runtime as their upstream tasks finish,
// with parallelism, retries with backoff, timeouts, stop, artifacts, logs
// per attempt, and a "pod view" of every task.
//
// Threads: one scheduler thread owns the in-memory state of active runs (each
// with its pure plan, pipeline/plan.h, which decides what starts and what a
// finished attempt means) and does every store write, batched per round. Each started task has a task
// thread that starts (or re-attaches to) its workload, waits for it, enforces
// its timeout, samples its memory, saves its log and outputs, and, once the
// scheduler has recorded the outcome, removes the workload.
//
// Crash safety: a task is recorded `running` with its workload's name before
// the workload starts, and is finished in the store only after its log and
// outputs are saved; its workload is removed only after that. A restarted
// server re-attaches to workloads that still exist and starts those that
// were recorded but never started, so no task runs twice except as a retry.
//
// Public methods are thread-safe.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/wake_loop.h"
#include "pipeline/plan.h"
#include "pipeline/render.h"
#include "pipeline/spec.h"
#include "pipeline/webhook.h"
#include "runtime/runtime.h"
#include "store/pipelines.h"
#include "store/store.h"
#include "workload/attempt.h"
#include "workload/attempt_set.h"

namespace quader::registry {
class BlobStore;
struct VersionRequest;
}

namespace quader::pipeline {

struct RunControllerOptions {
  std::string data_dir;   // logs/runs/…, artifacts/runs/…, users/…
  std::string instance;   // the runtime instance label (runtime/factory.h InstanceId)
  std::chrono::seconds stop_grace{5};
  std::chrono::milliseconds stats_interval{2000};
  std::function<void()> on_run_finished;  // after a run's end is recorded (the cron re-decides)
  std::shared_ptr<const WebhookGuard> webhook_guard;  // where webhooks may go; null: the defaults
  // The model registry's files: a succeeded task whose outputs.json declares
  // `register_model` registers a version (docs/models.md); null: it fails.
  registry::BlobStore* blobs = nullptr;
};

// What a new run is made from (the API and the cron build it).
struct NewRun {
  int64_t project_id = 0;
  std::string project;
  std::string project_expand = "{}";  // the project's expand JSON at run time
  std::optional<int64_t> pipeline_id;
  PipelineSpec spec;                              // validated, templates resolved
  std::map<std::string, TemplateSpec> templates;  // task name -> its template
  std::string trigger = "manual";                 // manual, schedule, debug
  std::string runner;
  std::string creator;
  int64_t execution_date = 0;                     // Unix seconds
  std::string timezone = "UTC";                   // for {{execution_date}}
  std::optional<int64_t> schedule_id;
  // A retry of an earlier run: its tasks that succeeded, carried over as
  // succeeded (with their outputs) instead of running again.
  std::optional<int64_t> retry_of;
  std::map<std::string, store::RunTaskRecord> carried;  // task name -> its record in that run
};

// Observable counters (exported on /metrics by the API).
struct RunControllerStats {
  int64_t tasks_started = 0;
  int64_t tasks_finished = 0;
  int64_t runs_finished = 0;
  int64_t active_runs = 0;
  int64_t running_tasks = 0;
};

class RunController {
 public:
  RunController(store::Store& store, const Clock& clock, runtime::Runtime& runtime, RunControllerOptions options);
  ~RunController();  // Stop()s

  // Inserts a `pending` run and its tasks inside the caller's transaction.
  // Call Notify() after it commits. Returns the run's id.
  static Result<int64_t> CreateRun(store::Tx& tx, const NewRun& run, int64_t now_ms);

  // Serves a registry version for a task's `deploy_model` declaration
  // ({name, version?, service?}) as the run's runner, in the run's project;
  // set by the server (the API's deploy) before Start(). Unset: a task that
  // declares one fails, saying this server cannot.
  using ModelDeployer = std::function<Result<Json>(const std::string& runner, const std::string& project,
                                                   const std::string& model, int version, const std::string& service)>;
  void SetModelDeployer(ModelDeployer deployer) { deployer_ = std::move(deployer); }

  void Start();
  // Stops the threads; running workloads are left running (the next server adopts them).
  void Stop();
  // Wakes the scheduler: a run was created or asked to stop.
  void Notify();

  // True when `w` (labelled kind=task) belongs to a task the store still
  // records as running with that workload: AdoptWorkloads' owner check.
  bool OwnsWorkload(const runtime::WorkloadStatus& w);

  // Streams a task attempt's log (attempt 0: the latest): the saved file
  // once the attempt is over, the runtime's log while it runs; with
  // `follow`, until the attempt ends. `write` returns false when the reader
  // is gone.
  Status FollowLog(int64_t run_id, const std::string& task, int attempt, bool follow,
                   const std::function<bool(std::string_view)>& write);

  // A terminal in the task's running workload (runtime::OpenTerminal);
  // kNotFound when the task is not running.
  Result<std::unique_ptr<runtime::Terminal>> OpenTerminal(int64_t run_id, const std::string& task,
                                                         const runtime::TerminalOptions& options);

  std::string LogPath(int64_t run_id, const std::string& task, int attempt) const;
  std::string OutputsDir(int64_t run_id, const std::string& task) const;
  // A retry's carried tasks, in two steps so that no transaction waits on
  // the file system: StageCarried links their /outputs of `from_run` into a
  // new staging directory (hard links, never following a link a task left;
  // workload::LinkArtifacts) and returns it; AdoptStaged, in the retry's
  // transaction, moves each into `to_run`'s place (renames). DropStaged
  // removes what is left of a staging directory.
  Result<std::string> StageCarried(int64_t from_run, const std::vector<std::string>& tasks) const;
  Status AdoptStaged(const std::string& staging, int64_t to_run, const std::vector<std::string>& tasks) const;
  void DropStaged(const std::string& staging) const;
  // Removes a finished run's logs and artifacts (after DeleteRun).
  void RemoveRunFiles(int64_t run_id) const;

  RunControllerStats stats() const;
  // Where webhooks may go (also checked when a pipeline is saved); may be null.
  const WebhookGuard* webhook_guard() const { return options_.webhook_guard.get(); }
  runtime::Runtime& runtime() { return runtime_; }

 private:
  struct TaskHandle;
  struct TaskEntry;
  struct ActiveRun;
  struct Event;
  struct Round;
  using Writes = std::vector<std::function<Status(store::Tx&)>>;

  // One scheduling round (core/wake_loop.h): events, stops, starts, one commit.
  void Pass();
  // How long the loop may sleep: a second, or until a retry's backoff ends.
  std::chrono::milliseconds UntilNextPass() const;
  void LoadRuns();
  Status LoadRun(const store::RunRecord& rec);
  // The run's tasks as its plan sees them (from their stored states); fills each task's `up`.
  Result<std::vector<PlanTask>> PlanTasksOf(ActiveRun& run);
  void HandleStops(Round& round);
  void HandleEvents(std::vector<Event> events, Round& round);
  void StartReady(Round& round);
  void FinishRound(Round& round);
  // Records what the run's plan changed (tasks, the run's state) and, once
  // the plan is done, the run's end. Returns true when the run ended.
  bool Sync(ActiveRun& run, int64_t now, Writes* writes);
  void FinishRun(ActiveRun& run, int64_t now, Writes* writes);
  void FinishAttempt(ActiveRun& run, TaskEntry& task, Event& e, int64_t now, Writes* writes);
  // The task's workload spec for its current attempt (rendered arguments,
  // entrypoint, env, resources, mounts, labels); kInvalidArgument naming the
  // field when its text cannot be rendered.
  Result<runtime::WorkloadSpec> BuildSpec(ActiveRun& run, TaskEntry& task);
  // A variable of the task's text: built-ins, globals, tasks.NAME.outputs.KEY
  // (recording NAME in `referenced`).
  static std::optional<std::string> LookupVariable(const ActiveRun& run, const std::string& name,
                                                   std::set<std::string>* referenced);
  static Status RenderEntrypoint(const TaskSpec& ts, const TemplateSpec& tmpl, const Json& values,
                                 const VariableLookup& lookup, const std::string& where, runtime::WorkloadSpec* spec);
  std::vector<runtime::Mount> TaskMounts(const ActiveRun& run, const TaskEntry& task,
                                         const std::set<std::string>& referenced) const;
  // Starts (or, with `adopt`, re-attaches to) the task's attempt: a
  // workload::Attempt whose thread reports through events.
  void LaunchAttempt(ActiveRun& run, TaskEntry& task, runtime::WorkloadSpec spec, bool adopt);
  void RegisterDeclared(registry::VersionRequest req, const Json& declaration, workload::AttemptEnd* end);
  // Its `register_dataset` declaration: the next version of a data set.
  void RegisterDeclaredDataset(const registry::VersionRequest& where, const Json& declaration,
                               workload::AttemptEnd* end);
  // Whether `runner` may add a version to model or data set (`kind`) `name`
  // of the project: in `public`, only its creator or an admin.
  Status MayAddVersion(const std::string& runner, int64_t project_id, const std::string& kind, const std::string& name);
  // Its `deploy_model` declaration: a registry version served.
  void DeployDeclared(const std::string& runner, const std::string& project, const Json& declaration,
                      workload::AttemptEnd* end);
  static void CheckOutputs(const std::string& dir, workload::AttemptEnd* end, Json* outputs);
  void Post(Event e);
  bool Stopping();

  store::Store& store_;
  const Clock& clock_;
  runtime::Runtime& runtime_;
  const RunControllerOptions options_;
  ModelDeployer deployer_;  // set before Start()

  WakeLoop loop_;
  std::mutex mu_;
  bool stopping_ = false;          // guarded by mu_
  bool notified_ = true;           // guarded by mu_
  std::vector<Event> events_;      // guarded by mu_: task threads' reports
  workload::AttemptSet<TaskHandle> attempts_;  // the tasks' attempts until their threads are joined

  // Owned by the scheduler thread.
  std::map<int64_t, std::unique_ptr<ActiveRun>> runs_;
  std::chrono::steady_clock::time_point next_shared_load_{};  // loop thread: next look at a shared store

  mutable std::mutex stats_mu_;
  RunControllerStats stats_;  // guarded by stats_mu_
};

// "2026-11-29 02:00:00" for `unix_seconds` in `timezone` (UTC when unknown).
std::string FormatExecutionDate(int64_t unix_seconds, const std::string& timezone);

}  // namespace quader::pipeline
