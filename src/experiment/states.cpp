#include "experiment/states.h"

#include "core/words.h"

namespace quader::experiment {
namespace {

constexpr WordMap<TrialState, 5> kWords({{
    {TrialState::kRunning, "running"},
    {TrialState::kSucceeded, "succeeded"},
    {TrialState::kFailed, "failed"},
    {TrialState::kStopped, "stopped"},
    {TrialState::kEarlyStopped, "early_stopped"},
}});

}  // namespace

std::string_view WireName(TrialState s) { return kWords.Name(s); }
std::optional<TrialState> ParseTrialState(std::string_view s) { return kWords.Parse(s); }

bool IsTerminal(TrialState s) { return s != TrialState::kRunning; }

bool IsTerminalTrialWord(std::string_view s) {
  std::optional<TrialState> t = ParseTrialState(s);
  return t && IsTerminal(*t);
}

}  // namespace quader::experiment
