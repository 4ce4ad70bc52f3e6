#pragma once
// Quader's own HTTP/1.1 reverse proxy for services, inference services and
// notebooks (issue 6): routing by Host and path prefix, weighted split,
// fire-and-forget mirroring, active and passive health checks, retry on
// connect failure, keep-alive upstream pools, streamed bodies both ways and
// WebSocket pass-through, with per-upstream Prometheus metrics.
//
// Threading: each io thread runs its own event loop; a connection and the
// upstream connections it uses stay on one thread (pools are per thread, no
// locks on the hot path). The route table is swapped atomically; health
// state lives per backend address and survives table swaps.
//
// Thread-safe. Start() once, SetRoutes() any time from any thread, Stop()
// from any thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "core/status.h"
#include "gateway/routes.h"

namespace quader::gateway {

struct GatewayOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8081;  // 0: any free port (see port())
  int io_threads = 2;
  // A request whose header block is larger gets 431.
  size_t max_header_bytes = 16 * 1024;
  // Deadline for a whole request header, including the wait on an idle
  // keep-alive connection (slowloris protection): the connection is closed.
  std::chrono::milliseconds header_timeout{10000};
  // Deadline for each read or write of a body chunk, either side.
  std::chrono::milliseconds body_timeout{60000};
  std::chrono::milliseconds connect_timeout{2000};
  // Deadline for an upstream's response header after the request is sent.
  std::chrono::milliseconds response_timeout{60000};
  // Connect attempts per request on distinct backends (retry on connect failure).
  int connect_attempts = 3;
  // Passive health: a connect failure, or `passive_5xx_threshold` 5xx in a row,
  // takes a backend out for `passive_down`.
  std::chrono::milliseconds passive_down{5000};
  int passive_5xx_threshold = 5;
  // Idle upstream connections kept per backend and io thread, and for how long.
  size_t max_idle_per_backend = 256;
  std::chrono::milliseconds idle_upstream_timeout{60000};
  // Mirrors in flight across the gateway; beyond it copies are dropped (counted).
  size_t max_mirrors_in_flight = 256;
  // Request bodies larger than this are not mirrored (counted as dropped).
  size_t mirror_max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds mirror_timeout{10000};
  // How often the active health scheduler looks for due checks.
  std::chrono::milliseconds health_tick{100};
};

// One backend's health as the gateway sees it.
struct BackendHealth {
  std::string upstream;
  std::string address;  // "127.0.0.1:port"
  bool healthy = true;  // active and passive both fine
  bool active_healthy = true;
  bool passive_down = false;
};

// Counters for tests and the UI (the same figures are on the registry).
struct GatewayStats {
  uint64_t requests = 0;
  uint64_t upstream_connections_opened = 0;
  uint64_t mirrors_sent = 0;
  uint64_t mirrors_dropped = 0;
  uint64_t retries = 0;
};

class Gateway {
 public:
  // Metrics are registered on `registry` (may be null: no metrics). The
  // registry must outlive the gateway.
  Gateway(GatewayOptions options, prometheus::Registry* registry);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Binds and starts serving on background threads. kUnavailable when the
  // address cannot be bound. Until SetRoutes, every host is unknown (404).
  Status Start();
  // The bound port (useful with port 0). Valid after Start().
  uint16_t port() const;
  // Stops accepting, closes connections, joins threads. Idempotent.
  void Stop();

  // Replaces the route table atomically: requests already routed finish on
  // the old table, new ones use the new one. Health state is kept for
  // backends present in both. Null means an empty table.
  void SetRoutes(std::shared_ptr<const RouteTable> table);
  std::shared_ptr<const RouteTable> routes() const;

  // For several owners of routes (services, notebooks): replaces the routes
  // and upstreams of `source` and installs the table of all sources' sets.
  // Upstream names must be unique across sources. A set that does not build
  // (RouteTable::Build's checks, or a clash with another source) is refused
  // with kInvalidArgument naming the source, and the table stays as it was.
  Status SetRouteSet(const std::string& source, std::vector<Upstream> upstreams, std::vector<Route> routes);

  // Every backend of the current table with its health.
  std::vector<BackendHealth> Health() const;
  GatewayStats stats() const;

  class Impl;  // the Asio machinery, in gateway.cpp

 private:
  std::unique_ptr<Impl> impl_;
  std::mutex sets_mu_;
  std::map<std::string, std::pair<std::vector<Upstream>, std::vector<Route>>> sets_;  // guarded by sets_mu_
};

}  // namespace quader::gateway
