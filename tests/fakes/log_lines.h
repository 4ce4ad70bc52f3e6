#pragma once
// Reading logs as the runtimes give them: every line starts with the time it
// was captured (core/log_stamp.h).

#include <gtest/gtest.h>

#include <string>

#include "core/log_stamp.h"

namespace quader::testing {

// `log` without its stamps; a line that has none fails the test.
inline std::string Unstamped(const std::string& log) {
  std::string out;
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    end = end == std::string::npos ? log.size() : end + 1;
    std::string_view line(log.data() + start, end - start);
    EXPECT_TRUE(StartsWithLogStamp(line)) << "a line without its capture time: " << line << "\nin: " << log;
    out += StartsWithLogStamp(line) ? line.substr(kLogStampSize) : line;
    start = end;
  }
  return out;
}

}  // namespace quader::testing
