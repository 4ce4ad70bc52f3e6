#include "experiment/states.h"

#include <array>
#include <utility>

namespace quader::experiment {
namespace {

constexpr std::array<std::pair<TrialState, std::string_view>, 5> kWords = {{
    {TrialState::kRunning, "running"},
    {TrialState::kSucceeded, "succeeded"},
    {TrialState::kFailed, "failed"},
    {TrialState::kStopped, "stopped"},
    {TrialState::kEarlyStopped, "early_stopped"},
}};

}  // namespace

std::string_view WireName(TrialState s) {
  for (const auto& [state, word] : kWords) {
    if (state == s) return word;
  }
  return "unknown";
}

std::optional<TrialState> ParseTrialState(std::string_view s) {
  for (const auto& [state, word] : kWords) {
    if (word == s) return state;
  }
  return std::nullopt;
}

bool IsTerminal(TrialState s) { return s != TrialState::kRunning; }

bool IsTerminalTrialWord(std::string_view s) {
  std::optional<TrialState> t = ParseTrialState(s);
  return t && IsTerminal(*t);
}

}  // namespace quader::experiment
