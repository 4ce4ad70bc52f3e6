#include "cron/cron_expr.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>

namespace quader::cron {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kField = "schedule.cron";

using Times = std::vector<std::string>;

// One Next check: the successive fire times after `after`.
struct FireRow {
  const char* text;
  const char* after;  // UTC
  const char* zone;
  Times expected;  // successive fire times, UTC; "none" where Next gives up
};

class CronExprTest : public ::testing::Test {
 protected:
  // "2026-03-08 05:00" (or with ":SS") in UTC.
  static TimePoint Utc(const std::string& text) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    const int n = std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
    EXPECT_GE(n, 5) << "bad test time " << text;
    const date::sys_days day = date::year{y} / mo / d;
    return TimePoint{day + std::chrono::hours{h} + minutes{mi} + seconds{sec}};
  }

  static std::string Format(TimePoint tp) {
    return date::format("%F %R", std::chrono::floor<minutes>(tp));
  }

  static const date::time_zone* Zone(const std::string& name) {
    Result<const date::time_zone*> zone = LoadZone("schedule.timezone", name);
    EXPECT_TRUE(zone.ok()) << zone.status().ToString();
    return zone.ok() ? *zone : nullptr;
  }

  static CronExpr MustParse(const std::string& text) {
    Result<CronExpr> expr = CronExpr::Parse(kField, text);
    EXPECT_TRUE(expr.ok()) << text << ": " << expr.status().ToString();
    if (!expr.ok()) std::abort();
    return std::move(expr).value();
  }

  // `count` successive fire times after `after`, as UTC "YYYY-MM-DD HH:MM", or
  // "none" where Next gives up. Checks each is whole minutes and strictly later.
  static std::vector<std::string> Fires(const std::string& text, const std::string& after_utc,
                                        const std::string& zone_name, int count) {
    const CronExpr expr = MustParse(text);
    const date::time_zone* zone = Zone(zone_name);
    std::vector<std::string> out;
    TimePoint after = Utc(after_utc);
    for (int i = 0; i < count; ++i) {
      std::optional<TimePoint> next = expr.Next(after, zone);
      if (!next) {
        out.push_back("none");
        break;
      }
      EXPECT_GT(*next, after) << text;
      EXPECT_EQ(*next, std::chrono::floor<minutes>(*next)) << text << " fired off the minute";
      out.push_back(Format(*next));
      after = *next;
    }
    return out;
  }

  static void CheckRows(const std::vector<FireRow>& rows) {
    for (const FireRow& row : rows) {
      SCOPED_TRACE(std::string(row.text) + " after " + row.after + " in " + row.zone);
      EXPECT_EQ(Fires(row.text, row.after, row.zone, static_cast<int>(row.expected.size())),
                row.expected);
    }
  }
};

// ---------------------------------------------------------------- parsing

struct BadRow {
  const char* text;
  const char* message;  // the whole message after "schedule.cron: "
};

TEST_F(CronExprTest, RejectsMalformedExpressionsNamingThePart) {
  const BadRow rows[] = {
      // Nothing to parse.
      {"", "cron expression is empty"},
      {"   \t ", "cron expression is empty"},
      // Wrong field count, either way.
      {"* * * *", "expected 5 fields (minute hour day month weekday), got 4"},
      {"0 0 * * * *", "expected 5 fields (minute hour day month weekday), got 6"},
      // Each field's bounds.
      {"61 * * * *", "minute \"61\" is out of range 0-59"},
      {"* 24 * * *", "hour \"24\" is out of range 0-23"},
      {"* * 0 * *", "day \"0\" is out of range 1-31"},
      {"* * 32 * *", "day \"32\" is out of range 1-31"},
      {"* * * 0 *", "month \"0\" is out of range 1-12"},
      {"* * * 13 *", "month \"13\" is out of range 1-12"},
      {"* * * * 8", "weekday \"8\" is out of range 0-7"},
      // A range end out of bounds names the item and the value.
      {"50-70 * * * *", "minute \"50-70\": \"70\" is out of range 0-59"},
      // Too many digits must not overflow into a valid value.
      {"99999999999 * * * *", "minute \"99999999999\" is out of range 0-59"},
      // Steps.
      {"*/0 * * * *", "minute \"*/0\" has step 0 (a step must be at least 1)"},
      {"* 0-23/0 * * *", "hour \"0-23/0\" has step 0 (a step must be at least 1)"},
      {"*/61 * * * *", "minute \"*/61\" has step 61 (at most 60)"},
      {"*/x * * * *", "minute \"*/x\": \"x\" is not a step number"},
      {"5/ * * * *", "minute \"5/\" has no step after \"/\""},
      {"/5 * * * *", "minute \"/5\" has no value before \"/\""},
      // Ranges.
      {"* 5-2 * * *", "hour \"5-2\" is a reversed range (5 > 2)"},
      {"* * * * SAT-SUN", "weekday \"SAT-SUN\" is a reversed range (6 > 0)"},
      {"1- * * * *", "minute \"1-\" has no range end after \"-\""},
      {"-1 * * * *", "minute \"-1\" has no range start before \"-\""},
      {"1-2-3 * * * *", "minute \"1-2-3\": \"2-3\" is not a number"},
      // Names: unknown ones, and names where the field has none.
      {"* * * FOO *", "month \"FOO\" is not a number or a month name (JAN-DEC)"},
      {"* * * JAN-FOO *", "month \"JAN-FOO\": \"FOO\" is not a number or a month name (JAN-DEC)"},
      {"* * * * FUN", "weekday \"FUN\" is not a number or a weekday name (SUN-SAT)"},
      {"* * * * MONDAY", "weekday \"MONDAY\" is not a number or a weekday name (SUN-SAT)"},
      {"MON * * * *", "minute \"MON\" is not a number"},
      {"* * JAN * *", "day \"JAN\" is not a number"},
      {"+5 * * * *", "minute \"+5\" is not a number"},
      {"? * * * *", "minute \"?\" is not a number"},
      // Lists.
      {"1,,2 * * * *", "minute \"1,,2\" has an empty list item"},
      {"1, * * * *", "minute \"1,\" has an empty list item"},
      {"* * * * ,MON", "weekday \",MON\" has an empty list item"},
      // Days that no month of the expression has: it could never fire.
      {"0 0 31 2 *",
       "cron expression \"0 0 31 2 *\" never fires: none of its days of the month (31) exists "
       "in its months (2)"},
      {"0 0 30 2 *",
       "cron expression \"0 0 30 2 *\" never fires: none of its days of the month (30) exists "
       "in its months (2)"},
      {"0 0 30-31 FEB *",
       "cron expression \"0 0 30-31 FEB *\" never fires: none of its days of the month (30-31) "
       "exists in its months (FEB)"},
      {"0 0 31 2,4,6,9,11 *",
       "cron expression \"0 0 31 2,4,6,9,11 *\" never fires: none of its days of the month (31) "
       "exists in its months (2,4,6,9,11)"},
      // Aliases.
      {"@reboot",
       "unknown cron alias \"@reboot\" (expected @yearly, @annually, @monthly, "
       "@weekly, @daily, @midnight or @hourly)"},
      {"@daily 5",
       "unknown cron alias \"@daily 5\" (expected @yearly, @annually, @monthly, "
       "@weekly, @daily, @midnight or @hourly)"},
  };
  for (const BadRow& row : rows) {
    Result<CronExpr> expr = CronExpr::Parse(kField, row.text);
    ASSERT_FALSE(expr.ok()) << "accepted \"" << row.text << "\"";
    EXPECT_EQ(expr.status().code(), Code::kInvalidArgument) << row.text;
    EXPECT_EQ(expr.status().message(), std::string(kField) + ": " + row.message) << row.text;
  }
}

TEST_F(CronExprTest, AcceptsWellFormedExpressions) {
  for (const char* text : {
           "* * * * *",            // every minute
           "0,15,30,45 * * * *",   // list
           "10-50/10 * * * *",     // stepped range
           "5/10 * * * *",         // stepped open range
           "0 0 1,15 * *",         // list of days
           "0 0 * JAN-MAR,Dec *",  // month names, any case
           "0 0 * * sun,Mon-fri",  // day names, any case
           "0 0 * * 0-7",          // 7 is Sunday
           "0 0 * * 7",            // Sunday alone
           "0 0 * * 1-7/2",        // stepped range ending at 7
           "007 05 * * *",         // leading zeros
           "  0  0 \t * * *  ",    // extra whitespace
           "@yearly",
           "@annually",
           "@monthly",
           "@weekly",
           "@daily",
           "@midnight",
           "@hourly",
           "@DAILY",  // aliases are case-insensitive
       }) {
    Result<CronExpr> expr = CronExpr::Parse(kField, text);
    EXPECT_TRUE(expr.ok()) << text << ": " << expr.status().ToString();
  }
}

TEST_F(CronExprTest, KeepsTheTrimmedText) {
  EXPECT_EQ(MustParse("  */5 * * * *\n").text(), "*/5 * * * *");
  EXPECT_EQ(MustParse("@Hourly").text(), "@Hourly");
}

// ---------------------------------------------------------------- firing

TEST_F(CronExprTest, AliasesExpandToTheirSchedules) {
  CheckRows({
      // 2026-01-01 is a Thursday.
      {"@yearly", "2026-03-01 00:00", "UTC", {"2027-01-01 00:00", "2028-01-01 00:00"}},
      {"@annually", "2026-03-01 00:00", "UTC", {"2027-01-01 00:00", "2028-01-01 00:00"}},
      {"@monthly", "2026-01-15 10:00", "UTC", {"2026-02-01 00:00", "2026-03-01 00:00"}},
      {"@weekly", "2026-01-01 00:00", "UTC", {"2026-01-04 00:00", "2026-01-11 00:00"}},
      {"@daily", "2026-01-01 00:00", "UTC", {"2026-01-02 00:00", "2026-01-03 00:00"}},
      {"@midnight", "2026-01-01 12:00", "UTC", {"2026-01-02 00:00", "2026-01-03 00:00"}},
      {"@hourly", "2026-01-01 00:00", "UTC", {"2026-01-01 01:00", "2026-01-01 02:00"}},
      {"@Weekly", "2026-01-01 00:00", "UTC", {"2026-01-04 00:00"}},
  });
}

TEST_F(CronExprTest, ListsRangesStepsAndNames) {
  CheckRows({
      // Every 15 minutes, from a time between fires.
      {"*/15 * * * *",
       "2026-01-01 00:07",
       "UTC",
       {"2026-01-01 00:15", "2026-01-01 00:30", "2026-01-01 00:45", "2026-01-01 01:00"}},
      // A stepped range stops at its end, then starts over in the next hour.
      {"10-50/20 * * * *",
       "2026-01-01 00:00",
       "UTC",
       {"2026-01-01 00:10", "2026-01-01 00:30", "2026-01-01 00:50", "2026-01-01 01:10"}},
      // "5/20" is 5-59/20.
      {"5/20 * * * *",
       "2026-01-01 00:00",
       "UTC",
       {"2026-01-01 00:05", "2026-01-01 00:25", "2026-01-01 00:45", "2026-01-01 01:05"}},
      // A list of hours and minutes.
      {"0,30 9,17 * * *",
       "2026-01-01 00:00",
       "UTC",
       {"2026-01-01 09:00", "2026-01-01 09:30", "2026-01-01 17:00", "2026-01-01 17:30",
        "2026-01-02 09:00"}},
      // Month names in any case, in a list.
      {"0 0 1 jan,JUL *", "2026-02-01 00:00", "UTC", {"2026-07-01 00:00", "2027-01-01 00:00"}},
      // A month-name range.
      {"0 0 1 OCT-DEC *",
       "2026-01-01 00:00",
       "UTC",
       {"2026-10-01 00:00", "2026-11-01 00:00", "2026-12-01 00:00", "2027-10-01 00:00"}},
      // Weekdays only: Thu 1st, Fri 2nd, then Mon 5th.
      {"0 9 * * MON-FRI",
       "2026-01-01 00:00",
       "UTC",
       {"2026-01-01 09:00", "2026-01-02 09:00", "2026-01-05 09:00"}},
      // 7 and 0 are both Sunday; 5-7 is Fri, Sat, Sun.
      {"0 0 * * 7", "2026-01-01 00:00", "UTC", {"2026-01-04 00:00", "2026-01-11 00:00"}},
      {"0 0 * * 0", "2026-01-01 00:00", "UTC", {"2026-01-04 00:00", "2026-01-11 00:00"}},
      {"0 0 * * 5-7",
       "2026-01-01 00:00",
       "UTC",
       {"2026-01-02 00:00", "2026-01-03 00:00", "2026-01-04 00:00", "2026-01-09 00:00"}},
      // 1-7/2 is Mon, Wed, Fri, Sun.
      {"0 0 * * 1-7/2",
       "2026-01-01 00:00",
       "UTC",
       {"2026-01-02 00:00", "2026-01-04 00:00", "2026-01-05 00:00", "2026-01-07 00:00"}},
      // "1/2" over weekdays runs to 6, not 7: Mon, Wed, Fri and no Sunday.
      {"0 0 * * 1/2",
       "2026-01-01 00:00",
       "UTC",
       {"2026-01-02 00:00", "2026-01-05 00:00", "2026-01-07 00:00", "2026-01-09 00:00"}},
      // */2 over weekdays is Sun, Tue, Thu, Sat (0-6, never 7 again).
      {"0 0 * * */2",
       "2026-01-01 00:00",
       "UTC",
       {"2026-01-03 00:00", "2026-01-04 00:00", "2026-01-06 00:00", "2026-01-08 00:00"}},
      // Day names in any case.
      {"0 0 * * sat,Sun",
       "2026-01-01 00:00",
       "UTC",
       {"2026-01-03 00:00", "2026-01-04 00:00", "2026-01-10 00:00"}},
  });
}

TEST_F(CronExprTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  CheckRows({
      // Both restricted: the 13th (a Tuesday) or any Friday.
      {"0 0 13 * FRI",
       "2026-01-01 00:00",
       "UTC",
       {"2026-01-02 00:00", "2026-01-09 00:00", "2026-01-13 00:00", "2026-01-16 00:00"}},
      // 1-31 is restricted by Vixie's rule, so with MON it fires every day.
      {"0 0 1-31 * MON", "2026-01-01 00:00", "UTC", {"2026-01-02 00:00", "2026-01-03 00:00"}},
      // A day field starting with * is unrestricted: odd days that are Mondays (5th, 19th).
      {"0 0 */2 * MON", "2026-01-01 00:00", "UTC", {"2026-01-05 00:00", "2026-01-19 00:00"}},
      // A weekday field starting with * likewise: the 1st, when it is any day.
      {"0 0 1 * *", "2026-01-01 00:00", "UTC", {"2026-02-01 00:00", "2026-03-01 00:00"}},
      // Only weekday restricted: just Mondays.
      {"0 0 * * 1", "2026-01-01 00:00", "UTC", {"2026-01-05 00:00", "2026-01-12 00:00"}},
  });
}

TEST_F(CronExprTest, NextIsStrictlyAfterAndOnWholeMinutes) {
  const CronExpr expr = MustParse("0 12 * * *");
  const date::time_zone* utc = Zone("UTC");
  // Exactly at a fire time: the next one.
  EXPECT_EQ(Format(*expr.Next(Utc("2026-01-01 12:00"), utc)), "2026-01-02 12:00");
  // Just before: this one.
  EXPECT_EQ(Format(*expr.Next(Utc("2026-01-01 11:59:59"), utc)), "2026-01-01 12:00");
  EXPECT_EQ(*expr.Next(Utc("2026-01-01 11:59:59") + std::chrono::milliseconds(999), utc),
            Utc("2026-01-01 12:00"));
  // Within the fire minute, even by a fraction of a second: the next one.
  EXPECT_EQ(Format(*expr.Next(Utc("2026-01-01 12:00") + std::chrono::milliseconds(1), utc)),
            "2026-01-02 12:00");
  EXPECT_EQ(Format(*expr.Next(Utc("2026-01-01 12:00:30"), utc)), "2026-01-02 12:00");
  // Every minute: the next whole minute, seconds 0.
  const CronExpr every = MustParse("* * * * *");
  std::optional<TimePoint> next = every.Next(Utc("2026-01-01 12:00:42"), utc);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, Utc("2026-01-01 12:01:00"));
  // A null zone is UTC.
  EXPECT_EQ(*expr.Next(Utc("2026-01-01 12:00"), nullptr), Utc("2026-01-02 12:00"));
}

TEST_F(CronExprTest, UtcAcrossMonthAndYearEndsAndLeapYears) {
  CheckRows({
      // Minute, hour, day, month and year all roll over at once.
      {"* * * * *", "2026-12-31 23:59", "UTC", {"2027-01-01 00:00", "2027-01-01 00:01"}},
      {"59 23 31 12 *", "2026-12-31 23:59", "UTC", {"2027-12-31 23:59"}},
      // The 31st skips months without one.
      {"0 12 31 * *",
       "2026-01-31 12:00",
       "UTC",
       {"2026-03-31 12:00", "2026-05-31 12:00", "2026-07-31 12:00", "2026-08-31 12:00"}},
      // The last day of February, in a common and a leap year.
      {"30 2 * 2 *", "2026-02-27 03:00", "UTC", {"2026-02-28 02:30", "2027-02-01 02:30"}},
      {"0 0 * 2 *", "2028-02-28 12:00", "UTC", {"2028-02-29 00:00", "2029-02-01 00:00"}},
      // February 29th only in leap years; 2100 is not one, 2400 is further than 5 years.
      {"0 0 29 2 *",
       "2026-01-01 00:00",
       "UTC",
       {"2028-02-29 00:00", "2032-02-29 00:00", "2036-02-29 00:00"}},
      {"0 0 29 2 *", "2097-01-01 00:00", "UTC", {"none"}},
      // Across a year end, hourly.
      {"0 * * * *", "2027-12-31 22:30", "UTC", {"2027-12-31 23:00", "2028-01-01 00:00"}},
  });
}

TEST_F(CronExprTest, RareButPossibleExpressionsAreAccepted) {
  // Parse refuses days no month has (RejectsMalformedExpressionsNamingThePart);
  // these are rare, not impossible.
  CheckRows({
      {"0 0 29 2 *", "2026-01-01 00:00", "UTC", {"2028-02-29 00:00"}},
      {"0 0 31 1,2 *", "2026-02-01 00:00", "UTC", {"2027-01-31 00:00"}},
      {"0 0 29 2 *", "2026-01-01 00:00", "America/New_York", {"2028-02-29 05:00"}},
  });
  // The end of time is not an error.
  const CronExpr expr = MustParse("* * * * *");
  EXPECT_FALSE(expr.Next(TimePoint::max(), Zone("UTC")).has_value());
  // With a weekday as well, OR semantics makes 31 FEB fire on Mondays.
  CheckRows({{"0 0 31 2 MON", "2026-01-01 00:00", "UTC", {"2026-02-02 00:00"}}});
}

TEST_F(CronExprTest, ShanghaiIsEightHoursAheadAllYear) {
  CheckRows({
      // 02:00 CST is 18:00 UTC the day before.
      {"0 2 * * *", "2026-01-01 00:00", "Asia/Shanghai", {"2026-01-01 18:00", "2026-01-02 18:00"}},
      {"0 2 * * *", "2026-01-01 17:59", "Asia/Shanghai", {"2026-01-01 18:00"}},
      {"0 2 * * *", "2026-07-01 00:00", "Asia/Shanghai", {"2026-07-01 18:00"}},
      // New Year in Shanghai is 16:00 UTC on Dec 31.
      {"@yearly", "2026-12-31 15:00", "Asia/Shanghai", {"2026-12-31 16:00", "2027-12-31 16:00"}},
      // Local weekday, not UTC's: Monday 08:00 CST is Monday 00:00 UTC; 07:00 CST is Sunday UTC.
      {"0 8 * * MON", "2026-01-01 00:00", "Asia/Shanghai", {"2026-01-05 00:00"}},
      {"0 7 * * MON", "2026-01-01 00:00", "Asia/Shanghai", {"2026-01-04 23:00"}},
  });
}

TEST_F(CronExprTest, NewYorkSpringForwardFiresSkippedTimesWhenTheGapEnds) {
  // 2026-03-08 02:00 EST (07:00 UTC) jumps to 03:00 EDT.
  CheckRows({
      // 02:30 does not exist that day: fire at 03:00 EDT, then 02:30 EDT next day.
      {"30 2 * * *",
       "2026-03-07 05:00",
       "America/New_York",
       {"2026-03-07 07:30", "2026-03-08 07:00", "2026-03-09 06:30"}},
      {"30 2 * * *", "2026-03-08 05:00", "America/New_York", {"2026-03-08 07:00"}},
      // Several skipped times collapse into one fire, and 03:00 itself is the same instant.
      {"*/30 2-3 * * *",
       "2026-03-08 06:00",
       "America/New_York",
       {"2026-03-08 07:00", "2026-03-08 07:30", "2026-03-09 06:00"}},
      // Hourly: 01:00 EST, then (02:00 skipped) 03:00 EDT, then 04:00 EDT.
      {"0 * * * *",
       "2026-03-08 05:30",
       "America/New_York",
       {"2026-03-08 06:00", "2026-03-08 07:00", "2026-03-08 08:00"}},
      // Times outside the gap are unaffected: 09:00 EST, then 09:00 EDT.
      {"0 9 * * *",
       "2026-03-07 00:00",
       "America/New_York",
       {"2026-03-07 14:00", "2026-03-08 13:00", "2026-03-09 13:00"}},
  });
}

TEST_F(CronExprTest, NewYorkFallBackFiresRepeatedTimesOnce) {
  // 2026-11-01 02:00 EDT (06:00 UTC) falls back to 01:00 EST: 01:xx happens twice.
  CheckRows({
      // 01:30 fires at its first occurrence (EDT) only, then 01:30 EST next day.
      {"30 1 * * *",
       "2026-11-01 04:00",
       "America/New_York",
       {"2026-11-01 05:30", "2026-11-02 06:30"}},
      // From inside the second pass of 01:xx, the repeat is not fired.
      {"30 1 * * *", "2026-11-01 06:10", "America/New_York", {"2026-11-02 06:30"}},
      // Hourly: 01:00 EDT, then the repeated 01:00 EST is skipped, then 02:00 EST.
      {"0 * * * *",
       "2026-11-01 04:30",
       "America/New_York",
       {"2026-11-01 05:00", "2026-11-01 07:00", "2026-11-01 08:00"}},
      // 09:00 local is 13:00 UTC before and 14:00 UTC after.
      {"0 9 * * *",
       "2026-10-31 00:00",
       "America/New_York",
       {"2026-10-31 13:00", "2026-11-01 14:00", "2026-11-02 14:00"}},
  });
}

TEST_F(CronExprTest, BerlinAcrossBothTransitions) {
  CheckRows({
      // 2026-03-29 02:00 CET (01:00 UTC) jumps to 03:00 CEST.
      {"30 2 * * *", "2026-03-28 12:00", "Europe/Berlin", {"2026-03-29 01:00", "2026-03-30 00:30"}},
      // 2026-10-25 03:00 CEST (01:00 UTC) falls back to 02:00 CET: 02:30 once, in CEST.
      {"30 2 * * *", "2026-10-24 12:00", "Europe/Berlin", {"2026-10-25 00:30", "2026-10-26 01:30"}},
      // Weekday mornings at 09:00, winter (CET) and summer (CEST).
      {"0 9 * * MON-FRI", "2026-01-01 00:00", "Europe/Berlin", {"2026-01-01 08:00"}},
      {"0 9 * * MON-FRI", "2026-07-01 00:00", "Europe/Berlin", {"2026-07-01 07:00"}},
  });
}

TEST_F(CronExprTest, LordHoweHalfHourShift) {
  // Australia/Lord_Howe moves by 30 minutes: 2026-10-04 02:00 +10:30 jumps to 02:30 +11.
  CheckRows({
      {"15 2 * * *",
       "2026-10-03 12:00",
       "Australia/Lord_Howe",
       {"2026-10-03 15:30", "2026-10-04 15:15"}},
      // 2026-04-05 02:00 +11 falls back to 01:30 +10:30: 01:45 fires once, at +11.
      {"45 1 * * *",
       "2026-04-04 12:00",
       "Australia/Lord_Howe",
       {"2026-04-04 14:45", "2026-04-05 15:15"}},
  });
}

TEST_F(CronExprTest, UnknownZoneIsInvalidArgument) {
  for (const char* name : {"Mars/Olympus_Mons", "", "utc/", "../../etc/passwd"}) {
    Result<const date::time_zone*> zone = LoadZone("schedule.timezone", name);
    ASSERT_FALSE(zone.ok()) << name;
    EXPECT_EQ(zone.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(zone.status().message(),
              std::string("schedule.timezone: unknown time zone \"") + name + "\"");
  }
  for (const char* name : {"UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin"}) {
    Result<const date::time_zone*> zone = LoadZone("schedule.timezone", name);
    ASSERT_TRUE(zone.ok()) << zone.status().ToString();
    EXPECT_NE(*zone, nullptr);
  }
}

TEST_F(CronExprTest, ManyNextCallsAreFast) {
  const date::time_zone* ny = Zone("America/New_York");
  const auto start = std::chrono::steady_clock::now();
  // 10,000 fires every 5 minutes run through both 2026 transitions' neighbourhood.
  const CronExpr every5 = MustParse("*/5 * * * *");
  TimePoint t = Utc("2026-03-01 00:00");
  for (int i = 0; i < 10000; ++i) {
    std::optional<TimePoint> next = every5.Next(t, ny);
    ASSERT_TRUE(next.has_value());
    ASSERT_GT(*next, t);
    t = *next;
  }
  // Sparse schedules, and the search past the last one, skip whole months and
  // days instead of scanning minutes.
  const CronExpr leap = MustParse("0 0 29 2 *");
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(leap.Next(Utc("2026-01-01 00:00"), ny).has_value());
    ASSERT_FALSE(leap.Next(Utc("2097-01-01 00:00"), ny).has_value());
  }
  // Generous bound (about 100 ms expected): a regression to minute scanning takes minutes.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(CronExprTest, NextIsThreadSafe) {
  // A zone no other test loads, so the threads race on its first use.
  const date::time_zone* zone = Zone("Pacific/Chatham");
  const CronExpr expr = MustParse("*/7 1-3 * * *");
  auto run = [&expr, zone] {
    std::vector<TimePoint> out;
    TimePoint at = Utc("2026-03-01 00:00");
    for (int i = 0; i < 500; ++i) {
      std::optional<TimePoint> next = expr.Next(at, zone);
      if (!next) break;
      out.push_back(at = *next);
    }
    return out;
  };
  std::vector<std::vector<TimePoint>> got(4);
  std::vector<std::thread> threads;
  for (auto& out : got) threads.emplace_back([&run, &out] { out = run(); });
  for (std::thread& th : threads) th.join();
  const std::vector<TimePoint> want = run();
  ASSERT_EQ(want.size(), 500u);
  for (const auto& out : got) EXPECT_EQ(out, want);
}

}  // namespace
}  // namespace quader::cron
