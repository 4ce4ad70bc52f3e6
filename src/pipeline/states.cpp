#include "pipeline/states.h"

#include "core/words.h"

namespace quader::pipeline {
namespace {

constexpr WordMap<TaskState, 7> kTaskWords({{
    {TaskState::kPending, "pending"},
    {TaskState::kRunning, "running"},
    {TaskState::kSucceeded, "succeeded"},
    {TaskState::kFailed, "failed"},
    {TaskState::kSkipped, "skipped"},
    {TaskState::kUpstreamFailed, "upstream_failed"},
    {TaskState::kStopped, "stopped"},
}});

constexpr WordMap<RunState, 5> kRunWords({{
    {RunState::kPending, "pending"},
    {RunState::kRunning, "running"},
    {RunState::kSucceeded, "succeeded"},
    {RunState::kFailed, "failed"},
    {RunState::kStopped, "stopped"},
}});

}  // namespace

std::string_view WireName(TaskState s) { return kTaskWords.Name(s); }
std::string_view WireName(RunState s) { return kRunWords.Name(s); }
std::optional<TaskState> ParseTaskState(std::string_view s) { return kTaskWords.Parse(s); }
std::optional<RunState> ParseRunState(std::string_view s) { return kRunWords.Parse(s); }

bool IsTerminal(TaskState s) { return s != TaskState::kPending && s != TaskState::kRunning; }

bool IsTerminal(RunState s) { return s != RunState::kPending && s != RunState::kRunning; }

bool IsTerminalWord(std::string_view s) {
  std::optional<TaskState> t = ParseTaskState(s);
  return t && IsTerminal(*t);
}

}  // namespace quader::pipeline
