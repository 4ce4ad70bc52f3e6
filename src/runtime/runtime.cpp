#include "runtime/runtime.h"

#include <algorithm>
#include <thread>

#include "core/files.h"

namespace quader::runtime {

Status MissingImage(const std::string& image, const std::string& detail) {
  return {Code::kNotFound, "image \"" + image + "\" not found (" + detail + ")"};
}

bool IsMissingImage(const Status& status) {
  return status.code() == Code::kNotFound && status.message().rfind("image \"", 0) == 0;
}

const char* StateName(WorkloadState s) {
  switch (s) {
    case WorkloadState::kPending: return "pending";
    case WorkloadState::kRunning: return "running";
    case WorkloadState::kSucceeded: return "succeeded";
    case WorkloadState::kFailed: return "failed";
    case WorkloadState::kUnknown: return "unknown";
  }
  return "unknown";
}

Result<int> Runtime::Exec(const std::string& id, const std::vector<std::string>&, std::chrono::milliseconds) {
  return errors::Unavailable("the " + kind() + " runtime cannot run commands inside workload \"" + id + "\"");
}

std::vector<std::string> TerminalOptions::CommandOrShell() const {
  if (!argv.empty()) return argv;
  return {"/bin/sh", "-c",
          "export TERM=\"${TERM:-xterm-256color}\"; if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"};
}

int ClampTerminalSize(int n) { return n < 1 ? 1 : n > 1000 ? 1000 : n; }

Result<std::unique_ptr<Terminal>> Runtime::OpenTerminal(const std::string& id, const TerminalOptions&) {
  return errors::Unavailable("the " + kind() + " runtime cannot open a terminal in workload \"" + id + "\"");
}

Result<WorkloadStatus> Runtime::Wait(const std::string& id, std::chrono::milliseconds timeout) {
  using namespace std::chrono;
  auto start = steady_clock::now();
  auto deadline = start + timeout;
  microseconds pause(500);
  while (true) {
    QUADER_ASSIGN_OR_RETURN(WorkloadStatus st, Inspect(id));
    if (st.state != WorkloadState::kPending && st.state != WorkloadState::kRunning) return st;
    auto now = steady_clock::now();
    if (now >= deadline) return st;
    std::this_thread::sleep_for(std::min<microseconds>(pause, duration_cast<microseconds>(deadline - now)));
    // Every 5 ms for the first seconds of a wait (short workloads are noticed
    // within 5 ms), then slower.
    pause = std::min<microseconds>(pause * 2, now - start < seconds(2) ? milliseconds(5) : milliseconds(100));
  }
}

void Runtime::SaveLog(const std::string& id, const std::string& path, const std::string& trailer) {
  WriteFileAtomically(path, [&](std::ofstream& f) {
    char last = '\n';
    (void)Logs(id, false, [&f, &last](const std::string& chunk) {
      f << chunk;
      if (!chunk.empty()) last = chunk.back();
      return true;
    });
    // The trailer on a line of its own, even after last words without a newline.
    if (!trailer.empty()) f << (last == '\n' ? "" : "\n") << trailer;
  });
}

}  // namespace quader::runtime
