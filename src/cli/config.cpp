#include "cli/config.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/documents.h"

namespace quader::cli {
namespace {

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string HomeDir() {
  std::string home = EnvOr("HOME", "");
  if (!home.empty()) return home;
  const passwd* pw = getpwuid(getuid());
  return pw != nullptr && pw->pw_dir != nullptr ? pw->pw_dir : ".";
}

Status IoError(const std::string& what, const std::string& path) {
  return errors::Internal("cannot " + what + " " + path + ": " + std::strerror(errno));
}

Status EnsureParentDir(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return Status::Ok();
  std::error_code ec;
  if (std::filesystem::exists(parent, ec)) return Status::Ok();
  std::filesystem::create_directories(parent, ec);
  if (ec) return errors::Internal("cannot create " + parent.string() + ": " + ec.message());
  if (chmod(parent.c_str(), 0700) != 0) return IoError("chmod", parent.string());
  return Status::Ok();
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("write", path);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

std::string ConfigPath() {
  std::string path = EnvOr("QUADER_CONFIG", "");
  if (!path.empty()) return path;
  return HomeDir() + "/.quader/config";
}

Result<Config> LoadConfig(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 && errno == ENOENT) return Config{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return errors::Invalid("config", "cannot read " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = ParseJson(text.str());
  if (!parsed.ok()) return errors::Invalid("config", path + ": " + parsed.status().message());
  const Json& j = parsed.value();
  if (!j.is_object()) return errors::Invalid("config", path + ": must be a JSON object");
  Config config;
  auto field = [&j](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  config.server = field("server");
  config.token = field("token");
  config.user = field("user");
  return config;
}

Status SaveConfig(const std::string& path, const Config& config) {
  QUADER_RETURN_IF_ERROR(EnsureParentDir(path));
  Json j = {{"server", config.server}, {"token", config.token}, {"user", config.user}};
  std::string data = j.dump(2) + "\n";
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("create", tmp);
  Status st = WriteAll(fd, data, tmp);
  // The mode is set explicitly: open's mode is filtered by the umask only
  // when creating, and a stale temporary file could have kept other bits.
  if (st.ok() && fchmod(fd, 0600) != 0) st = IoError("chmod", tmp);
  if (st.ok() && fsync(fd) != 0) st = IoError("sync", tmp);
  close(fd);
  if (st.ok() && rename(tmp.c_str(), path.c_str()) != 0) st = IoError("write", path);
  if (!st.ok()) unlink(tmp.c_str());
  return st;
}

Config WithEnvironment(Config config) {
  config.server = EnvOr("QUADER_SERVER", config.server);
  config.token = EnvOr("QUADER_TOKEN", config.token);
  return config;
}

}  // namespace quader::cli
