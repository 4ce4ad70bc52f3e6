#include "api/handlers/log_reply.h"

#include <string>
#include <utility>

#include "api/handlers/common.h"
#include "core/log_stamp.h"

namespace quader::api {

Response LogReply(const Request& req, std::function<void(const ChunkWriter&)> produce) {
  Response r;
  r.content_type = "text/plain; charset=utf-8";
  const bool timestamps = FlagParam(req, "timestamps");
  r.stream = [timestamps, produce = std::move(produce)](const ChunkWriter& write) {
    if (timestamps) {
      produce(write);
      return;
    }
    LogStampFilter filter(LogStampFilter::Mode::kStrip);
    bool open = true;
    // A piece that leaves nothing to send yet still asks whether the reader
    // is there (an empty write), as the producers expect.
    produce([&](std::string_view piece) { return open = write(filter.Feed(piece)); });
    if (open) {
      const std::string rest = filter.Finish();
      if (!rest.empty()) (void)write(rest);
    }
  };
  return r;
}

}  // namespace quader::api
