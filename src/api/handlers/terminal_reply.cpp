#include "api/handlers/terminal_reply.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace quader::api {

namespace {

constexpr size_t kMaxCommandBytes = 16 * 1024;
constexpr size_t kMaxCommandArgs = 256;
// Terminals one user may have open at once, counted before any command
// starts (the HTTP server's stream limits count them only once bridged).
constexpr int kMaxTerminalsPerUser = 8;

// One of a user's terminal slots, given back when the terminal ends.
class TerminalSlot {
 public:
  static std::shared_ptr<TerminalSlot> Take(const std::string& user) {
    std::lock_guard<std::mutex> lock(mu_);
    if (open_[user] >= kMaxTerminalsPerUser) return nullptr;
    open_[user]++;
    return std::shared_ptr<TerminalSlot>(new TerminalSlot(user));
  }
  ~TerminalSlot() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--open_[user_] <= 0) open_.erase(user_);
  }

 private:
  explicit TerminalSlot(std::string user) : user_(std::move(user)) {}
  const std::string user_;
  static inline std::mutex mu_;
  static inline std::map<std::string, int> open_;  // guarded by mu_
};

Result<int> SizeParam(const Request& req, const char* name, int fallback) {
  auto it = req.query.find(name);
  if (it == req.query.end() || it->second.empty()) return fallback;
  int v = 0;
  try {
    size_t used = 0;
    v = std::stoi(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument(name);
  } catch (const std::exception&) {
    return errors::Invalid(name, "\"" + it->second + "\" is not a whole number");
  }
  if (v < 1 || v > 1000) return errors::Invalid(name, "must be between 1 and 1000, got " + it->second);
  return v;
}

}  // namespace

Status CheckTerminalUser(const auth::Principal& who, const std::string& runs_as, const std::string& what) {
  if (who.is_admin || who.username == runs_as) return Status::Ok();
  return errors::Denied("a terminal in " + what + " acts as " + runs_as +
                        ", whom it runs as: only " + runs_as + " or an admin may open one");
}

Result<runtime::TerminalOptions> TerminalParams(const Request& req) {
  runtime::TerminalOptions o;
  QUADER_ASSIGN_OR_RETURN(o.rows, SizeParam(req, "rows", 24));
  QUADER_ASSIGN_OR_RETURN(o.cols, SizeParam(req, "cols", 80));
  auto it = req.query.find("command");
  if (it == req.query.end() || it->second.empty()) return o;
  if (it->second.size() > kMaxCommandBytes) {
    return errors::Invalid("command", "is longer than " + std::to_string(kMaxCommandBytes) + " bytes");
  }
  Json argv = Json::parse(it->second, nullptr, false);
  if (!argv.is_array() || argv.empty() || argv.size() > kMaxCommandArgs) {
    return errors::Invalid("command", "must be a JSON array of 1 to " + std::to_string(kMaxCommandArgs) +
                                          " strings, e.g. [\"python3\", \"-V\"]");
  }
  for (const Json& a : argv) {
    if (!a.is_string()) return errors::Invalid("command", "every element must be a string");
    std::string s = a.get<std::string>();
    if (s.find('\0') != std::string::npos) return errors::Invalid("command", "an argument contains a NUL byte");
    o.argv.push_back(std::move(s));
  }
  return o;
}

Response TerminalReply(const Request& req, const TerminalOpener& open) {
  if (!IsWebSocketUpgrade(req)) {
    return ErrorReply(errors::Invalid(
        "request", "a terminal is a WebSocket: send GET with Connection: Upgrade and Upgrade: websocket "
                   "(quader exec, or the web UI's Terminal button)"));
  }
  auto options = TerminalParams(req);
  if (!options.ok()) return ErrorReply(options.status());
  std::shared_ptr<TerminalSlot> slot = TerminalSlot::Take(req.principal ? req.principal->username : "-");
  if (!slot) {
    return ErrorReply(errors::Unavailable("too many open terminals: at most " + std::to_string(kMaxTerminalsPerUser) +
                                          " per user; close one and try again"));
  }
  // The command starts only once the server has a stream for it (its limits
  // are per user and in all): nothing runs for a request that is refused.
  auto duplex = std::make_shared<Duplex>();
  duplex->open = [open, options = *options, slot](Duplex& d) -> Status {
    auto opened = open(options);
    if (!opened.ok()) return opened.status();
    std::shared_ptr<runtime::Terminal> terminal = std::move(opened).value();
    d.fd = terminal->fd();
    d.control = [terminal](std::string_view text) {
      Json msg = Json::parse(text, nullptr, false);
      if (!msg.is_object() || !msg.contains("resize") || !msg["resize"].is_object()) return;
      const Json& r = msg["resize"];
      auto size = [&](const char* name) {
        auto it = r.find(name);
        return it != r.end() && it->is_number_integer() ? std::clamp<int64_t>(it->get<int64_t>(), 0, 1000) : 0;
      };
      if (size("rows") > 0 && size("cols") > 0) {
        (void)terminal->Resize(static_cast<int>(size("rows")), static_cast<int>(size("cols")));
      }
    };
    d.finish = [terminal, slot] {
      std::optional<int> code = terminal->Finish();
      return code ? "exit " + std::to_string(*code) : std::string("exit ?");
    };
    return Status::Ok();
  };
  Response res;
  res.status = 101;
  res.duplex = std::move(duplex);
  return res;
}

}  // namespace quader::api
