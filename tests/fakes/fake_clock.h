#pragma once
// A Clock that moves only when a test advances it.

#include <atomic>

#include "core/clock.h"

namespace quader::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_seconds = 1'800'000'000) : now_(unix_seconds) {}
  std::chrono::system_clock::time_point Now() const override { return FromUnixSeconds(now_.load()); }
  void Advance(int64_t seconds) { now_ += seconds; }
  int64_t seconds() const { return now_.load(); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace quader::testing
