#include "cli/password.h"

#include <termios.h>
#include <unistd.h>

#include <string>

namespace quader::cli {
namespace {

// Turns terminal echo off for its lifetime; does nothing when stdin is not
// a terminal. Single-threaded use only.
class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

}  // namespace

Result<std::string> ReadPassword(Io& io) {
  std::string line;
  bool got = false;
  if (io.in_is_tty) {
    io.err << "Password: " << std::flush;
    EchoOff echo_off;
    got = static_cast<bool>(std::getline(io.in, line));
  } else {
    got = static_cast<bool>(std::getline(io.in, line));
  }
  if (!got) return errors::Invalid("password", "no password given (use --password or stdin)");
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

}  // namespace quader::cli
