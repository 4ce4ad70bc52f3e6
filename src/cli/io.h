#pragma once
// The streams a CLI command reads and writes, injected so tests can run
// commands in-process and inspect what they printed.

#include <istream>
#include <ostream>

namespace quader::cli {

// Borrowed streams; the owner keeps them alive while a command runs.
struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool in_is_tty = false;  // stdin is a terminal: prompt and hide typed passwords
};

}  // namespace quader::cli
