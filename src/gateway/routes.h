#pragma once
// The gateway's configuration: upstreams (named sets of backends) and routes
// (host + optional path prefix → weighted upstreams, mirrors, access hook).
// A RouteTable is immutable once built and shared by all io threads; the
// gateway swaps whole tables (Gateway::SetRoutes).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/fields.hpp>

#include "core/status.h"

namespace quader::gateway {

// One replica: reached only through a loopback port mapping.
struct Backend {
  std::string host = "127.0.0.1";  // an IP literal; no DNS lookups on the hot path
  uint16_t port = 0;
  std::string address() const { return host + ":" + std::to_string(port); }
};

// Active health check: GET `path` on each backend every `interval`; a backend
// turns unhealthy after `unhealthy_threshold` failures in a row (connect
// error, timeout or a status outside 200-399) and healthy again after
// `healthy_threshold` successes in a row. Empty path: no active check.
struct HealthCheck {
  std::string path;
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds timeout{1000};
  int healthy_threshold = 1;
  int unhealthy_threshold = 2;
  // A backend new to the gateway takes no traffic until a check passes (for
  // rollouts: a replica joins once it answers). Otherwise it starts healthy.
  bool start_unhealthy = false;
};

struct Upstream {
  std::string name;  // metric label; unique in a table
  std::vector<Backend> backends;
  HealthCheck health;
};

struct WeightedTarget {
  std::string upstream;
  int weight = 1;  // >= 0; 0 takes no traffic
};

struct MirrorTarget {
  std::string upstream;
  int percent = 100;  // 0-100 of this route's requests are copied there
};

// What an access hook sees of a request.
struct AccessRequest {
  std::string_view method;
  std::string_view target;  // origin-form, with the query
  std::string_view host;    // normalized: lower case, no port
  const boost::beast::http::fields& headers;
};

// The answer of an access hook: let it through, pretend nothing is there
// (404), send the browser elsewhere (302 to `location`, e.g. "/login?next=...")
// or refuse (403).
struct AccessDecision {
  enum class Verdict { kAllow, kNotFound, kRedirect, kForbidden };
  Verdict verdict = Verdict::kAllow;
  std::string location;  // kRedirect only
  static AccessDecision Allow() { return {}; }
  static AccessDecision NotFound() { return {Verdict::kNotFound, {}}; }
  static AccessDecision Forbidden() { return {Verdict::kForbidden, {}}; }
  static AccessDecision Redirect(std::string location) { return {Verdict::kRedirect, std::move(location)}; }
};

// Runs on an io thread for every request of its route: must be fast and
// must not block (look up a session cache, not the store).
using AccessHook = std::function<AccessDecision(const AccessRequest&)>;

struct Route {
  // Exact, case-insensitive; no port. "*" matches any host that has no route
  // of its own for the path (notebooks: reached at the gateway's own address).
  std::string host;
  std::string path_prefix;  // "" or "/" match all; else "/nb/alice" matches "/nb/alice" and "/nb/alice/..."
  std::vector<WeightedTarget> targets;  // at least one with weight > 0
  std::vector<MirrorTarget> mirrors;    // fire-and-forget copies
  AccessHook access;                    // optional
  // What the upstream sees differently from the client's request:
  // headers set (replacing any the client sent, e.g. a notebook server's
  // token; an empty value removes the header), cookies removed from the Cookie header (the platform's session
  // cookie is not the workload's business), and the path prefix replaced by
  // "/" (for servers that cannot be told their base URL).
  std::vector<std::pair<std::string, std::string>> set_headers;
  std::vector<std::string> drop_cookies;
  // Cookies the upstream gets (replacing any of that name the client sent):
  // a notebook server's session secret, which only the gateway knows.
  std::vector<std::pair<std::string, std::string>> set_cookies;
  bool strip_prefix = false;
};

// The host that matches any host ("*").
inline constexpr const char* kAnyHost = "*";

// The Cookie header `value` without the cookies named in `names`.
std::string DropCookies(std::string_view value, const std::vector<std::string>& names);

// Smooth weighted round robin (the nginx algorithm): over any window of
// sum(weights) picks, each index is chosen exactly weight times, interleaved.
// Thread-safe.
class WeightedPicker {
 public:
  explicit WeightedPicker(std::vector<int> weights);
  // The next index among those with `eligible(i)` true, or -1 when none is
  // eligible (or all eligible weights are 0).
  int Pick(const std::function<bool(int)>& eligible);
  int Pick() { return Pick([](int) { return true; }); }

 private:
  std::mutex mu_;
  std::vector<int> weights_;
  std::vector<long> current_;  // guarded by mu_
};

// A validated, immutable table. Routes and upstreams are referred to by
// index (stable for the table's life).
class RouteTable {
 public:
  struct CompiledRoute {
    Route route;
    std::vector<int> target_upstreams;  // index into upstreams(), per route.targets
    std::vector<int> mirror_upstreams;  // per route.mirrors
    std::unique_ptr<WeightedPicker> picker;
  };

  // Validates and compiles: upstream names unique and non-empty, backends
  // with a port; routes with a valid host, a prefix that starts with '/',
  // targets and mirrors naming known upstreams, weights >= 0 with a positive
  // sum, mirror percent 0-100, no two routes with the same host and prefix.
  // kInvalidArgument naming the route or upstream otherwise.
  static Result<std::shared_ptr<const RouteTable>> Build(std::vector<Upstream> upstreams,
                                                         std::vector<Route> routes);
  // An empty table (every host unknown).
  static std::shared_ptr<const RouteTable> Empty();

  // The route for a normalized host (lower case, no port) and a path: the
  // longest matching prefix among the host's routes, else among the "*"
  // routes; nullptr when none.
  const CompiledRoute* Match(std::string_view host, std::string_view path) const;

  const std::vector<Upstream>& upstreams() const { return upstreams_; }
  const std::vector<CompiledRoute>& routes() const { return routes_; }

 private:
  RouteTable() = default;
  std::vector<Upstream> upstreams_;
  std::vector<CompiledRoute> routes_;  // sorted by host, then longest prefix first
};

// A route's targets from a service and its parsed `canary` field
// (ParseCanary): each named service gets its percent, `self` keeps 100 minus
// the sum (left out when 0). Upstream names are the service names.
std::vector<WeightedTarget> TargetsFromCanary(const std::string& self, const std::map<std::string, int>& canary);
// A route's mirrors from a parsed `shadow` field (ParseShadow); 0% items are left out.
std::vector<MirrorTarget> MirrorsFromShadow(const std::map<std::string, int>& shadow);

// The host of a Host header: lower-cased, port removed. nullopt when the
// value is not a host name or IP literal with an optional numeric port
// (the gateway answers 400).
std::optional<std::string> NormalizeHostHeader(std::string_view value);

// True when `path` is under `prefix` ("" and "/" match every path; otherwise
// an exact match or the prefix followed by '/', or the prefix ends with '/').
bool PathHasPrefix(std::string_view path, std::string_view prefix);

}  // namespace quader::gateway
