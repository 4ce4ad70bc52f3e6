#pragma once
// Shared by the manifest tests: run a shell command, and the offline schema
// validator (tests/kube/validate: npm kubernetes-models + @kubernetes-models/istio,
// installed by `make test`).

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace quader::testing {

struct CommandResult {
  int code = -1;
  std::string output;  // stdout and stderr
};

inline CommandResult RunShell(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string ValidatorDir() { return std::string(QUADER_SOURCE_DIR) + "/tests/kube/validate"; }

// Why the validator cannot run here, or "" when it can.
inline std::string ValidatorMissing() {
  if (RunShell("command -v node").code != 0) return "node is not installed (run scripts/install-deps.sh)";
  if (!std::filesystem::exists(ValidatorDir() + "/node_modules/kubernetes-models")) {
    return "tests/kube/validate has no node_modules: run `make test` (it runs npm ci there)";
  }
  return "";
}

// Validates the manifests in `file` (JSON or YAML) against the official schemas.
inline CommandResult Validate(const std::string& file) {
  return RunShell("node '" + ValidatorDir() + "/validate.mjs' '" + file + "'");
}

}  // namespace quader::testing
