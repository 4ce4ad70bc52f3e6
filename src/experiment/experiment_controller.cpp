#include "experiment/experiment_controller.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "auth/expand.h"
#include "auth/passwords.h"
#include "core/files.h"
#include "experiment/experiment_spec.h"
#include "experiment/states.h"
#include "registry/datasets.h"
#include "runtime/labels.h"
#include "workload/attempt.h"
#include "workload/log_follow.h"
#include "workload/ownership.h"
#include "workload/mounts.h"

namespace quader::experiment {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

bool Terminal(const std::string& state) { return IsTerminalTrialWord(state); }

bool Is(const std::string& word, TrialState state) { return ParseTrialState(word) == state; }


std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

}  // namespace

// A started trial: the controller's handle on its supervisor.
struct ExperimentController::TrialHandle {
  int64_t experiment_id = 0;
  int64_t trial_id = 0;
  int sequence = 0;
  std::optional<TrialState> cancel_state;  // controller thread only: stopped or early_stopped, once canceled
  std::unique_ptr<workload::Attempt> attempt;
};

struct ExperimentController::ActiveTrial {
  store::TrialRecord rec;
  Json params;
  size_t assessed = 0;  // intermediate results the assessor has seen
  std::shared_ptr<TrialHandle> handle;
};

struct ExperimentController::ExperimentState {
  store::ExperimentRecord rec;
  ExperimentSpec spec;
  std::unique_ptr<hpo::Tuner> tuner;
  std::unique_ptr<hpo::Assessor> assessor;
  hpo::Assessor* active_assessor = nullptr;  // the tuner's (Hyperband) or the configured one
  auth::ProjectSettings project;
  std::map<int64_t, ActiveTrial> trials;  // by trial id
  int next_sequence = 0;
  int running = 0;
  int failed = 0;
  bool exhausted = false;
  bool stopping = false;
  bool done = false;
  std::string final_state, final_reason;
};

struct ExperimentController::Event {
  enum Type { kEnded, kMetric } type = kEnded;
  int64_t trial_id = 0;
  std::shared_ptr<TrialHandle> handle;  // kEnded
  std::optional<TrialState> state;      // kEnded: succeeded or failed; none when canceled (see cancel_state)
  std::string reason;
  std::optional<int> exit_code;
  bool lost = false;  // the workload was gone after a restart
};

ExperimentController::ExperimentController(store::Store& store, const Clock& clock, runtime::Runtime& runtime,
                                           ExperimentControllerOptions options)
    : store_(store), clock_(clock), runtime_(runtime), options_(std::move(options)) {}

ExperimentController::~ExperimentController() { Stop(); }

void ExperimentController::SetApiUrl(const std::string& url) {
  std::lock_guard<std::mutex> lock(mu_);
  api_url_ = url;
}

void ExperimentController::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  loop_.Start([this] { Pass(); }, [this] { return options_.tick; });
}

void ExperimentController::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  loop_.Stop();
  attempts_.AbandonAll();  // trials' workloads keep running: the next server adopts them
  experiments_.clear();
}

void ExperimentController::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  loop_.Notify();
}

void ExperimentController::MetricReported(int64_t trial_id) {
  Event e;
  e.type = Event::kMetric;
  e.trial_id = trial_id;
  Post(std::move(e));
}

void ExperimentController::Post(Event e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  loop_.Notify();
}

bool ExperimentController::Stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

ExperimentControllerStats ExperimentController::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

std::string ExperimentController::LogPath(int64_t experiment_id, int sequence) const {
  return (fs::path(options_.data_dir) / "experiments" / std::to_string(experiment_id) / "trials" /
          std::to_string(sequence) / "trial.log")
      .string();
}

std::string ExperimentController::OutputsDir(int64_t experiment_id, int sequence) const {
  return (fs::path(options_.data_dir) / "experiments" / std::to_string(experiment_id) / "trials" /
          std::to_string(sequence) / "output")
      .string();
}

void ExperimentController::RemoveExperimentFiles(int64_t experiment_id) const {
  std::error_code ec;
  fs::remove_all(fs::path(options_.data_dir) / "experiments" / std::to_string(experiment_id), ec);
}

void ExperimentController::Pass() {
  std::vector<Event> events;
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = false;
    events.swap(events_);
  }
  attempts_.Reap();
  LoadExperiments();
  HandleEvents(std::move(events));
  for (auto it = experiments_.begin(); it != experiments_.end();) {
    Advance(*it->second);
    if (it->second->done && it->second->running == 0) {
      it = experiments_.erase(it);
    } else {
      ++it;
    }
  }
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.active_experiments = static_cast<int64_t>(experiments_.size());
  int64_t running = 0;
  for (const auto& [id, e] : experiments_) running += e->running;
  stats_.running_trials = running;
}

// Picks up new experiments, stop requests and deletions from the store.
void ExperimentController::LoadExperiments() {
  std::vector<store::ExperimentRecord> active;
  Status st = store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(active, store::ListActiveExperiments(tx));
    return Status::Ok();
  });
  if (!st.ok()) {
    spdlog::warn("[hpo] reading experiments failed: {}", st.ToString());
    return;
  }
  std::set<int64_t> existing;
  for (const auto& rec : active) {
    auto it = experiments_.find(rec.id);
    if (it == experiments_.end()) continue;
    existing.insert(rec.id);
    if (rec.stop_requested) it->second->rec.stop_requested = true;
  }
  // Only this controller ends an experiment, so one it runs that is no
  // longer active in the store was deleted.
  for (auto& [id, e] : experiments_) {
    if (existing.count(id) || e->done) continue;
    // Deleted: its trials are stopped and nothing more is recorded.
    spdlog::info("[hpo] experiment {} ({}) was deleted: stopping its trials", id, e->rec.name);
    e->done = true;
    CancelRunning(*e, TrialState::kStopped, "the experiment was deleted");
  }
  for (const auto& rec : active) {
    if (experiments_.count(rec.id)) continue;
    if (Status s = LoadExperiment(rec); !s.ok()) {
      spdlog::error("[hpo] experiment {} ({}) cannot be run: {}", rec.id, rec.name, s.ToString());
      (void)store_.Write([&](store::Tx& tx) {
        return store::SetExperimentState(tx, rec.id, "failed", "cannot be run: " + s.message(), rec.started_at,
                                         ToUnixMillis(clock_.Now()));
      });
    }
  }
}

Status ExperimentController::LoadExperiment(const store::ExperimentRecord& rec) {
  auto e = std::make_unique<ExperimentState>();
  e->rec = rec;
  Json doc = Json::parse(rec.spec, nullptr, false);
  if (doc.is_discarded()) return errors::Internal("the stored spec is not JSON");
  QUADER_ASSIGN_OR_RETURN(e->spec, ParseExperimentSpec(doc));
  QUADER_ASSIGN_OR_RETURN(e->tuner, MakeExperimentTuner(e->spec));
  QUADER_ASSIGN_OR_RETURN(e->assessor, MakeExperimentAssessor(e->spec));
  e->active_assessor = e->tuner->assessor() ? e->tuner->assessor() : e->assessor.get();

  std::vector<store::TrialRecord> trials;
  std::vector<store::MetricRecord> metrics;
  std::string expand = "{}";
  QUADER_RETURN_IF_ERROR(store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(trials, store::ListTrials(tx, rec.id));
    QUADER_ASSIGN_OR_RETURN(metrics, store::ListExperimentMetrics(tx, rec.id));
    QUADER_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT expand FROM projects WHERE id = ?", {rec.project_id}));
    if (!rows.empty()) expand = rows[0].Str(0);
    return Status::Ok();
  }));
  Json expand_json = Json::parse(expand, nullptr, false);
  auto settings = auth::ParseExpand(expand_json.is_discarded() ? Json::object() : expand_json);
  if (settings.ok()) e->project = *settings;

  // Replay: ended trials in the order they ended, then the ones still running.
  std::map<int64_t, std::vector<double>> values;
  for (const auto& m : metrics) values[m.trial_id].push_back(m.value);
  std::vector<const store::TrialRecord*> ended;
  for (const auto& t : trials) {
    if (Terminal(t.state)) ended.push_back(&t);
  }
  std::stable_sort(ended.begin(), ended.end(), [](const auto* a, const auto* b) {
    return a->finished_at.value_or(0) < b->finished_at.value_or(0);
  });
  for (const auto* t : ended) {
    Json params = Json::parse(t->params, nullptr, false);
    const bool succeeded = Is(t->state, TrialState::kSucceeded);
    e->tuner->Observe(t->sequence, params, succeeded ? t->final_value : std::nullopt);
    if (e->active_assessor) e->active_assessor->TrialEnded(t->sequence, values[t->id], succeeded);
    if (Is(t->state, TrialState::kFailed)) e->failed++;
    if (succeeded && t->final_value) MaybeGoalReached(*e, t->sequence, *t->final_value);
  }
  for (const auto& t : trials) {
    e->next_sequence = std::max(e->next_sequence, t.sequence + 1);
    if (Terminal(t.state)) continue;
    ActiveTrial ts;
    ts.rec = t;
    ts.params = Json::parse(t.params, nullptr, false);
    e->tuner->Resumed(t.sequence, ts.params);
    ts.assessed = values[t.id].size();
    auto [it, _] = e->trials.emplace(t.id, std::move(ts));
    runtime::WorkloadSpec by_name;
    by_name.name = t.workload;
    e->running++;
    StartThread(*e, it->second, std::move(by_name), /*adopt=*/true);
  }
  if (e->stopping) CancelRunning(*e, TrialState::kStopped, "the experiment reached its objective_goal");
  spdlog::info("[hpo] experiment {} ({}/{}) loaded: {} trials so far, {} running", rec.id, rec.project, rec.name,
               trials.size(), e->running);
  experiments_[rec.id] = std::move(e);
  return Status::Ok();
}

void ExperimentController::HandleEvents(std::vector<Event> events) {
  for (auto& ev : events) {
    ExperimentState* exp = nullptr;
    ActiveTrial* trial = nullptr;
    for (auto& [id, e] : experiments_) {
      auto it = e->trials.find(ev.trial_id);
      if (it != e->trials.end()) {
        exp = e.get();
        trial = &it->second;
        break;
      }
    }
    if (ev.type == Event::kMetric) {
      if (trial && trial->handle && !exp->done) Assess(*exp, *trial);
      continue;
    }
    if (!trial) {
      // Its experiment is gone: nothing to record, remove the workload.
      ev.handle->attempt->Persisted();
      continue;
    }
    std::string reason = ev.reason;
    TrialState state = ev.state.value_or(ev.handle->cancel_state.value_or(TrialState::kStopped));
    TrialEnded(*exp, *trial, state, reason, ev.exit_code);
    if (ev.lost) spdlog::warn("[hpo] trial {} of experiment {}: {}", trial->rec.sequence, exp->rec.id, reason);
    ev.handle->attempt->Persisted();
  }
}

void ExperimentController::Assess(ExperimentState& e, ActiveTrial& t) {
  std::vector<store::MetricRecord> metrics;
  Status st = store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(metrics, store::ListMetrics(tx, t.rec.id));
    return Status::Ok();
  });
  if (!st.ok() || !e.active_assessor || t.handle->attempt->canceled()) return;
  std::vector<double> values;
  for (const auto& m : metrics) values.push_back(m.value);
  while (t.assessed < values.size()) {
    t.assessed++;
    std::vector<double> prefix(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(t.assessed));
    if (e.active_assessor->ShouldStop(t.rec.sequence, prefix)) {
      std::string reason = "stopped early by " + e.active_assessor->name() + " at step " + std::to_string(t.assessed) +
                           " (latest " + FormatNumber(prefix.back()) + ")";
      spdlog::info("[hpo] experiment {} trial {}: {}", e.rec.id, t.rec.sequence, reason);
      if (!t.handle->attempt->canceled()) t.handle->cancel_state = TrialState::kEarlyStopped;
      t.handle->attempt->Cancel(reason, "early_stopped: " + reason);
      break;
    }
  }
}

void ExperimentController::TrialEnded(ExperimentState& e, ActiveTrial& t, TrialState state,
                                      const std::string& reason_in, std::optional<int> exit_code) {
  std::string reason = reason_in;
  int64_t now = ToUnixMillis(clock_.Now());
  std::vector<double> values;
  std::optional<double> final_value;
  Status st = store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto fresh, store::FindTrial(tx, e.rec.id, t.rec.sequence));
    if (fresh) final_value = fresh->final_value;
    QUADER_ASSIGN_OR_RETURN(auto metrics, store::ListMetrics(tx, t.rec.id));
    for (const auto& m : metrics) values.push_back(m.value);
    return Status::Ok();
  });
  if (!st.ok()) spdlog::warn("[hpo] reading trial {} failed: {}", t.rec.id, st.ToString());
  if (state == TrialState::kSucceeded && !final_value) reason = "exited 0 without reporting a final result";
  if (state == TrialState::kFailed && final_value && exit_code.value_or(0) == 0) {
    // Lost in a restart after it had reported its result.
    state = TrialState::kSucceeded;
  }
  t.rec.state = std::string(WireName(state));
  t.rec.reason = reason;
  t.rec.exit_code = exit_code;
  t.rec.finished_at = now;
  t.rec.final_value = final_value;
  Status w = store_.Write([&](store::Tx& tx) { return store::UpdateTrial(tx, t.rec); });
  if (!w.ok()) spdlog::error("[hpo] recording trial {} failed: {}", t.rec.id, w.ToString());
  const bool succeeded = state == TrialState::kSucceeded;
  e.tuner->Observe(t.rec.sequence, t.params, succeeded ? final_value : std::nullopt);
  if (e.active_assessor) e.active_assessor->TrialEnded(t.rec.sequence, values, succeeded);
  e.running--;
  if (state == TrialState::kFailed) e.failed++;
  if (succeeded && final_value && MaybeGoalReached(e, t.rec.sequence, *final_value)) {
    CancelRunning(e, TrialState::kStopped, "the experiment reached its objective_goal");
  }
  t.handle.reset();
  spdlog::info("[hpo] experiment {} trial {} {}{}{}", e.rec.id, t.rec.sequence, t.rec.state,
               final_value ? " value " + FormatNumber(*final_value) : "", reason.empty() ? "" : ": " + reason);
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.trials_finished++;
  if (state == TrialState::kEarlyStopped) stats_.trials_early_stopped++;
}

bool ExperimentController::MaybeGoalReached(ExperimentState& e, int sequence, double value) {
  if (e.stopping || !e.spec.GoalReached(value)) return false;
  e.stopping = true;
  e.final_state = "succeeded";
  e.final_reason = "objective_goal " + FormatNumber(*e.spec.goal) + " reached by trial " + std::to_string(sequence) +
                   " (" + e.spec.metric + " " + FormatNumber(value) + ")";
  return true;
}

void ExperimentController::CancelRunning(ExperimentState& e, TrialState state, const std::string& reason) {
  for (auto& [id, t] : e.trials) {
    if (!t.handle || t.handle->attempt->canceled()) continue;
    t.handle->cancel_state = state;
    t.handle->attempt->Cancel(reason, std::string(WireName(state)) + (reason.empty() ? "" : ": " + reason));
  }
}

void ExperimentController::Finish(ExperimentState& e, const std::string& state, const std::string& reason) {
  e.done = true;
  int64_t now = ToUnixMillis(clock_.Now());
  auto started = e.rec.started_at ? e.rec.started_at : std::optional<int64_t>(now);
  Status st = store_.Write([&](store::Tx& tx) {
    return store::SetExperimentState(tx, e.rec.id, state, reason, started, now);
  });
  if (!st.ok()) spdlog::error("[hpo] recording the end of experiment {} failed: {}", e.rec.id, st.ToString());
  spdlog::info("[hpo] experiment {} ({}/{}) {}: {}", e.rec.id, e.rec.project, e.rec.name, state, reason);
}

void ExperimentController::Advance(ExperimentState& e) {
  if (e.done) return;
  int64_t now = ToUnixMillis(clock_.Now());
  if (e.rec.state == "pending") {
    e.rec.state = "running";
    e.rec.started_at = now;
    Status st = store_.Write([&](store::Tx& tx) {
      return store::SetExperimentState(tx, e.rec.id, "running", "", now, std::nullopt);
    });
    if (!st.ok()) spdlog::warn("[hpo] experiment {}: {}", e.rec.id, st.ToString());
  }
  if (!e.stopping) {
    const ExperimentSpec& s = e.spec;
    if (e.rec.stop_requested) {
      e.stopping = true;
      e.final_state = "stopped";
      e.final_reason = "stopped on request";
      CancelRunning(e, TrialState::kStopped, "the experiment was stopped");
    } else if (e.failed > s.max_failed_trials) {
      e.stopping = true;
      e.final_state = "failed";
      e.final_reason = std::to_string(e.failed) + " trials failed (max_failed_trials is " +
                       std::to_string(s.max_failed_trials) + ")";
      CancelRunning(e, TrialState::kStopped, "the experiment failed");
    } else if (s.max_duration_seconds > 0 && e.rec.started_at &&
               now - *e.rec.started_at >= s.max_duration_seconds * 1000) {
      e.stopping = true;
      e.final_state = "succeeded";
      e.final_reason = "max_duration reached (" + std::to_string(s.max_duration_seconds) + "s)";
      CancelRunning(e, TrialState::kStopped, "the experiment reached its max_duration");
    }
  }
  if (e.stopping) {
    if (e.running == 0) Finish(e, e.final_state, e.final_reason);
    return;
  }
  while (e.running < e.spec.parallelism && e.next_sequence < e.spec.max_trials && !e.exhausted) {
    if (Status st = LaunchTrial(e); !st.ok()) {
      spdlog::error("[hpo] experiment {}: launching a trial failed: {}", e.rec.id, st.ToString());
      break;
    }
  }
  if (e.running == 0 && (e.next_sequence >= e.spec.max_trials || e.exhausted)) {
    Finish(e, "succeeded",
           e.next_sequence >= e.spec.max_trials
               ? "max_trials reached (" + std::to_string(e.spec.max_trials) + ")"
               : "the search space is exhausted after " + std::to_string(e.next_sequence) + " trials");
  }
}

Status ExperimentController::LaunchTrial(ExperimentState& e) {
  int sequence = e.next_sequence;
  std::optional<Json> params = e.tuner->Suggest(sequence);
  if (!params) {
    e.exhausted = true;
    return Status::Ok();
  }
  std::string token = auth::NewToken();
  store::TrialRecord rec;
  rec.experiment_id = e.rec.id;
  rec.sequence = sequence;
  rec.key = NewTrialKey();
  rec.token_hash = auth::HashToken(token);
  rec.params = params->dump();
  rec.state = std::string(WireName(TrialState::kRunning));
  rec.workload = "q" + options_.instance.substr(0, 8) + "-e" + std::to_string(e.rec.id) + "-s" + std::to_string(sequence);
  rec.created_at = ToUnixMillis(clock_.Now());
  rec.started_at = rec.created_at;
  runtime::WorkloadSpec spec = BuildSpec(e, rec, token);
  if (!e.spec.datasets.empty()) {
    // The data sets every trial reads (docs/datasets.md); one that cannot be read ends the experiment.
    auto mounted = options_.blobs == nullptr
                       ? Result<registry::DatasetMounts>(errors::Unavailable("this server keeps no data sets"))
                       : registry::MountDatasets(store_, *options_.blobs, "datasets", e.rec.project_id, e.spec.datasets,
                                                 {"experiment", e.rec.id, "trial " + std::to_string(sequence)},
                                                 rec.created_at);
    if (!mounted.ok()) {
      Finish(e, "failed", mounted.status().message());
      return Status::Ok();
    }
    for (auto& m : mounted->mounts) spec.mounts.push_back(std::move(m));
    spec.env["QUADER_DATASETS"] = mounted->env;
  }
  Json argv = spec.command;
  for (const auto& a : spec.args) argv.push_back(a);
  rec.argv = argv.dump();
  QUADER_RETURN_IF_ERROR(store_.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(rec, store::InsertTrial(tx, rec));
    return Status::Ok();
  }));
  e.next_sequence++;
  ActiveTrial ts;
  ts.rec = rec;
  ts.params = *params;
  auto [it, _] = e.trials.emplace(rec.id, std::move(ts));
  e.running++;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.trials_started++;
  }
  spdlog::info("[hpo] experiment {} trial {} ({}) started: {}", e.rec.id, sequence, rec.key, rec.params);
  StartThread(e, it->second, std::move(spec), /*adopt=*/false);
  return Status::Ok();
}

runtime::WorkloadSpec ExperimentController::BuildSpec(const ExperimentState& e, const store::TrialRecord& t,
                                                      const std::string& token) {
  const pipeline::TemplateSpec& w = e.spec.trial;
  const std::string& user = e.rec.created_by;
  runtime::WorkloadSpec spec;
  spec.name = t.workload;
  spec.image = w.image;
  spec.command = w.command;
  spec.args = TrialArgs(Json::parse(t.params));
  spec.working_dir = w.working_dir;
  spec.env = w.env;
  std::string api_url;
  {
    std::lock_guard<std::mutex> lock(mu_);
    api_url = api_url_;
  }
  std::string pythonpath = kSdkMountPath;
  if (auto it = w.env.find("PYTHONPATH"); it != w.env.end() && !it->second.empty()) pythonpath += ":" + it->second;
  std::map<std::string, std::string> platform = {
      {"QUADER_API_URL", api_url},
      {"QUADER_TRIAL_TOKEN", token},
      {"QUADER_EXPERIMENT", e.rec.name},
      // The key of a dict metric the SDK reports (objective_metric).
      {"QUADER_OBJECTIVE_METRIC", e.spec.metric},
      {"NNI_PLATFORM", "quader"},
      {"NNI_EXP_ID", e.rec.key},
      {"NNI_TRIAL_JOB_ID", t.key},
      {"NNI_TRIAL_SEQ_ID", std::to_string(t.sequence)},
      {"NNI_OUTPUT_DIR", "/outputs"},
      {"PYTHONPATH", pythonpath},
      {"PYTHONUNBUFFERED", "1"},
      {"PYTHONDONTWRITEBYTECODE", "1"},
      {"USERNAME", user},
      {"KFJ_CREATOR", user},
      {"KFJ_NAMESPACE", e.rec.project},
  };
  if (w.resources.gpu <= 0) platform["NVIDIA_VISIBLE_DEVICES"] = "none";
  for (auto& [k, v] : platform) spec.env[k] = v;
  spec.resources.cpu = w.resources.cpu;
  spec.resources.memory_bytes = w.resources.memory_bytes;
  spec.resources.gpu = w.resources.gpu;
  spec.node_selector = e.project.node_selector;
  spec.cluster = e.project.cluster;
  // Trials call the API on the host's loopback (QUADER_API_URL).
  spec.host_network = true;

  // Mounts: the user's, the project's, the trial template's (workload/mounts.h).
  std::vector<runtime::Mount> mounts =
      workload::ResolveMounts({options_.data_dir, user, true, false, {&e.project.volume_mounts, &w.mounts}});
  auto add = [&mounts](runtime::Mount m) {
    mounts.erase(std::remove_if(mounts.begin(), mounts.end(),
                                [&](const runtime::Mount& x) { return x.target == m.target; }),
                 mounts.end());
    mounts.push_back(std::move(m));
  };
  fs::path base = fs::path(options_.data_dir) / "experiments" / std::to_string(e.rec.id);
  std::error_code ec;
  if (!w.files.empty()) {
    fs::path dir = base / "files";
    fs::create_directories(dir, ec);
    for (const auto& [name, content] : w.files) {
      if (fs::exists(dir / name, ec)) continue;
      // clang 14 (make fuzz) cannot capture a structured binding: capture a reference to it.
      WriteFileAtomically((dir / name).string(), [&text = content](std::ofstream& f) { f << text; });
    }
    add({runtime::MountKind::kVolume, dir.string(), kExperimentFilesDir, true, 0, "", ""});
  }
  fs::path out = OutputsDir(e.rec.id, t.sequence);
  fs::create_directories(out, ec);
  add({runtime::MountKind::kVolume, out.string(), "/outputs", false, 0, "", ""});
  if (!options_.sdk_dir.empty()) add({runtime::MountKind::kHostPath, options_.sdk_dir, kSdkMountPath, true, 0, "", ""});
  spec.mounts = std::move(mounts);

  spec.labels = {
      {runtime::kLabelManaged, "true"},
      {runtime::kLabelInstance, options_.instance},
      {runtime::kLabelProject, e.rec.project},
      {runtime::kLabelUser, user},
      {runtime::kLabelKind, "trial"},
      {runtime::kLabelOwner, std::to_string(e.rec.id)},
      {runtime::kLabelTrial, std::to_string(t.sequence)},
  };
  return spec;
}

void ExperimentController::StartThread(ExperimentState& e, ActiveTrial& t, runtime::WorkloadSpec spec, bool adopt) {
  auto h = std::make_shared<TrialHandle>();
  h->experiment_id = e.rec.id;
  h->trial_id = t.rec.id;
  h->sequence = t.rec.sequence;
  workload::AttemptOptions o;
  o.log_path = LogPath(e.rec.id, t.rec.sequence);
  o.adopt = adopt;
  o.start_if_missing = false;  // a trial whose workload is gone after a restart failed
  o.timeout_seconds = e.spec.trial_timeout_seconds;
  if (o.timeout_seconds > 0) {
    o.deadline_ms = t.rec.started_at.value_or(ToUnixMillis(clock_.Now())) + o.timeout_seconds * 1000;
  }
  o.stop_grace = options_.stop_grace;
  o.tag = "experiment " + std::to_string(e.rec.id) + " trial " + std::to_string(t.rec.sequence);
  std::weak_ptr<TrialHandle> weak = h;
  TrialHandle* raw = h.get();
  workload::AttemptHooks hooks;
  hooks.ended = [this, weak, trial_id = t.rec.id](workload::AttemptEnd end) {
    Event done;
    done.type = Event::kEnded;
    done.trial_id = trial_id;
    done.handle = weak.lock();
    if (end.how == workload::AttemptEnd::How::kSucceeded) done.state = TrialState::kSucceeded;
    if (end.how == workload::AttemptEnd::How::kFailed) done.state = TrialState::kFailed;
    done.reason = std::move(end.reason);
    done.exit_code = end.status.exit_code;
    done.lost = end.lost;
    Post(std::move(done));
  };
  hooks.exited = attempts_.ExitHook(raw);
  h->attempt = std::make_unique<workload::Attempt>(runtime_, clock_, std::move(spec), std::move(o), std::move(hooks));
  t.handle = h;
  attempts_.Start(std::move(h));
}

bool ExperimentController::OwnsWorkload(const runtime::WorkloadStatus& w) {
  return workload::Owns(store_, w, [&w](store::Tx& tx, const workload::Owner& o) -> Result<bool> {
    int sequence = 0;
    try {
      sequence = std::stoi(o.member);
    } catch (const std::exception&) {
      return false;
    }
    QUADER_ASSIGN_OR_RETURN(auto t, store::FindTrial(tx, o.id, sequence));
    return t && Is(t->state, TrialState::kRunning) && t->workload == w.name;
  });
}

Status ExperimentController::FollowLog(int64_t experiment_id, int sequence, bool follow,
                                       const std::function<bool(std::string_view)>& write) {
  auto look = [&]() -> Result<workload::LogSource> {
    std::optional<store::TrialRecord> rec;
    QUADER_RETURN_IF_ERROR(store_.Read([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(rec, store::FindTrial(tx, experiment_id, sequence));
      return Status::Ok();
    }));
    if (!rec) return errors::NotFound("trial", std::to_string(sequence));
    workload::LogSource source;
    source.saved_path = LogPath(experiment_id, sequence);
    if (Terminal(rec->state)) {
      source.phase = workload::LogSource::Phase::kEnded;
    } else if (Is(rec->state, TrialState::kRunning)) {
      source.phase = workload::LogSource::Phase::kRunning;
      source.workload = rec->workload;
    }
    return source;
  };
  return workload::FollowLog(runtime_, look, write, [this] { return Stopping(); }, {follow});
}

Result<store::TrialRecord> AuthenticateTrial(store::Tx& tx, const std::string& token) {
  if (token.empty()) return errors::Unauthenticated("a trial token is required (Authorization: Bearer QUADER_TRIAL_TOKEN)");
  QUADER_ASSIGN_OR_RETURN(auto t, store::FindTrialByTokenHash(tx, auth::HashToken(token)));
  if (!t || Terminal(t->state)) {
    return errors::Unauthenticated("the trial token is not valid (unknown, or its trial has ended)");
  }
  return *t;
}

}  // namespace quader::experiment
