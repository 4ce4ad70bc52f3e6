#pragma once
// Reading a password for `quader login` when --password is not given.

#include <string>

#include "cli/io.h"
#include "core/status.h"

namespace quader::cli {

// When io.in_is_tty, prompts "Password: " on io.err and reads one line from
// the terminal with echo turned off (restored afterwards); otherwise reads
// the first line of io.in (a pipe or file). Trailing "\r\n" is dropped.
// kInvalidArgument when nothing could be read.
[[nodiscard]] Result<std::string> ReadPassword(Io& io);

}  // namespace quader::cli
