#include "pipeline/plan.h"

#include <algorithm>
#include <utility>

namespace quader::pipeline {
namespace {

constexpr int64_t kMaxBackoffSeconds = 24 * 3600;

// backoff * 2^(attempt-1), at most a day, without overflowing.
int64_t Backoff(int64_t backoff, int attempt) {
  backoff = std::clamp<int64_t>(backoff, 0, kMaxBackoffSeconds);
  for (int k = 1; k < attempt && backoff < kMaxBackoffSeconds; ++k) backoff *= 2;
  return std::min(backoff, kMaxBackoffSeconds);
}

}  // namespace

Plan::Plan(std::vector<PlanTask> tasks, int parallelism, int64_t now_ms)
    : tasks_(std::move(tasks)),
      downstream_(tasks_.size()),
      waiting_(tasks_.size(), 0),
      status_(tasks_.size()),
      parallelism_(std::max(parallelism, 1)),
      is_changed_(tasks_.size(), false) {
  const int n = static_cast<int>(tasks_.size());
  for (int i = 0; i < n; ++i) {
    PlanTask& t = tasks_[i];
    std::sort(t.upstream.begin(), t.upstream.end());
    t.upstream.erase(std::unique(t.upstream.begin(), t.upstream.end()), t.upstream.end());
    t.upstream.erase(std::remove_if(t.upstream.begin(), t.upstream.end(), [&](int u) { return u < 0 || u >= n || u == i; }),
                     t.upstream.end());
    PlanTaskStatus& s = status_[i];
    s.state = t.state;
    s.attempt = t.attempt;
    s.not_before_ms = t.not_before_ms;
    s.ready_at_ms = t.ready_at_ms;
    if (t.state != TaskState::kPending || t.attempt > 0) started_ = true;
    if (t.state == TaskState::kRunning) running_++;
    if (!IsTerminal(t.state)) open_++;
  }
  for (int i = 0; i < n; ++i) {
    for (int u : tasks_[i].upstream) {
      downstream_[u].push_back(i);
      TaskState us = status_[u].state;
      if (us != TaskState::kSucceeded && us != TaskState::kSkipped) waiting_[i]++;
    }
  }
  // A stored run cut off between a failure and its consequences (or an older
  // server's record): pending tasks below a failed or stopped one end now.
  for (int i = 0; i < n; ++i) {
    TaskState s = status_[i].state;
    if (s == TaskState::kFailed || s == TaskState::kUpstreamFailed) {
      EndDescendants(i, TaskState::kUpstreamFailed, "upstream task " + UpstreamCulprit(i) + " failed", now_ms);
    } else if (s == TaskState::kStopped) {
      EndDescendants(i, TaskState::kStopped, "the run was stopped", now_ms);
    }
  }
  for (int i = 0; i < n; ++i) {
    PlanTaskStatus& s = status_[i];
    if (s.state != TaskState::kPending || waiting_[i] > 0) continue;
    if (!s.ready_at_ms) s.ready_at_ms = now_ms;
    if (s.not_before_ms && *s.not_before_ms > now_ms) delayed_.push_back(i);
    else ready_.push_back(i);
  }
}

std::string Plan::UpstreamCulprit(int task) const {
  // An upstream_failed task names the task that failed in its reason; the
  // plan only knows the graph: the nearest failed ancestor, else itself.
  std::vector<int> stack = {task};
  std::vector<bool> seen(tasks_.size(), false);
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    if (seen[i]) continue;
    seen[i] = true;
    if (status_[i].state == TaskState::kFailed) return tasks_[i].name;
    for (int u : tasks_[i].upstream) stack.push_back(u);
  }
  return tasks_[task].name;
}

std::vector<int> Plan::FindWork(int64_t now_ms) {
  std::vector<int> out;
  if (stopping_) return out;
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    const PlanTaskStatus& s = status_[*it];
    if (s.state != TaskState::kPending) {
      it = delayed_.erase(it);
    } else if (s.not_before_ms.value_or(0) <= now_ms) {
      ready_.push_back(*it);
      it = delayed_.erase(it);
    } else {
      ++it;
    }
  }
  while (!ready_.empty() && running_ < parallelism_) {
    int i = ready_.front();
    ready_.pop_front();
    PlanTaskStatus& s = status_[i];
    if (s.state != TaskState::kPending) continue;  // ended while queued (stop, upstream failure)
    started_ = true;
    if (tasks_[i].skip) {
      End(i, TaskState::kSkipped, "skip is set on the task", now_ms);
      UpstreamDone(i, now_ms);
      continue;
    }
    s.state = TaskState::kRunning;
    s.attempt++;
    s.reason.clear();
    s.not_before_ms.reset();
    s.finished_at_ms.reset();
    running_++;
    Changed(i);
    out.push_back(i);
  }
  return out;
}

void Plan::AttemptFinished(int task, AttemptOutcome outcome, const std::string& reason, int64_t now_ms,
                           bool may_retry) {
  if (task < 0 || task >= static_cast<int>(tasks_.size())) return;
  PlanTaskStatus& s = status_[task];
  if (s.state != TaskState::kRunning) return;
  running_--;
  if (outcome == AttemptOutcome::kSucceeded) {
    End(task, TaskState::kSucceeded, reason, now_ms);
    UpstreamDone(task, now_ms);
    return;
  }
  if (outcome == AttemptOutcome::kStopped || stopping_) {
    End(task, TaskState::kStopped, reason.empty() ? "the run was stopped" : reason, now_ms);
    EndDescendants(task, TaskState::kStopped, "the run was stopped", now_ms);
    return;
  }
  const PlanTask& t = tasks_[task];
  if (may_retry && s.attempt < t.max_attempts) {
    int64_t backoff = Backoff(t.retry_backoff_seconds, s.attempt);
    s.state = TaskState::kPending;
    s.reason = "attempt " + std::to_string(s.attempt) + " of " + std::to_string(t.max_attempts) + " failed (" +
               reason + "); retrying in " + std::to_string(backoff) + "s";
    s.not_before_ms = now_ms + backoff * 1000;
    s.ready_at_ms = s.not_before_ms;
    s.finished_at_ms.reset();
    delayed_.push_back(task);
    Changed(task);
    return;
  }
  End(task, TaskState::kFailed, reason, now_ms);
  EndDescendants(task, TaskState::kUpstreamFailed, "upstream task " + t.name + " failed", now_ms);
}

void Plan::Stop(int64_t now_ms) {
  if (stopping_) return;
  stopping_ = true;
  for (int i = 0; i < static_cast<int>(tasks_.size()); ++i) {
    if (status_[i].state == TaskState::kPending) End(i, TaskState::kStopped, "the run was stopped", now_ms);
  }
  ready_.clear();
  delayed_.clear();
}

std::vector<int> Plan::TakeChanged() {
  std::vector<int> out;
  out.swap(changed_);
  for (int i : out) is_changed_[i] = false;
  return out;
}

std::optional<int64_t> Plan::NextRetryMs() const {
  std::optional<int64_t> next;
  for (int i : delayed_) {
    const PlanTaskStatus& s = status_[i];
    if (s.state != TaskState::kPending || !s.not_before_ms) continue;
    if (!next || *s.not_before_ms < *next) next = s.not_before_ms;
  }
  return next;
}

bool Plan::done() const { return running_ == 0 && open_ == 0; }

RunState Plan::run_state() const {
  if (!done()) return started_ ? RunState::kRunning : RunState::kPending;
  if (stopping_) return RunState::kStopped;
  bool stopped = false;
  for (const PlanTaskStatus& s : status_) {
    if (s.state == TaskState::kFailed) return RunState::kFailed;
    stopped = stopped || s.state == TaskState::kStopped;
  }
  return stopped ? RunState::kStopped : RunState::kSucceeded;
}

std::string Plan::run_reason() const {
  if (!done()) return "";
  if (stopping_) return "stopped on request";
  for (size_t i = 0; i < status_.size(); ++i) {
    if (status_[i].state == TaskState::kFailed) return "task " + tasks_[i].name + " failed";
  }
  for (size_t i = 0; i < status_.size(); ++i) {
    if (status_[i].state == TaskState::kStopped) return "task " + tasks_[i].name + " was stopped";
  }
  return "";
}

void Plan::UpstreamDone(int task, int64_t now_ms) {
  for (int d : downstream_[task]) {
    if (--waiting_[d] == 0 && status_[d].state == TaskState::kPending && !stopping_) {
      status_[d].ready_at_ms = now_ms;
      ready_.push_back(d);
    }
  }
}

void Plan::End(int task, TaskState state, std::string reason, int64_t now_ms) {
  PlanTaskStatus& s = status_[task];
  if (!IsTerminal(s.state)) open_--;
  s.state = state;
  s.reason = std::move(reason);
  s.not_before_ms.reset();
  s.finished_at_ms = now_ms;
  Changed(task);
}

void Plan::EndDescendants(int task, TaskState state, const std::string& reason, int64_t now_ms) {
  std::vector<int> stack(downstream_[task].begin(), downstream_[task].end());
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    if (status_[i].state != TaskState::kPending) continue;
    End(i, state, reason, now_ms);
    stack.insert(stack.end(), downstream_[i].begin(), downstream_[i].end());
  }
}

void Plan::Changed(int task) {
  if (is_changed_[task]) return;
  is_changed_[task] = true;
  changed_.push_back(task);
}

}  // namespace quader::pipeline
