#include "runtime/docker/cgroup_memory.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace quader::runtime::docker {
namespace {

// The value after `key` in a "key value" per line file; nullopt when absent.
std::optional<int64_t> ReadKeyedValue(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name;
    int64_t value = 0;
    if (fields >> name >> value && name == key) return value;
  }
  return std::nullopt;
}

bool ListsController(const std::string& controllers, const std::string& wanted) {
  std::istringstream list(controllers);
  std::string item;
  while (std::getline(list, item, ',')) {
    if (item == wanted) return true;
  }
  return false;
}

}  // namespace

std::optional<int64_t> ReadOomKillCount(int pid, const std::string& proc_root,
                                        const std::string& cgroup_root) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in(proc_root + "/" + std::to_string(pid) + "/cgroup");
  if (!in) return std::nullopt;
  std::string v1_path, v2_path;
  std::string line;
  // Lines are "hierarchy-id:controllers:path"; v2 is "0::path".
  while (std::getline(in, line)) {
    size_t first = line.find(':');
    size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (ListsController(controllers, "memory")) v1_path = path;
    if (controllers.empty() && line.compare(0, first, "0") == 0) v2_path = path;
  }
  if (!v1_path.empty()) {
    if (auto count =
            ReadKeyedValue(cgroup_root + "/memory" + v1_path + "/memory.oom_control", "oom_kill")) {
      return count;
    }
  }
  if (!v2_path.empty()) {
    // Pure v2 mounts the hierarchy at the root; hybrid set-ups at unified/ (which
    // then usually has no memory controller, and no memory.events).
    for (const char* base : {"", "/unified"}) {
      if (auto count =
              ReadKeyedValue(cgroup_root + base + v2_path + "/memory.events", "oom_kill")) {
        return count;
      }
    }
  }
  return std::nullopt;
}

}  // namespace quader::runtime::docker
