#pragma once
// What `run`, `logs` and `stop` share: the RUN argument, the run's API path,
// and reading run and task objects (docs/pipelines.md "Runs": states,
// attempts, RFC 3339 times).

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "cli/client.h"
#include "core/documents.h"
#include "core/status.h"

namespace quader::cli {

// How often `run --wait` and `logs -f` ask the server for the run.
inline constexpr std::chrono::milliseconds kPollInterval{500};

// True for a non-empty run of decimal digits (run ids, trial sequences).
bool AllDigits(std::string_view text);

// Adds the RUN positional: a run id (digits only; anything else is bad usage).
void AddRunIdArg(CLI::App& sub, std::string& run_id);

// "/runs/12" (below /api/v1).
std::string RunPath(const std::string& run_id);
// GET /runs/{id} with every task: a big run's pages (the server lists the
// first 50 tasks of a run of more than 500) are read and joined.
[[nodiscard]] Result<Json> FetchRun(const Client& client, const std::string& run_id);
// GET /runs/{id} as the server answers it: a big run's first page of tasks.
[[nodiscard]] Result<Json> FetchRunPage(const Client& client, const std::string& run_id);
// The answer lists only some of the run's tasks (a page of a big run).
bool IsPaged(const Json& run);

// `field` of `object` as text: a string as it is, a number as JSON, and
// anything else (missing, null) as "".
std::string TextOf(const Json& object, std::string_view field);
// `field` of `object` as an integer; 0 when missing or not a number.
int IntOf(const Json& object, std::string_view field);

// The run has ended: succeeded, failed or stopped.
bool RunFinished(const Json& run);
// The task will not change any more: succeeded, stopped, skipped,
// upstream_failed, or failed with no attempt left.
bool TaskFinished(const Json& task);

// The task named `name` in run["tasks"], or nullptr.
const Json* FindTask(const Json& run, const std::string& name);

// Why a task (or one attempt) failed: its reason, else "out of memory" when
// OOM-killed, else "exit code N", else "".
std::string FailureReason(const Json& task);

// Parses an RFC 3339 time ("2026-11-29T02:46:47.123Z", or with an offset
// such as "+08:00"); nullopt when `text` is not one.
std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view text);
// finished_at - started_at (or created_at when not started) of `object`,
// in seconds; nullopt when either is missing or not a time.
std::optional<double> ElapsedSeconds(const Json& object);
// "12.3s".
std::string FormatSeconds(double seconds);

}  // namespace quader::cli
