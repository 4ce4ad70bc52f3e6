#include "api/access_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "fakes/temp_dir.h"

namespace quader::api {
namespace {

namespace fs = std::filesystem;

class AccessLogTest : public ::testing::Test {
 protected:
  std::string Read(const std::string& name) const {
    std::ifstream in(dir_.File("logs/" + name));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  testing::TempDir dir_;
};

TEST_F(AccessLogTest, RotatesBySizeAndKeepsOnlyTheNewestFiles) {
  const std::string line(100, 'x');
  {
    auto log = AccessLog::Open(dir_.File("logs/access.log"), /*max_bytes=*/1024, /*max_files=*/2);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < 100; ++i) (*log)->Write("[http] " + std::to_string(i) + " " + line);
  }
  // About 12 KB written through a 1 KiB limit: the live file and two old
  // ones remain, each within the limit; the rest were dropped.
  for (const char* name : {"access.log", "access.1.log", "access.2.log"}) {
    ASSERT_TRUE(fs::exists(dir_.File(std::string("logs/") + name))) << name;
    EXPECT_LE(fs::file_size(dir_.File(std::string("logs/") + name)), 1024u) << name;
  }
  EXPECT_FALSE(fs::exists(dir_.File("logs/access.3.log")));
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_.File("logs"))) ++files;
  EXPECT_EQ(files, 3u);
  // The newest line is in the live file, timestamped; the oldest is gone.
  const std::string live = Read("access.log");
  EXPECT_NE(live.find("[http] 99 " + line + "\n"), std::string::npos) << live;
  const size_t at = live.find("[http] 99 ");
  ASSERT_NE(at, std::string::npos);
  const std::string stamp = live.substr(live.rfind('\n', at) + 1, at - live.rfind('\n', at) - 1);
  EXPECT_TRUE(std::regex_match(stamp, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )"))) << stamp;
  EXPECT_EQ(Read("access.2.log").find("[http] 0 "), std::string::npos);
}

TEST_F(AccessLogTest, ReopeningAppends) {
  for (int round = 0; round < 2; ++round) {
    auto log = AccessLog::Open(dir_.File("logs/access.log"));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    (*log)->Write("round " + std::to_string(round));
  }
  const std::string text = Read("access.log");
  EXPECT_NE(text.find("round 0"), std::string::npos) << text;
  EXPECT_NE(text.find("round 1"), std::string::npos) << text;
}

TEST_F(AccessLogTest, AnUnopenablePathIsUnavailable) {
  std::ofstream(dir_.File("file")) << "x";
  auto log = AccessLog::Open(dir_.File("file/access.log"));  // a file where a directory should be
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Code::kUnavailable);
  EXPECT_NE(log.status().message().find("file/access.log"), std::string::npos) << log.status().ToString();
}

}  // namespace
}  // namespace quader::api
