#include "pipeline/run_controller.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <malloc.h>

#include <date/tz.h>
#include <spdlog/spdlog.h>

#include "core/log_stamp.h"
#include "registry/datasets.h"
#include "auth/access.h"
#include "store/datasets.h"
#include "store/models.h"
#include "store/users.h"
#include "registry/register.h"
#include "auth/expand.h"
#include "core/files.h"
#include "pipeline/render.h"
#include "pipeline/states.h"
#include "pipeline/webhook.h"
#include "runtime/labels.h"
#include "workload/artifacts.h"
#include "workload/attempt.h"
#include "workload/log_follow.h"
#include "workload/ownership.h"
#include "workload/mounts.h"

namespace quader::pipeline {
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr size_t kMaxOutputsBytes = 64 * 1024;
// How long a terminal waits for a task recorded running whose workload is
// still starting.
constexpr std::chrono::seconds kTerminalStartWait{10};

std::string RandomHex(size_t bytes) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    auto b = static_cast<unsigned>(rng() & 0xff);
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string FormatCpu(double cpu) {
  std::ostringstream s;
  s << cpu;
  return s.str();
}

std::string FormatMemory(int64_t bytes) {
  constexpr int64_t kGi = int64_t{1} << 30, kMi = int64_t{1} << 20;
  if (bytes == 0) return "0";
  if (bytes % kGi == 0) return std::to_string(bytes / kGi) + "G";
  if (bytes % kMi == 0) return std::to_string(bytes / kMi) + "M";
  return std::to_string(bytes);
}

std::string ValueText(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }


}  // namespace

std::string FormatExecutionDate(int64_t unix_seconds, const std::string& timezone) {
  auto t = date::sys_seconds{std::chrono::seconds(unix_seconds)};
  try {
    auto zoned = date::make_zoned(timezone.empty() ? "UTC" : timezone, t);
    return date::format("%Y-%m-%d %H:%M:%S", zoned.get_local_time());
  } catch (const std::exception&) {
    return date::format("%Y-%m-%d %H:%M:%S", t);
  }
}

// One started attempt: the scheduler's handle on its supervisor.
struct RunController::TaskHandle {
  int64_t run_id = 0;
  int task_index = 0;
  Json outputs = Json::object();  // set by the attempt's thread before it reports a success
  std::unique_ptr<workload::Attempt> attempt;
};

struct RunController::Event {
  std::shared_ptr<TaskHandle> handle;
  bool finished = false;  // false: the workload started
  runtime::WorkloadStatus status;
  AttemptOutcome outcome = AttemptOutcome::kFailed;  // finished: how the attempt ended
  std::string reason;
  int64_t peak_memory = 0;
};

// Everything one scheduler round decided: written in one transaction, then acted on.
struct RunController::Round {
  std::vector<std::function<Status(store::Tx&)>> writes;
  std::vector<std::shared_ptr<TaskHandle>> acks;  // finished attempts whose workloads may go
  std::vector<std::pair<ActiveRun*, int>> launches;
  std::vector<runtime::WorkloadSpec> specs;       // one per launch
  std::vector<int64_t> finished;                  // runs that ended
};

struct RunController::TaskEntry {
  store::RunTaskRecord rec;
  const TaskSpec* spec = nullptr;
  const TemplateSpec* tmpl = nullptr;
  std::vector<int> up;  // upstream tasks in this run: their outputs are the task's inputs
  std::shared_ptr<TaskHandle> handle;
  Json outputs = Json::object();
};

namespace {

// The variables every run defines (docs/pipelines.md "Variables").
std::optional<std::string> BuiltinVariable(const store::RunRecord& rec, const std::string& name) {
  if (name == "execution_date") return FormatExecutionDate(rec.execution_date, rec.timezone);
  if (name == "run_id") return rec.run_key;
  if (name == "pipeline_name") return rec.pipeline_name;
  if (name == "pipeline_id") return std::to_string(rec.pipeline_id.value_or(0));
  if (name == "creator") return rec.creator;
  if (name == "runner") return rec.runner;
  return std::nullopt;
}

}  // namespace

struct RunController::ActiveRun {
  store::RunRecord rec;
  PipelineSpec spec;
  std::map<std::string, TemplateSpec> templates;
  auth::ProjectSettings project;
  std::vector<TaskEntry> tasks;
  std::map<std::string, int> index;
  std::unique_ptr<Plan> plan;  // what starts next and what an outcome means (pipeline/plan.h)
  bool done = false;           // its end is recorded
  std::map<std::string, std::string> globals;  // rendered global_env
};

RunController::RunController(store::Store& store, const Clock& clock, runtime::Runtime& runtime,
                             RunControllerOptions options)
    : store_(store), clock_(clock), runtime_(runtime), options_(std::move(options)) {}

RunController::~RunController() { Stop(); }

std::string RunController::LogPath(int64_t run_id, const std::string& task, int attempt) const {
  return (fs::path(options_.data_dir) / "logs" / "runs" / std::to_string(run_id) / task /
          (std::to_string(attempt) + ".log"))
      .string();
}

std::string RunController::OutputsDir(int64_t run_id, const std::string& task) const {
  return (fs::path(options_.data_dir) / "artifacts" / "runs" / std::to_string(run_id) / task).string();
}

Result<std::string> RunController::StageCarried(int64_t from_run, const std::vector<std::string>& tasks) const {
  const std::string staging =
      (fs::path(options_.data_dir) / "artifacts" / "staging" / ("retry-" + std::to_string(from_run) + "-" + RandomHex(8)))
          .string();
  for (const std::string& task : tasks) {
    Status st = workload::LinkArtifacts(OutputsDir(from_run, task), staging + "/" + task);
    if (!st.ok()) {
      DropStaged(staging);
      return Status(st.code(), "task " + task + "'s outputs: " + st.message() + "; re-run the whole run instead");
    }
  }
  return staging;
}

Status RunController::AdoptStaged(const std::string& staging, int64_t to_run, const std::vector<std::string>& tasks) const {
  for (const std::string& task : tasks) {
    const fs::path target = OutputsDir(to_run, task);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    fs::rename(fs::path(staging) / task, target, ec);
    if (ec) return errors::Internal("cannot move the carried outputs of " + task + ": " + ec.message());
  }
  return Status::Ok();
}

void RunController::DropStaged(const std::string& staging) const {
  std::error_code ec;
  fs::remove_all(staging, ec);
}

void RunController::RemoveRunFiles(int64_t run_id) const {
  std::error_code ec;
  fs::remove_all(fs::path(options_.data_dir) / "logs" / "runs" / std::to_string(run_id), ec);
  fs::remove_all(fs::path(options_.data_dir) / "artifacts" / "runs" / std::to_string(run_id), ec);
}

RunControllerStats RunController::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

Result<int64_t> RunController::CreateRun(store::Tx& tx, const NewRun& run, int64_t now_ms) {
  Json templates = Json::object();
  for (const auto& [task, t] : run.templates) templates[task] = t.ToJson();
  Json snapshot = {{"pipeline", run.spec.ToJson()},
                   {"templates", templates},
                   {"project_expand", Json::parse(run.project_expand, nullptr, false)}};
  if (snapshot["project_expand"].is_discarded()) snapshot["project_expand"] = Json::object();
  store::RunRecord rec;
  rec.project_id = run.project_id;
  rec.pipeline_id = run.pipeline_id;
  rec.pipeline_name = run.spec.name;
  rec.run_key = RandomHex(16);
  rec.snapshot = snapshot.dump();
  rec.state = "pending";
  rec.trigger = run.trigger;
  rec.runner = run.runner;
  rec.creator = run.creator;
  rec.execution_date = run.execution_date;
  rec.timezone = run.timezone;
  rec.schedule_id = run.schedule_id;
  rec.created_at = now_ms;
  std::vector<store::RunTaskRecord> tasks;
  tasks.reserve(run.spec.tasks.size());
  for (size_t i = 0; i < run.spec.tasks.size(); ++i) {
    const TaskSpec& t = run.spec.tasks[i];
    store::RunTaskRecord r;
    r.name = t.name;
    r.position = static_cast<int>(i);
    r.state = "pending";
    r.max_attempts = t.retries + 1;
    auto tmpl = run.templates.find(t.name);
    if (tmpl != run.templates.end()) r.image = tmpl->second.image;
    if (t.depends_on.empty()) r.ready_at = now_ms;
    if (auto done = run.carried.find(t.name); done != run.carried.end()) {
      // Succeeded in the run retried: done here too, with its outputs (its
      // files are linked in by CarryOutputs); its log stays with that run.
      const store::RunTaskRecord& was = done->second;
      r.state = "succeeded";
      r.reason = "succeeded in run " + std::to_string(*run.retry_of) + " (not run again)";
      r.outputs = was.outputs;
      r.exit_code = was.exit_code;
      r.image = was.image;
      r.runtime = was.runtime;
      r.argv = was.argv;
      r.started_at = was.started_at;
      r.finished_at = was.finished_at;
    }
    tasks.push_back(std::move(r));
  }
  return store::InsertRun(tx, rec, &tasks);
}

void RunController::Start() {
  loop_.Start([this] { Pass(); }, [this] { return UntilNextPass(); });
}

void RunController::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  loop_.Stop();
  attempts_.AbandonAll();  // running workloads keep running: the next server adopts them
}

void RunController::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  loop_.Notify();
}

bool RunController::Stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void RunController::Post(Event e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  loop_.Notify();
}

bool RunController::OwnsWorkload(const runtime::WorkloadStatus& w) {
  return workload::Owns(store_, w, [&w](store::Tx& tx, const workload::Owner& o) -> Result<bool> {
    auto run = store::GetRun(tx, o.id);
    if (!run.ok() || IsTerminalWord(run->state)) return false;
    QUADER_ASSIGN_OR_RETURN(auto task, store::FindRunTask(tx, o.id, o.member));
    return task && IsTaskState(task->state, TaskState::kRunning) && task->workload == w.name;
  });
}

// --- the scheduler thread

namespace {

// Runs the writes in one transaction, retrying while the store fails: the
// in-memory state already moved on, so giving up would lose it.
void Commit(store::Store& store, std::vector<std::function<Status(store::Tx&)>>* writes) {
  if (writes->empty()) return;
  for (int attempt = 1;; ++attempt) {
    Status st = store.Write([&](store::Tx& tx) -> Status {
      for (const auto& w : *writes) QUADER_RETURN_IF_ERROR(w(tx));
      return Status::Ok();
    });
    if (st.ok()) break;
    spdlog::error("[pipeline] recording run progress failed (attempt {}): {}", attempt, st.ToString());
    std::this_thread::sleep_for(std::chrono::seconds(std::min(attempt, 5)));
  }
  writes->clear();
}

std::function<Status(store::Tx&)> WriteTask(const store::RunTaskRecord& rec) {
  return [rec](store::Tx& tx) { return store::UpdateRunTask(tx, rec); };
}

// The attempt row of `rec`'s current attempt, in `state` (the attempt's own:
// a failed attempt that will be retried leaves its task pending).
std::function<Status(store::Tx&)> WriteAttempt(const store::RunTaskRecord& rec, TaskState state,
                                               int64_t peak = 0) {
  store::AttemptRecord a;
  a.run_task_id = rec.id;
  a.attempt = rec.attempt;
  a.state = std::string(WireName(state));
  a.exit_code = rec.exit_code;
  a.oom_killed = rec.oom_killed;
  a.reason = rec.reason;
  a.workload = rec.workload;
  a.node = rec.node;
  a.peak_memory = peak ? peak : rec.peak_memory;
  a.started_at = rec.started_at;
  a.finished_at = state == TaskState::kRunning ? std::nullopt : rec.finished_at;
  return [a](store::Tx& tx) { return store::PutAttempt(tx, a); };
}

}  // namespace

std::chrono::milliseconds RunController::UntilNextPass() const {
  // At least every second; sooner when a retry's backoff ends.
  milliseconds wait = std::chrono::seconds(1);
  int64_t now = ToUnixMillis(clock_.Now());
  for (const auto& [id, run] : runs_) {
    if (std::optional<int64_t> due = run->plan->NextRetryMs()) {
      wait = std::min(wait, milliseconds(std::max<int64_t>(0, *due - now)));
    }
  }
  return wait;
}

void RunController::Pass() {
  std::vector<Event> events;
  bool notified = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    events.swap(events_);
    notified = notified_;
    notified_ = false;
  }
  attempts_.Reap();
  Round round;
  // On a store shared with other servers (PostgreSQL), runs and stop
  // requests also arrive through their APIs: look every second.
  if (!notified && store_.dialect() == "postgresql" && steady_clock::now() >= next_shared_load_) {
    notified = true;
  }
  if (notified) {
    next_shared_load_ = steady_clock::now() + std::chrono::seconds(1);
    LoadRuns();
    HandleStops(round);
  }
  if (!events.empty()) HandleEvents(std::move(events), round);
  StartReady(round);
  FinishRound(round);
  int64_t active = 0, running = 0;
  for (const auto& [id, run] : runs_) {
    active++;
    running += run->plan->running();
  }
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.active_runs = active;
  stats_.running_tasks = running;
}

void RunController::LoadRuns() {
  std::vector<store::RunRecord> active;
  Status st = store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(active, store::ListActiveRuns(tx));
    return Status::Ok();
  });
  if (!st.ok()) {
    spdlog::error("[pipeline] listing active runs failed: {}", st.ToString());
    return;
  }
  for (const auto& rec : active) {
    auto it = runs_.find(rec.id);
    if (it != runs_.end()) {
      it->second->rec.stop_requested = rec.stop_requested;
      continue;
    }
    if (Status s = LoadRun(rec); !s.ok()) {
      spdlog::error("[pipeline] run {} cannot be loaded: {}", rec.id, s.ToString());
      int64_t now = ToUnixMillis(clock_.Now());
      std::vector<std::function<Status(store::Tx&)>> writes;
      std::string reason = "the run's snapshot cannot be read: " + s.message();
      writes.push_back([&, id = rec.id](store::Tx& tx) -> Status {
        QUADER_ASSIGN_OR_RETURN(auto tasks, store::ListRunTasks(tx, id));
        for (auto& t : tasks) {
          if (IsTerminalWord(t.state)) continue;
          t.state = "failed";
          t.reason = reason;
          t.finished_at = now;
          QUADER_RETURN_IF_ERROR(store::UpdateRunTask(tx, t));
        }
        return store::SetRunState(tx, id, "failed", reason, std::nullopt, now);
      });
      Commit(store_, &writes);
    }
  }
}

Status RunController::LoadRun(const store::RunRecord& rec) {
  auto run = std::make_unique<ActiveRun>();
  run->rec = rec;
  Json snapshot = Json::parse(rec.snapshot, nullptr, false);
  if (!snapshot.is_object()) return errors::Internal("snapshot is not JSON");
  QUADER_ASSIGN_OR_RETURN(run->spec, ParsePipelineSpec(snapshot.value("pipeline", Json::object())));
  const Json templates = snapshot.value("templates", Json::object());
  for (const auto& [task, t] : templates.items()) {
    QUADER_ASSIGN_OR_RETURN(TemplateSpec ts, ParseTemplateSpec(t));
    run->templates.emplace(task, std::move(ts));
  }
  auto settings = auth::ParseExpand(snapshot.value("project_expand", Json::object()));
  if (settings.ok()) run->project = *settings;

  std::vector<store::RunTaskRecord> records;
  QUADER_RETURN_IF_ERROR(store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(records, store::ListRunTasks(tx, rec.id));
    return Status::Ok();
  }));
  run->tasks.resize(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    TaskEntry& t = run->tasks[i];
    t.rec = records[i];
    t.spec = run->spec.Find(t.rec.name);
    if (!t.spec) return errors::Internal("task \"" + t.rec.name + "\" is not in the snapshot");
    auto tmpl = run->templates.find(t.rec.name);
    if (tmpl == run->templates.end()) return errors::Internal("task \"" + t.rec.name + "\" has no template");
    t.tmpl = &tmpl->second;
    t.outputs = Json::parse(t.rec.outputs, nullptr, false);
    if (!t.outputs.is_object()) t.outputs = Json::object();
    run->index[t.rec.name] = static_cast<int>(i);
  }
  QUADER_ASSIGN_OR_RETURN(std::vector<PlanTask> plan_tasks, PlanTasksOf(*run));
  int64_t now = ToUnixMillis(clock_.Now());
  run->plan = std::make_unique<Plan>(std::move(plan_tasks), run->spec.parallelism, now);

  // Rendered global env: global values may use the built-in variables only
  // (ValidatePipeline refuses anything else).
  VariableLookup base = [&r = *run](const std::string& name) { return BuiltinVariable(r.rec, name); };
  for (const auto& [k, v] : run->spec.global_env) {
    auto rendered = Render("global_env." + k, v, base);
    run->globals[k] = rendered.ok() ? *rendered : v;
  }

  ActiveRun& r = *run;
  runs_[rec.id] = std::move(run);
  spdlog::info("[pipeline] run {} ({}/{}) loaded: {} tasks, state {}", rec.id, rec.project, rec.pipeline_name,
               r.tasks.size(), rec.state);
  // Reading a big run's snapshot and tasks left a lot of freed memory behind
  // (parsed JSON, rows): give it back rather than keep it for the run's life.
  if (r.tasks.size() >= 1000) malloc_trim(0);

  // Re-attach to what was running; the plan queued what is ready.
  for (TaskEntry& t : r.tasks) {
    if (!IsTaskState(t.rec.state, TaskState::kRunning)) continue;
    auto spec = BuildSpec(r, t);
    if (!spec.ok()) {
      // The spec was built once already; fall back to attaching by name.
      runtime::WorkloadSpec by_name;
      by_name.name = t.rec.workload;
      spec = by_name;
    }
    spec->name = t.rec.workload;
    LaunchAttempt(r, t, std::move(*spec), /*adopt=*/true);
  }
  if (rec.stop_requested) {
    r.plan->Stop(now);
    for (const auto& t : r.tasks) {
      if (t.handle) t.handle->attempt->Cancel("the run was stopped", "stopped: the run was stopped");
    }
  }
  Writes writes;
  if (Sync(r, now, &writes)) {
    Commit(store_, &writes);
    runs_.erase(rec.id);
    return Status::Ok();
  }
  Commit(store_, &writes);
  return Status::Ok();
}

Result<std::vector<PlanTask>> RunController::PlanTasksOf(ActiveRun& run) {
  std::vector<PlanTask> out(run.tasks.size());
  for (size_t i = 0; i < run.tasks.size(); ++i) {
    TaskEntry& t = run.tasks[i];
    for (const auto& up : t.spec->depends_on) {
      auto it = run.index.find(up);
      if (it == run.index.end()) continue;  // a debug run holds one task
      t.up.push_back(it->second);
    }
    std::optional<TaskState> state = ParseTaskState(t.rec.state);
    if (!state) return errors::Internal("task \"" + t.rec.name + "\" has the unknown state \"" + t.rec.state + "\"");
    PlanTask& p = out[i];
    p.name = t.rec.name;
    p.upstream = t.up;
    p.skip = t.spec->skip;
    p.max_attempts = t.rec.max_attempts;
    p.retry_backoff_seconds = t.spec->retry_backoff_seconds;
    p.state = *state;
    p.attempt = t.rec.attempt;
    p.not_before_ms = t.rec.not_before;
    p.ready_at_ms = t.rec.ready_at;
  }
  return out;
}

void RunController::HandleStops(Round& round) {
  int64_t now = ToUnixMillis(clock_.Now());
  for (auto& [id, run] : runs_) {
    if (!run->rec.stop_requested || run->plan->stopping()) continue;
    spdlog::info("[pipeline] run {} ({}): stop requested", id, run->rec.pipeline_name);
    run->plan->Stop(now);
    for (auto& t : run->tasks) {
      if (t.handle) t.handle->attempt->Cancel("the run was stopped", "stopped: the run was stopped");
    }
    if (Sync(*run, now, &round.writes)) round.finished.push_back(id);
  }
}

bool RunController::Sync(ActiveRun& run, int64_t now, Writes* writes) {
  for (int i : run.plan->TakeChanged()) {
    const PlanTaskStatus& s = run.plan->task(i);
    store::RunTaskRecord& rec = run.tasks[i].rec;
    // Ended without running now (skip, stop, upstream failure): the plan's
    // time; an attempt's end keeps its workload's finish time.
    if (IsTerminal(s.state) && (IsTaskState(rec.state, TaskState::kPending) || !rec.finished_at)) {
      rec.finished_at = s.finished_at_ms;
    }
    rec.state = std::string(WireName(s.state));
    rec.attempt = s.attempt;
    rec.reason = s.reason;
    rec.not_before = s.not_before_ms;
    if (s.ready_at_ms) rec.ready_at = s.ready_at_ms;
    writes->push_back(WriteTask(rec));
  }
  if (IsRunState(run.rec.state, RunState::kPending) && run.plan->run_state() != RunState::kPending) {
    run.rec.state = "running";
    run.rec.started_at = now;
    writes->push_back([id = run.rec.id, now](store::Tx& tx) {
      return store::SetRunState(tx, id, "running", "", now, std::nullopt);
    });
  }
  if (run.done || !run.plan->done()) return false;
  FinishRun(run, now, writes);
  return true;
}

void RunController::FinishRun(ActiveRun& run, int64_t now, Writes* writes) {
  std::string state(WireName(run.plan->run_state()));
  std::string reason = run.plan->run_reason();
  run.done = true;
  run.rec.state = state;
  run.rec.reason = reason;
  std::optional<int64_t> started = run.rec.started_at ? run.rec.started_at : std::optional<int64_t>(now);
  writes->push_back([id = run.rec.id, state, reason, started, now](store::Tx& tx) {
    return store::SetRunState(tx, id, state, reason, started, now);
  });
  spdlog::info("[pipeline] run {} ({}/{}) {}{}", run.rec.id, run.rec.project, run.rec.pipeline_name, state,
               reason.empty() ? "" : ": " + reason);
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.runs_finished++;
  }
  if (!run.spec.webhook) return;
  const auto& on = run.spec.webhook->on;
  if (std::find(on.begin(), on.end(), state) == on.end()) return;
  Json payload = {{"event", "run." + state},
                  {"run", {{"id", run.rec.id},
                           {"project", run.rec.project},
                           {"pipeline", run.rec.pipeline_name},
                           {"state", state},
                           {"reason", reason},
                           {"trigger", run.rec.trigger},
                           {"runner", run.rec.runner},
                           {"execution_date", FormatExecutionDate(run.rec.execution_date, run.rec.timezone)}}}};
  Json tasks = Json::array();
  for (const auto& t : run.tasks) {
    tasks.push_back({{"name", t.rec.name}, {"state", t.rec.state}, {"reason", t.rec.reason}});
  }
  payload["run"]["tasks"] = tasks;
  SendWebhookAsync(run.spec.webhook->url, payload, options_.webhook_guard);
}

void RunController::HandleEvents(std::vector<Event> events, Round& round) {
  int64_t now = ToUnixMillis(clock_.Now());
  std::set<int64_t> touched;
  for (Event& e : events) {
    auto it = runs_.find(e.handle->run_id);
    if (it == runs_.end() || e.handle->task_index >= static_cast<int>(it->second->tasks.size()) ||
        it->second->tasks[e.handle->task_index].handle != e.handle) {
      if (e.finished) round.acks.push_back(e.handle);  // not ours any more: its workload may go
      continue;
    }
    ActiveRun& run = *it->second;
    TaskEntry& t = run.tasks[e.handle->task_index];
    touched.insert(run.rec.id);
    if (!e.finished) {
      // Started, or waiting for its image (a reason and no status).
      t.rec.reason = e.reason;
      t.rec.node = e.status.node;
      if (e.status.started_at) t.rec.started_at = ToUnixMillis(*e.status.started_at);
      round.writes.push_back(WriteTask(t.rec));
      round.writes.push_back(WriteAttempt(t.rec, TaskState::kRunning));
      continue;
    }
    round.acks.push_back(e.handle);
    FinishAttempt(run, t, e, now, &round.writes);
  }
  for (int64_t id : touched) {
    if (Sync(*runs_[id], now, &round.writes)) round.finished.push_back(id);
  }
}

void RunController::FinishAttempt(ActiveRun& run, TaskEntry& t, Event& e, int64_t now, Writes* writes) {
  t.handle.reset();
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.tasks_finished++;
  }
  if (!e.status.node.empty()) t.rec.node = e.status.node;
  t.rec.exit_code = e.status.exit_code;
  t.rec.oom_killed = e.status.oom_killed;
  t.rec.peak_memory = std::max(t.rec.peak_memory, e.peak_memory);
  t.rec.finished_at = e.status.finished_at ? ToUnixMillis(*e.status.finished_at) : now;
  AttemptOutcome outcome = e.outcome;
  if (outcome == AttemptOutcome::kFailed && run.plan->stopping()) outcome = AttemptOutcome::kStopped;
  if (outcome == AttemptOutcome::kSucceeded) {
    t.outputs = e.handle->outputs;
    t.rec.outputs = e.handle->outputs.dump();
  }
  std::string reason = e.reason;
  if (outcome == AttemptOutcome::kStopped && reason.empty()) reason = "the run was stopped";
  t.rec.reason = reason;
  const TaskState ended = outcome == AttemptOutcome::kSucceeded ? TaskState::kSucceeded
                          : outcome == AttemptOutcome::kStopped  ? TaskState::kStopped
                                                                  : TaskState::kFailed;
  writes->push_back(WriteAttempt(t.rec, ended, e.peak_memory));
  run.plan->AttemptFinished(e.handle->task_index, outcome, reason, now);
  if (run.plan->task(e.handle->task_index).state == TaskState::kPending) {
    spdlog::info("[pipeline] run {} task {}: {}", run.rec.id, t.rec.name, run.plan->task(e.handle->task_index).reason);
  }
}

namespace {

// A value of the task's validated arguments, when it is a non-empty string.
std::optional<std::string> StringArg(const Json& values, const char* name) {
  if (!values.contains(name) || !values[name].is_string() || values[name].get<std::string>().empty()) return std::nullopt;
  return values[name].get<std::string>();
}

// The platform's variables (docs/pipelines.md "Variables"): cube-studio's KFJ_* and Quader's own.
std::map<std::string, std::string> PlatformEnv(const store::RunRecord& run, const store::RunTaskRecord& task,
                                               const std::string& image, const runtime::Resources& res,
                                               const std::string& node_selector, const std::string& volume_mount) {
  std::map<std::string, std::string> env = {
      {"KFJ_PIPELINE_ID", std::to_string(run.pipeline_id.value_or(0))},
      {"KFJ_PIPELINE_NAME", run.pipeline_name},
      {"KFJ_RUN_ID", run.run_key},
      {"KFJ_CREATOR", run.creator},
      {"KFJ_RUNNER", run.runner},
      {"KFJ_NAMESPACE", run.project},
      {"KFJ_TASK_ID", std::to_string(task.id)},
      {"KFJ_TASK_NAME", task.name},
      {"KFJ_TASK_PROJECT_NAME", run.project},
      {"KFJ_TASK_IMAGES", image},
      {"KFJ_TASK_VOLUME_MOUNT", volume_mount},
      {"KFJ_TASK_NODE_SELECTOR", node_selector},
      {"KFJ_TASK_RESOURCE_CPU", FormatCpu(res.cpu)},
      {"KFJ_TASK_RESOURCE_MEMORY", FormatMemory(res.memory_bytes)},
      {"KFJ_TASK_RESOURCE_GPU", FormatCpu(res.gpu)},
      {"KFJ_EXECUTION_DATE", FormatExecutionDate(run.execution_date, run.timezone)},
      {"USERNAME", run.runner},
      {"QUADER_OUTPUTS", "/outputs"},
      {"QUADER_INPUTS", "/inputs"},
      {"QUADER_ATTEMPT", std::to_string(task.attempt)},
  };
  if (res.gpu <= 0) env["NVIDIA_VISIBLE_DEVICES"] = "none";
  return env;
}

// Adds `m`, replacing a mount at the same target.
void AddMount(std::vector<runtime::Mount>* mounts, runtime::Mount m) {
  mounts->erase(std::remove_if(mounts->begin(), mounts->end(),
                               [&](const runtime::Mount& x) { return x.target == m.target; }),
                mounts->end());
  mounts->push_back(std::move(m));
}

}  // namespace

Result<runtime::WorkloadSpec> RunController::BuildSpec(ActiveRun& run, TaskEntry& task) {
  const TaskSpec& ts = *task.spec;
  const TemplateSpec& tmpl = *task.tmpl;
  const std::string where = "tasks[" + std::to_string(task.rec.position) + "] (" + ts.name + ")";
  std::set<std::string> referenced;  // upstream tasks whose outputs the task's text uses
  VariableLookup lookup = [&](const std::string& name) { return LookupVariable(run, name, &referenced); };
  QUADER_ASSIGN_OR_RETURN(Json rendered, RenderJson(where + ".args", ts.args, lookup));
  QUADER_ASSIGN_OR_RETURN(Json values, ValidateTaskArgs(tmpl.args, rendered, where + ".args", false));

  runtime::WorkloadSpec spec;
  spec.name = "q" + options_.instance.substr(0, 8) + "-r" + std::to_string(run.rec.id) + "-t" +
              std::to_string(task.rec.id) + "-a" + std::to_string(task.rec.attempt);
  spec.image = StringArg(values, "images").value_or(tmpl.image);
  QUADER_RETURN_IF_ERROR(RenderEntrypoint(ts, tmpl, values, lookup, where, &spec));
  for (const auto& [k, v] : tmpl.env) {
    QUADER_ASSIGN_OR_RETURN(spec.env[k], Render("template " + tmpl.name + " env." + k, v, lookup));
  }
  for (const auto& [k, v] : run.globals) spec.env[k] = v;
  for (const auto& [k, v] : ts.env) {
    QUADER_ASSIGN_OR_RETURN(spec.env[k], Render(where + ".env." + k, v, lookup));
  }

  spec.resources.cpu = ts.cpu.value_or(tmpl.resources.cpu);
  spec.resources.memory_bytes = ts.memory_bytes.value_or(tmpl.resources.memory_bytes);
  spec.resources.gpu = ts.gpu.value_or(tmpl.resources.gpu);
  for (const auto& [k, v] : run.project.node_selector) spec.node_selector[k] = v;
  for (const auto& [k, v] : ts.node_selector) spec.node_selector[k] = v;
  spec.cluster = run.project.cluster;
  std::string node_selector, volume_mount;
  for (const auto& [k, v] : spec.node_selector) node_selector += (node_selector.empty() ? "" : ",") + k + "=" + v;
  for (const auto* text : {&tmpl.volume_mount, &ts.volume_mount}) {
    if (!text->empty()) volume_mount += (volume_mount.empty() ? "" : ";") + *text;
  }
  for (auto& [k, v] : PlatformEnv(run.rec, task.rec, spec.image, spec.resources, node_selector, volume_mount)) {
    spec.env[k] = v;
  }
  spec.mounts = TaskMounts(run, task, referenced);
  if (!ts.datasets.empty()) {
    if (options_.blobs == nullptr) return errors::Unavailable(where + ".datasets: this server keeps no registry");
    QUADER_ASSIGN_OR_RETURN(registry::DatasetMounts read,
                            registry::MountDatasets(store_, *options_.blobs, where + ".datasets", run.rec.project_id,
                                                    ts.datasets, {"run", run.rec.id, ts.name},
                                                    ToUnixMillis(clock_.Now())));
    for (const auto& m : read.mounts) AddMount(&spec.mounts, m);
    spec.env["QUADER_DATASETS"] = read.env;
  }
  spec.labels = {{runtime::kLabelManaged, "true"},
                 {runtime::kLabelInstance, options_.instance},
                 {runtime::kLabelProject, run.rec.project},
                 {runtime::kLabelUser, run.rec.runner},
                 {runtime::kLabelKind, "task"},
                 {runtime::kLabelOwner, std::to_string(run.rec.id)},
                 {runtime::kLabelRun, std::to_string(run.rec.id)},
                 {runtime::kLabelTask, ts.name},
                 {runtime::kLabelAttempt, std::to_string(task.rec.attempt)}};
  spec.restart = runtime::RestartPolicy::kNever;
  return spec;
}

std::optional<std::string> RunController::LookupVariable(const ActiveRun& run, const std::string& name,
                                                         std::set<std::string>* referenced) {
  if (auto v = BuiltinVariable(run.rec, name)) return v;
  if (auto g = run.globals.find(name); g != run.globals.end()) return g->second;
  constexpr std::string_view kPrefix = "tasks.";  // tasks.NAME.outputs.KEY
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  size_t dot = name.find(".outputs.", kPrefix.size());
  if (dot == std::string::npos) return std::nullopt;
  std::string up = name.substr(kPrefix.size(), dot - kPrefix.size());
  std::string key = name.substr(dot + 9);
  auto it = run.index.find(up);
  if (it == run.index.end()) return std::nullopt;
  const Json& outs = run.tasks[it->second].outputs;
  if (!outs.contains(key)) return std::nullopt;
  referenced->insert(up);
  return ValueText(outs[key]);
}

Status RunController::RenderEntrypoint(const TaskSpec& ts, const TemplateSpec& tmpl, const Json& values,
                                       const VariableLookup& lookup, const std::string& where,
                                       runtime::WorkloadSpec* spec) {
  // A template's entrypoint may take parameters as {{args.NAME}} (the
  // built-in customize runs `bash -c {{args.command}}`); those are not also
  // passed as arguments.
  Json argv_values = values;
  VariableLookup command_lookup = [&](const std::string& name) -> std::optional<std::string> {
    if (ts.command.empty() && name.rfind("args.", 0) == 0) {
      std::string arg = name.substr(5);
      if (!tmpl.args.Find(arg)) return std::nullopt;
      argv_values.erase(arg);
      return values.contains(arg) ? ValueText(values[arg]) : std::string();
    }
    return lookup(name);
  };
  for (const auto& c : ts.command.empty() ? tmpl.command : ts.command) {
    QUADER_ASSIGN_OR_RETURN(std::string part, Render(where + ".command", c, command_lookup));
    spec->command.push_back(std::move(part));
  }
  spec->args = RenderArgv(tmpl.args, argv_values);
  std::string wd = !ts.working_dir.empty() ? ts.working_dir : StringArg(values, "workdir").value_or(tmpl.working_dir);
  QUADER_ASSIGN_OR_RETURN(spec->working_dir, Render(where + ".working_dir", wd, lookup));
  return Status::Ok();
}

std::vector<runtime::Mount> RunController::TaskMounts(const ActiveRun& run, const TaskEntry& task,
                                                      const std::set<std::string>& referenced) const {
  const TaskSpec& ts = *task.spec;
  const TemplateSpec& tmpl = *task.tmpl;
  // The user's, the project's, the template's, the task's (workload/mounts.h).
  std::vector<runtime::Mount> mounts = workload::ResolveMounts(
      {options_.data_dir, run.rec.runner, true, false, {&run.project.volume_mounts, &tmpl.mounts, &ts.mounts}});
  std::error_code ec;
  runtime::Mount out;
  out.kind = runtime::MountKind::kVolume;
  out.source = OutputsDir(run.rec.id, ts.name);
  out.target = "/outputs";
  fs::create_directories(out.source, ec);
  AddMount(&mounts, out);
  std::set<int> inputs(task.up.begin(), task.up.end());
  for (const auto& name : referenced) inputs.insert(run.index.at(name));
  for (int up : inputs) {
    runtime::Mount in;
    in.kind = runtime::MountKind::kVolume;
    in.source = OutputsDir(run.rec.id, run.tasks[up].rec.name);
    in.target = "/inputs/" + run.tasks[up].rec.name;
    in.read_only = true;
    fs::create_directories(in.source, ec);
    AddMount(&mounts, in);
  }
  if (!tmpl.files.empty()) {
    fs::path dir = fs::path(options_.data_dir) / "artifacts" / "runs" / std::to_string(run.rec.id) / ".templates" / ts.name;
    fs::create_directories(dir, ec);
    for (const auto& [name, content] : tmpl.files) {
      if (fs::exists(dir / name, ec)) continue;
      // clang 14 (make fuzz) cannot capture a structured binding: capture a reference to it.
      WriteFileAtomically((dir / name).string(), [&text = content](std::ofstream& f) { f << text; });
    }
    runtime::Mount files;
    files.kind = runtime::MountKind::kVolume;
    files.source = dir.string();
    files.target = "/template";
    files.read_only = true;
    AddMount(&mounts, files);
  }
  return mounts;
}

void RunController::StartReady(Round& round) {
  int64_t now = ToUnixMillis(clock_.Now());
  for (auto& [id, run_ptr] : runs_) {
    ActiveRun& run = *run_ptr;
    if (run.done) continue;
    for (int i : run.plan->FindWork(now)) {
      TaskEntry& t = run.tasks[i];
      t.rec.attempt = run.plan->task(i).attempt;
      t.rec.not_before.reset();
      t.rec.exit_code.reset();
      t.rec.oom_killed = false;
      t.rec.reason.clear();
      t.rec.started_at = now;
      t.rec.finished_at.reset();
      t.rec.runtime = runtime_.kind();
      auto spec = BuildSpec(run, t);
      if (!spec.ok()) {
        std::string why = spec.status().message();
        t.rec.finished_at = now;
        t.rec.reason = why;
        round.writes.push_back(WriteAttempt(t.rec, TaskState::kFailed));
        WriteFileAtomically(LogPath(run.rec.id, t.rec.name, t.rec.attempt),
                            [&](std::ofstream& f) { f << StampLines("== not started: " + why + "\n", std::chrono::system_clock::now()); });
        run.plan->AttemptFinished(i, AttemptOutcome::kFailed, why, now, /*may_retry=*/false);
        continue;
      }
      t.rec.state = "running";
      t.rec.workload = spec->name;
      t.rec.image = spec->image;
      Json argv = spec->command;
      for (const auto& a : spec->args) argv.push_back(a);
      t.rec.argv = argv.dump();
      round.writes.push_back(WriteAttempt(t.rec, TaskState::kRunning));
      round.launches.emplace_back(&run, i);
      round.specs.push_back(std::move(*spec));
    }
    if (Sync(run, now, &round.writes)) round.finished.push_back(id);
  }
}

void RunController::FinishRound(Round& round) {
  Commit(store_, &round.writes);
  for (const auto& h : round.acks) h->attempt->Persisted();
  for (size_t k = 0; k < round.launches.size(); ++k) {
    auto [run, task] = round.launches[k];
    LaunchAttempt(*run, run->tasks[task], std::move(round.specs[k]), false);
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.tasks_started += static_cast<int64_t>(round.launches.size());
  }
  for (int64_t id : round.finished) runs_.erase(id);
  if (!round.finished.empty()) {
    malloc_trim(0);  // a big run's state is gone: give the memory back
    if (options_.on_run_finished) options_.on_run_finished();
  }
}

void RunController::LaunchAttempt(ActiveRun& run, TaskEntry& task, runtime::WorkloadSpec spec, bool adopt) {
  auto h = std::make_shared<TaskHandle>();
  h->run_id = run.rec.id;
  h->task_index = task.rec.position;
  workload::AttemptOptions o;
  o.log_path = LogPath(run.rec.id, task.rec.name, task.rec.attempt);
  o.adopt = adopt;
  o.start_if_missing = true;  // recorded running before its workload started
  if (task.spec->timeout_seconds > 0) {
    o.deadline_ms = task.rec.started_at.value_or(ToUnixMillis(clock_.Now())) + task.spec->timeout_seconds * 1000;
    o.timeout_seconds = task.spec->timeout_seconds;
  }
  o.stop_grace = options_.stop_grace;
  o.stats_interval = options_.stats_interval;
  o.tag = "run " + std::to_string(run.rec.id) + " task " + task.rec.name;
  std::weak_ptr<TaskHandle> weak = h;
  TaskHandle* raw = h.get();
  workload::AttemptHooks hooks;
  hooks.started = [this, weak](const runtime::WorkloadStatus& status) {
    Event e;
    e.handle = weak.lock();
    e.status = status;
    Post(std::move(e));
  };
  hooks.waiting = [this, weak](const std::string& reason) {
    Event e;
    e.handle = weak.lock();
    e.reason = reason;
    Post(std::move(e));
  };
  registry::VersionRequest declared;  // what a register_model declaration registers
  declared.project_id = run.rec.project_id;
  declared.outputs_root = OutputsDir(run.rec.id, task.rec.name);
  declared.registered_by = run.rec.runner;
  declared.source = {{"run", run.rec.id}, {"pipeline", run.rec.pipeline_name}, {"task", task.rec.name},
                     {"attempt", task.rec.attempt}};
  hooks.check = [this, raw, declared = std::move(declared), project = run.rec.project](workload::AttemptEnd& end) {
    CheckOutputs(declared.outputs_root, &end, &raw->outputs);
    if (end.how == workload::AttemptEnd::How::kSucceeded && raw->outputs.contains("register_model")) {
      RegisterDeclared(declared, raw->outputs["register_model"], &end);
    }
    if (end.how == workload::AttemptEnd::How::kSucceeded && raw->outputs.contains("register_dataset")) {
      RegisterDeclaredDataset(declared, raw->outputs["register_dataset"], &end);
    }
    if (end.how == workload::AttemptEnd::How::kSucceeded && raw->outputs.contains("deploy_model")) {
      DeployDeclared(declared.registered_by, project, raw->outputs["deploy_model"], &end);
    }
  };
  hooks.ended = [this, weak](workload::AttemptEnd end) {
    Event e;
    e.handle = weak.lock();
    e.finished = true;
    e.outcome = end.how == workload::AttemptEnd::How::kSucceeded  ? AttemptOutcome::kSucceeded
                : end.how == workload::AttemptEnd::How::kCanceled ? AttemptOutcome::kStopped
                                                                   : AttemptOutcome::kFailed;
    e.reason = std::move(end.reason);
    e.status = std::move(end.status);
    e.peak_memory = end.peak_memory;
    Post(std::move(e));
  };
  hooks.exited = attempts_.ExitHook(raw);
  h->attempt = std::make_unique<workload::Attempt>(runtime_, clock_, std::move(spec), std::move(o), std::move(hooks));
  if (run.plan->stopping()) h->attempt->Cancel("the run was stopped", "stopped: the run was stopped");
  task.handle = h;
  attempts_.Start(std::move(h));
}

// A task's own registration of a model version (its outputs.json's
// `register_model`): on its attempt's thread, before its end is stored; a
// declaration that cannot be honoured fails the task, saying why.
// In `public` a model or data set is changed only by its creator or an
// admin: a task's declaration adds a version as its runner, no more.
Status RunController::MayAddVersion(const std::string& runner, int64_t project_id, const std::string& kind,
                                    const std::string& name) {
  return store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto user, store::GetUser(tx, runner));
    auth::Principal who;
    who.user_id = user.id;
    who.username = user.username;
    who.is_admin = user.is_admin;
    std::string project, created_by;
    if (kind == "model") {
      QUADER_ASSIGN_OR_RETURN(auto m, store::FindModel(tx, project_id, name));
      if (!m) return Status::Ok();
      project = m->project;
      created_by = m->created_by;
    } else {
      QUADER_ASSIGN_OR_RETURN(auto d, store::FindDataset(tx, project_id, name));
      if (!d) return Status::Ok();
      project = d->project;
      created_by = d->created_by;
    }
    return auth::CheckPublicWrite(who, project, created_by, kind, name);
  });
}

void RunController::RegisterDeclared(registry::VersionRequest req, const Json& declaration,
                                     workload::AttemptEnd* end) {
  Status st = registry::ReadDeclaration(declaration, &req);
  if (st.ok() && options_.blobs == nullptr) st = errors::Unavailable("this server keeps no model registry");
  if (st.ok()) st = MayAddVersion(req.registered_by, req.project_id, "model", req.model);
  if (st.ok()) {
    req.source["path"] = req.path.empty() ? "." : req.path;
    auto done = registry::RegisterVersion(store_, *options_.blobs, ToUnixMillis(clock_.Now()), req);
    if (done.ok()) {
      spdlog::info("[registry] {} registered version {} of model {} (run {} task {})", req.registered_by,
                   done->version.version, done->model.name, req.source.value("run", int64_t{0}),
                   req.source.value("task", ""));
      return;
    }
    st = done.status();
  }
  end->how = workload::AttemptEnd::How::kFailed;
  end->reason = "register_model: " + st.message();
}

// A task's own version of a data set (its outputs.json's
// `register_dataset`), as for register_model above.
void RunController::RegisterDeclaredDataset(const registry::VersionRequest& where, const Json& declaration,
                                            workload::AttemptEnd* end) {
  if (options_.blobs == nullptr) {
    end->how = workload::AttemptEnd::How::kFailed;
    end->reason = "register_dataset: this server keeps no data sets";
    return;
  }
  const std::string name = declaration.is_object() ? declaration.value("name", Json("")).is_string()
                                                         ? declaration.value("name", "") : "" : "";
  if (Status may = MayAddVersion(where.registered_by, where.project_id, "dataset", name); !may.ok()) {
    end->how = workload::AttemptEnd::How::kFailed;
    end->reason = "register_dataset: " + may.message();
    return;
  }
  auto made = registry::MakeDeclaredVersion(store_, *options_.blobs, ToUnixMillis(clock_.Now()), declaration,
                                            where.project_id, where.outputs_root, where.registered_by, where.source);
  if (made.ok()) {
    spdlog::info("[registry] {} made version {} of data set {} (run {} task {})", where.registered_by,
                 made->version.version, made->dataset.name, where.source.value("run", int64_t{0}),
                 where.source.value("task", ""));
    return;
  }
  end->how = workload::AttemptEnd::How::kFailed;
  end->reason = "register_dataset: " + made.status().message();
}

// A task's `deploy_model` declaration ({name, version?, service?}): the
// version (default the newest) served as the run's runner, after any
// registration the same outputs.json declares.
void RunController::DeployDeclared(const std::string& runner, const std::string& project, const Json& d,
                                   workload::AttemptEnd* end) {
  auto fail = [&](const std::string& why) {
    end->how = workload::AttemptEnd::How::kFailed;
    end->reason = "deploy_model: " + why;
  };
  if (!d.is_object() || !d.contains("name") || !d["name"].is_string()) return fail("must be {name, version?, service?}");
  for (const auto& [k, v] : d.items()) {
    if (k != "name" && k != "version" && k != "service") return fail(k + ": unknown field");
  }
  int version = 0;
  if (d.contains("version")) {
    if (!d["version"].is_number_integer() || d["version"].get<int64_t>() < 1 || d["version"].get<int64_t>() > 1000000000) {
      return fail("version: must be a version number (1, 2, ...)");
    }
    version = static_cast<int>(d["version"].get<int64_t>());
  }
  std::string service;
  if (d.contains("service")) {
    if (!d["service"].is_string() || d["service"].get<std::string>().size() > 256) return fail("service: must be a name");
    service = d["service"].get<std::string>();
  }
  if (!deployer_) return fail("this server cannot deploy models");
  auto done = deployer_(runner, project, d["name"].get<std::string>(), version, service);
  if (!done.ok()) return fail(done.status().message());
  spdlog::info("[registry] {} deployed {} as inference service {} ({})", runner, done->value("model_ref", ""),
               done->value("service", ""), done->value("result", ""));
}

// A succeeded task's outputs.json, written by the workload: read without
// following links (a link to a server file must not come back as the task's
// outputs). A bad one fails the task.
void RunController::CheckOutputs(const std::string& dir, workload::AttemptEnd* end, Json* outputs) {
  Result<std::string> text = ReadWorkloadFile((fs::path(dir) / "outputs.json").string(), kMaxOutputsBytes);
  if (!text.ok() && text.status().code() != Code::kNotFound) {
    end->how = workload::AttemptEnd::How::kFailed;
    end->reason = text.status().message().find("larger than") != std::string::npos
                      ? "outputs.json is larger than 64 KiB: keep big results as files in /outputs"
                      : "outputs.json must be a regular file (not a link)";
  } else if (text.ok()) {
    // Held to the limits of a request's body (64 levels at most), as what
    // it holds is shown to API clients.
    Result<Json> j = ParseJson(*text);
    if (!j.ok() || !j->is_object()) {
      end->how = workload::AttemptEnd::How::kFailed;
      end->reason = "outputs.json is not a JSON object" + (j.ok() ? std::string() : ": " + j.status().message());
    } else {
      *outputs = std::move(j).value();
    }
  }
}

Status RunController::FollowLog(int64_t run_id, const std::string& task, int attempt, bool follow,
                                const std::function<bool(std::string_view)>& write) {
  auto look = [&]() -> Result<workload::LogSource> {
    std::optional<store::RunTaskRecord> rec;
    std::string run_state;
    QUADER_RETURN_IF_ERROR(store_.Read([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(auto run, store::GetRun(tx, run_id));
      run_state = run.state;
      QUADER_ASSIGN_OR_RETURN(rec, store::FindRunTask(tx, run_id, task));
      return Status::Ok();
    }));
    if (!rec) return errors::NotFound("task", task);
    workload::LogSource source;
    int a = attempt > 0 ? attempt : rec->attempt;
    source.saved_path = a > 0 ? LogPath(run_id, task, a) : "";
    if (a > 0 && a == rec->attempt && IsTaskState(rec->state, TaskState::kRunning) && !rec->workload.empty()) {
      source.phase = workload::LogSource::Phase::kRunning;
      source.workload = rec->workload;
    } else if (IsTerminalWord(run_state) || (a > 0 && a < rec->attempt) || (a > 0 && a == rec->attempt)) {
      source.phase = workload::LogSource::Phase::kEnded;  // a past attempt, or the last one is over
    }
    return source;
  };
  return workload::FollowLog(runtime_, look, write, [this] { return Stopping(); }, {follow});
}

Result<std::unique_ptr<runtime::Terminal>> RunController::OpenTerminal(int64_t run_id, const std::string& task,
                                                                      const runtime::TerminalOptions& options) {
  std::optional<store::RunTaskRecord> rec;
  QUADER_RETURN_IF_ERROR(store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(rec, store::FindRunTask(tx, run_id, task));
    return Status::Ok();
  }));
  if (!rec) return errors::NotFound("task", task);
  if (!IsTaskState(rec->state, TaskState::kRunning) || rec->workload.empty()) {
    return errors::NotFound("running task", task + " (it is " + rec->state + ")");
  }
  // A task is recorded running just before its workload starts: a terminal
  // asked for in between waits for the start (briefly), not "not found".
  const std::string workload = rec->workload;
  const int attempt = rec->attempt;
  auto deadline = std::chrono::steady_clock::now() + kTerminalStartWait;
  for (;;) {
    Result<std::unique_ptr<runtime::Terminal>> t = runtime_.OpenTerminal(workload, options);
    if (t.ok() || t.status().code() != Code::kNotFound || Stopping()) return t;
    if (std::chrono::steady_clock::now() >= deadline) {
      return errors::Unavailable("task \"" + task + "\" is still starting (its workload is not up yet); try again");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    QUADER_RETURN_IF_ERROR(store_.Read([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(rec, store::FindRunTask(tx, run_id, task));
      return Status::Ok();
    }));
    if (!rec || !IsTaskState(rec->state, TaskState::kRunning) || rec->workload != workload ||
        rec->attempt != attempt) {
      return t;  // it ended (or moved on) meanwhile: its own answer
    }
  }
}

}  // namespace quader::pipeline
