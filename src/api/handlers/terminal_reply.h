#pragma once
// GET .../terminal (docs/api.md "Terminals"): a shell, or a named command,
// inside a running workload, on a WebSocket the HTTP server bridges to the
// workload's terminal.

#include <functional>
#include <memory>

#include "api/http.h"
#include "auth/access.h"
#include "core/status.h"
#include "runtime/runtime.h"

namespace quader::api {

// Called later, on the connection's own thread, once the server has a
// stream for the terminal: captures by value, never a handler's locals.
using TerminalOpener =
    std::function<Result<std::unique_ptr<runtime::Terminal>>(const runtime::TerminalOptions& options)>;

// Only the user a workload runs as (or an admin) may open a terminal in it:
// a terminal acts with that user's rights and files. kPermissionDenied
// naming `what` otherwise.
Status CheckTerminalUser(const auth::Principal& who, const std::string& runs_as, const std::string& what);

// The terminal's options from the query: `command` (a JSON array of
// strings; none: a shell), `rows` and `cols`. Errors name the parameter.
Result<runtime::TerminalOptions> TerminalParams(const Request& req);

// 400 unless `req` is a WebSocket upgrade (nothing is started then); else
// opens the terminal with `open` (its error as it is) and answers a Duplex:
// the terminal's bytes both ways, `{"resize": {"rows": R, "cols": C}}` text
// messages, and a close frame "exit N" when the command ends.
Response TerminalReply(const Request& req, const TerminalOpener& open);

}  // namespace quader::api
