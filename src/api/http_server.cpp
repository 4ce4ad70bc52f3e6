#include "api/http_server.h"

#include <malloc.h>
#include <sys/socket.h>
#include <poll.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

namespace quader::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, RequestHandler handler, Metrics& metrics)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        metrics_(metrics),
        acceptor_(ioc_),
        workers_(options_.worker_threads) {}

  Status Start();
  void Stop();
  uint16_t port() const { return port_; }
  void LogAccess(std::string_view line) {
    if (access_log_) access_log_->Write(line);
  }

  // A slot for one more stream of `user`; false when the limits are reached.
  // An upload's slot (`upload`: keyed by the client's address, as no one is
  // signed in yet) also counts against uploads' own, smaller limits, so
  // slow uploads never take the slots of followed logs and downloads.
  bool AcquireStream(const std::string& user, bool upload = false) {
    std::lock_guard<std::mutex> lock(streams_mu_);
    if (stopped_streams_ || streams_ >= options_.max_streams ||
        streams_by_user_[user] >= (upload ? options_.max_uploads_per_address : options_.max_streams_per_user) ||
        (upload && uploads_ >= options_.max_uploads)) {
      return false;
    }
    streams_++;
    uploads_ += upload;
    streams_by_user_[user]++;
    return true;
  }
  // Stop() has begun: open streams and bridges end (asked about for every
  // piece a stream sends, so it takes no lock).
  bool Stopping() const { return stopping_.load(std::memory_order_relaxed); }
  // The stream's last touch of this object: Stop() may return right after.
  void ReleaseStream(const std::string& user, bool upload = false) {
    std::lock_guard<std::mutex> lock(streams_mu_);
    streams_--;
    uploads_ -= upload;
    if (--streams_by_user_[user] <= 0) streams_by_user_.erase(user);
    streams_cv_.notify_all();
  }

  const HttpServerOptions options_;
  const RequestHandler handler_;
  Metrics& metrics_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::thread_pool workers_;
  std::vector<std::thread> io_threads_;
  std::unique_ptr<AccessLog> access_log_;  // set by Start()
  uint16_t port_ = 0;
  bool stopped_ = false;
  std::mutex streams_mu_;
  std::condition_variable streams_cv_;
  int streams_ = 0;                                 // guarded by streams_mu_
  int uploads_ = 0;                                 // guarded by streams_mu_
  std::map<std::string, int> streams_by_user_;      // guarded by streams_mu_
  bool stopped_streams_ = false;                    // guarded by streams_mu_
  std::atomic<bool> stopping_{false};               // stopped_streams_, readable without the lock

 private:
  void Accept();
};

namespace {

// Answers at least this big (a page of 1,000 tasks is about 700 KB) are
// followed by malloc_trim (see Reply).
constexpr size_t kTrimAfterBytes = 512 << 10;

void ParseQuery(const std::string& q, Request* req) {
  size_t pos = 0;
  while (pos <= q.size()) {
    size_t amp = q.find('&', pos);
    if (amp == std::string::npos) amp = q.size();
    std::string item = q.substr(pos, amp - pos);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string k = PercentDecode(item.substr(0, eq), true);
      std::string v = eq == std::string::npos ? "" : PercentDecode(item.substr(eq + 1), true);
      req->query[k] = v;
    }
    pos = amp + 1;
  }
}

// A parsed head as handlers see it (remote is the caller's business).
void FillHead(const http::request_header<>& head, Request* req) {
  req->method = std::string(head.method_string());
  req->target = std::string(head.target());
  std::string path = req->target.substr(0, req->target.find('?'));
  req->path = PercentDecode(path, false);
  if (size_t q = req->target.find('?'); q != std::string::npos) ParseQuery(req->target.substr(q + 1), req);
  for (const auto& f : head) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req->headers[name] = std::string(f.value());
  }
}

void FillRequest(http::request<http::string_body>&& raw, Request* req) {
  FillHead(raw.base(), req);
  req->body = std::move(raw.body());
}

// The connection's socket read synchronously by a thread of its own (a
// streamed request body), each read waiting at most `timeout` for bytes: a
// Beast SyncReadStream. (Asio's own blocking reads wait forever.)
struct TimedSocketReader {
  int fd;
  std::chrono::milliseconds timeout;

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
    ec = {};
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      asio::mutable_buffer b = *it;
      if (b.size() == 0) continue;
      for (;;) {
        ssize_t n = ::recv(fd, b.data(), b.size(), MSG_DONTWAIT);
        if (n > 0) return static_cast<size_t>(n);
        if (n == 0) {
          ec = asio::error::eof;
          return 0;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          ec = beast::error_code(errno, boost::system::system_category());
          return 0;
        }
        pollfd p{fd, POLLIN, 0};
        int ready = poll(&p, 1, static_cast<int>(timeout.count()));
        if (ready == 0) {
          ec = beast::error::timeout;
          return 0;
        }
        if (ready < 0 && errno != EINTR) {
          ec = beast::error_code(errno, boost::system::system_category());
          return 0;
        }
      }
    }
    return 0;
  }
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error{ec};
    return n;
  }
};

// A WebSocket bridged to a Duplex's descriptor, on one thread and its own
// io_context: reads from the descriptor are sent as binary messages (the next
// read waits for the send: a client that reads slowly slows the command, not
// the server's memory; one that takes nothing for the stream write timeout is
// dropped); binary messages are queued for the descriptor (at most
// kMaxInput waiting: a command that reads no input cannot make the server
// hold more) while the next message is already being read, so a client that
// leaves is seen at once; text messages go to Duplex::control. It ends when
// the descriptor ends (the close frame says Duplex::finish's reason), when
// the client closes, leaves or stops answering pings, or when the server
// stops; an end that the client does not complete within kCloseGrace is made
// by closing the connection.
class WebSocketBridge : public std::enable_shared_from_this<WebSocketBridge> {
 public:
  WebSocketBridge(asio::io_context& ioc, int socket_fd, bool v6, std::shared_ptr<Duplex> duplex,
                  HttpServer::Impl& server)
      : ioc_(ioc), ws_(ioc), pty_(ioc), duplex_(std::move(duplex)), server_(server) {
    beast::error_code ec;
    ws_.next_layer().socket().assign(v6 ? tcp::v6() : tcp::v4(), socket_fd, ec);
    pty_.assign(dup(duplex_->fd), ec);
  }

  // Accepts the upgrade of `req` (with `early`: what the client sent after
  // it before the server read on), bridges until the end; returns why it ended.
  std::string Run(const Request& req, const std::string& early) {
    // The request again, as it came, so Beast keeps what followed it.
    std::string wire = "GET " + req.target + " HTTP/1.1\r\n";
    for (const auto& [name, value] : req.headers) wire += name + ": " + value + "\r\n";
    wire += "\r\n" + early;
    beast::error_code ec;
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "quader"); }));
    ws_.read_message_max(kMaxMessage);
    ws_.binary(true);
    ws_.accept(asio::buffer(wire), ec);
    if (ec) return "handshake failed: " + ec.message();
    ReadClient();
    ReadPty();
    while (!ioc_.stopped() && !aborted_) {
      ioc_.run_for(std::chrono::milliseconds(500));
      Tick();
    }
    duplex_.reset();  // ends the command if it still runs
    return why_;
  }

  size_t bytes_in() const { return bytes_in_; }
  size_t bytes_out() const { return bytes_out_; }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxMessage = 1 << 20;
  static constexpr size_t kMaxInput = 1 << 20;
  static constexpr std::chrono::seconds kCloseGrace{3};

  // The end, with a close frame saying `why` when nothing else is being
  // sent; the connection is closed if the client does not answer in time.
  void End(const std::string& why, websocket::close_code code = websocket::close_code::normal) {
    if (ended_) return;
    ended_ = true;
    why_ = why;
    close_by_ = Clock::now() + kCloseGrace;
    beast::error_code ec;
    pty_.cancel(ec);
    if (!writing_) {
      writing_ = true;
      ws_.async_close(websocket::close_reason(code, why.substr(0, 120)), [](beast::error_code) {});
    }
  }

  // The end, at once: the connection closes (what was pending fails) and
  // the io_context stops (Beast's idle timer would otherwise keep it for
  // minutes); what is left pending is dropped with it.
  void Abort(const std::string& why) {
    if (!ended_) {
      ended_ = true;
      why_ = why;
    }
    aborted_ = true;
    beast::error_code ec;
    pty_.cancel(ec);
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).socket().close(ec);
    ioc_.stop();
  }

  // Between rounds of the io_context: the server stopping, a client that
  // takes nothing, an end the client does not complete.
  void Tick() {
    const auto now = Clock::now();
    if (!ended_ && server_.Stopping()) End("the server is stopping", websocket::close_code::going_away);
    if (writing_ && !ended_ && now - write_started_ > server_.options_.stream_write_timeout) {
      Abort("the client took no output for " + std::to_string(server_.options_.stream_write_timeout.count()) + " s");
    }
    if (ended_ && now > close_by_) Abort(why_);
  }

  void ReadPty() {
    pty_.async_read_some(asio::buffer(out_), [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (self->ended_) return;
      if (ec) {
        // EOF or EIO: the command and all it started on the terminal have gone.
        self->End(self->duplex_->finish ? self->duplex_->finish() : "ended");
        return;
      }
      self->bytes_out_ += n;
      self->writing_ = true;
      self->write_started_ = Clock::now();
      self->ws_.async_write(asio::buffer(self->out_.data(), n), [self](beast::error_code ec, size_t) {
        self->writing_ = false;
        if (ec) return self->Abort("the client went away");
        if (!self->ended_) self->ReadPty();
      });
    });
  }

  void ReadClient() {
    in_.clear();
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        return self->Abort(ec == websocket::error::closed ? "closed by the client" : "the client: " + ec.message());
      }
      if (!self->ws_.got_binary()) {
        std::string text = beast::buffers_to_string(self->in_.data());
        if (self->duplex_->control) self->duplex_->control(text);
        return self->ReadClient();
      }
      self->bytes_in_ += self->in_.size();
      self->input_ += beast::buffers_to_string(self->in_.data());
      if (self->input_.size() > kMaxInput) {
        return self->Abort("the command reads no input (1 MiB of it waiting)");
      }
      self->WriteInput();
      self->ReadClient();
    });
  }

  // Hands the queued input to the command, a piece at a time.
  void WriteInput() {
    if (feeding_ || input_.empty() || ended_) return;
    feeding_ = true;
    fed_ = std::move(input_);
    input_.clear();
    asio::async_write(pty_, asio::buffer(fed_), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->feeding_ = false;
      if (ec) return;  // the command has gone: ReadPty ends the bridge
      self->WriteInput();
    });
  }

  asio::io_context& ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  asio::posix::stream_descriptor pty_;
  std::shared_ptr<Duplex> duplex_;
  HttpServer::Impl& server_;
  std::array<char, 16 * 1024> out_{};
  beast::flat_buffer in_;
  std::string input_;  // from the client, for the command
  std::string fed_;    // being written to the command
  bool feeding_ = false;
  bool writing_ = false;  // a message (or the close) is being sent
  Clock::time_point write_started_;
  bool ended_ = false;
  bool aborted_ = false;
  Clock::time_point close_by_;
  std::string why_ = "ended";
  size_t bytes_in_ = 0, bytes_out_ = 0;
};

// One connection. Lives on its own strand; owned by the pending operation.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  void Run() {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? "?" : ep.address().to_string();
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    // The limit is set once the head tells which kind of body comes
    // (OnHeader). Not boost::none: Beast 1.74 compares a length with an
    // empty optional as larger.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    parser_->header_limit(static_cast<std::uint32_t>(server_.options_.max_header_bytes));
    stream_.expires_after(server_.options_.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  // The head is in: a route that streams its body gets it as it comes (on a
  // thread of its own); any other request is read whole first.
  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const auto& head = parser_->get();
    const std::string target(head.target());
    const std::string path = PercentDecode(target.substr(0, target.find('?')), false);
    if (server_.options_.streamed_body && server_.options_.streamed_body(std::string(head.method_string()), path)) {
      return StartUpload();
    }
    if (head.has_content_length() && parser_->content_length().value_or(0) > server_.options_.max_body_bytes) {
      return OnRead(http::error::body_limit);
    }
    parser_->body_limit(server_.options_.max_body_bytes);  // counts a chunked body as it comes
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  // Runs the handler, turning what it throws into a 500.
  Response Handle(Request& req, std::string* route) {
    try {
      return server_.handler_(req, route);
    } catch (const std::exception& e) {
      spdlog::error("[http] handler threw: {}", e.what());
    } catch (...) {
      spdlog::error("[http] handler threw something that is no std::exception");
    }
    return ErrorReply(errors::Internal("internal error"));
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == beast::error::timeout) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      // The head was read: the access log names the request.
      const auto& head = parser_->get();
      std::string method(head.method_string());
      std::string target(head.target());
      return Reply(ErrorReply({Code::kPayloadTooLarge,
                               "request body is larger than the limit of " +
                                   std::to_string(server_.options_.max_body_bytes) + " bytes"}),
                   method.empty() ? "?" : method, target.empty() ? "?" : target, "limit", /*keep_alive=*/false,
                   Clock::now());
    }
    if (ec == http::error::header_limit) {
      return Reply(ErrorReply({Code::kPayloadTooLarge, "request headers are too large"}), "?", "?",
                   "limit", false, Clock::now());
    }
    if (ec) {
      return Reply(ErrorReply(errors::Invalid("request", "malformed HTTP request: " + ec.message())),
                   "?", "?", "malformed", false, Clock::now());
    }
    auto start = Clock::now();
    auto raw = parser_->release();
    auto req = std::make_shared<Request>();
    bool keep_alive = raw.keep_alive();
    FillRequest(std::move(raw), req.get());
    req->remote = remote_;
    // No timer while the handler runs: a streamed response may take long.
    stream_.expires_never();
    // Handlers may block on the store: run them on the worker pool, then
    // come back to this connection's strand to write.
    asio::post(server_.workers_, [self = shared_from_this(), req, keep_alive, start] {
      std::string route;
      Response res = self->Handle(*req, &route);
      if (res.duplex) return self->StartDuplex(std::move(res), req, route, start);
      if (res.stream) return self->StartStream(std::move(res), req, route, keep_alive, start);
      asio::post(self->stream_.get_executor(), [self, req, keep_alive, start,
                                                res = std::move(res), route]() mutable {
        std::string user = req->principal ? req->principal->username : "-";
        self->Reply(std::move(res), req->method, req->target, route, keep_alive, start, user);
      });
    });
  }

  // Hands a request whose body streams (an upload) to a thread of its own,
  // within the stream limits (counted by the client's address: no one is
  // signed in yet).
  void StartUpload() {
    stream_.expires_never();
    auto start = Clock::now();
    auto req = std::make_shared<Request>();
    FillHead(parser_->get(), req.get());
    req->remote = remote_;
    const std::string key = "upload from " + remote_;
    if (!server_.AcquireStream(key, /*upload=*/true)) {
      return Reply(ErrorReply(errors::Unavailable("too many uploads at once: at most " +
                                                  std::to_string(server_.options_.max_uploads_per_address) +
                                                  " from one address and " +
                                                  std::to_string(server_.options_.max_uploads) +
                                                  " in all; try again later")),
                   req->method, req->target, "limit", /*keep_alive=*/false, start);
    }
    std::thread([self = shared_from_this(), req, start, key]() mutable {
      self->Upload(*req, start);
      HttpServer::Impl& server = self->server_;
      self.reset();
      server.ReleaseStream(key, /*upload=*/true);
    }).detach();
  }

  // Runs on the upload's own thread while the connection is idle on its
  // strand: the handler reads the body from the socket as it asks for it.
  void Upload(Request& req, std::chrono::steady_clock::time_point start) {
    http::request_parser<http::buffer_body> body{std::move(*parser_)};
    const uint64_t limit = server_.options_.max_streamed_body_bytes;
    body.body_limit(limit);  // a chunked body's; a declared length is checked at the first read
    const bool too_long = body.content_length().value_or(0) > limit;
    TimedSocketReader socket{stream_.socket().native_handle(),
                             std::chrono::duration_cast<std::chrono::milliseconds>(server_.options_.read_timeout)};
    bool expect_continue = beast::iequals(req.Header("expect"), "100-continue");
    bool failed = false;
    uint64_t bytes = 0;
    const auto began = Clock::now();
    auto too_slow = [&] {
      const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - began).count();
      return elapsed >= 60 && static_cast<int64_t>(bytes) < elapsed * server_.options_.min_upload_bytes_per_second;
    };
    auto over_limit = [&] {
      failed = true;
      return Status{Code::kPayloadTooLarge, "request body is larger than the limit of " + std::to_string(limit) + " bytes"};
    };
    req.body_reader = [&](char* out, size_t n) -> Result<size_t> {
      if (failed) return errors::Invalid("body", "the request body could not be read");
      if (too_long) return over_limit();
      if (too_slow()) {
        failed = true;
        return errors::Invalid("body", "the client sends slower than " +
                                           std::to_string(server_.options_.min_upload_bytes_per_second) +
                                           " bytes a second: the upload is cut off");
      }
      if (expect_continue) {
        expect_continue = false;
        if (!SendAll("HTTP/1.1 100 Continue\r\n\r\n")) failed = true;
      }
      while (!failed && !body.is_done() && n > 0) {
        body.get().body().data = out;
        body.get().body().size = n;
        body.get().body().more = true;
        beast::error_code ec;
        try {
          http::read(socket, buffer_, body, ec);
        } catch (const std::exception& e) {  // Beast throws for some malformed input (a trailer too long)
          failed = true;
          return errors::Invalid("body", std::string("the request body is malformed: ") + e.what());
        }
        if (ec == http::error::need_buffer) ec = {};
        const size_t got = n - body.get().body().size;
        bytes += got;
        if (ec == http::error::body_limit) return over_limit();
        if (ec) {
          failed = true;
          return errors::Invalid("body", ec == beast::error::timeout
                                             ? "the client sent nothing for " +
                                                   std::to_string(server_.options_.read_timeout.count()) + " s"
                                             : "the request body ended early or is malformed: " + ec.message());
        }
        if (got > 0) return got;
      }
      return size_t{0};
    };
    std::string route;
    Response res = Handle(req, &route);
    req.body_reader = nullptr;
    const bool keep_alive = !failed && body.is_done() && body.get().keep_alive();
    if (res.stream || res.duplex) res = ErrorReply(errors::Internal("an upload's answer cannot be streamed"));
    spdlog::debug("[http] upload {} {}: {} bytes of body read", req.method, req.target, bytes);
    asio::post(stream_.get_executor(), [self = shared_from_this(), method = req.method, target = req.target,
                                        user = req.principal ? req.principal->username : std::string("-"),
                                        res = std::move(res), route, keep_alive, start]() mutable {
      self->Reply(std::move(res), method, target, route, keep_alive, start, user);
    });
  }

  // Hands a streamed answer to a thread of its own (within the limits), so
  // that long streams never hold the workers other requests need.
  void StartStream(Response res, std::shared_ptr<Request> req, const std::string& route, bool keep_alive,
                   std::chrono::steady_clock::time_point start) {
    const std::string user = req->principal ? req->principal->username : "-";
    if (!server_.AcquireStream(user)) {
      Response busy = ErrorReply(errors::Unavailable(
          "too many open streams (followed logs, downloads): at most " +
          std::to_string(server_.options_.max_streams_per_user) + " per user and " +
          std::to_string(server_.options_.max_streams) + " in all; close some and try again"));
      asio::post(stream_.get_executor(), [self = shared_from_this(), req, keep_alive, start, route,
                                          busy = std::move(busy), user]() mutable {
        self->Reply(std::move(busy), req->method, req->target, route, keep_alive, start, user);
      });
      return;
    }
    std::thread([self = shared_from_this(), res = std::move(res), req, route, keep_alive, start, user]() mutable {
      self->Stream(std::move(res), *req, route, keep_alive, start);
      HttpServer::Impl& server = self->server_;
      self.reset();
      server.ReleaseStream(user);
    }).detach();
  }

  // Hands an accepted WebSocket to a thread of its own (within the stream
  // limits), which bridges it to the response's Duplex until either ends.
  void StartDuplex(Response res, std::shared_ptr<Request> req, const std::string& route,
                   std::chrono::steady_clock::time_point start) {
    const std::string user = req->principal ? req->principal->username : "-";
    if (!IsWebSocketUpgrade(*req) || !server_.AcquireStream(user)) {
      Response refused = IsWebSocketUpgrade(*req)
                             ? ErrorReply(errors::Unavailable(
                                   "too many open streams (terminals, followed logs, downloads): at most " +
                                   std::to_string(server_.options_.max_streams_per_user) +
                                   " per user; close some and try again"))
                             : ErrorReply(errors::Invalid("request", "this route opens a WebSocket: send "
                                                                     "Connection: Upgrade and Upgrade: websocket"));
      res.duplex.reset();  // ends what it owns (the terminal's command)
      asio::post(stream_.get_executor(), [self = shared_from_this(), req, start, route,
                                          refused = std::move(refused), user]() mutable {
        self->Reply(std::move(refused), req->method, req->target, route, false, start, user);
      });
      return;
    }
    std::thread([self = shared_from_this(), duplex = std::move(res.duplex), req, route, start, user]() mutable {
      // What the bridge carries starts only now, within the limits.
      Status opened = duplex->open ? duplex->open(*duplex) : Status::Ok();
      if (opened.ok()) {
        self->Bridge(std::move(duplex), *req, route, start);
      } else {
        duplex.reset();
        asio::post(self->stream_.get_executor(), [self, req, start, route, opened, user]() mutable {
          self->Reply(ErrorReply(opened), req->method, req->target, route, false, start, user);
        });
      }
      HttpServer::Impl& server = self->server_;
      self.reset();
      server.ReleaseStream(user);
    }).detach();
  }

  // Runs on the bridge's own thread, with an io_context of its own: the
  // connection's socket leaves the server's (nothing is pending on it).
  void Bridge(std::shared_ptr<Duplex> duplex, const Request& req, const std::string& route,
              std::chrono::steady_clock::time_point start) {
    beast::error_code ec;
    const bool v6 = stream_.socket().local_endpoint(ec).address().is_v6();
    int fd = stream_.socket().release(ec);
    if (ec) return;
    // What the client sent after the request (a first message in the same
    // packet) is in the connection's buffer: the bridge gets it too.
    const std::string early = beast::buffers_to_string(buffer_.data());
    asio::io_context ioc;
    auto bridge = std::make_shared<WebSocketBridge>(ioc, fd, v6, std::move(duplex), server_);
    std::string why = bridge->Run(req, early);
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    server_.metrics_.ObserveRequest(req.method, route, 101, seconds);
    server_.LogAccess(fmt::format("[http] {} \"{} {}\" 101 {}B in, {}B out {:.2f}s user={} (websocket: {})", remote_,
                                  req.method, req.target, bridge->bytes_in(), bridge->bytes_out(), seconds,
                                  req.principal ? req.principal->username : "-", why));
  }

  // Writes all of `data`, giving up when the client takes nothing for the
  // stream write timeout (one that stops reading cannot hold a thread).
  bool SendAll(std::string_view data) {
    const int fd = stream_.socket().native_handle();
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(server_.options_.stream_write_timeout);
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
      pollfd p{fd, POLLOUT, 0};
      int ready = poll(&p, 1, static_cast<int>(timeout.count()));
      if (ready <= 0 || (p.revents & (POLLERR | POLLHUP))) return false;
    }
    return true;
  }

  // Runs on the stream's own thread. The connection is idle on its strand (no
  // read or write is pending until we post back), so writing to the socket
  // synchronously here is safe.
  void Stream(Response res, const Request& req, const std::string& route, bool keep_alive,
              std::chrono::steady_clock::time_point start) {
    http::response<http::empty_body> head{static_cast<http::status>(res.status), 11};
    head.set(http::field::server, "quader");
    head.set(http::field::content_type, res.content_type);
    head.set(http::field::cache_control, "no-cache");
    for (auto& [k, v] : res.headers) head.insert(k, v);
    head.chunked(true);
    head.keep_alive(keep_alive);
    beast::error_code ec;
    auto& socket = stream_.socket();
    http::response_serializer<http::empty_body> sr{head};
    http::write_header(socket, sr, ec);
    size_t bytes = 0;
    bool alive = !ec;
    if (alive) {
      res.stream([&](std::string_view chunk) {
        // A stopping server ends its streams (followed logs send an empty
        // piece about once a second, so a quiet one ends too).
        if (alive && server_.Stopping()) alive = false;
        if (!alive) return false;
        if (chunk.empty()) {
          // Nothing to send: is the client still there? (A stream of a quiet
          // log would otherwise hold this thread until the workload ends.)
          pollfd p{socket.native_handle(), POLLRDHUP, 0};
          if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) alive = false;
          return alive;
        }
        alive = SendAll(fmt::format("{:x}\r\n", chunk.size())) && SendAll(chunk) && SendAll("\r\n");
        bytes += chunk.size();
        return alive;
      });
    }
    if (alive) alive = SendAll("0\r\n\r\n");
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    server_.metrics_.ObserveRequest(req.method, route, res.status, seconds);
    server_.LogAccess(fmt::format("[http] {} \"{} {}\" {} {}B {:.2f}ms user={} (streamed)", remote_, req.method,
                                  req.target, res.status, bytes, seconds * 1000,
                                  req.principal ? req.principal->username : "-"));
    asio::post(stream_.get_executor(), [self = shared_from_this(), alive, keep_alive] {
      if (alive && keep_alive) return self->Read();
      self->Close();
    });
  }

  using Clock = std::chrono::steady_clock;

  void Reply(Response res, const std::string& method, const std::string& target,
             const std::string& route, bool keep_alive, Clock::time_point start,
             const std::string& user = "-") {
    auto msg = std::make_shared<http::response<http::string_body>>();
    msg->version(11);
    msg->result(static_cast<unsigned>(res.status));
    msg->set(http::field::server, "quader");
    msg->set(http::field::content_type, res.content_type);
    for (auto& [k, v] : res.headers) msg->insert(k, v);
    msg->body() = method == "HEAD" ? std::string() : std::move(res.body);
    msg->keep_alive(keep_alive);
    msg->prepare_payload();
    if (method == "HEAD") msg->content_length(res.body.size());

    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    server_.metrics_.ObserveRequest(method, route, res.status, seconds);
    server_.LogAccess(fmt::format("[http] {} \"{} {}\" {} {}B {:.2f}ms user={}", remote_, method, target,
                                  res.status, msg->body().size(), seconds * 1000, user));

    http::async_write(stream_, *msg, [self = shared_from_this(), msg](beast::error_code ec, size_t) {
      if (msg->body().size() >= kTrimAfterBytes) {
        // A big answer (every task of a huge run) came from a big transient
        // tree of JSON: give the freed memory back, not to the allocator's pools.
        msg->body().clear();
        msg->body().shrink_to_fit();
        malloc_trim(0);
      }
      if (ec) return self->Close();
      if (!msg->keep_alive()) return self->Linger();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // After refusing a request early (e.g. a body over the limit) the client
  // may still be sending: read and drop its bytes for a while, as nginx's
  // lingering close does, so it can read our answer instead of a reset.
  void Linger() {
    Close();
    linger_buffer_.resize(64 * 1024);
    stream_.expires_after(std::chrono::seconds(5));
    LingerRead();
  }

  void LingerRead() {
    stream_.async_read_some(asio::buffer(linger_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kMaxLingerBytes) return;
                              self->LingerRead();
                            });
  }

  static constexpr size_t kMaxLingerBytes = 64 * 1024 * 1024;
  std::vector<char> linger_buffer_;
  size_t lingered_ = 0;

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
};

}  // namespace

Result<Request> ParseRequest(std::string_view wire, const HttpServerOptions& options) {
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(options.max_body_bytes);
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  beast::error_code ec;
  while (!parser.is_done()) {
    size_t used = parser.put(asio::buffer(wire.data(), wire.size()), ec);
    wire.remove_prefix(used);
    if (ec == http::error::need_more && used > 0 && !wire.empty()) {
      ec = {};
      continue;
    }
    if (ec == http::error::need_more || (!ec && used == 0)) {
      return errors::Invalid("request", "incomplete HTTP request");
    }
    if (ec == http::error::body_limit) {
      return Status(Code::kPayloadTooLarge, "request body is larger than the limit of " +
                                                std::to_string(options.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) return Status(Code::kPayloadTooLarge, "request headers are too large");
    if (ec) return errors::Invalid("request", "malformed HTTP request: " + ec.message());
  }
  Request req;
  FillRequest(parser.release(), &req);
  return req;
}

Status HttpServer::Impl::Start() {
  QUADER_ASSIGN_OR_RETURN(access_log_, AccessLog::Open(options_.access_log_path, options_.access_log_max_bytes,
                                                       options_.access_log_max_files));
  beast::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) return errors::Invalid("listen", "\"" + options_.host + "\" is not an IP address");
  tcp::endpoint ep(address, options_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return errors::Unavailable("cannot listen on " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  Accept();
  for (int i = 0; i < options_.io_threads; ++i) io_threads_.emplace_back([this] { ioc_.run(); });
  return Status::Ok();
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(socket), *this)->Run();
    Accept();
  });
}

void HttpServer::Impl::Stop() {
  if (stopped_) return;
  stopped_ = true;
  asio::post(ioc_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  workers_.join();
  {
    // Streams end with their source (a workload, the server's stopping) or their client.
    std::unique_lock<std::mutex> lock(streams_mu_);
    stopped_streams_ = true;
    stopping_ = true;
    streams_cv_.wait(lock, [this] { return streams_ == 0; });
  }
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
}

HttpServer::HttpServer(HttpServerOptions options, RequestHandler handler, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), metrics)) {}
HttpServer::~HttpServer() { Stop(); }
Status HttpServer::Start() { return impl_->Start(); }
uint16_t HttpServer::port() const { return impl_->port(); }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace quader::api
