#include "runtime/probe.h"

#include <cerrno>
#include <cstdlib>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace quader::runtime {

using std::chrono::milliseconds;

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

int ConnectLoopback(int port, milliseconds timeout) { return ConnectTcp(kLoopback, port, timeout); }

int ConnectTcp(const std::string& host, int port, milliseconds timeout) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  int err = 0;
  socklen_t len = sizeof(err);
  if (poll(&p, 1, static_cast<int>(timeout.count())) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
      err != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

HttpProbeResult HttpGetLoopback(int port, const std::string& path,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                milliseconds timeout, size_t max_body) {
  return HttpGet(kLoopback, port, path, headers, timeout, max_body);
}

HttpProbeResult HttpGet(const std::string& host, int port, const std::string& path,
                        const std::vector<std::pair<std::string, std::string>>& headers, milliseconds timeout,
                        size_t max_body) {
  HttpProbeResult out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int fd = ConnectTcp(host, port, timeout);
  if (fd < 0) return out;
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + host + ":" + std::to_string(port) +
                    "\r\nUser-Agent: quader-probe\r\n";
  for (const auto& [name, value] : headers) req += name + ": " + value + "\r\n";
  req += "\r\n";
  bool ok = send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  std::string data;
  auto done = [&] {
    size_t head_end = data.find("\r\n\r\n");
    if (max_body == 0) return data.find("\r\n") != std::string::npos;
    return head_end != std::string::npos && data.size() - head_end - 4 >= max_body;
  };
  while (ok && !done()) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) != 1) break;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;  // HTTP/1.0: the server closes after the body
    data.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  // "HTTP/1.x NNN"
  if (data.size() < 12 || data.compare(0, 5, "HTTP/") != 0) return out;
  out.status = std::atoi(data.c_str() + 9);
  size_t head_end = data.find("\r\n\r\n");
  if (max_body > 0 && head_end != std::string::npos) out.body = data.substr(head_end + 4, max_body);
  return out;
}

bool ProbeLoopback(int port, const std::string& path, milliseconds timeout) {
  return Probe(kLoopback, port, path, timeout);
}

bool Probe(const std::string& host, int port, const std::string& path, milliseconds timeout) {
  if (path.empty()) {
    int fd = ConnectTcp(host, port, timeout);
    if (fd < 0) return false;
    close(fd);
    return true;
  }
  int code = HttpGet(host, port, path, {}, timeout).status;
  return code >= 200 && code < 400;
}

}  // namespace quader::runtime
