#pragma once
// The answer of every log route (tasks, trials, replicas, notebooks, image
// builds): text, streamed. Each line of a kept log starts with the time it
// was captured (core/log_stamp.h): `?timestamps=1` keeps it, otherwise it is
// dropped and the lines read as the workload wrote them.

#include <functional>

#include "api/http.h"

namespace quader::api {

// `produce` writes the log to the writer it is given (which returns false
// once the reader has gone).
Response LogReply(const Request& req, std::function<void(const ChunkWriter&)> produce);

}  // namespace quader::api
