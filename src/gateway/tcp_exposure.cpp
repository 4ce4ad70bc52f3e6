#include "gateway/tcp_exposure.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

namespace quader::gateway {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Backends shared between a listener and its connections; swapped by Set().
struct Pool {
  std::mutex mu;
  std::vector<Backend> backends;  // guarded by mu
  size_t next = 0;                // guarded by mu

  std::vector<Backend> Order() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<Backend> out;
    for (size_t i = 0; i < backends.size(); ++i) out.push_back(backends[(next + i) % backends.size()]);
    if (!backends.empty()) next = (next + 1) % backends.size();
    return out;
  }
};

// One forwarded connection: client <-> a replica, each direction copied until
// its reader sees the end, which is passed on as a half-close.
class Pipe : public std::enable_shared_from_this<Pipe> {
 public:
  Pipe(tcp::socket client, std::vector<Backend> order)
      : client_(std::move(client)), upstream_(client_.get_executor()), order_(std::move(order)) {}

  void Start() { TryNext(); }
  void Close() {
    boost::system::error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
  }

 private:
  void TryNext() {
    if (tried_ >= order_.size()) {
      Close();
      return;
    }
    const Backend& b = order_[tried_++];
    boost::system::error_code ec;
    auto address = asio::ip::make_address(b.host, ec);
    if (ec) return TryNext();
    upstream_ = tcp::socket(client_.get_executor());
    upstream_.async_connect(tcp::endpoint(address, b.port), [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->TryNext();
      boost::system::error_code ignored;
      self->upstream_.set_option(tcp::no_delay(true), ignored);
      self->client_.set_option(tcp::no_delay(true), ignored);
      self->Copy(self->client_, self->upstream_, self->up_buf_);
      self->Copy(self->upstream_, self->client_, self->down_buf_);
    });
  }

  void Copy(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buf) {
    from.async_read_some(asio::buffer(buf), [self = shared_from_this(), &from, &to, &buf](
                                                boost::system::error_code ec, size_t n) {
      if (ec) {
        boost::system::error_code ignored;
        to.shutdown(tcp::socket::shutdown_send, ignored);
        if (++self->ended_ == 2 || ec != asio::error::eof) self->Close();
        return;
      }
      asio::async_write(to, asio::buffer(buf.data(), n),
                        [self, &from, &to, &buf](boost::system::error_code ec, size_t) {
                          if (ec) return self->Close();
                          self->Copy(from, to, buf);
                        });
    });
  }

  tcp::socket client_;
  tcp::socket upstream_;
  std::vector<Backend> order_;
  size_t tried_ = 0;
  int ended_ = 0;
  std::array<char, 16384> up_buf_{};
  std::array<char, 16384> down_buf_{};
};

}  // namespace

class TcpExposure::Impl {
 public:
  Impl() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~Impl() {
    RunOnIo([this] {
      for (auto& [key, l] : listeners_) l.acceptor->close();
      listeners_.clear();
      for (auto& weak : pipes_) {
        if (auto p = weak.lock()) p->Close();
      }
      return 0;
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }

  std::map<std::string, std::string> Set(const std::vector<Exposure>& exposures) {
    return RunOnIo([&] {
      std::map<std::string, std::string> errors;
      std::map<std::string, const Exposure*> wanted;
      for (const auto& e : exposures) wanted[e.address + ":" + std::to_string(e.port)] = &e;
      for (auto it = listeners_.begin(); it != listeners_.end();) {
        if (wanted.count(it->first)) {
          ++it;
          continue;
        }
        spdlog::info("[gateway] external port {} closed", it->first);
        it->second.acceptor->close();
        std::lock_guard<std::mutex> lock(it->second.pool->mu);
        it->second.pool->backends.clear();
        it = listeners_.erase(it);
      }
      for (const auto& [key, e] : wanted) {
        auto it = listeners_.find(key);
        if (it == listeners_.end()) {
          std::string why = Open(key, *e);
          if (!why.empty()) {
            errors[key] = why;
            continue;
          }
          it = listeners_.find(key);
        }
        std::lock_guard<std::mutex> lock(it->second.pool->mu);
        it->second.pool->backends = e->backends;
      }
      return errors;
    });
  }

  std::atomic<uint64_t> connections{0};

 private:
  struct Listener {
    std::shared_ptr<tcp::acceptor> acceptor;
    std::shared_ptr<Pool> pool;
  };

  template <typename F>
  auto RunOnIo(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto done = task.get_future();
    asio::post(io_, [&task] { task(); });
    return done.get();
  }

  // Opens a listener; the reason it could not, or "".
  std::string Open(const std::string& key, const Exposure& e) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(e.address, ec);
    if (ec) return "\"" + e.address + "\" is not an IP address";
    auto acceptor = std::make_shared<tcp::acceptor>(io_);
    tcp::endpoint endpoint(address, e.port);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return ec.message();
    auto pool = std::make_shared<Pool>();
    listeners_[key] = {acceptor, pool};
    spdlog::info("[gateway] {} listening on {}", e.name, key);
    Accept(acceptor, pool);
    return "";
  }

  void Accept(std::shared_ptr<tcp::acceptor> acceptor, std::shared_ptr<Pool> pool) {
    acceptor->async_accept([this, acceptor, pool](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (!ec) {
        connections++;
        auto pipe = std::make_shared<Pipe>(std::move(socket), pool->Order());
        pipes_.erase(std::remove_if(pipes_.begin(), pipes_.end(), [](const auto& w) { return w.expired(); }),
                     pipes_.end());
        pipes_.push_back(pipe);
        pipe->Start();
      }
      Accept(acceptor, pool);
    });
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::map<std::string, Listener> listeners_;       // io thread only
  std::vector<std::weak_ptr<Pipe>> pipes_;          // io thread only
  std::thread thread_;
};

TcpExposure::TcpExposure() : impl_(std::make_unique<Impl>()) {}
TcpExposure::~TcpExposure() = default;

std::map<std::string, std::string> TcpExposure::Set(const std::vector<Exposure>& exposures) {
  return impl_->Set(exposures);
}

uint64_t TcpExposure::connections() const { return impl_->connections.load(); }

}  // namespace quader::gateway
