#include "auth/expand.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <regex>
#include <set>

namespace quader::auth {
namespace {

// Splits on any of `seps`, trimming items and dropping empty ones.
std::vector<std::string> SplitItems(const std::string& text, const std::string& seps) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (seps.find(c) != std::string::npos) {
      if (!TrimSpace(cur).empty()) out.push_back(TrimSpace(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!TrimSpace(cur).empty()) out.push_back(TrimSpace(cur));
  return out;
}

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool HasDotDot(const std::string& path) {
  for (const auto& part : SplitItems(path, "/")) {
    if (part == "..") return true;
  }
  return false;
}

Result<VolumeMount> ParseOneMount(const std::string& field, const std::string& item) {
  static const std::regex kItem(R"(^(.+)\(([A-Za-z-]+)\):(.*)$)");
  // A claim name is a DNS-1123 subdomain (dot-separated labels; no "..", so
  // no path step either where it names a directory under the data dir).
  static const std::regex kVolume(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  std::smatch m;
  if (!std::regex_match(item, m, kItem)) {
    return errors::Invalid(field, "\"" + item + "\" is not SOURCE(KIND):PATH");
  }
  VolumeMount vm;
  vm.source = TrimSpace(m[1].str());
  std::string kind = m[2];
  vm.mount_path = TrimSpace(m[3].str());
  if (kind == "pvc") {
    vm.kind = MountKind::kPvc;
    if (vm.source.size() > 253 || !std::regex_match(vm.source, kVolume)) {
      return errors::Invalid(field, "volume name \"" + vm.source +
                                        "\" must be a DNS name: lower-case letters, digits, '-' and '.' between them");
    }
  } else if (kind == "hostpath") {
    vm.kind = MountKind::kHostPath;
    if (HasDotDot(vm.source)) return errors::Invalid(field, "host path \"" + vm.source + "\" must not contain ..");
  } else if (kind == "memory") {
    vm.kind = MountKind::kMemory;
    QUADER_ASSIGN_OR_RETURN(vm.size_bytes, ParseMemorySize(field, vm.source));
  } else {
    return errors::Invalid(field, "unknown mount kind \"" + kind + "\" (use pvc, hostpath or memory)");
  }
  if (vm.mount_path.empty() || vm.mount_path[0] != '/') {
    return errors::Invalid(field, "mount path \"" + vm.mount_path + "\" must be absolute");
  }
  if (HasDotDot(vm.mount_path)) return errors::Invalid(field, "mount path \"" + vm.mount_path + "\" must not contain ..");
  return vm;
}

Result<std::string> StringSetting(const Json& v, const std::string& field) {
  if (!v.is_string()) return errors::Invalid(field, "must be a string");
  return v.get<std::string>();
}

}  // namespace

Result<int64_t> ParseMemorySize(const std::string& field, const std::string& text) {
  static const std::regex kSize(R"(^([0-9]+(\.[0-9]+)?)\s*([KkMmGgTt]i?[Bb]?)?$)");
  std::smatch m;
  if (!std::regex_match(text, m, kSize)) {
    return errors::Invalid(field, "\"" + text + "\" is not a size such as 4G or 512M");
  }
  // strtod, not stod: digits past a double's range give HUGE_VAL (refused below), not an exception.
  double n = std::strtod(m[1].str().c_str(), nullptr);
  std::string unit = m[3];
  double mult = 1;
  if (!unit.empty()) {
    switch (std::tolower(static_cast<unsigned char>(unit[0]))) {
      case 'k': mult = 1024.0; break;
      case 'm': mult = 1024.0 * 1024; break;
      case 'g': mult = 1024.0 * 1024 * 1024; break;
      case 't': mult = 1024.0 * 1024 * 1024 * 1024; break;
    }
  }
  double bytes = n * mult;
  if (bytes < 1 || bytes > 1e15) return errors::Invalid(field, "size \"" + text + "\" is out of range");
  return static_cast<int64_t>(bytes);
}

Result<std::vector<VolumeMount>> ParseVolumeMounts(const std::string& field, const std::string& text) {
  std::vector<VolumeMount> out;
  std::set<std::string> paths;
  auto items = SplitItems(text, ";,");
  for (size_t i = 0; i < items.size(); ++i) {
    std::string f = field + "[" + std::to_string(i) + "]";
    QUADER_ASSIGN_OR_RETURN(VolumeMount vm, ParseOneMount(f, items[i]));
    if (!paths.insert(vm.mount_path).second) {
      return errors::Invalid(f, "mount path \"" + vm.mount_path + "\" is mounted twice");
    }
    out.push_back(std::move(vm));
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseNodeSelector(const std::string& field,
                                                             const std::string& text) {
  static const std::regex kKey(R"(^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$)");
  static const std::regex kValue(R"(^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$)");
  std::map<std::string, std::string> out;
  auto items = SplitItems(text, ",;");
  for (size_t i = 0; i < items.size(); ++i) {
    std::string f = field + "[" + std::to_string(i) + "]";
    size_t eq = items[i].find('=');
    if (eq == std::string::npos) return errors::Invalid(f, "\"" + items[i] + "\" is not key=value");
    std::string k = TrimSpace(items[i].substr(0, eq)), v = TrimSpace(items[i].substr(eq + 1));
    if (!std::regex_match(k, kKey)) return errors::Invalid(f, "\"" + k + "\" is not a valid label key");
    if (v.size() > 63 || !std::regex_match(v, kValue)) {
      return errors::Invalid(f, "\"" + v + "\" is not a valid label value");
    }
    if (out.count(k)) return errors::Invalid(f, "label \"" + k + "\" given twice");
    out[k] = v;
  }
  return out;
}

Result<ProjectSettings> ParseExpand(const Json& input, Json* normalized) {
  Json expand = input;
  if (expand.is_null()) expand = Json::object();
  if (expand.is_string()) {
    std::string text = TrimSpace(expand.get<std::string>());
    if (text.empty()) text = "{}";
    expand = Json::parse(text, nullptr, false);
    if (expand.is_discarded()) return errors::Invalid("expand", "is not valid JSON");
  }
  if (!expand.is_object()) return errors::Invalid("expand", "must be a JSON object");

  ProjectSettings s;
  for (const auto& [key, value] : expand.items()) {
    std::string field = "expand." + key;
    if (key == "cluster") {
      static const std::regex kCluster("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$");
      QUADER_ASSIGN_OR_RETURN(s.cluster, StringSetting(value, field));
      if (!s.cluster.empty() && !std::regex_match(s.cluster, kCluster)) {
        return errors::Invalid(field, "\"" + s.cluster + "\" is not a valid cluster name");
      }
    } else if (key == "node_selector") {
      QUADER_ASSIGN_OR_RETURN(std::string text, StringSetting(value, field));
      QUADER_ASSIGN_OR_RETURN(s.node_selector, ParseNodeSelector(field, text));
    } else if (key == "volume_mount") {
      QUADER_ASSIGN_OR_RETURN(std::string text, StringSetting(value, field));
      QUADER_ASSIGN_OR_RETURN(s.volume_mounts, ParseVolumeMounts(field, text));
    } else if (key == "SERVICE_EXTERNAL_IP") {
      std::vector<std::string> ips;
      if (value.is_string()) {
        ips = SplitItems(value.get<std::string>(), ",;|");
      } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) {
          QUADER_ASSIGN_OR_RETURN(std::string ip, StringSetting(value[i], field + "[" + std::to_string(i) + "]"));
          ips.push_back(TrimSpace(ip));
        }
      } else {
        return errors::Invalid(field, "must be an IP address or a list of them");
      }
      for (const auto& ip : ips) {
        if (!IsIp(ip)) return errors::Invalid(field, "\"" + ip + "\" is not an IP address");
      }
      s.external_ips = std::move(ips);
    } else {
      return errors::Invalid(field, "unknown setting (use cluster, node_selector, volume_mount or "
                                    "SERVICE_EXTERNAL_IP)");
    }
  }
  if (normalized) *normalized = expand;
  return s;
}

}  // namespace quader::auth
