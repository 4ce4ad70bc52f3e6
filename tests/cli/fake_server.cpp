#include "fake_server.h"

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace quader::cli::testing {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

FakeServer::FakeServer()
    : acceptor_(ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
      url_("http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port())),
      thread_([this] { Serve(); }) {}

FakeServer::~FakeServer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  // Wake the blocking accept() with one last connection.
  boost::system::error_code ec;
  boost::asio::io_context ioc;
  tcp::socket poke(ioc);
  poke.connect(acceptor_.local_endpoint(), ec);
  thread_.join();
}

void FakeServer::SetReply(const std::string& method, const std::string& target, int status,
                          const std::string& body) {
  std::lock_guard<std::mutex> lock(mu_);
  replies_[method + " " + target] = {status, body};
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
  std::pair<int, std::string> reply = {
      404, R"({"error": {"code": "not_found", "message": "no fake reply"}})"};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = replies_.find(recorded.method + " " + recorded.target);
    if (it != replies_.end()) reply = it->second;
    requests_.push_back(std::move(recorded));
  }
  http::response<http::string_body> res{static_cast<http::status>(reply.first), 11};
  res.set(http::field::content_type, "application/json");
  res.body() = reply.second;
  res.keep_alive(false);
  res.prepare_payload();
  http::write(socket, res, ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace quader::cli::testing
