#include "pipeline/states.h"

#include <array>
#include <utility>

namespace quader::pipeline {
namespace {

constexpr std::array<std::pair<TaskState, std::string_view>, 7> kTaskWords = {{
    {TaskState::kPending, "pending"},
    {TaskState::kRunning, "running"},
    {TaskState::kSucceeded, "succeeded"},
    {TaskState::kFailed, "failed"},
    {TaskState::kSkipped, "skipped"},
    {TaskState::kUpstreamFailed, "upstream_failed"},
    {TaskState::kStopped, "stopped"},
}};

constexpr std::array<std::pair<RunState, std::string_view>, 5> kRunWords = {{
    {RunState::kPending, "pending"},
    {RunState::kRunning, "running"},
    {RunState::kSucceeded, "succeeded"},
    {RunState::kFailed, "failed"},
    {RunState::kStopped, "stopped"},
}};

}  // namespace

std::string_view WireName(TaskState s) {
  for (const auto& [state, word] : kTaskWords) {
    if (state == s) return word;
  }
  return "unknown";
}

std::string_view WireName(RunState s) {
  for (const auto& [state, word] : kRunWords) {
    if (state == s) return word;
  }
  return "unknown";
}

std::optional<TaskState> ParseTaskState(std::string_view s) {
  for (const auto& [state, word] : kTaskWords) {
    if (word == s) return state;
  }
  return std::nullopt;
}

std::optional<RunState> ParseRunState(std::string_view s) {
  for (const auto& [state, word] : kRunWords) {
    if (word == s) return state;
  }
  return std::nullopt;
}

bool IsTerminal(TaskState s) { return s != TaskState::kPending && s != TaskState::kRunning; }

bool IsTerminal(RunState s) { return s != RunState::kPending && s != RunState::kRunning; }

bool IsTerminalWord(std::string_view s) {
  std::optional<TaskState> t = ParseTaskState(s);
  return t && IsTerminal(*t);
}

}  // namespace quader::pipeline
