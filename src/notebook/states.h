#pragma once
// The states of a notebook's server (docs/notebooks.md) and their one
// mapping to the words the store, the API and /metrics use.

#include <array>
#include <optional>
#include <string_view>
#include <utility>

#include "core/words.h"

namespace quader::notebook {

enum class NotebookState {
  kPending,  // starting, waiting for its image, or not answering yet
  kRunning,  // its server answers
  kFailed,   // it could not start or it ended; stays so until a reset
  kStopped,  // stopped on request or for idleness
};

inline constexpr WordMap<NotebookState, 4> kNotebookStateWords{std::array<std::pair<NotebookState, std::string_view>, 4>{{
    {NotebookState::kPending, "pending"},
    {NotebookState::kRunning, "running"},
    {NotebookState::kFailed, "failed"},
    {NotebookState::kStopped, "stopped"},
}}};

inline std::string_view WireName(NotebookState s) { return kNotebookStateWords.Name(s); }
inline std::optional<NotebookState> ParseNotebookState(std::string_view s) { return kNotebookStateWords.Parse(s); }

}  // namespace quader::notebook
