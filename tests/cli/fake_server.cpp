#include "fake_server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace quader::cli::testing {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr auto kGateTimeout = std::chrono::seconds(5);

}  // namespace

FakeServer::FakeServer()
    : acceptor_(ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
      url_("http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port())),
      thread_([this] { Serve(); }) {}

FakeServer::~FakeServer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  released_cv_.notify_all();
  // Wake the blocking accept() with one last connection.
  boost::system::error_code ec;
  boost::asio::io_context ioc;
  tcp::socket poke(ioc);
  poke.connect(acceptor_.local_endpoint(), ec);
  thread_.join();
}

void FakeServer::SetReply(const std::string& method, const std::string& target, int status,
                          const std::string& body) {
  SetReplySequence(method, target, {{status, body}});
}

void FakeServer::SetReplySequence(const std::string& method, const std::string& target,
                                  std::vector<std::pair<int, std::string>> replies) {
  std::lock_guard<std::mutex> lock(mu_);
  Reply& reply = replies_[method + " " + target];
  reply = Reply{};
  reply.sequence = std::move(replies);
}

void FakeServer::SetStreamReply(const std::string& method, const std::string& target,
                                std::vector<std::string> chunks, bool gated) {
  std::lock_guard<std::mutex> lock(mu_);
  Reply& reply = replies_[method + " " + target];
  reply = Reply{};
  reply.stream = true;
  reply.chunks = std::move(chunks);
  reply.gated = gated;
}

void FakeServer::ReleaseChunk() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++released_;
  }
  released_cv_.notify_all();
}

int FakeServer::chunks_sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return chunks_sent_;
}

std::vector<RecordedRequest> FakeServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void FakeServer::Serve() {
  for (;;) {
    tcp::socket socket(ioc_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (!ec) ServeOne(socket);
  }
}

void FakeServer::ServeOne(tcp::socket& socket) {
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  boost::system::error_code ec;
  http::read(socket, buffer, req, ec);
  if (ec) return;
  RecordedRequest recorded{
      std::string(req.method_string()), std::string(req.target()), req.body(), {}};
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    recorded.headers[name] = std::string(field.value());
  }
  Reply reply;
  reply.sequence = {{404, R"({"error": {"code": "not_found", "message": "no fake reply"}})"}};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = replies_.find(recorded.method + " " + recorded.target);
    if (it != replies_.end()) {
      reply = it->second;
      if (!reply.stream && !reply.sequence.empty()) {
        reply.sequence = {it->second.sequence[std::min(it->second.next,
                                                       it->second.sequence.size() - 1)]};
        ++it->second.next;
      }
    }
    requests_.push_back(std::move(recorded));
  }
  if (reply.stream) {
    ServeStream(socket, reply);
  } else {
    http::response<http::string_body> res{static_cast<http::status>(reply.sequence[0].first), 11};
    res.set(http::field::content_type, "application/json");
    res.body() = reply.sequence[0].second;
    res.keep_alive(false);
    res.prepare_payload();
    http::write(socket, res, ec);
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

void FakeServer::ServeStream(tcp::socket& socket, const Reply& reply) {
  http::response<http::empty_body> res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.chunked(true);
  res.keep_alive(false);
  http::response_serializer<http::empty_body> serializer{res};
  int base = 0;  // releases before this stream began
  {
    std::lock_guard<std::mutex> lock(mu_);
    base = released_;
  }
  boost::system::error_code ec;
  http::write_header(socket, serializer, ec);
  if (ec) return;
  for (size_t i = 0; i < reply.chunks.size(); ++i) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (reply.gated && i > 0) {
        // Chunk i goes once the client has released i chunks of this stream.
        int wanted = base + static_cast<int>(i);
        released_cv_.wait_for(lock, kGateTimeout,
                              [&] { return stopping_ || released_ >= wanted; });
      }
      ++chunks_sent_;
    }
    boost::asio::write(socket, http::make_chunk(boost::asio::buffer(reply.chunks[i])), ec);
    if (ec) return;
  }
  boost::asio::write(socket, http::make_chunk_last(), ec);
}

}  // namespace quader::cli::testing
