#pragma once
// The server's Prometheus registry: HTTP request counts and latency per
// route, plus process gauges. Later subsystems register their own families
// on registry(). Thread-safe (prometheus-cpp families lock internally).

#include <memory>
#include <functional>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "core/status.h"

namespace quader::api {

class Metrics {
 public:
  Metrics();

  // Records one finished request. `route` is the route pattern, never the raw
  // path (bounded label cardinality).
  void ObserveRequest(const std::string& method, const std::string& route, int status,
                      double seconds);
  // The exposition text for GET /metrics (updates process gauges first).
  std::string Render();

  prometheus::Registry& registry() { return *registry_; }
  // `refresh` runs before every Render (subsystems copy their counters into
  // gauges). Call during start-up only.
  void AddRefresher(std::function<void()> refresh) { refreshers_.push_back(std::move(refresh)); }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Gauge& resident_bytes_;
  prometheus::Gauge& start_time_;
  std::vector<std::function<void()>> refreshers_;  // fixed after start-up
};

// The scrape token in `path` (--metrics-token-file): its content without
// surrounding whitespace. kInvalidArgument naming the file when it cannot be
// read or holds fewer than 16 characters.
Result<std::string> ReadMetricsToken(const std::string& path);

}  // namespace quader::api
