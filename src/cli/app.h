#pragma once
// The CLI's dispatcher, callable in-process: parses `args` (args[0] is the
// program name), runs the chosen verb with `io` and returns the exit status
// (cli/exit_codes.h). cli::Run is this with the process's own streams.

#include <string>
#include <vector>

#include "cli/io.h"

namespace quader::cli {

int RunWithIo(const std::vector<std::string>& args, Io& io);

}  // namespace quader::cli
