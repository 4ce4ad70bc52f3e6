#include "core/log_stamp.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <optional>

namespace quader {
namespace {

// The fixed form, position by position: 'D' a digit, anything else itself.
constexpr std::string_view kPattern = "DDDD-DD-DDTDD:DD:DD.DDDZ ";
static_assert(kPattern.size() == kLogStampSize);

// The longest RFC 3339 timestamp a normalised line start may hold
// ("2026-12-07T17:01:13.123456789+05:30").
constexpr size_t kMaxEngineStamp = 40;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool Matches(size_t i, char c) { return kPattern[i] == 'D' ? IsDigit(c) : kPattern[i] == c; }

int Number(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// An RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", an optional fraction, then
// "Z" or "+HH:MM" / "-HH:MM".
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s) {
  if (s.size() < 20) return std::nullopt;
  for (size_t i = 0; i < 19; ++i) {
    if (!Matches(i, s[i])) return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = Number(s, 0, 4) - 1900;
  tm.tm_mon = Number(s, 5, 2) - 1;
  tm.tm_mday = Number(s, 8, 2);
  tm.tm_hour = Number(s, 11, 2);
  tm.tm_min = Number(s, 14, 2);
  tm.tm_sec = Number(s, 17, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  size_t i = 19;
  int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    size_t digits = 0;
    for (++i; i < s.size() && IsDigit(s[i]); ++i, ++digits) {
      if (digits < 9) nanos = nanos * 10 + (s[i] - '0');
    }
    if (digits == 0) return std::nullopt;
    for (size_t d = digits; d < 9; ++d) nanos *= 10;
  }
  int offset_minutes = 0;
  if (i + 1 == s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    // UTC
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && IsDigit(s[i + 1]) && IsDigit(s[i + 2]) &&
             s[i + 3] == ':' && IsDigit(s[i + 4]) && IsDigit(s[i + 5])) {
    offset_minutes = Number(s, i + 1, 2) * 60 + Number(s, i + 4, 2);
    if (s[i] == '-') offset_minutes = -offset_minutes;
  } else {
    return std::nullopt;
  }
  const std::time_t secs = timegm(&tm) - static_cast<std::time_t>(offset_minutes) * 60;
  return std::chrono::system_clock::time_point(std::chrono::seconds(secs)) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(nanos));
}

}  // namespace

std::string LogStamp(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the compiler imagines
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::string LineStamper::Feed(std::string_view piece, std::chrono::system_clock::time_point at) {
  const std::string stamp = LogStamp(at);
  std::string out;
  out.reserve(piece.size() + stamp.size() * 2);
  size_t start = 0;
  while (start < piece.size()) {
    size_t end = piece.find('\n', start);
    end = end == std::string_view::npos ? piece.size() : end + 1;
    if (line_start_) out += stamp;
    out.append(piece.substr(start, end - start));
    line_start_ = piece[end - 1] == '\n';
    start = end;
  }
  return out;
}

std::string StampLines(std::string_view text, std::chrono::system_clock::time_point at) {
  return LineStamper().Feed(text, at);
}

bool AppendLogLines(const std::string& path, std::string_view lines) {
  int fd = open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  struct stat st {};
  char last = '\n';
  if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1) last = '\n';
  std::string text = last == '\n' ? std::string(lines) : "\n" + std::string(lines);
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

bool StartsWithLogStamp(std::string_view s) {
  if (s.size() < kLogStampSize) return false;
  for (size_t i = 0; i < kLogStampSize; ++i) {
    if (!Matches(i, s[i])) return false;
  }
  return true;
}

void LogStampFilter::Decide(std::string* out, bool ended) {
  if (mode_ == Mode::kStrip) {
    // Called once the held bytes are a whole stamp, or stop looking like one.
    if (held_.size() == kLogStampSize && StartsWithLogStamp(held_)) {
      at_line_start_ = false;
    } else {
      out->append(held_);
      at_line_start_ = !held_.empty() && held_.back() == '\n';
    }
    held_.clear();
    return;
  }
  if (!held_.empty() && held_.back() == ' ') {
    std::string_view stamp(held_.data(), held_.size() - 1);
    if (auto at = ParseRfc3339(stamp)) {
      out->append(LogStamp(*at));
      at_line_start_ = false;
      held_.clear();
      return;
    }
  }
  out->append(held_);
  at_line_start_ = !held_.empty() && held_.back() == '\n' && !ended;
  held_.clear();
}

std::string LogStampFilter::Feed(std::string_view piece) {
  std::string out;
  out.reserve(piece.size());
  size_t i = 0;
  while (i < piece.size()) {
    if (!at_line_start_) {
      size_t nl = piece.find('\n', i);
      if (nl == std::string_view::npos) {
        out.append(piece.substr(i));
        return out;
      }
      out.append(piece.substr(i, nl + 1 - i));
      i = nl + 1;
      at_line_start_ = true;
      continue;
    }
    const char c = piece[i++];
    held_.push_back(c);
    if (mode_ == Mode::kStrip) {
      if (!Matches(held_.size() - 1, c) || held_.size() == kLogStampSize) Decide(&out, false);
    } else if (c == ' ' || c == '\n' || held_.size() > kMaxEngineStamp) {
      Decide(&out, false);
    }
  }
  return out;
}

std::string LogStampFilter::Finish() {
  std::string out;
  Decide(&out, true);
  at_line_start_ = true;
  return out;
}

}  // namespace quader
