#include "gateway/routes.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "gateway/traffic.h"

namespace quader::gateway {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsIpv4(std::string_view s) {
  int parts = 0, digits = 0;
  for (char c : s) {
    if (c == '.') {
      if (digits == 0) return false;
      ++parts;
      digits = 0;
    } else if (std::isdigit(static_cast<unsigned char>(c)) && digits < 3) {
      ++digits;
    } else {
      return false;
    }
  }
  return parts == 3 && digits > 0;
}

}  // namespace

WeightedPicker::WeightedPicker(std::vector<int> weights)
    : weights_(std::move(weights)), current_(weights_.size(), 0) {}

int WeightedPicker::Pick(const std::function<bool(int)>& eligible) {
  std::lock_guard<std::mutex> lock(mu_);
  long total = 0;
  int best = -1;
  for (int i = 0; i < static_cast<int>(weights_.size()); ++i) {
    if (weights_[i] <= 0 || !eligible(i)) continue;
    current_[i] += weights_[i];
    total += weights_[i];
    if (best < 0 || current_[i] > current_[best]) best = i;
  }
  if (best >= 0) current_[best] -= total;
  return best;
}

std::vector<WeightedTarget> TargetsFromCanary(const std::string& self, const std::map<std::string, int>& canary) {
  std::vector<WeightedTarget> out;
  int rest = 100;
  for (const auto& [name, percent] : canary) {
    if (percent <= 0 || name == self) continue;
    out.push_back({name, percent});
    rest -= percent;
  }
  if (rest > 0) out.insert(out.begin(), WeightedTarget{self, rest});
  return out;
}

std::vector<MirrorTarget> MirrorsFromShadow(const std::map<std::string, int>& shadow) {
  std::vector<MirrorTarget> out;
  for (const auto& [name, percent] : shadow) {
    if (percent > 0) out.push_back({name, percent});
  }
  return out;
}

std::optional<std::string> NormalizeHostHeader(std::string_view value) {
  if (value.empty() || value.size() > 260) return std::nullopt;
  std::string_view host = value;
  std::string_view port;
  if (host.front() == '[') {  // IPv6 literal
    size_t close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view inside = host.substr(1, close - 1);
    if (inside.empty()) return std::nullopt;
    for (char c : inside) {
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return std::nullopt;
    }
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
    host = host.substr(0, close + 1);
  } else if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
    if (port.empty()) return std::nullopt;
  }
  if (port.size() > 5) return std::nullopt;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (host.front() != '[' && !IsIpv4(host) && !IsValidHostName(host)) return std::nullopt;
  std::string out = Lower(host);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

bool PathHasPrefix(std::string_view path, std::string_view prefix) {
  if (prefix.empty() || prefix == "/") return true;
  if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  if (path.size() == prefix.size() || prefix.back() == '/') return true;
  char next = path[prefix.size()];
  return next == '/' || next == '?';
}

std::shared_ptr<const RouteTable> RouteTable::Empty() {
  return std::shared_ptr<const RouteTable>(new RouteTable());
}

Result<std::shared_ptr<const RouteTable>> RouteTable::Build(std::vector<Upstream> upstreams,
                                                            std::vector<Route> routes) {
  std::shared_ptr<RouteTable> table(new RouteTable());
  std::map<std::string, int> by_name;
  for (auto& up : upstreams) {
    std::string field = "upstream \"" + up.name + "\"";
    if (up.name.empty()) return errors::Invalid("upstream", "name is empty");
    if (!by_name.emplace(up.name, static_cast<int>(by_name.size())).second) {
      return errors::Invalid(field, "is defined twice");
    }
    for (const auto& b : up.backends) {
      if (b.port == 0) return errors::Invalid(field, "backend " + b.host + " has no port");
      if (!IsIpv4(b.host)) return errors::Invalid(field, "backend host \"" + b.host + "\" is not an IPv4 address");
    }
    if (!up.health.path.empty() && up.health.path.front() != '/') {
      return errors::Invalid(field, "health check path must start with '/'");
    }
    if (up.health.interval.count() <= 0 || up.health.timeout.count() <= 0 ||
        up.health.healthy_threshold < 1 || up.health.unhealthy_threshold < 1) {
      return errors::Invalid(field, "health check interval, timeout and thresholds must be positive");
    }
  }
  table->upstreams_ = std::move(upstreams);

  std::set<std::pair<std::string, std::string>> seen;
  for (auto& r : routes) {
    r.host = Lower(r.host);
    if (r.path_prefix == "/") r.path_prefix.clear();
    std::string field = "route " + r.host + r.path_prefix;
    if (r.host != kAnyHost && !IsValidHostName(r.host) && !IsIpv4(r.host)) {
      return errors::Invalid(field, "host is not a valid host name");
    }
    for (const auto& [name, value] : r.set_headers) {
      if (name.empty() || name.find_first_of(" :\r\n") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        return errors::Invalid(field, "header \"" + name + "\" is not a valid header");
      }
    }
    if (!r.path_prefix.empty() && r.path_prefix.front() != '/') {
      return errors::Invalid(field, "path prefix must start with '/'");
    }
    if (!seen.emplace(r.host, r.path_prefix).second) {
      return errors::Invalid(field, "another route has the same host and path prefix");
    }
    CompiledRoute compiled;
    long weight_sum = 0;
    std::vector<int> weights;
    for (const auto& t : r.targets) {
      auto it = by_name.find(t.upstream);
      if (it == by_name.end()) return errors::Invalid(field, "unknown upstream \"" + t.upstream + "\"");
      if (t.weight < 0) return errors::Invalid(field, "weight of \"" + t.upstream + "\" is negative");
      compiled.target_upstreams.push_back(it->second);
      weights.push_back(t.weight);
      weight_sum += t.weight;
    }
    if (weight_sum <= 0) return errors::Invalid(field, "needs at least one target with a positive weight");
    for (const auto& m : r.mirrors) {
      auto it = by_name.find(m.upstream);
      if (it == by_name.end()) return errors::Invalid(field, "unknown mirror upstream \"" + m.upstream + "\"");
      if (m.percent < 0 || m.percent > 100) {
        return errors::Invalid(field, "mirror percent of \"" + m.upstream + "\" is outside 0-100");
      }
      compiled.mirror_upstreams.push_back(it->second);
    }
    compiled.picker = std::make_unique<WeightedPicker>(std::move(weights));
    compiled.route = std::move(r);
    table->routes_.push_back(std::move(compiled));
  }
  std::sort(table->routes_.begin(), table->routes_.end(), [](const auto& a, const auto& b) {
    if (a.route.host != b.route.host) return a.route.host < b.route.host;
    return a.route.path_prefix.size() > b.route.path_prefix.size();
  });
  return std::shared_ptr<const RouteTable>(std::move(table));
}

const RouteTable::CompiledRoute* RouteTable::Match(std::string_view host, std::string_view path) const {
  for (std::string_view h : {host, std::string_view(kAnyHost)}) {
    auto it = std::lower_bound(routes_.begin(), routes_.end(), h,
                               [](const CompiledRoute& r, std::string_view x) { return r.route.host < x; });
    for (; it != routes_.end() && it->route.host == h; ++it) {
      if (PathHasPrefix(path, it->route.path_prefix)) return &*it;
    }
  }
  return nullptr;
}

std::string DropCookies(std::string_view value, const std::vector<std::string>& names) {
  std::string out;
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t end = value.find(';', pos);
    if (end == std::string_view::npos) end = value.size();
    std::string_view item = value.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    std::string_view name = item.substr(0, item.find('='));
    bool drop = std::any_of(names.begin(), names.end(), [&](const std::string& n) { return n == name; });
    if (!item.empty() && !drop) {
      if (!out.empty()) out += "; ";
      out += item;
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace quader::gateway
