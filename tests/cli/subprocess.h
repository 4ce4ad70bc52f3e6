#pragma once
// Child processes for the end-to-end tests: run a command to completion with
// captured output, or keep one (the server) running in the background.

#include <sys/types.h>

#include <string>
#include <vector>

namespace quader::cli::testing {

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal number if killed
  std::string out;
  std::string err;
};

// Runs `argv` with exactly the environment `env` ("NAME=value" entries),
// writes `input` to its stdin and captures stdout and stderr. A process
// still running after `timeout_seconds` is killed (exit_code 128 + 9).
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         const std::string& input = "", int timeout_seconds = 60);

// A background process whose stdout and stderr go to `log_path`. Owned by
// one test thread. Stop() (also run by the destructor) ends it.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    const std::string& log_path);
  ~BackgroundProcess() { Stop(); }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // False when fork failed or the process has already exited.
  bool Running();
  // `signal` (SIGTERM by default), up to `grace_seconds` to exit, then
  // SIGKILL; reaps the child. Returns the exit code as RunProcess reports
  // it (-1 if never started).
  int Stop(int grace_seconds = 10, int signal = 15);

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

}  // namespace quader::cli::testing
