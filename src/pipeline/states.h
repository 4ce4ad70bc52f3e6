#pragma once
// The states of a run and of its tasks (docs/pipelines.md "Runs"), and their
// one mapping to the words the store, the API and the CLI use.

#include <optional>
#include <string_view>

namespace quader::pipeline {

enum class TaskState {
  kPending,         // waiting for its upstream tasks, a slot, or a retry's backoff
  kRunning,         // an attempt's workload is starting or running
  kSucceeded,       // the last attempt exited 0
  kFailed,          // the last allowed attempt failed, or the task could not start
  kSkipped,         // `skip` is set on the task: counts as done for its downstream
  kUpstreamFailed,  // an upstream task failed: never started
  kStopped,         // the run was stopped before or while it ran
};

enum class RunState {
  kPending,    // created, no task started yet
  kRunning,    // a task started (or was skipped)
  kSucceeded,  // every task succeeded or was skipped
  kFailed,     // a task failed
  kStopped,    // stopped on request, or a task was stopped
};

// "pending", "running", "succeeded", "failed", "skipped", "upstream_failed", "stopped".
std::string_view WireName(TaskState s);
std::string_view WireName(RunState s);

// The inverse of WireName; nullopt for any other word.
std::optional<TaskState> ParseTaskState(std::string_view s);
std::optional<RunState> ParseRunState(std::string_view s);

// Nothing more happens to a task in these states (in this run).
bool IsTerminal(TaskState s);
bool IsTerminal(RunState s);

// For stored words: true for the terminal words of either kind.
bool IsTerminalWord(std::string_view s);

// For stored words: whether a record's word is that state (false for any
// word that is no state): IsTaskState(rec.state, TaskState::kRunning).
inline bool IsTaskState(std::string_view word, TaskState s) { return ParseTaskState(word) == s; }
inline bool IsRunState(std::string_view word, RunState s) { return ParseRunState(word) == s; }
// A run recorded pending or running: it can still be stopped.
inline bool IsActiveRunWord(std::string_view word) {
  auto s = ParseRunState(word);
  return s && !IsTerminal(*s);
}

}  // namespace quader::pipeline
