#pragma once
// The CLI's exit statuses, decided in this one place (CONTRACT.md "CLI"):
//   0  success (also `--help` and `--version`);
//   1  the command failed: an error from the server, the server unreachable,
//      not logged in, a file that cannot be read;
//   2  bad usage: unknown verb, bad flag, missing argument, unknown kind,
//      bad `-o` value.

#include <ostream>
#include <string>

#include "core/status.h"

namespace quader::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// What a command ends with: an exit status and, unless it succeeded, the
// message printed to stderr as "error: <message>". Immutable value type.
class Outcome {
 public:
  static Outcome Ok() { return Outcome(kExitOk, ""); }
  // Any non-ok Status is a failure (exit 1); an ok one is success.
  static Outcome FromStatus(const Status& status);
  // A usage error found after parsing (e.g. `get members` without a project).
  static Outcome Usage(std::string message) { return Outcome(kExitUsage, std::move(message)); }
  // The exit status of a command run elsewhere (`quader exec`), passed on.
  static Outcome ExitWith(int exit_code) { return Outcome(exit_code, ""); }

  int exit_code() const { return exit_code_; }
  const std::string& message() const { return message_; }

 private:
  Outcome(int exit_code, std::string message)
      : exit_code_(exit_code), message_(std::move(message)) {}

  int exit_code_;
  std::string message_;
};

// Prints the outcome's message to `err` (usage errors add a hint to --help)
// and returns its exit status.
int Finish(const Outcome& outcome, std::ostream& err);

// Maps CLI11's exit code for a parse error: 0 (help, version) stays 0,
// everything else is bad usage.
int ExitCodeForParseError(int cli11_exit_code);

}  // namespace quader::cli
