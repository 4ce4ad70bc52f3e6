#pragma once
// The one log follower of an attempt (a pipeline task's, a trial's): the
// runtime's log while the workload runs, the saved file once it has ended
// (workload/attempt.h saves it before the end is stored), and nothing twice.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "runtime/runtime.h"

namespace quader::workload {

// Where an attempt's log is, as its owner's records say now.
struct LogSource {
  enum class Phase {
    kWaiting,  // not started yet (or waiting for its image): its saved file may hold a line about it
    kRunning,  // `workload` runs: the runtime has the log
    kEnded,    // over: the saved file has the whole log
  };
  Phase phase = Phase::kWaiting;
  std::string workload;    // kRunning
  std::string saved_path;  // the saved log
};

struct FollowOptions {
  bool follow = false;  // until the attempt ends; else what there is now
  std::chrono::milliseconds poll{200};
  std::chrono::hours limit{24};
};

// Streams the log to `write` (false: the reader has gone; stop; an empty
// piece, sent while there is nothing new, asks only that). `look`
// reads the attempt's records each round (its errors end the follow);
// `stopping` ends it early (the server stops). With `follow`, a live stream
// is followed to its end; an attempt that ends before any live byte was
// sent is read from its saved file.
Status FollowLog(runtime::Runtime& runtime, const std::function<Result<LogSource>()>& look,
                 const std::function<bool(std::string_view)>& write, const std::function<bool()>& stopping,
                 FollowOptions options);

// Sends the whole file at `path` to `write` in pieces (false: the reader
// has gone; stop). kNotFound when it cannot be opened.
Status SendFile(const std::string& path, const std::function<bool(std::string_view)>& write);

// Streams a log file its writer (this server: an image build) is still
// appending to: what is there, then what is added, until `finished()` held
// before a round that found nothing new (so no last line is missed),
// `stopping()` holds, `write` returns false, or `limit` passes. A missing
// file is waited for.
Status FollowFile(const std::string& path, const std::function<bool()>& finished,
                  const std::function<bool(std::string_view)>& write, const std::function<bool()>& stopping,
                  std::chrono::milliseconds poll = std::chrono::milliseconds(150),
                  std::chrono::hours limit = std::chrono::hours(6));

}  // namespace quader::workload
