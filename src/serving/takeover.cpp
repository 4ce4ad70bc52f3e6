#include "serving/takeover.h"

#include <algorithm>
#include <map>
#include <utility>

namespace quader::serving {

bool DeployedAfter(const HostService& a, const HostService& b) {
  return std::make_pair(a.deployed_at, a.id) > std::make_pair(b.deployed_at, b.id);
}

std::vector<Takeover> Takeovers(const std::vector<HostService>& services) {
  // The most recently deployed live service of each (project, host).
  std::map<std::pair<std::string, std::string>, const HostService*> newest_live;
  for (const HostService& s : services) {
    if (!s.live || !s.online || s.host.empty()) continue;
    const HostService*& best = newest_live[{s.project, s.host}];
    if (best == nullptr || DeployedAfter(s, *best)) best = &s;
  }
  std::vector<Takeover> out;
  for (const HostService& s : services) {
    if (!s.online) continue;
    auto it = newest_live.find({s.project, s.host});
    if (it == newest_live.end() || it->second->id == s.id) continue;
    if (DeployedAfter(*it->second, s)) out.push_back({s.id, it->second->id, s.host});
  }
  std::sort(out.begin(), out.end(), [](const Takeover& a, const Takeover& b) { return a.retired < b.retired; });
  return out;
}

}  // namespace quader::serving
