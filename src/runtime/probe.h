#pragma once
// Readiness probes on a workload's loopback port mappings: a TCP connect, or
// an HTTP/1.0 GET answered within a deadline. Used by the controllers that
// run long-lived workloads (services, notebooks); blocking, no threads.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace quader::runtime {

inline constexpr const char* kLoopback = "127.0.0.1";

// A free TCP port on 127.0.0.1 (for the process runtime, which cannot
// remap ports); 0 when none could be found.
int FreeLoopbackPort();

// Connects to 127.0.0.1:port within `timeout`: the socket, or -1.
int ConnectLoopback(int port, std::chrono::milliseconds timeout);
// Connects to `host` (an IPv4 address: a pod's) and `port` within `timeout`.
int ConnectTcp(const std::string& host, int port, std::chrono::milliseconds timeout);

struct HttpProbeResult {
  int status = 0;    // 0: no HTTP answer (refused, timed out, not HTTP)
  std::string body;  // up to `max_body` bytes of it
};

// GET `path` on 127.0.0.1:port with `headers`, reading the status line and,
// when `max_body` > 0, up to that much of the body, all within `timeout`.
HttpProbeResult HttpGetLoopback(int port, const std::string& path,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::chrono::milliseconds timeout, size_t max_body = 0);

// Ready: GET `path` answers 2xx/3xx, or (empty path) a TCP connect succeeds.
bool ProbeLoopback(int port, const std::string& path, std::chrono::milliseconds timeout);

// The same on `host` (an IPv4 address), for workloads a cluster runs.
HttpProbeResult HttpGet(const std::string& host, int port, const std::string& path,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        std::chrono::milliseconds timeout, size_t max_body = 0);
bool Probe(const std::string& host, int port, const std::string& path, std::chrono::milliseconds timeout);

// Where a workload's ports are reached (WorkloadStatus::address, else loopback).
inline std::string AddressOf(const std::string& address) { return address.empty() ? kLoopback : address; }

}  // namespace quader::runtime
