#include "gateway/traffic.h"

#include <cctype>
#include <vector>

namespace quader::gateway {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "\"s\"" (built by appending: GCC 12 warns falsely on `"\"" + std::string(...)`).
std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out.append(s.data(), s.size());
  out += '"';
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits on any of `seps`, trimming items and dropping empty ones (a trailing
// separator is common in hand-written fields).
std::vector<std::string_view> SplitItems(std::string_view s, std::string_view seps) {
  std::vector<std::string_view> items;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || seps.find(s[i]) != std::string_view::npos) {
      auto item = Trim(s.substr(start, i - start));
      if (!item.empty()) items.push_back(item);
      start = i + 1;
    }
  }
  return items;
}

// "20%" or "20" → 20 when within [lo, hi].
Result<int> ParsePercent(const std::string& field, std::string_view text, int lo, int hi) {
  text = Trim(text);
  if (!text.empty() && text.back() == '%') text.remove_suffix(1);
  text = Trim(text);
  if (text.empty() || text.size() > 4) {
    return errors::Invalid(field, Quote(text) + " is not a percentage");
  }
  int v = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return errors::Invalid(field, Quote(text) + " is not a percentage");
    }
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) {
    return errors::Invalid(field, std::to_string(v) + "% is outside " + std::to_string(lo) + "-" +
                                      std::to_string(hi));
  }
  return v;
}

bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

Result<std::map<std::string, int>> ParseTargets(const std::string& field, std::string_view value,
                                                bool limit_sum) {
  std::map<std::string, int> out;
  int sum = 0;
  for (auto item : SplitItems(value, ",;")) {
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return errors::Invalid(field, Quote(item) + " is not name:percent");
    }
    std::string name(Trim(item.substr(0, colon)));
    if (!IsDnsLabel(name)) {
      return errors::Invalid(field, Quote(name) + " is not a service name (lowercase letters, digits, '-')");
    }
    QUADER_ASSIGN_OR_RETURN(int percent, ParsePercent(field, item.substr(colon + 1), 0, 100));
    if (!out.emplace(name, percent).second) {
      return errors::Invalid(field, "service \"" + name + "\" is named twice");
    }
    sum += percent;
  }
  if (limit_sum && sum > 100) {
    return errors::Invalid(field, "percentages add up to " + std::to_string(sum) + "%, over 100%");
  }
  return out;
}

Result<int> ParsePort(const std::string& field, std::string_view text) {
  text = Trim(text);
  if (text.empty() || text.size() > 5) return errors::Invalid(field, Quote(text) + " is not a port");
  int v = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return errors::Invalid(field, Quote(text) + " is not a port");
    }
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > 65535) return errors::Invalid(field, "port " + std::to_string(v) + " is outside 1-65535");
  return v;
}

// "port:/path" shared by health and metrics.
Result<std::pair<int, std::string>> ParsePortPath(const std::string& field, std::string_view value) {
  value = Trim(value);
  size_t colon = value.find(':');
  if (colon == std::string_view::npos) {
    return errors::Invalid(field, Quote(value) + " is not port:/path");
  }
  QUADER_ASSIGN_OR_RETURN(int port, ParsePort(field, value.substr(0, colon)));
  std::string path(Trim(value.substr(colon + 1)));
  if (path.empty() || path.front() != '/') {
    return errors::Invalid(field, "path \"" + path + "\" must start with '/'");
  }
  for (char c : path) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
      return errors::Invalid(field, "path \"" + path + "\" contains spaces or control characters");
    }
  }
  return std::make_pair(port, path);
}

}  // namespace

bool IsValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.back() == '.') host.remove_suffix(1);  // absolute form
  size_t start = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      auto label = host.substr(start, i - start);
      if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
      for (char c : label) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
      }
      start = i + 1;
    }
  }
  return true;
}

Result<std::map<std::string, int>> ParseCanary(std::string_view value) {
  return ParseTargets("canary", value, /*limit_sum=*/true);
}

Result<std::map<std::string, int>> ParseShadow(std::string_view value) {
  return ParseTargets("shadow", value, /*limit_sum=*/false);
}

Result<HealthSpec> ParseHealth(std::string_view value) {
  value = Trim(value);
  if (value.empty()) return errors::Invalid("health", "empty; expected port:/path or shell:command");
  HealthSpec spec;
  if (value.substr(0, 6) == "shell:") {
    spec.kind = HealthSpec::Kind::kShell;
    spec.command = std::string(Trim(value.substr(6)));
    if (spec.command.empty()) return errors::Invalid("health", "shell: needs a command");
    return spec;
  }
  QUADER_ASSIGN_OR_RETURN(auto port_path, ParsePortPath("health", value));
  spec.port = port_path.first;
  spec.path = std::move(port_path.second);
  return spec;
}

Result<HpaSpec> ParseHpa(std::string_view value) {
  HpaSpec spec;
  for (auto item : SplitItems(value, ",;")) {
    size_t sep = item.find_first_of(":=");
    if (sep == std::string_view::npos) {
      return errors::Invalid("hpa", Quote(item) + " is not metric:percent");
    }
    std::string key = Lower(Trim(item.substr(0, sep)));
    std::optional<int>* slot = key == "cpu" ? &spec.cpu : key == "mem" ? &spec.mem : key == "gpu" ? &spec.gpu : nullptr;
    if (!slot) return errors::Invalid("hpa", "unknown metric \"" + key + "\" (cpu, mem or gpu)");
    if (slot->has_value()) return errors::Invalid("hpa", "metric \"" + key + "\" is named twice");
    // cube-studio's own guide writes `mem:%50`: the sign may come first
    // (its validator allows `%` anywhere), but only once.
    std::string_view amount = Trim(item.substr(sep + 1));
    if (!amount.empty() && amount.front() == '%') {
      amount.remove_prefix(1);
      if (!amount.empty() && amount.back() == '%') {
        return errors::Invalid("hpa", "metric \"" + key + "\": " + Quote(item.substr(sep + 1)) +
                                          " has two percent signs");
      }
    }
    QUADER_ASSIGN_OR_RETURN(int percent, ParsePercent("hpa", amount, 1, 100));
    *slot = percent;
  }
  return spec;
}

Result<MetricsSpec> ParseMetrics(std::string_view value) {
  QUADER_ASSIGN_OR_RETURN(auto port_path, ParsePortPath("metrics", value));
  return MetricsSpec{port_path.first, std::move(port_path.second)};
}

Result<std::string> ValidateCustomHost(std::string_view value, std::string_view wildcard_domain) {
  std::string host = Lower(Trim(value));
  if (size_t scheme = host.find("://"); scheme != std::string::npos) {
    std::string s = host.substr(0, scheme);
    if (s != "http" && s != "https") return errors::Invalid("host", "scheme \"" + s + "\" is not http or https");
    host = host.substr(scheme + 3);
  }
  host = host.substr(0, host.find('/'));
  if (size_t colon = host.find(':'); colon != std::string::npos) {
    QUADER_RETURN_IF_ERROR(ParsePort("host", host.substr(colon + 1)).status());
    host.resize(colon);
  }
  if (!IsValidHostName(host)) return errors::Invalid("host", Quote(host) + " is not a valid host name");
  std::string domain = Lower(Trim(wildcard_domain));
  if (domain.substr(0, 2) == "*.") domain = domain.substr(2);
  if (domain.empty()) return errors::Invalid("host", "no wildcard domain is configured for custom hosts");
  std::string suffix = "." + domain;
  if (host.size() <= suffix.size() || host.compare(host.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return errors::Invalid("host", Quote(host) + " must end with the wildcard domain *." + domain);
  }
  return host;
}

Result<std::string> InferenceServiceName(std::string_view service_type, std::string_view model_name,
                                         std::string_view model_version) {
  std::string type = Lower(Trim(service_type));
  std::string model = Lower(Trim(model_name));
  std::string digits;
  for (char c : model_version) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  }
  if (!IsDnsLabel(type)) return errors::Invalid("service_type", Quote(type) + " is not a DNS label");
  if (!IsDnsLabel(model)) return errors::Invalid("model_name", Quote(model) + " is not a DNS label (lowercase letters, digits, '-')");
  if (digits.empty()) {
    return errors::Invalid("model_version", Quote(model_version) + " has no digits");
  }
  std::string name = type + "-" + model + "-" + digits;
  if (name.size() > 63) {
    return errors::Invalid("model_name", "the service name \"" + name + "\" is longer than 63 characters");
  }
  return name;
}

}  // namespace quader::gateway
