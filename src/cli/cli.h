#pragma once
// The client side of the `quader` binary: every sub-command but `server`.

namespace quader::cli {

// Runs one CLI command (argv[0] is the program, argv[1] the verb). Returns the
// process exit status: 0 success, 1 an error from the server (its message
// printed to stderr), 2 bad usage (CONTRACT.md "CLI").
int Run(int argc, char** argv);

}  // namespace quader::cli
