#pragma once
// Cron expressions with IANA time zones (SPEC §5, docs/pipelines.md "Schedules").
//
// Five fields (minute hour day-of-month month day-of-week) with *, lists
// (1,5), ranges (1-5), steps (*/15, 10-50/10), month names (JAN-DEC) and day
// names (SUN-SAT; 0 and 7 are Sunday), or one of @yearly (@annually),
// @monthly, @weekly, @daily (@midnight), @hourly. As in Vixie cron, when both
// day-of-month and day-of-week are restricted (neither is *), a day matching
// either fires; otherwise a day must match both. A field counts as * when it
// starts with * (Vixie's rule): "0 0 */2 * MON" fires on odd-numbered days
// that are Mondays.
// Day-of-week ranges may end at 7 (Sunday); an open-ended step (*/2, 1/2)
// runs over 0-6.
//
// Times are evaluated in the expression's zone (howardhinnant date/tz).
// Daylight saving: a local time skipped by a spring-forward gap fires at the
// first instant after the gap; a local time repeated by a fall-back fires
// once, at its first occurrence.
//
// Immutable and thread-safe after Parse.

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace date {
class time_zone;
}

namespace quader::cron {

using TimePoint = std::chrono::system_clock::time_point;

// A time zone by IANA name ("UTC", "Asia/Shanghai"). kInvalidArgument naming
// `field` for an unknown zone (`field: unknown time zone "Mars/Base"`);
// kInternal when the OS time zone database cannot be read. Thread-safe.
Result<const date::time_zone*> LoadZone(const std::string& field, const std::string& name);

class CronExpr {
 public:
  // kInvalidArgument naming `field`, the part at fault and why, e.g.
  // `schedule.cron: minute "61" is out of range 0-59`,
  // `schedule.cron: expected 5 fields (minute hour day month weekday), got 6`.
  // An expression that can never fire is refused too: `schedule.cron: cron
  // expression "0 0 30 2 *" never fires: none of its days of the month (30)
  // exists in its months (2)`. ("0 0 31 2 MON" fires on February's Mondays:
  // the Vixie OR rule.)
  static Result<CronExpr> Parse(const std::string& field, std::string_view text);

  // The first fire time strictly after `after` (whole minutes, seconds 0),
  // in `zone` (null: UTC); nullopt when there is none within 5 years (Parse
  // refuses expressions that never fire, so that is "0 0 29 2 *" from 2097,
  // or the end of time). Skips whole months, days and hours that cannot match.
  std::optional<TimePoint> Next(TimePoint after, const date::time_zone* zone) const;

  const std::string& text() const { return text_; }

 private:
  CronExpr() = default;
  // Whether a local calendar day (1..31, Sunday = 0) matches, with the
  // Vixie OR rule when both day fields are restricted.
  bool MatchesDay(unsigned day, unsigned weekday) const;
  // Whether some calendar day matches at all (Parse refuses the rest).
  bool CanFire() const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;      // 1..31
  std::bitset<13> months_;    // 1..12
  std::bitset<7> weekdays_;   // 0..6, Sunday = 0
  bool any_day_ = false;      // day-of-month field was *
  bool any_weekday_ = false;  // day-of-week field was *
};

}  // namespace quader::cron
