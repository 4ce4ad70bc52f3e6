#include "cron/cron_expr.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

#include <date/date.h>
#include <date/tz.h>

namespace quader::cron {
namespace {

using std::chrono::floor;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::array<const char*, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<const char*, 7> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// How one of the five fields is spelled and bounded.
struct FieldSpec {
  const char* name;          // in messages: minute, hour, day, month, weekday
  int min;                   // smallest value accepted
  int max;                   // largest value accepted (7 for weekday: Sunday again)
  int open_max;              // where * and "N/step" end (6 for weekday)
  const char* const* names;  // symbolic names, or null
  int names_count;           // entries in names
  int names_base;            // the value of names[0]
  const char* names_hint;    // "JAN-DEC"
};

constexpr FieldSpec kMinute{"minute", 0, 59, 59, nullptr, 0, 0, nullptr};
constexpr FieldSpec kHour{"hour", 0, 23, 23, nullptr, 0, 0, nullptr};
constexpr FieldSpec kDay{"day", 1, 31, 31, nullptr, 0, 0, nullptr};
constexpr FieldSpec kMonth{"month", 1, 12, 12, kMonthNames.data(), 12, 1, "JAN-DEC"};
constexpr FieldSpec kWeekday{"weekday", 0, 7, 6, kDayNames.data(), 7, 0, "SUN-SAT"};

struct Alias {
  const char* name;
  const char* expansion;
};
constexpr std::array<Alias, 7> kAliases = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitWhitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Parses one list item of one field ("*", "5", "1-5", "*/15", "MON-FRI/2", "5/10").
class ItemParser {
 public:
  ItemParser(const std::string& field, const FieldSpec& spec, std::string_view item)
      : field_(field), spec_(spec), item_(item) {}

  // ORs the item's values into `bits` (bit v for value v).
  Status Parse(uint64_t* bits) const {
    std::string_view base = item_;
    int step = 1;
    bool has_step = false;
    if (size_t slash = item_.find('/'); slash != std::string_view::npos) {
      base = item_.substr(0, slash);
      std::string_view step_text = item_.substr(slash + 1);
      if (step_text.empty()) return Fail("has no step after \"/\"");
      if (!ParseNumber(step_text, &step)) return FailPart(step_text, "is not a step number");
      const int span = spec_.open_max - spec_.min + 1;
      if (step < 1) return Fail("has step 0 (a step must be at least 1)");
      if (step > span) {
        return Fail("has step " + std::to_string(step) + " (at most " + std::to_string(span) + ")");
      }
      has_step = true;
    }
    if (base.empty()) return Fail("has no value before \"/\"");

    int first = spec_.min;
    int last = spec_.open_max;
    if (base != "*") {
      size_t dash = base.find('-');
      if (dash == 0) return Fail("has no range start before \"-\"");
      if (dash == base.size() - 1) return Fail("has no range end after \"-\"");
      QUADER_RETURN_IF_ERROR(ParseValue(base.substr(0, dash), &first));
      if (dash == std::string_view::npos) {
        // "5" is just 5; "5/10" runs from 5 to the end of the field.
        last = has_step ? spec_.open_max : first;
        if (has_step && first > last) last = first;
      } else {
        QUADER_RETURN_IF_ERROR(ParseValue(base.substr(dash + 1), &last));
        if (first > last) {
          return Fail("is a reversed range (" + std::to_string(first) + " > " +
                      std::to_string(last) + ")");
        }
      }
    }
    for (int v = first; v <= last; v += step) *bits |= uint64_t{1} << v;
    return Status::Ok();
  }

 private:
  // `minute "*/0" has step 0 ...`
  Status Fail(const std::string& why) const {
    return errors::Invalid(field_, std::string(spec_.name) + " " + Quote(item_) + " " + why);
  }
  // `minute "50-70": "70" is out of range 0-59`; just Fail when `part` is the whole item.
  Status FailPart(std::string_view part, const std::string& why) const {
    if (part == item_) return Fail(why);
    return errors::Invalid(
        field_, std::string(spec_.name) + " " + Quote(item_) + ": " + Quote(part) + " " + why);
  }

  // Digits only (no sign); false on anything else. Values too long for an
  // int come back as a huge number, which every range check rejects.
  static bool ParseNumber(std::string_view s, int* out) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return false;
    while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
    if (s.size() > 9) {
      *out = 1'000'000'000;
      return true;
    }
    std::from_chars(s.data(), s.data() + s.size(), *out);
    return true;
  }

  // A number or a name of this field, checked against its range.
  Status ParseValue(std::string_view s, int* out) const {
    if (!ParseNumber(s, out)) {
      for (int i = 0; i < spec_.names_count; ++i) {
        if (EqualsIgnoreCase(s, spec_.names[i])) {
          *out = spec_.names_base + i;
          return Status::Ok();
        }
      }
      if (spec_.names == nullptr) return FailPart(s, "is not a number");
      return FailPart(s, std::string("is not a number or a ") + spec_.name + " name (" +
                             spec_.names_hint + ")");
    }
    if (*out < spec_.min || *out > spec_.max) {
      return FailPart(
          s, "is out of range " + std::to_string(spec_.min) + "-" + std::to_string(spec_.max));
    }
    return Status::Ok();
  }

  const std::string& field_;
  const FieldSpec& spec_;
  std::string_view item_;
};

// Parses a whole field (a comma-separated list) into a bit mask.
Status ParseField(const std::string& field, const FieldSpec& spec, std::string_view text,
                  uint64_t* bits) {
  for (std::string_view item : Split(text, ',')) {
    if (item.empty()) {
      return errors::Invalid(
          field, std::string(spec.name) + " " + Quote(text) + " has an empty list item");
    }
    QUADER_RETURN_IF_ERROR(ItemParser(field, spec, item).Parse(bits));
  }
  return Status::Ok();
}

template <size_t N>
std::bitset<N> ToBitset(uint64_t bits) {
  return std::bitset<N>(bits & ((N >= 64) ? ~uint64_t{0} : ((uint64_t{1} << N) - 1)));
}

// The first set bit at or after `from`, or -1.
template <size_t N>
int NextSet(const std::bitset<N>& bits, unsigned from) {
  for (size_t i = from; i < N; ++i) {
    if (bits[i]) return static_cast<int>(i);
  }
  return -1;
}

// Maps a local wall time to the instant it fires: the instant itself when it
// is unique, the first occurrence when it repeats (fall-back), and the end of
// the gap when it is skipped (spring-forward). Monotone non-decreasing in `local`.
date::sys_seconds ToFireInstant(const date::time_zone* zone, date::local_seconds local) {
  if (zone == nullptr) return date::sys_seconds{local.time_since_epoch()};  // UTC
  const date::local_info info = zone->get_info(local);
  switch (info.result) {
    case date::local_info::nonexistent:
      return info.first.end;
    case date::local_info::ambiguous:
    case date::local_info::unique:
    default:
      return date::sys_seconds{local.time_since_epoch() - info.first.offset};
  }
}

}  // namespace

Result<const date::time_zone*> LoadZone(const std::string& field, const std::string& name) {
  static std::once_flag once;
  static bool tzdb_loaded = false;
  static std::string tzdb_error;
  std::call_once(once, [] {
    try {
      date::get_tzdb();
      tzdb_loaded = true;
    } catch (const std::exception& e) {
      tzdb_error = e.what();
    }
  });
  if (!tzdb_loaded) return errors::Internal("time zone database: " + tzdb_error);
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(name);
  } catch (const std::exception&) {
    return errors::Invalid(field, "unknown time zone " + Quote(name));
  }
  try {
    // The zone's file is read on first use; do it here, where a failure can be
    // reported, so that Next never throws.
    zone->get_info(date::sys_seconds{});
  } catch (const std::exception& e) {
    return errors::Internal("time zone " + Quote(name) + ": " + e.what());
  }
  return zone;
}

Result<CronExpr> CronExpr::Parse(const std::string& field, std::string_view text) {
  const std::string_view trimmed = Trim(text);
  if (trimmed.empty()) return errors::Invalid(field, "cron expression is empty");

  std::string_view body = trimmed;
  if (trimmed.front() == '@') {
    const Alias* found = nullptr;
    for (const Alias& alias : kAliases) {
      if (EqualsIgnoreCase(trimmed, alias.name)) found = &alias;
    }
    if (found == nullptr) {
      return errors::Invalid(field, "unknown cron alias " + Quote(trimmed) +
                                        " (expected @yearly, @annually, @monthly, @weekly, "
                                        "@daily, @midnight or @hourly)");
    }
    body = found->expansion;
  }

  const std::vector<std::string_view> parts = SplitWhitespace(body);
  if (parts.size() != 5) {
    return errors::Invalid(field, "expected 5 fields (minute hour day month weekday), got " +
                                      std::to_string(parts.size()));
  }
  std::array<uint64_t, 5> bits{};
  const std::array<const FieldSpec*, 5> specs = {&kMinute, &kHour, &kDay, &kMonth, &kWeekday};
  for (size_t i = 0; i < parts.size(); ++i) {
    QUADER_RETURN_IF_ERROR(ParseField(field, *specs[i], parts[i], &bits[i]));
  }
  if (bits[4] & (uint64_t{1} << 7)) bits[4] = (bits[4] | 1) & ~(uint64_t{1} << 7);  // 7 is Sunday

  CronExpr expr;
  expr.text_ = std::string(trimmed);
  expr.minutes_ = ToBitset<60>(bits[0]);
  expr.hours_ = ToBitset<24>(bits[1]);
  expr.days_ = ToBitset<32>(bits[2]);
  expr.months_ = ToBitset<13>(bits[3]);
  expr.weekdays_ = ToBitset<7>(bits[4]);
  expr.any_day_ = parts[2].front() == '*';
  expr.any_weekday_ = parts[4].front() == '*';
  if (!expr.CanFire()) {
    return errors::Invalid(field, "cron expression " + Quote(trimmed) +
                                      " never fires: none of its days of the month (" +
                                      std::string(parts[2]) + ") exists in its months (" +
                                      std::string(parts[3]) + ")");
  }
  return expr;
}

bool CronExpr::CanFire() const {
  // With the Vixie OR rule a restricted weekday fires on its own; a day
  // field starting with * always holds day 1, which every month has. So
  // only a restricted day-of-month with * weekdays can be impossible, and
  // it is exactly when no (month, day) pair of the sets exists in the
  // calendar (February counted with its leap day). A possible pair with a
  // restricted weekday lines up within a 28-year calendar cycle.
  constexpr std::array<unsigned, 13> kLongest = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (unsigned month = 1; month <= 12; ++month) {
    if (!months_[month]) continue;
    for (unsigned day = 1; day <= kLongest[month]; ++day) {
      if (days_[day]) return true;
    }
  }
  return !any_day_ && !any_weekday_ && weekdays_.any();
}

bool CronExpr::MatchesDay(unsigned day, unsigned weekday) const {
  const bool day_ok = days_[day];
  const bool weekday_ok = weekdays_[weekday];
  if (any_day_ || any_weekday_) return day_ok && weekday_ok;
  return day_ok || weekday_ok;
}

std::optional<TimePoint> CronExpr::Next(TimePoint after, const date::time_zone* zone) const {
  // Work in seconds: wide enough for any TimePoint without overflow.
  const date::sys_seconds after_s = floor<seconds>(after);
  const date::local_seconds after_local =
      zone == nullptr ? date::local_seconds{after_s.time_since_epoch()} : zone->to_local(after_s);
  // Local wall times map to instants monotonically (ToFireInstant), so the
  // answer is the first matching local minute after `after`'s own local
  // minute whose instant is later than `after`.
  date::local_time<minutes> t = floor<minutes>(after_local) + minutes{1};
  const date::local_time<minutes> limit = t + date::days{5 * 366};
  static const date::sys_seconds kMaxInstant = floor<seconds>(TimePoint::max());

  while (t < limit) {
    const date::local_days day = floor<date::days>(t);
    const date::year_month_day ymd{day};
    if (!months_[static_cast<unsigned>(ymd.month())]) {
      const date::year_month next_month = ymd.year() / ymd.month() + date::months{1};
      t = date::local_days{next_month / 1};
      continue;
    }
    if (!MatchesDay(static_cast<unsigned>(ymd.day()), date::weekday{day}.c_encoding())) {
      t = day + date::days{1};
      continue;
    }
    const date::hh_mm_ss<minutes> tod{t - day};
    const int hour = NextSet(hours_, static_cast<unsigned>(tod.hours().count()));
    if (hour < 0) {
      t = day + date::days{1};
      continue;
    }
    if (hour != tod.hours().count()) {
      t = day + std::chrono::hours{hour};
      continue;
    }
    const int minute = NextSet(minutes_, static_cast<unsigned>(tod.minutes().count()));
    if (minute < 0) {
      t = day + std::chrono::hours{hour + 1};
      continue;
    }
    t = day + std::chrono::hours{hour} + minutes{minute};
    // `fire` is whole seconds, so it is later than `after` iff later than after_s.
    const date::sys_seconds fire = ToFireInstant(zone, t);
    if (fire > kMaxInstant) return std::nullopt;
    if (fire > after_s) return TimePoint{fire.time_since_epoch()};
    t += minutes{1};
  }
  return std::nullopt;
}

}  // namespace quader::cron
