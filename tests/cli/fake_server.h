#pragma once
// A loopback HTTP server for CLI unit tests: answers canned replies keyed by
// "METHOD target" and records every request it received. One connection at
// a time, served on its own thread.

#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace quader::cli::testing {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
};

// Thread-safe: the test thread sets replies and reads requests while the
// server thread serves.
class FakeServer {
 public:
  // Binds 127.0.0.1 on a free port and starts serving.
  FakeServer();
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // "http://127.0.0.1:PORT".
  std::string url() const { return url_; }
  // Answers `method target` (target includes the query) with `status` and
  // a JSON `body`. Unknown requests get 404 with an error body.
  void SetReply(const std::string& method, const std::string& target, int status,
                const std::string& body);
  std::vector<RecordedRequest> requests() const;

 private:
  void Serve();
  void ServeOne(boost::asio::ip::tcp::socket& socket);

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::string url_;

  mutable std::mutex mu_;
  bool stopping_ = false;                                       // guarded by mu_
  std::map<std::string, std::pair<int, std::string>> replies_;  // guarded by mu_
  std::vector<RecordedRequest> requests_;                       // guarded by mu_

  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace quader::cli::testing
