#pragma once
// The CLI's login state: which server to talk to and the token to send.
// Stored as JSON {"server", "token", "user"} in ~/.quader/config (file mode
// 0600, directory 0700); $QUADER_CONFIG names another file. $QUADER_SERVER
// and $QUADER_TOKEN, when set and non-empty, override what the file says.

#include <string>

#include "core/status.h"

namespace quader::cli {

// Plain value; an empty field means "not set".
struct Config {
  std::string server;  // "http://host:port", no trailing slash
  std::string token;
  std::string user;
};

// $QUADER_CONFIG when set and non-empty, else $HOME/.quader/config.
std::string ConfigPath();

// Reads the file at `path`. A missing file is an empty Config (not an
// error); unreadable or malformed JSON is kInvalidArgument naming the path.
[[nodiscard]] Result<Config> LoadConfig(const std::string& path);

// Writes `config` to `path` atomically (temporary file + rename) with mode
// 0600, creating a missing parent directory with mode 0700. kInternal on an
// I/O error, naming the path.
[[nodiscard]] Status SaveConfig(const std::string& path, const Config& config);

// Returns `config` with $QUADER_SERVER and $QUADER_TOKEN applied on top.
Config WithEnvironment(Config config);

}  // namespace quader::cli
