#pragma once
// Logging set-up. Everything logs through spdlog's default logger; lines are
// "time level [subsystem] message key=value ...", one event per line.

#include <string>

namespace quader {

// `level` is one of trace, debug, info, warn, error. Safe to call twice.
void SetUpLogging(const std::string& level);

}  // namespace quader
