// quader-capture: the process runtime's log capture (a program of its own,
// small and static, so it costs a workload's start next to nothing).
//
//   quader-capture --stamp --marker MARKER [--max-bytes N] PROGRAM [ARG...]
//
// Runs PROGRAM with its stdout and stderr on a pipe and appends what comes
// to its own stdout (the workload's log file), each line starting with the
// time it was read (core/log_stamp.h). Exits as PROGRAM did (128 + the
// signal when one ended it). MARKER, argv[3], is how a restarted server
// recognises the workload (process_runtime.cpp); it is not used here.
//
// With --max-bytes, the log stops growing at N bytes: one line says so, and
// the rest of the output is read and dropped (the command is not blocked).
//
// When it ends: once PROGRAM has ended and the pipe is drained (what is
// still in it, then a quiet moment: a background process PROGRAM left
// holding the pipe does not keep the workload alive). A stop is different:
// the signals that ask a workload to end (TERM, INT, HUP, QUIT), sent to its
// process group or cgroup, are noted here, not obeyed, and after one the
// capture stays until every writer has closed the pipe, so the last words
// of a command that ends gracefully are kept (the runtime's grace ends with
// KILL for all).

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/log_stamp.h"

namespace {

constexpr int kSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
// After PROGRAM ended (no stop asked): how long the pipe may stay quiet, and
// how long it is read at most, before the capture ends.
constexpr int kQuietMs = 50;
constexpr int kDrainMs = 1000;

volatile sig_atomic_t stop_asked = 0;

void NoteStop(int) { stop_asked = 1; }

// Writes all of `data` to stdout; a log that cannot be written (a full disk)
// loses the text, never blocks or ends the workload.
void WriteOut(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(STDOUT_FILENO, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

quader::LineStamper stamper;
int64_t max_bytes = 0;  // 0: no limit
int64_t written = 0;
bool cut = false;
bool at_line_start = true;

// Stamps and writes a piece of output, within the limit.
void Keep(std::string_view piece) {
  if (cut) return;
  const auto now = std::chrono::system_clock::now();
  std::string out = stamper.Feed(piece, now);
  if (max_bytes > 0 && written + static_cast<int64_t>(out.size()) > max_bytes) {
    cut = true;
    // The whole lines that fit, then the note.
    const size_t room = static_cast<size_t>(std::max<int64_t>(0, max_bytes - written));
    const size_t end = room == 0 ? std::string::npos : out.rfind('\n', room - 1);
    out = end == std::string::npos ? std::string() : out.substr(0, end + 1);
    const bool line_start = out.empty() ? at_line_start : true;
    out += std::string(line_start ? "" : "\n") +
           quader::StampLines("== the log is cut here: it passed its limit of " + std::to_string(max_bytes) +
                                  " bytes; the rest of the output is dropped\n",
                              now);
  }
  if (!out.empty()) at_line_start = out.back() == '\n';
  written += static_cast<int64_t>(out.size());
  WriteOut(out);
}

// Reads once from the pipe; false at its end.
bool ReadSome(int fd) {
  static char buf[64 * 1024];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      Keep(std::string_view(buf, static_cast<size_t>(n)));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  int prog = 4;
  if (argc > 6 && std::strcmp(argv[4], "--max-bytes") == 0) {
    char* end = nullptr;
    max_bytes = std::strtoll(argv[5], &end, 10);
    if (end == argv[5] || *end != '\0' || max_bytes < 0) max_bytes = -1;
    prog = 6;
  }
  if (argc <= prog || std::strcmp(argv[1], "--stamp") != 0 || std::strcmp(argv[2], "--marker") != 0 ||
      argv[prog][0] != '/' || max_bytes < 0) {
    std::fprintf(stderr, "usage: quader-capture --stamp --marker MARKER [--max-bytes N] /PROGRAM [ARG...]\n");
    return 125;
  }
  // Before the fork: no moment where a stop ends the capture. A caught
  // signal is the default again in PROGRAM once it executes.
  struct sigaction note {};
  note.sa_handler = NoteStop;
  sigemptyset(&note.sa_mask);
  for (int sig : kSignals) sigaction(sig, &note, nullptr);
  int pipe_fds[2];
  pid_t child = -1;
  if (pipe2(pipe_fds, O_CLOEXEC) == 0) child = fork();
  if (child <= 0) {
    // PROGRAM itself (the child), or without a capture when none can be
    // made: a log without timestamps beats a workload that does not start.
    for (int sig : kSignals) signal(sig, SIG_DFL);
    if (child == 0) {
      dup2(pipe_fds[1], STDOUT_FILENO);
      dup2(pipe_fds[1], STDERR_FILENO);
    }
    execv(argv[prog], argv + prog);
    std::fprintf(stderr, "quader-capture: cannot execute %s: %s\n", argv[prog], std::strerror(errno));
    _exit(127);
  }
  close(pipe_fds[1]);
  const int out_fd = pipe_fds[0];
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
  int64_t ended_at = -1;  // when PROGRAM ended, once it has
  for (;;) {
    int timeout = -1;
    if (ended_at >= 0 && !stop_asked) {
      const int64_t left = ended_at + kDrainMs - NowMs();
      if (left <= 0) break;
      timeout = static_cast<int>(std::min<int64_t>(left, kQuietMs));
    }
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
    const int watched = pidfd >= 0 && ended_at < 0 ? 2 : 1;
    int n = poll(fds, watched, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n == 0) break;  // quiet after PROGRAM ended
    if (fds[0].revents != 0 && !ReadSome(out_fd)) break;  // every writer is gone
    if (watched == 2 && fds[1].revents != 0) ended_at = NowMs();
  }
  close(out_fd);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}
