#include "workload/attempt.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

#include <spdlog/spdlog.h>

#include "core/files.h"
#include "core/log_stamp.h"
#include "workload/image_wait.h"

namespace quader::workload {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kWaitSlice{250};  // how long one Wait blocks before cancel and deadline are looked at
constexpr int kMaxErrorsInARow = 40;     // runtime errors (not "not found") before the workload counts as gone

bool Ended(runtime::WorkloadState s) {
  return s == runtime::WorkloadState::kSucceeded || s == runtime::WorkloadState::kFailed ||
         s == runtime::WorkloadState::kUnknown;
}

// A line the server adds to a workload's log: "== TEXT", stamped like the
// workload's own lines (core/log_stamp.h).
std::string ServerLine(const std::string& text) {
  return StampLines("== " + text + "\n", std::chrono::system_clock::now());
}

// The runtime's own words when it has them ("exited with code 3", the OOM note).
std::string FailureReason(const runtime::WorkloadStatus& s) {
  if (s.oom_killed) return "killed: out of memory (OOM)";
  if (!s.reason.empty()) return s.reason;
  if (s.exit_code) return "exit code " + std::to_string(*s.exit_code);
  return "failed";
}

}  // namespace

Attempt::Attempt(runtime::Runtime& runtime, const Clock& clock, runtime::WorkloadSpec spec, AttemptOptions options,
                 AttemptHooks hooks)
    : runtime_(runtime), clock_(clock), spec_(std::move(spec)), options_(std::move(options)), hooks_(std::move(hooks)) {}

Attempt::~Attempt() {
  Abandon();
  if (thread_.joinable()) thread_.join();
}

void Attempt::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void Attempt::Cancel(const std::string& reason, const std::string& log_line) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancel_.load()) return;
    cancel_reason_ = reason;
    cancel_log_line_ = log_line;
    cancel_ = true;
  }
  cv_.notify_all();
}

void Attempt::Persisted() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    persisted_ = true;
  }
  cv_.notify_all();
}

void Attempt::Abandon() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    abandon_ = true;
  }
  cv_.notify_all();
}

bool Attempt::Abandoned() {
  std::lock_guard<std::mutex> lock(mu_);
  return abandon_;
}

void Attempt::WriteLogLine(const std::string& line) {
  WriteFileAtomically(options_.log_path, [&](std::ofstream& f) { f << ServerLine(line); });
}

void Attempt::Run() {
  runtime::WorkloadStatus status;
  if (Begin(&status)) {
    if (hooks_.started) hooks_.started(status);
    std::optional<AttemptEnd> supervised = Supervise(std::move(status));
    if (supervised) Report(std::move(*supervised));
  }
  if (hooks_.exited) hooks_.exited();
}

bool Attempt::Begin(runtime::WorkloadStatus* status) {
  const std::string& name = spec_.name;
  if (options_.adopt) {
    Result<runtime::WorkloadStatus> st = runtime_.Inspect(name);
    if (st.ok()) {
      *status = *st;
      spdlog::info("[workload] {}: re-attached to workload {} ({})", options_.tag, name, runtime::StateName(st->state));
      return true;
    }
    if (st.status().code() != Code::kNotFound) {
      spdlog::warn("[workload] {}: inspecting {} failed: {}", options_.tag, name, st.status().ToString());
    }
    if (!options_.start_if_missing) {
      AttemptEnd end;
      end.lost = true;
      end.reason = "the workload was gone after a server restart";
      std::error_code ec;
      if (!std::filesystem::exists(options_.log_path, ec)) WriteLogLine(end.reason);
      Report(std::move(end));
      return false;
    }
  }
  if (spec_.command.empty() && spec_.image.empty()) {
    AttemptEnd end;
    end.reason = "the workload could not be rebuilt after a restart";
    Report(std::move(end));
    return false;
  }
  Result<runtime::WorkloadStatus> st = StartWhenImageExists(
      runtime_, spec_, [&] { return Abandoned() || cancel_.load(); },
      [&](const std::string& reason) {
        WriteLogLine(reason);
        if (hooks_.waiting) hooks_.waiting(reason);
      });
  if (!st.ok() && Abandoned()) return false;  // the server is stopping: the next one starts it
  if (!st.ok()) {
    AttemptEnd end;
    end.reason = "could not start: " + st.status().message();
    std::string line = end.reason;
    if (cancel_.load()) {  // stopped while waiting for its image
      std::lock_guard<std::mutex> lock(mu_);
      end.how = AttemptEnd::How::kCanceled;
      end.reason = cancel_reason_;
      line = cancel_log_line_;
    }
    WriteLogLine(line);
    Report(std::move(end));
    return false;
  }
  *status = *st;
  return true;
}

std::optional<AttemptEnd> Attempt::Supervise(runtime::WorkloadStatus status) {
  const std::string& name = spec_.name;
  AttemptEnd end;
  auto next_stats = steady_clock::now() + std::min(options_.stats_interval, milliseconds(500));
  int errors_in_a_row = 0;
  while (true) {
    if (Abandoned()) return std::nullopt;  // the workload keeps running for the next server
    if (cancel_.load()) {
      std::string line;
      {
        std::lock_guard<std::mutex> lock(mu_);
        end.reason = cancel_reason_;
        line = cancel_log_line_;
      }
      runtime_.SaveLog(name, options_.log_path, ServerLine(line));
      (void)runtime_.Stop(name, options_.stop_grace);
      end.how = AttemptEnd::How::kCanceled;
      end.status = status;
      end.status.finished_at = clock_.Now();
      return end;
    }
    int64_t now = ToUnixMillis(clock_.Now());
    if (options_.deadline_ms > 0 && now >= options_.deadline_ms) {
      end.reason = "timed out after " + std::to_string(options_.timeout_seconds) + "s";
      runtime_.SaveLog(name, options_.log_path, ServerLine("killed: " + end.reason));
      (void)runtime_.Stop(name, options_.stop_grace);
      end.status = status;
      end.status.finished_at = clock_.Now();
      return end;
    }
    milliseconds slice = kWaitSlice;
    if (options_.deadline_ms > 0) slice = std::max(milliseconds(1), std::min(slice, milliseconds(options_.deadline_ms - now)));
    Result<runtime::WorkloadStatus> w = runtime_.Wait(name, slice);
    if (!w.ok()) {
      if (w.status().code() == Code::kNotFound || ++errors_in_a_row > kMaxErrorsInARow) {
        end.reason = "the workload disappeared: " + w.status().message();
        end.status = status;
        WriteLogLine(end.reason);
        return end;
      }
      std::this_thread::sleep_for(milliseconds(200));
      continue;
    }
    errors_in_a_row = 0;
    status = *w;
    if (Ended(status.state)) break;
    if (options_.stats_interval.count() > 0 && steady_clock::now() >= next_stats) {
      Result<runtime::WorkloadStats> s = runtime_.Stats(name);
      if (s.ok()) end.peak_memory = std::max(end.peak_memory, s->memory_bytes);
      next_stats = steady_clock::now() + options_.stats_interval;
    }
  }
  end.status = status;
  if (status.state == runtime::WorkloadState::kSucceeded) {
    end.how = AttemptEnd::How::kSucceeded;
    if (hooks_.check) hooks_.check(end);
  } else {
    end.reason = FailureReason(status);
  }
  runtime_.SaveLog(name, options_.log_path, end.how == AttemptEnd::How::kSucceeded ? "" : ServerLine(end.reason));
  return end;
}

void Attempt::Report(AttemptEnd end) {
  hooks_.ended(std::move(end));
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return persisted_ || abandon_; });
  bool remove = persisted_;
  lock.unlock();
  if (!remove) return;
  Status st = runtime_.Stop(spec_.name, std::chrono::seconds(0));
  if (!st.ok()) spdlog::warn("[workload] {}: removing workload {} failed: {}", options_.tag, spec_.name, st.ToString());
}

}  // namespace quader::workload
