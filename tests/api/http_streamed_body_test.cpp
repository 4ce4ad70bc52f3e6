// Streamed request bodies (HttpServerOptions::streamed_body,
// Request::body_reader): a real HttpServer on loopback, a raw socket client.
// Uploads of any size pass through a bounded amount of memory; the handler
// reads at its own pace, may refuse without reading, and learns when the
// client stops or sends too much.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "api/http_server.h"
#include "api/metrics.h"

namespace quader::api {
namespace {

// What the process holds in memory now (VmRSS, bytes).
int64_t RssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return 0;
}

// Counts the body's bytes and a checksum of them; "/refuse" answers 401
// without reading a byte.
Response CountingHandler(Request& req, std::string* route) {
  *route = req.path;
  if (req.path == "/small") return Response{200, "text/plain", "small:" + req.body, {}, {}, {}};
  if (!req.body_reader) return Response{500, "text/plain", "no reader", {}, {}, {}};
  if (req.path == "/refuse") return Response{401, "text/plain", "who are you", {}, {}, {}};
  std::string buf(64 * 1024, '\0');
  uint64_t total = 0, sum = 0;
  for (;;) {
    auto n = req.body_reader(buf.data(), buf.size());
    if (!n.ok()) return Response{n.status().code() == Code::kPayloadTooLarge ? 413 : 400, "text/plain",
                                 n.status().message(), {}, {}, {}};
    if (*n == 0) break;
    for (size_t i = 0; i < *n; ++i) sum += static_cast<unsigned char>(buf[i]);
    total += *n;
  }
  return Response{200, "text/plain", std::to_string(total) + " " + std::to_string(sum), {}, {}, {}};
}

class StreamedBodyTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    options.port = 0;
    options.streamed_body = [](const std::string& method, const std::string& path) {
      return method == "POST" && path != "/small";
    };
    server_ = std::make_unique<HttpServer>(options, CountingHandler, metrics_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  int Connect() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    return fd;
  }
  static bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until `until` appears (or the connection ends / 10 s pass).
  static std::string ReadUntil(int fd, const std::string& until) {
    std::string got;
    char buf[4096];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (got.find(until) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }

  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(StreamedBodyTest, AQuarterGigabytePassesThroughBoundedMemory) {
  Start();
  int fd = Connect();
  constexpr uint64_t kTotal = 256ull << 20;
  std::string piece(1 << 20, '\0');
  for (size_t i = 0; i < piece.size(); ++i) piece[i] = static_cast<char>(i * 7);
  uint64_t piece_sum = 0;
  for (char c : piece) piece_sum += static_cast<unsigned char>(c);
  const int64_t before = RssBytes();
  ASSERT_TRUE(SendAll(fd, "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(kTotal) + "\r\n\r\n"));
  for (uint64_t sent = 0; sent < kTotal; sent += piece.size()) ASSERT_TRUE(SendAll(fd, piece));
  std::string answer = ReadUntil(fd, std::to_string(piece_sum * 256));
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find(std::to_string(kTotal) + " " + std::to_string(piece_sum * 256)), std::string::npos) << answer;
  const int64_t grew = RssBytes() - before;
  EXPECT_LT(grew, 32 << 20) << "the server held the body in memory: RSS grew by " << grew << " bytes";
  // The connection stays open for the next request.
  ASSERT_TRUE(SendAll(fd, "POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"));
  EXPECT_NE(ReadUntil(fd, "small:hi").find("small:hi"), std::string::npos);
  close(fd);
}

TEST_F(StreamedBodyTest, ChunkedBodiesAndPipelinedRequestsAfterThem) {
  Start();
  int fd = Connect();
  // Two requests in one write: the bytes after the upload are the next request.
  ASSERT_TRUE(SendAll(fd,
                      "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                      "POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"));
  std::string answer = ReadUntil(fd, "small:xyz");
  EXPECT_NE(answer.find("5 " + std::to_string('a' + 'b' + 'c' + 'd' + 'e')), std::string::npos) << answer;
  EXPECT_NE(answer.find("small:xyz"), std::string::npos) << answer;
  close(fd);
}

TEST_F(StreamedBodyTest, ExpectContinueIsAnsweredWhenTheHandlerFirstReads) {
  Start();
  int fd = Connect();
  ASSERT_TRUE(SendAll(fd, "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  std::string interim = ReadUntil(fd, "\r\n\r\n");
  EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue", 0), 0u) << interim;
  ASSERT_TRUE(SendAll(fd, "wxyz"));
  std::string answer = ReadUntil(fd, "4 ");
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;

  // Refused before reading: no 100, the answer, and the connection closed.
  int fd2 = Connect();
  ASSERT_TRUE(SendAll(fd2, "POST /refuse HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n"));
  std::string refused = ReadUntil(fd2, "who are you");
  EXPECT_EQ(refused.rfind("HTTP/1.1 401", 0), 0u) << refused;
  EXPECT_NE(refused.find("Connection: close"), std::string::npos) << refused;
  close(fd2);
  close(fd);
}

TEST_F(StreamedBodyTest, AnUnreadBodyDoesNotResetTheAnswer) {
  Start();
  int fd = Connect();
  ASSERT_TRUE(SendAll(fd, "POST /refuse HTTP/1.1\r\nHost: h\r\nContent-Length: 8388608\r\n\r\n"));
  std::thread sender([fd] {
    std::string piece(1 << 16, 'x');
    for (int i = 0; i < 128; ++i) {
      if (!SendAll(fd, piece)) return;
    }
  });
  std::string refused = ReadUntil(fd, "who are you");
  sender.join();
  EXPECT_NE(refused.find("who are you"), std::string::npos) << refused;
  close(fd);
}

TEST_F(StreamedBodyTest, TooMuchOrTooSlowIsAnErrorTheHandlerSees) {
  HttpServerOptions options;
  options.max_streamed_body_bytes = 1000;
  options.read_timeout = std::chrono::seconds(1);
  Start(options);
  int fd = Connect();
  ASSERT_TRUE(SendAll(fd, "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'a')));
  std::string big = ReadUntil(fd, "bytes");
  EXPECT_EQ(big.rfind("HTTP/1.1 413", 0), 0u) << big;
  EXPECT_NE(big.find("limit of 1000 bytes"), std::string::npos) << big;
  close(fd);

  int slow = Connect();
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(SendAll(slow, "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"));
  std::string stalled = ReadUntil(slow, "sent nothing");
  EXPECT_EQ(stalled.rfind("HTTP/1.1 400", 0), 0u) << stalled;
  EXPECT_NE(stalled.find("the client sent nothing for 1 s"), std::string::npos) << stalled;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  close(slow);

  int cut = Connect();
  ASSERT_TRUE(SendAll(cut, "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"));
  std::string malformed = ReadUntil(cut, "malformed");
  EXPECT_EQ(malformed.rfind("HTTP/1.1 400", 0), 0u) << malformed;
  close(cut);
}

// Open descriptors of this process.
int OpenFds() {
  int n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd"); it != std::filesystem::directory_iterator(); ++it) ++n;
  return n;
}

TEST_F(StreamedBodyTest, AMalformedTrailerIsAnErrorNotAThrow) {
  Start();
  const int before = OpenFds();
  for (int i = 0; i < 20; ++i) {
    int fd = Connect();
    // A chunked body whose trailer field is larger than Beast takes: it throws while parsing.
    ASSERT_TRUE(SendAll(fd, "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: " +
                                std::string(70000, 'a') + "\r\n\r\n"));
    std::string answer = ReadUntil(fd, "malformed");
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer.substr(0, 200);
    close(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_LE(OpenFds(), before + 2) << "descriptors leaked";
}

}  // namespace
}  // namespace quader::api
