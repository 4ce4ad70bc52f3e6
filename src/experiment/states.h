#pragma once
// The states of a trial (docs/hpo.md) and their one mapping to the words the
// store, the API and the CLI use.

#include <optional>
#include <string_view>

namespace quader::experiment {

enum class TrialState {
  kRunning,       // its workload is starting or running
  kSucceeded,     // exited 0 having reported a final result
  kFailed,        // exited non-zero, timed out, or its workload was lost
  kStopped,       // the experiment stopped it (stop, goal reached, max_duration, deletion)
  kEarlyStopped,  // the assessor stopped it
};

// "running", "succeeded", "failed", "stopped", "early_stopped".
std::string_view WireName(TrialState s);
// The inverse of WireName; nullopt for any other word.
std::optional<TrialState> ParseTrialState(std::string_view s);
// True for every state but running.
bool IsTerminal(TrialState s);
// For stored words: true for a terminal trial state's word.
bool IsTerminalTrialWord(std::string_view s);

}  // namespace quader::experiment
