#pragma once
// A loopback HTTP server for CLI unit tests: answers canned replies keyed by
// "METHOD target" and records every request it received. One connection at
// a time, served on its own thread.

#include <boost/asio/ip/tcp.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
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
  // Answers successive `method target` requests with each of `replies`
  // (status, JSON body) in turn; the last one repeats.
  void SetReplySequence(const std::string& method, const std::string& target,
                        std::vector<std::pair<int, std::string>> replies);
  // Answers `method target` with 200 and a chunked text/plain body, one
  // HTTP chunk per element of `chunks` (none empty). With `gated`, each
  // chunk after the first is held until ReleaseChunk() is called (or 5 s
  // pass), so that a test can see what the client did with the earlier
  // chunks before the later ones exist.
  void SetStreamReply(const std::string& method, const std::string& target,
                      std::vector<std::string> chunks, bool gated = false);
  // Lets the next held chunk of a gated stream go.
  void ReleaseChunk();
  // Chunks of streamed bodies sent (counted just before each is written).
  int chunks_sent() const;

  std::vector<RecordedRequest> requests() const;

 private:
  struct Reply {
    std::vector<std::pair<int, std::string>> sequence;  // (status, body); the last repeats
    size_t next = 0;
    bool stream = false;  // serve `chunks` instead
    std::vector<std::string> chunks;
    bool gated = false;
  };

  void Serve();
  void ServeOne(boost::asio::ip::tcp::socket& socket);
  void ServeStream(boost::asio::ip::tcp::socket& socket, const Reply& reply);

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::string url_;

  mutable std::mutex mu_;
  std::condition_variable released_cv_;
  bool stopping_ = false;                  // guarded by mu_
  std::map<std::string, Reply> replies_;   // guarded by mu_
  std::vector<RecordedRequest> requests_;  // guarded by mu_
  int released_ = 0;                       // guarded by mu_
  int chunks_sent_ = 0;                    // guarded by mu_

  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace quader::cli::testing
