#pragma once
// The fixture of the in-process CLI tests (cli/app.h): a FakeServer, a
// temporary config file pointed to by $QUADER_CONFIG, and helpers that run
// one command and capture what it printed. Pauses between polls return at
// once and are recorded.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "core/documents.h"
#include "fake_server.h"
#include "test_util.h"

namespace quader::cli::testing {

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

class CliFixture : public ::testing::Test {
 protected:
  RunResult Run(std::vector<std::string> args, const std::string& input = "") {
    std::ostringstream out;
    RunResult result = RunTo(std::move(args), out, input);
    result.out = out.str();
    return result;
  }

  // Runs with stdout going to `out` (RunResult::out stays empty).
  RunResult RunTo(std::vector<std::string> args, std::ostream& out,
                  const std::string& input = "") {
    args.insert(args.begin(), "quader");
    std::istringstream in(input);
    std::ostringstream err;
    Io io{in, out, err, false};
    io.sleep = [this](std::chrono::milliseconds interval) { pauses_.push_back(interval); };
    int code = RunWithIo(args, io);
    return {code, "", err.str()};
  }

  // Stores a login for the fake server, as `quader login` would.
  void LogIn(const std::string& token = "qdr_test") {
    WriteFile(config_path_,
              Json({{"server", server_.url()}, {"token", token}, {"user", "alice"}}).dump());
  }

  Json StoredConfig() { return Json::parse(ReadFile(config_path_)); }

  // The targets the fake server was asked for, in order.
  std::vector<std::string> Targets() const {
    std::vector<std::string> targets;
    for (const RecordedRequest& r : server_.requests()) targets.push_back(r.method + " " + r.target);
    return targets;
  }

  TempDir dir_;
  std::string config_path_ = dir_.File("config");
  ScopedEnv config_env_{"QUADER_CONFIG", config_path_};
  ScopedEnv server_env_{"QUADER_SERVER", std::nullopt};
  ScopedEnv token_env_{"QUADER_TOKEN", std::nullopt};
  FakeServer server_;
  std::vector<std::chrono::milliseconds> pauses_;
};

}  // namespace quader::cli::testing
