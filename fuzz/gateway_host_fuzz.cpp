// Host headers and paths into the gateway's route lookup (gateway/routes.h):
// NormalizeHostHeader, then RouteTable::Match on a table shaped like the
// server's (service hosts, a notebook prefix on "*"), PathHasPrefix, and the
// Cookie header without the platform's session cookie. Input: the Host
// header, the request path and the Cookie header, one per line.
#include "fuzz/fuzz.h"
#include "gateway/routes.h"

namespace {

std::shared_ptr<const quader::gateway::RouteTable> Table() {
  using namespace quader::gateway;
  std::vector<Upstream> upstreams;
  for (const char* name : {"iris", "iris-v2", "nb-alice", "shadow"}) {
    Upstream u;
    u.name = name;
    u.backends.push_back(Backend{"127.0.0.1", 40000});
    upstreams.push_back(u);
  }
  auto route = [](std::string host, std::string prefix, std::vector<WeightedTarget> targets) {
    Route r;
    r.host = std::move(host);
    r.path_prefix = std::move(prefix);
    r.targets = std::move(targets);
    return r;
  };
  std::vector<Route> routes;
  routes.push_back(route("iris.service.example.com", "", {{"iris", 80}, {"iris-v2", 20}}));
  routes.back().mirrors.push_back({"shadow", 10});
  routes.push_back(route("test.iris.service.example.com", "/", {{"iris-v2", 1}}));
  routes.push_back(route("*", "/nb/alice", {{"nb-alice", 1}}));
  routes.back().strip_prefix = true;
  routes.push_back(route("10.0.0.1", "/api/", {{"iris", 1}}));
  auto table = RouteTable::Build(std::move(upstreams), std::move(routes));
  if (!table.ok()) __builtin_trap();
  return *table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quader::gateway;
  static const auto table = Table();
  auto parts = quader::fuzz::Lines(quader::fuzz::Bytes(data, size), 3);
  (void)DropCookies(parts[2], {"quader_session", "_xsrf"});
  auto host = NormalizeHostHeader(parts[0]);
  if (!host) return 0;
  const auto* route = table->Match(*host, parts[1]);
  if (route) {
    if (!PathHasPrefix(parts[1], route->route.path_prefix)) __builtin_trap();
    if (route->picker) (void)route->picker->Pick();
  }
  return 0;
}
