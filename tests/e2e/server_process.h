#pragma once
// Runs the real `quader server` binary as a child process on a random port
// with a fresh data directory, for end-to-end tests.

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "cli/http_client.h"
#include "core/documents.h"

namespace quader::testing {

// The whole file at `path` ("" when it cannot be read).
std::string ReadFile(const std::string& path);

class ServerProcess;

// Calls `server` and expects `status` (a different one is a test failure
// naming the call and the answer); returns the body as JSON, or as a JSON
// string when it is not JSON.
Json CallJson(const ServerProcess& server, const std::string& method, const std::string& path,
              const std::string& body, int status, const std::string& token);

class ServerProcess {
 public:
  // `data_dir` must exist. Extra flags are appended after the defaults
  // (--listen and --gateway-listen 127.0.0.1:0 unless they give them).
  ServerProcess(std::string data_dir, std::vector<std::string> extra_args = {},
                std::map<std::string, std::string> env = {{"QUADER_ADMIN_PASSWORD", "admin-pass-1"}});
  ~ServerProcess();  // Stop()s

  // Starts the server and waits (20 s deadline) until /healthz answers.
  // Returns false (with a message in error()) when it does not come up.
  bool Start();
  // SIGTERM, wait, SIGKILL fallback.
  void Stop();
  // SIGKILL at once, as a crash would.
  void Kill();
  // The exit status of the last stopped process (-1 when killed by signal).
  int exit_code() const { return exit_code_; }

  const std::string& api() const { return api_; }
  const std::string& gateway() const { return gateway_; }  // "http://127.0.0.1:PORT"
  const std::string& error() const { return error_; }
  // Everything the server printed to stdout and stderr.
  std::string Output() const;

  // HTTP helpers against api(). `token` may be empty.
  cli::HttpReply Call(const std::string& method, const std::string& path, const std::string& body = "",
                      const std::string& token = "",
                      std::map<std::string, std::string> headers = {}) const;
  // Logs in and returns the token (empty on failure).
  std::string Login(const std::string& user, const std::string& password) const;

 private:
  std::string data_dir_;
  std::vector<std::string> args_;
  std::map<std::string, std::string> env_;
  pid_t pid_ = -1;
  int exit_code_ = 0;
  std::string api_;
  std::string gateway_;
  std::string error_;
  std::string log_path_;
};

}  // namespace quader::testing
