// The `$name-external` TCP exposure: raw TCP forwarded to replicas, round
// robin, dead replicas skipped, listeners opened and closed by Set().
#include "gateway/tcp_exposure.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/test_upstream.h"

namespace quader::gateway {
namespace {

using testing::TestUpstream;

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// Sends `request`, half-closes, and reads until the far end closes; "" when
// the connection is refused.
std::string Exchange(uint16_t port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return "";
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  (void)!send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  shutdown(fd, SHUT_WR);
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::string BodyOf(const std::string& response) {
  size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

const char* kGet = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";

TEST(TcpExposureTest, ForwardsRoundRobinAndSkipsDeadReplicas) {
  TestUpstream a("alpha"), b("beta");
  TcpExposure exposure;
  uint16_t port = FreePort();
  Exposure e{"public/web-external:80", "127.0.0.1", port,
             {{"127.0.0.1", FreePort()}, {"127.0.0.1", a.port()}, {"127.0.0.1", b.port()}}};
  EXPECT_TRUE(exposure.Set({e}).empty());
  std::map<std::string, int> seen;
  for (int i = 0; i < 6; ++i) seen[BodyOf(Exchange(port, kGet))]++;
  EXPECT_EQ(seen["alpha"] + seen["beta"], 6) << seen.size();
  EXPECT_GE(seen["alpha"], 2);
  EXPECT_GE(seen["beta"], 2);
  EXPECT_EQ(exposure.connections(), 6u);
}

TEST(TcpExposureTest, StreamsLargeBodiesBothWays) {
  TestUpstream a("alpha");
  TcpExposure exposure;
  uint16_t port = FreePort();
  ASSERT_TRUE(exposure.Set({{"big", "127.0.0.1", port, {{"127.0.0.1", a.port()}}}}).empty());
  std::string response = Exchange(port, "GET /big?n=5000000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_GT(response.size(), 5000000u);
  std::string body(3'000'000, 'y');
  std::string post = "POST /upload HTTP/1.0\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n" + body;
  EXPECT_EQ(BodyOf(Exchange(port, post)), "alpha");
  EXPECT_EQ(a.recorded().back().body_bytes, body.size());
}

TEST(TcpExposureTest, ReportsBusyPortsAndClosesListenersNoLongerWanted) {
  TestUpstream a("alpha");
  TcpExposure first, second;
  uint16_t port = FreePort();
  Exposure e{"svc", "127.0.0.1", port, {{"127.0.0.1", a.port()}}};
  ASSERT_TRUE(first.Set({e}).empty());
  auto errors = second.Set({e});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors.begin()->second.find("in use"), std::string::npos) << errors.begin()->second;
  Exposure bad{"svc", "not-an-ip", port, {}};
  EXPECT_NE(second.Set({bad}).begin()->second.find("not an IP address"), std::string::npos);
  // Backends swapped in place; then the listener closed.
  TestUpstream b("beta");
  e.backends = {{"127.0.0.1", b.port()}};
  EXPECT_TRUE(first.Set({e}).empty());
  EXPECT_EQ(BodyOf(Exchange(port, kGet)), "beta");
  EXPECT_TRUE(first.Set({}).empty());
  EXPECT_EQ(Exchange(port, kGet), "");
  // No backends: accepted and closed at once.
  ASSERT_TRUE(first.Set({{"svc", "127.0.0.1", port, {}}}).empty());
  EXPECT_EQ(Exchange(port, kGet), "");
}

}  // namespace
}  // namespace quader::gateway
