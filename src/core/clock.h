#pragma once
// Time as an injected dependency (STYLE.md rule 24): code that needs "now"
// takes a Clock&, so tests can use a FakeClock and never sleep.

#include <chrono>
#include <cstdint>
#include <string>

namespace quader {

// Thread-safe implementations only.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for records shown to users.
  virtual std::chrono::system_clock::time_point Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

// Seconds since the Unix epoch.
int64_t ToUnixSeconds(std::chrono::system_clock::time_point t);
// Milliseconds since the Unix epoch (run, task, trial and event times).
int64_t ToUnixMillis(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point FromUnixSeconds(int64_t s);
// RFC 3339 in UTC, second precision: "2026-11-29T02:46:47Z".
std::string FormatRfc3339(std::chrono::system_clock::time_point t);

}  // namespace quader
