#include "cli/terminal_client.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <deque>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "cli/client.h"
#include "cli/http_client.h"
#include "core/documents.h"

namespace quader::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// This process's terminal in raw mode (keys go through as typed, the remote
// terminal echoes) until destroyed; nothing when stdin is not a terminal.
class RawMode {
 public:
  RawMode() {
    if (!isatty(0) || tcgetattr(0, &saved_) != 0) return;
    termios raw = saved_;
    cfmakeraw(&raw);
    active_ = tcsetattr(0, TCSANOW, &raw) == 0;
  }
  ~RawMode() {
    if (active_) tcsetattr(0, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
};

std::optional<int> ExitCodeOf(const std::string& reason) {
  if (reason.rfind("exit ", 0) != 0) return std::nullopt;
  try {
    size_t used = 0;
    int code = std::stoi(reason.substr(5), &used);
    if (used == reason.size() - 5) return code;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string ResizeMessage(int rows, int cols) {
  return Json({{"resize", {{"rows", rows}, {"cols", cols}}}}).dump();
}

}  // namespace

class TerminalSession::Impl {
 public:
  Impl() : ws(ioc) {}

  // Queues a message; messages go out one at a time, in order.
  void Write(std::string data, bool text) {
    outbox.emplace_back(std::move(data), text);
    if (outbox.size() == 1) WriteNext();
  }

  void WriteNext() {
    if (outbox.empty() || closed) return;
    ws.text(outbox.front().second);
    ws.async_write(asio::buffer(outbox.front().first), [this](beast::error_code ec, size_t) {
      outbox.pop_front();
      if (ec) {
        outbox.clear();
        return;
      }
      WriteNext();
    });
  }

  // Keeps one read going; what it brings is appended to `received`.
  void ReadNext() {
    if (reading || closed) return;
    reading = true;
    ws.async_read(in, [this](beast::error_code ec, size_t) {
      reading = false;
      if (ec) {
        closed = true;
        reason = ws.reason().reason.c_str();
        if (reason.empty() && ec != websocket::error::closed) reason = ec.message();
        return;
      }
      received += beast::buffers_to_string(in.data());
      in.consume(in.size());
      if (on_output) on_output();
    });
  }

  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer in;
  std::deque<std::pair<std::string, bool>> outbox;  // data, is text
  std::string received;
  std::function<void()> on_output;
  bool reading = false;
  bool closed = false;
  std::string reason;
};

TerminalSession::TerminalSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TerminalSession::~TerminalSession() = default;

Result<std::unique_ptr<TerminalSession>> TerminalSession::Open(const std::string& url, const std::string& token,
                                                               int timeout_seconds) {
  QUADER_ASSIGN_OR_RETURN(ParsedUrl u, ParseHttpUrl(url));
  auto impl = std::make_unique<Impl>();
  const std::string host = (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" + u.port;
  websocket::response_type res;
  try {
    tcp::resolver resolver(impl->ioc);
    auto& tcp_stream = beast::get_lowest_layer(impl->ws);
    tcp_stream.expires_after(std::chrono::seconds(timeout_seconds));
    tcp_stream.connect(resolver.resolve(u.host, u.port));
    tcp_stream.expires_never();
  } catch (const std::exception& e) {
    return errors::Unavailable("cannot reach " + u.host + ":" + u.port + ": " + e.what());
  }
  impl->ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
    req.set(beast::http::field::user_agent, "quader-cli");
    if (!token.empty()) req.set(beast::http::field::authorization, "Bearer " + token);
  }));
  impl->ws.read_message_max(4 << 20);
  // The asynchronous handshake: unlike the blocking one, it keeps the
  // server's answer when the server refuses, and the answer says why.
  beast::error_code ec;
  bool done = false;
  impl->ws.async_handshake(res, host, u.target, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  impl->ioc.run_for(std::chrono::seconds(timeout_seconds));
  if (!done) return errors::Unavailable("the terminal at " + host + " did not answer within " +
                                        std::to_string(timeout_seconds) + " s");
  if (ec) {
    if (res.result_int() != 0 && res.result_int() != 101) {
      HttpReply reply;
      reply.status = static_cast<int>(res.result_int());
      reply.body = res.body();
      return DecodeReply(reply).status();
    }
    return errors::Unavailable("the terminal at " + host + " did not open: " + ec.message());
  }
  impl->ws.binary(true);
  return std::unique_ptr<TerminalSession>(new TerminalSession(std::move(impl)));
}

Status TerminalSession::Send(std::string_view bytes) {
  if (impl_->closed) return errors::Unavailable("the terminal has closed: " + impl_->reason);
  impl_->Write(std::string(bytes), false);
  impl_->ioc.restart();
  while (!impl_->outbox.empty() && !impl_->closed && impl_->ioc.run_one() > 0) {
  }
  return Status::Ok();
}

Status TerminalSession::Resize(int rows, int cols) {
  if (impl_->closed) return errors::Unavailable("the terminal has closed: " + impl_->reason);
  impl_->Write(ResizeMessage(rows, cols), true);
  impl_->ioc.restart();
  while (!impl_->outbox.empty() && !impl_->closed && impl_->ioc.run_one() > 0) {
  }
  return Status::Ok();
}

Result<bool> TerminalSession::Read(std::string* out, std::chrono::milliseconds timeout) {
  impl_->ReadNext();
  impl_->ioc.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (impl_->received.empty() && !impl_->closed && std::chrono::steady_clock::now() < deadline) {
    impl_->ioc.run_one_until(deadline);
  }
  out->append(impl_->received);
  impl_->received.clear();
  return !impl_->closed;
}

void TerminalSession::Close() {
  if (impl_->closed) return;
  beast::error_code ec;
  beast::get_lowest_layer(impl_->ws).socket().shutdown(tcp::socket::shutdown_both, ec);
  impl_->closed = true;
}

const std::string& TerminalSession::close_reason() const { return impl_->reason; }

std::optional<int> TerminalSession::exit_code() const { return ExitCodeOf(impl_->reason); }

int TerminalSession::Interact() {
  Impl& s = *impl_;
  RawMode raw;
  asio::posix::stream_descriptor input(s.ioc, dup(0));
  asio::signal_set winch(s.ioc, SIGWINCH);
  std::array<char, 8192> keys{};
  auto send_size = [&s] {
    winsize size{};
    if (isatty(1) && ioctl(1, TIOCGWINSZ, &size) == 0 && size.ws_row > 0) {
      s.Write(ResizeMessage(size.ws_row, size.ws_col), true);
    }
  };
  std::function<void()> follow_size = [&] {
    winch.async_wait([&](beast::error_code ec, int) {
      if (ec || s.closed) return;
      send_size();
      follow_size();
    });
  };
  std::function<void()> read_keys = [&] {
    input.async_read_some(asio::buffer(keys), [&](beast::error_code ec, size_t n) {
      if (s.closed) return;
      if (ec) {
        // Piped input ended: an end-of-file on the terminal (^D) tells a
        // shell reading it to finish, as a user typing ^D would.
        if (!isatty(0)) s.Write("\x04", false);
        return;
      }
      s.Write(std::string(keys.data(), n), false);
      read_keys();
    });
  };
  s.on_output = [&] {
    const std::string& out = s.received;
    size_t done = 0;
    while (done < out.size()) {
      ssize_t w = ::write(1, out.data() + done, out.size() - done);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
    s.received.clear();
    s.ReadNext();
  };
  send_size();
  follow_size();
  read_keys();
  s.ReadNext();
  s.ioc.restart();
  while (!s.closed && s.ioc.run_one() > 0) {
  }
  beast::error_code ec;
  input.cancel(ec);
  winch.cancel(ec);
  s.on_output = nullptr;
  return ExitCodeOf(s.reason).value_or(1);
}

}  // namespace quader::cli
