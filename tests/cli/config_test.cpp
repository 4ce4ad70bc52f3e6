// Tests cli/config.h: where the login is stored, its permissions, and the
// environment overrides.

#include "cli/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/documents.h"
#include "test_util.h"

namespace quader::cli {
namespace {

using testing::ReadFile;
using testing::ScopedEnv;
using testing::TempDir;
using testing::WriteFile;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class ConfigTest : public ::testing::Test {
 protected:
  TempDir dir_;
  ScopedEnv server_env_{"QUADER_SERVER", std::nullopt};
  ScopedEnv token_env_{"QUADER_TOKEN", std::nullopt};
};

TEST_F(ConfigTest, PathComesFromQuaderConfigElseHome) {
  {
    ScopedEnv config("QUADER_CONFIG", dir_.File("cfg"));
    EXPECT_EQ(ConfigPath(), dir_.File("cfg"));
  }
  ScopedEnv config("QUADER_CONFIG", std::nullopt);
  ScopedEnv home("HOME", dir_.path());
  EXPECT_EQ(ConfigPath(), dir_.path() + "/.quader/config");
}

TEST_F(ConfigTest, SaveCreatesPrivateDirectoryAndFileAndLoadReadsItBack) {
  std::string path = dir_.path() + "/.quader/config";
  Config saved{"http://127.0.0.1:8080", "qdr_secret", "alice"};
  ASSERT_TRUE(SaveConfig(path, saved).ok());
  EXPECT_EQ(ModeOf(dir_.path() + "/.quader"), 0700u);
  EXPECT_EQ(ModeOf(path), 0600u);

  Json stored = Json::parse(ReadFile(path));
  EXPECT_EQ(
      stored,
      Json({{"server", "http://127.0.0.1:8080"}, {"token", "qdr_secret"}, {"user", "alice"}}));
  auto loaded = LoadConfig(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->server, saved.server);
  EXPECT_EQ(loaded->token, saved.token);
  EXPECT_EQ(loaded->user, saved.user);
}

TEST_F(ConfigTest, SaveTightensTheModeOfAnExistingFile) {
  std::string path = dir_.File("config");
  WriteFile(path, "{}");
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  mode_t old_umask = umask(0);
  Status st = SaveConfig(path, {"http://h:1", "t", "u"});
  umask(old_umask);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(ModeOf(path), 0600u);
}

TEST_F(ConfigTest, MissingFileIsAnEmptyConfig) {
  auto loaded = LoadConfig(dir_.File("nothing-here"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->server.empty());
  EXPECT_TRUE(loaded->token.empty());
}

TEST_F(ConfigTest, MalformedFileIsAnErrorNamingThePath) {
  std::string path = dir_.File("config");
  WriteFile(path, "{not json");
  auto loaded = LoadConfig(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Code::kInvalidArgument);
  EXPECT_NE(loaded.status().message().find(path), std::string::npos);

  WriteFile(path, "[1, 2]");
  EXPECT_FALSE(LoadConfig(path).ok());
}

TEST_F(ConfigTest, EnvironmentOverridesServerAndTokenWhenNotEmpty) {
  Config file{"http://file:1", "file-token", "alice"};
  Config unchanged = WithEnvironment(file);
  EXPECT_EQ(unchanged.server, "http://file:1");
  EXPECT_EQ(unchanged.token, "file-token");

  ScopedEnv server("QUADER_SERVER", "http://env:2");
  ScopedEnv token("QUADER_TOKEN", "env-token");
  Config merged = WithEnvironment(file);
  EXPECT_EQ(merged.server, "http://env:2");
  EXPECT_EQ(merged.token, "env-token");
  EXPECT_EQ(merged.user, "alice");

  ScopedEnv empty_token("QUADER_TOKEN", "");
  EXPECT_EQ(WithEnvironment(file).token, "file-token");
}

}  // namespace
}  // namespace quader::cli
