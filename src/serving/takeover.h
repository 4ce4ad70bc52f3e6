#pragma once
// Gray upgrade by host (cube-studio § inference services, "自动下线同域名的
// 旧服务": once the new version is ready, every other online service with the
// same domain is cleared and set offline).
//
// Several services of one project may claim the same production host. The
// most recently deployed of them that is live (online, with a ready replica
// routed) serves the host, and once it does, every other online service of
// that project on that host is taken offline: never before it is live, so
// the host always has a ready replica. "Most recently deployed" orders by
// the time the service was created, changed or deployed (its updated_at),
// then by id, so deploying an older service again makes it the newest.
//
// Pure: the ServiceController feeds it the services of one reconciliation
// and records the outcome (stage offline, events on both services).

#include <cstdint>
#include <string>
#include <vector>

namespace quader::serving {

// One service as the takeover sees it.
struct HostService {
  int64_t id = 0;
  std::string project;
  std::string host;          // the production host
  int64_t deployed_at = 0;   // created, changed or deployed (seconds)
  bool online = false;       // serving production (an internal service, or stage online)
  bool live = false;         // online and has a ready replica routed
};

// The order of deployment: true when `a` was deployed after `b`.
bool DeployedAfter(const HostService& a, const HostService& b);

// `retired` goes offline because `by`, deployed after it, is live on `host`.
struct Takeover {
  int64_t retired = 0;
  int64_t by = 0;
  std::string host;
};

// For each (project, host): when the most recently deployed live service
// exists, every other online service deployed before it is retired by it.
// Online services deployed after it (not live yet) are left alone. Sorted by
// `retired`; each service appears at most once.
std::vector<Takeover> Takeovers(const std::vector<HostService>& services);

}  // namespace quader::serving
