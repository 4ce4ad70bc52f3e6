// Cron expressions with time zones (cron/cron_expr.h). Input: the expression
// on the first line, an IANA zone name on the second (empty: UTC), and on
// the third a start time in seconds since the epoch.
#include <chrono>
#include <cstdlib>

#include "cron/cron_expr.h"
#include "fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = quader::fuzz::Lines(quader::fuzz::Bytes(data, size), 3);
  auto expr = quader::cron::CronExpr::Parse("schedule.cron", parts[0]);
  const date::time_zone* zone = nullptr;
  if (!parts[1].empty()) {
    auto z = quader::cron::LoadZone("schedule.timezone", parts[1]);
    if (!z.ok()) return 0;
    zone = *z;
  }
  if (!expr.ok()) return 0;
  // Between 1970 and 2200, from whatever the third line says.
  long long start = std::strtoll(parts[2].c_str(), nullptr, 10);
  constexpr long long kSpan = 230LL * 365 * 86400;
  start = ((start % kSpan) + kSpan) % kSpan;
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(start));
  for (int i = 0; i < 3; ++i) {
    auto next = expr->Next(t, zone);
    if (!next) break;
    if (*next <= t) __builtin_trap();  // Next must move forward
    t = *next;
  }
  return 0;
}
