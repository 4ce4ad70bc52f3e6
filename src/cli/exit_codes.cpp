#include "cli/exit_codes.h"

namespace quader::cli {

Outcome Outcome::FromStatus(const Status& status) {
  if (status.ok()) return Ok();
  return Outcome(kExitFailure, status.message());
}

int Finish(const Outcome& outcome, std::ostream& err) {
  if (outcome.exit_code() != kExitOk && !outcome.message().empty()) {
    err << "error: " << outcome.message() << "\n";
  }
  if (outcome.exit_code() == kExitUsage) err << "Run with --help for more information.\n";
  return outcome.exit_code();
}

int ExitCodeForParseError(int cli11_exit_code) {
  return cli11_exit_code == 0 ? kExitOk : kExitUsage;
}

}  // namespace quader::cli
