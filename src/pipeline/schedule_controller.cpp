#include "pipeline/schedule_controller.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "cron/cron_expr.h"
#include "pipeline/spec.h"
#include "pipeline/states.h"

namespace quader::pipeline {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kOnTimeWindowSeconds = 60;  // a fire produced later than this counts as missed
constexpr size_t kMaxMissedRecords = 1000;
constexpr size_t kMaxFireErrors = 10000;

struct Schedule {
  pipeline::PipelineSpec spec;
  cron::CronExpr cron;
  const date::time_zone* zone;
};

// The pipeline's enabled schedule, or nullopt (none, disabled, or unreadable).
std::optional<Schedule> ScheduleOf(const store::PipelineRecord& p) {
  auto spec = pipeline::ParsePipelineSpec(Json::parse(p.spec, nullptr, false));
  if (!spec.ok() || !spec->schedule || !spec->schedule->enabled) return std::nullopt;
  auto cron = cron::CronExpr::Parse("schedule.cron", spec->schedule->cron);
  auto zone = cron::LoadZone("schedule.timezone", spec->schedule->timezone);
  if (!cron.ok() || !zone.ok()) return std::nullopt;
  return Schedule{std::move(*spec), std::move(*cron), *zone};
}

// Fire times at or before this (Unix seconds) are done or not wanted.
Result<int64_t> Cursor(store::Tx& tx, const store::PipelineRecord& p, const Schedule& s) {
  int64_t cursor = p.schedule_since.value_or(p.created_at);
  if (s.spec.schedule->start_time) cursor = std::max(cursor, *s.spec.schedule->start_time - 1);
  QUADER_ASSIGN_OR_RETURN(auto last, store::LastScheduleRecord(tx, p.id));
  if (last) cursor = std::max(cursor, last->execution_date);
  return cursor;
}

// The pipeline's previous run for depends_on_past: its newest scheduled or
// manual run (debug runs of one task say nothing about the pipeline).
Result<std::optional<store::RunRecord>> PreviousRun(store::Tx& tx, int64_t pipeline_id) {
  QUADER_ASSIGN_OR_RETURN(auto last, store::LastRun(tx, pipeline_id));
  if (!last || last->trigger != "debug") return last;
  store::RunFilter filter;  // newest first
  filter.all = true;
  filter.pipeline_id = pipeline_id;
  for (filter.limit = 16;; filter.limit *= 8) {
    QUADER_ASSIGN_OR_RETURN(auto runs, store::ListRuns(tx, filter));
    for (auto& run : runs) {
      if (run.trigger != "debug") return std::optional<store::RunRecord>(std::move(run));
    }
    if (runs.size() < static_cast<size_t>(filter.limit)) return std::optional<store::RunRecord>();
  }
}

std::optional<int64_t> NextAfter(const Schedule& s, int64_t cursor) {
  auto next = s.cron.Next(std::chrono::system_clock::time_point(std::chrono::seconds(cursor)), s.zone);
  if (!next) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(next->time_since_epoch()).count();
}

}  // namespace

std::optional<int64_t> NextFireTime(store::Tx& tx, const store::PipelineRecord& pipeline) {
  auto s = ScheduleOf(pipeline);
  if (!s) return std::nullopt;
  auto cursor = Cursor(tx, pipeline, *s);
  if (!cursor.ok()) return std::nullopt;
  return NextAfter(*s, *cursor);
}

ScheduleController::ScheduleController(store::Store& store, const Clock& clock, Launcher launch,
                                       std::function<void()> launched)
    : store_(store), clock_(clock), launch_(std::move(launch)), launched_(std::move(launched)) {}

ScheduleController::~ScheduleController() { Stop(); }

void ScheduleController::Start() {
  loop_.Start([this] { Pass(); }, [this] { return UntilNextPass(); });
}

void ScheduleController::Stop() { loop_.Stop(); }

void ScheduleController::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  loop_.Notify();
}

std::vector<int64_t> ScheduleController::FireErrors() const {
  std::lock_guard<std::mutex> lock(errors_mu_);
  return {fire_errors_.begin(), fire_errors_.end()};
}

std::chrono::milliseconds ScheduleController::UntilNextPass() const {
  // On a store shared with other servers (PostgreSQL), pipelines also change
  // through their APIs: plan again every few seconds.
  auto now = std::chrono::system_clock::now();
  auto until = now + std::chrono::seconds(shared_ ? 5 : 60);
  if (earliest_) until = std::min(until, std::chrono::system_clock::time_point(std::chrono::seconds(*earliest_)));
  // A fire time already past means the last pass could not record it (the
  // store failed): retry, but not in a tight loop.
  if (until + std::chrono::seconds(1) <= now) return std::chrono::milliseconds(500);
  return std::max(std::chrono::milliseconds(0), std::chrono::ceil<std::chrono::milliseconds>(until - now));
}

void ScheduleController::Pass() {
  bool notified = shared_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified = notified || notified_;
    notified_ = false;
  }
  int64_t now_ms = ToUnixMillis(clock_.Now());
  if (notified || next_fire_.empty()) {
    Replan();
    std::vector<int64_t> waiting;
    Status st = store_.Read([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(waiting, store::PipelinesWithComedRecords(tx));
      return Status::Ok();
    });
    if (!st.ok()) spdlog::error("[cron] listing waiting records failed: {}", st.ToString());
    for (int64_t id : waiting) DecideWaiting(id);
  }
  std::vector<int64_t> due;
  for (auto& [id, next] : next_fire_) {
    if (next * 1000 <= now_ms) due.push_back(id);
  }
  if (!due.empty()) {
    FireAll(due, now_ms);
    earliest_ = Replan();  // the fired pipelines' cursors moved
  } else {
    earliest_.reset();
    for (const auto& [id, next] : next_fire_) earliest_ = earliest_ ? std::min(*earliest_, next) : next;
  }
}

std::optional<int64_t> ScheduleController::Replan() {
  next_fire_.clear();
  Status st = store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto pipelines, store::ListPipelines(tx, {}, true));
    for (const auto& p : pipelines) {
      auto s = ScheduleOf(p);
      if (!s) continue;
      QUADER_ASSIGN_OR_RETURN(int64_t cursor, Cursor(tx, p, *s));
      if (auto next = NextAfter(*s, cursor)) next_fire_[p.id] = *next;
    }
    return Status::Ok();
  });
  if (!st.ok()) spdlog::error("[cron] planning schedules failed: {}", st.ToString());
  std::optional<int64_t> earliest;
  for (const auto& [id, next] : next_fire_) earliest = earliest ? std::min(*earliest, next) : next;
  return earliest;
}

void ScheduleController::FireAll(const std::vector<int64_t>& pipeline_ids, int64_t now_ms) {
  int64_t now_s = now_ms / 1000;
  std::vector<int64_t> on_time_errors;
  // One transaction for every due pipeline: the records are the fire, so
  // they are written first and together; launching runs comes after.
  Status st = store_.Write([&](store::Tx& tx) -> Status {
    for (int64_t pipeline_id : pipeline_ids) {
      Status one = [&]() -> Status {
        auto p = store::GetPipeline(tx, pipeline_id);
        if (!p.ok()) return Status::Ok();  // deleted meanwhile
        auto s = ScheduleOf(*p);
        if (!s) return Status::Ok();
        QUADER_ASSIGN_OR_RETURN(int64_t cursor, Cursor(tx, *p, *s));
        std::deque<int64_t> due;  // the newest kMaxMissedRecords fire times in (cursor, now]
        for (auto t = NextAfter(*s, cursor); t && *t <= now_s; t = NextAfter(*s, *t)) {
          due.push_back(*t);
          if (due.size() > kMaxMissedRecords) due.pop_front();
        }
        if (due.empty()) return Status::Ok();
        const std::string& policy = s->spec.schedule->catchup;
        bool newest_on_time = now_s - due.back() < kOnTimeWindowSeconds;
        for (size_t i = 0; i < due.size(); ++i) {
          int64_t t = due[i];
          bool on_time = now_s - t < kOnTimeWindowSeconds;
          bool newest = i + 1 == due.size();
          std::string state = "comed";
          if (!on_time) {
            if (policy == "none") state = "skipped: missed";
            else if (policy == "latest" && !(newest && !newest_on_time)) state = "skipped: missed";
          }
          store::ScheduleRecord r;
          r.pipeline_id = p->id;
          r.project_id = p->project_id;
          r.execution_date = t;
          r.timezone = s->spec.schedule->timezone;
          r.state = state;
          r.fired_at = ToUnixMillis(clock_.Now());  // when the record is written: the fire's real time
          auto inserted = store::InsertScheduleRecord(tx, r);
          if (!inserted.ok() && inserted.status().code() != Code::kAlreadyExists) return inserted.status();
          if (on_time) on_time_errors.push_back(r.fired_at - t * 1000);
          if (!on_time) {
            spdlog::info("[cron] {}/{}: fire time {} was missed; catch-up {} -> {}", p->project, p->name,
                         FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(t))), policy, state);
          }
        }
        return Status::Ok();
      }();
      QUADER_RETURN_IF_ERROR(one);
    }
    return Status::Ok();
  });
  if (!st.ok()) {
    spdlog::error("[cron] producing schedule records failed: {}", st.ToString());
    return;
  }
  if (!on_time_errors.empty()) {
    std::lock_guard<std::mutex> lock(errors_mu_);
    for (int64_t e : on_time_errors) {
      fire_errors_.push_back(e);
      if (fire_errors_.size() > kMaxFireErrors) fire_errors_.pop_front();
    }
  }
  for (int64_t pipeline_id : pipeline_ids) DecideWaiting(pipeline_id);
}

void ScheduleController::DecideWaiting(int64_t pipeline_id) {
  int launched = 0;
  Status st = store_.Write([&](store::Tx& tx) -> Status {
    auto p = store::GetPipeline(tx, pipeline_id);
    if (!p.ok()) return Status::Ok();
    auto spec = pipeline::ParsePipelineSpec(Json::parse(p->spec, nullptr, false));
    if (!spec.ok()) return Status::Ok();
    QUADER_ASSIGN_OR_RETURN(auto comed, store::ListPipelineScheduleRecords(tx, pipeline_id, "comed"));
    int64_t now_ms = ToUnixMillis(clock_.Now());
    for (const auto& r : comed) {
      auto decide = [&](const std::string& state) {
        spdlog::info("[cron] {}/{} fire {}: {}", p->project, p->name,
                     FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(r.execution_date))), state);
        return store::UpdateScheduleRecord(tx, r.id, state, std::nullopt, now_ms);
      };
      if (spec->expired_limit_seconds > 0 && now_ms / 1000 - r.execution_date > spec->expired_limit_seconds) {
        QUADER_RETURN_IF_ERROR(decide("skipped: expired"));
        continue;
      }
      if (spec->depends_on_past) {
        QUADER_ASSIGN_OR_RETURN(auto last, PreviousRun(tx, pipeline_id));
        if (last) {
          if (IsActiveRunWord(last->state)) break;  // wait for it
          if (!IsRunState(last->state, RunState::kSucceeded)) {
            QUADER_RETURN_IF_ERROR(decide("skipped: depends_on_past"));
            continue;
          }
        }
      }
      QUADER_ASSIGN_OR_RETURN(int64_t active, store::CountActiveRuns(tx, pipeline_id));
      if (active >= spec->max_active_runs) {
        QUADER_RETURN_IF_ERROR(decide("skipped: max_active_runs"));
        continue;
      }
      // A launch that fails leaves none of its writes behind: only the record changes.
      QUADER_RETURN_IF_ERROR(tx.Exec("SAVEPOINT schedule_launch"));
      auto run = launch_(tx, *p, r.execution_date, r.id);
      if (!run.ok()) QUADER_RETURN_IF_ERROR(tx.Exec("ROLLBACK TO SAVEPOINT schedule_launch"));
      QUADER_RETURN_IF_ERROR(tx.Exec("RELEASE SAVEPOINT schedule_launch"));
      if (!run.ok()) {
        QUADER_RETURN_IF_ERROR(decide("skipped: cannot launch: " + run.status().message()));
        continue;
      }
      QUADER_RETURN_IF_ERROR(store::UpdateScheduleRecord(tx, r.id, "created", *run, now_ms));
      spdlog::info("[cron] {}/{}: run {} created for fire {}", p->project, p->name, *run,
                   FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(r.execution_date))));
      launched++;
      if (spec->depends_on_past) break;  // the next one waits for this run
    }
    return Status::Ok();
  });
  if (!st.ok()) {
    spdlog::error("[cron] deciding schedule records of pipeline {} failed: {}", pipeline_id, st.ToString());
    return;
  }
  if (launched > 0 && launched_) launched_();
}

}  // namespace quader::pipeline
