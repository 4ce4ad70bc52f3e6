#include "workload/log_follow.h"

#include <filesystem>
#include <fstream>
#include <thread>

namespace quader::workload {
Status SendFile(const std::string& path, const std::function<bool(std::string_view)>& write) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return errors::NotFound("file", path);
  std::string buf(64 * 1024, '\0');
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    if (!write(std::string_view(buf.data(), static_cast<size_t>(in.gcount())))) break;
  }
  return Status::Ok();
}

Status FollowLog(runtime::Runtime& runtime, const std::function<Result<LogSource>()>& look,
                 const std::function<bool(std::string_view)>& write, const std::function<bool()>& stopping,
                 FollowOptions options) {
  const auto deadline = std::chrono::steady_clock::now() + options.limit;
  bool streamed_live = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (stopping()) return Status::Ok();
    QUADER_ASSIGN_OR_RETURN(LogSource source, look());
    switch (source.phase) {
      case LogSource::Phase::kEnded:
        // Already sent while it ran: the saved file holds the same bytes.
        if (!streamed_live) (void)SendFile(source.saved_path, write);
        return Status::Ok();
      case LogSource::Phase::kRunning:
        if (!streamed_live) {
          Status st = runtime.Logs(source.workload, options.follow, [&](const std::string& chunk) {
            if (!chunk.empty()) streamed_live = true;
            return write(chunk);
          });
          if (st.ok() && (streamed_live || !options.follow)) return Status::Ok();
          if (!st.ok() && !options.follow) {
            (void)SendFile(source.saved_path, write);  // not started yet (its image?): the line about it
            return Status::Ok();
          }
        }
        break;
      case LogSource::Phase::kWaiting:
        if (!options.follow) {
          (void)SendFile(source.saved_path, write);
          return Status::Ok();
        }
        break;
    }
    if (!options.follow) return Status::Ok();
    // Nothing to send yet: an empty write lets the reader's side check that
    // the reader is still there (an abandoned stream is released, not held).
    if (!write(std::string_view())) return Status::Ok();
    std::this_thread::sleep_for(options.poll);
  }
  return Status::Ok();
}

Status FollowFile(const std::string& path, const std::function<bool()>& finished,
                  const std::function<bool(std::string_view)>& write, const std::function<bool()>& stopping,
                  std::chrono::milliseconds poll, std::chrono::hours limit) {
  std::ifstream in;
  std::string buf(64 * 1024, '\0');
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    // Whether it finished is read *before* draining, so no last line is missed.
    bool done = finished();
    if (!in.is_open()) in.open(path, std::ios::binary);
    if (in.is_open()) {
      while (true) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        std::streamsize n = in.gcount();
        if (n > 0 && !write(std::string_view(buf.data(), static_cast<size_t>(n)))) return Status::Ok();
        if (n < static_cast<std::streamsize>(buf.size())) break;
      }
      in.clear();  // at the end: keep the position for the next round
    }
    if (done || stopping()) return Status::Ok();
    if (!write(std::string_view())) return Status::Ok();  // is the reader still there?
    std::this_thread::sleep_for(poll);
  }
  return Status::Ok();
}

}  // namespace quader::workload
