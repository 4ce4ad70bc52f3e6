#pragma once
// Log lines timestamped on capture. Every line of a workload's log, as kept
// on disk and as the runtimes give it, starts with the time it was captured,
// in one fixed form (UTC, milliseconds) and a space:
//
//   2026-12-07T17:01:13.214Z epoch 3: loss 0.41
//
// The process runtime's capture helper writes it (quader-capture), the
// container engines' and kubelet's own timestamps are rewritten into it,
// and the lines the server adds ("== killed: ...") carry it too. Readers
// strip it (LogStampFilter) unless asked for timestamps (`?timestamps=1`).

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace quader {

// "YYYY-MM-DDTHH:MM:SS.mmmZ ": the stamp's length, its space included.
inline constexpr size_t kLogStampSize = 25;

// The stamp of `at`, its trailing space included.
std::string LogStamp(std::chrono::system_clock::time_point at);

// Stamps a log written in pieces as they come: each line's start, with
// the time of the piece it starts in (a line cut between pieces is stamped
// once).
class LineStamper {
 public:
  std::string Feed(std::string_view piece, std::chrono::system_clock::time_point at);

 private:
  bool line_start_ = true;
};

// `text` with every line stamped `at` (a last line without its newline too).
std::string StampLines(std::string_view text, std::chrono::system_clock::time_point at);

// Appends `lines` (whole lines) to the log at `path`, on a line of their
// own: after a newline when the log's last line has none (a workload's
// last words without one would otherwise swallow them).
bool AppendLogLines(const std::string& path, std::string_view lines);

// Whether `s` starts with a stamp in the fixed form.
bool StartsWithLogStamp(std::string_view s);

// A streaming rewrite of a log's line starts, fed the log in pieces as they
// come (a stamp may be cut between two):
// - kStrip drops each line's leading stamp (lines without one pass as they
//   are). A line start is held back only while it still looks like a stamp,
//   so at most kLogStampSize bytes wait for the next piece.
// - kNormalize rewrites an RFC 3339 timestamp and its space at each line
//   start (a container engine's or the kubelet's, any fraction of a second,
//   `Z` or an offset) into the fixed form; a line start that is not one
//   passes as it is.
class LogStampFilter {
 public:
  enum class Mode { kStrip, kNormalize };
  explicit LogStampFilter(Mode mode) : mode_(mode) {}

  // What to pass on of `piece` (possibly nothing yet).
  std::string Feed(std::string_view piece);
  // At the end of the log: what is still held back.
  std::string Finish();

 private:
  // Decides on the held line start; appends what passes to `out`. `ended`:
  // no more bytes will come for it.
  void Decide(std::string* out, bool ended);

  Mode mode_;
  bool at_line_start_ = true;
  std::string held_;  // the bytes of a line start not decided yet
};

}  // namespace quader
