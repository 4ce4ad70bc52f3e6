#include "runtime/process/state_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

namespace quader::runtime::process {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

const char* LimitName(LimitKind k) {
  switch (k) {
    case LimitKind::kNone:
      return "none";
    case LimitKind::kCgroup:
      return "cgroup";
    case LimitKind::kRlimit:
      return "rlimit";
  }
  return "none";
}

LimitKind LimitFromName(const std::string& s) {
  return s == "cgroup" ? LimitKind::kCgroup : s == "rlimit" ? LimitKind::kRlimit : LimitKind::kNone;
}

json ToJson(const WorkloadRecord& r) {
  json ports = json::array();
  for (const PortMapping& p : r.ports) {
    ports.push_back({{"container_port", p.container_port},
                     {"host_port", p.host_port},
                     {"protocol", p.protocol}});
  }
  json j = {{"name", r.name},
            {"labels", r.labels},
            {"ports", ports},
            {"pid", r.pid},
            {"pgid", r.pid},
            {"start_ticks", r.start_ticks},
            {"started_at_ms", r.started_at_ms},
            {"cgroup",
             {{"version", r.cgroup.version},
              {"memory", r.cgroup.memory},
              {"cpu", r.cgroup.cpu},
              {"cpuacct", r.cgroup.cpuacct},
              {"pids", r.cgroup.pids}}},
            {"limit", LimitName(r.limit)},
            {"memory_limit_bytes", r.memory_limit_bytes},
            {"cpu", r.cpu},
            {"sandboxed", r.sandboxed},
            {"stamped", r.stamped},
            {"foreign_image", r.foreign_image},
            {"uid", r.uid},
            {"gid", r.gid},
            {"ended", r.ended},
            {"oom_killed", r.oom_killed},
            {"finished_at_ms", r.finished_at_ms},
            {"reason", r.reason}};
  if (r.exit_code) {
    j["exit_code"] = *r.exit_code;
  }
  return j;
}

WorkloadRecord FromJson(const json& j) {  // throws json::exception on a bad shape
  WorkloadRecord r;
  r.name = j.at("name").get<std::string>();
  r.labels = j.value("labels", std::map<std::string, std::string>{});
  for (const json& p : j.value("ports", json::array())) {
    PortMapping m;
    m.container_port = p.value("container_port", 0);
    m.host_port = p.value("host_port", 0);
    m.protocol = p.value("protocol", "tcp");
    r.ports.push_back(m);
  }
  r.pid = j.at("pid").get<int>();
  r.start_ticks = j.at("start_ticks").get<uint64_t>();
  r.started_at_ms = j.value("started_at_ms", int64_t{0});
  const json& cg = j.value("cgroup", json::object());
  r.cgroup.version = cg.value("version", 0);
  r.cgroup.memory = cg.value("memory", "");
  r.cgroup.cpu = cg.value("cpu", "");
  r.cgroup.cpuacct = cg.value("cpuacct", "");
  r.cgroup.pids = cg.value("pids", "");
  r.limit = LimitFromName(j.value("limit", "none"));
  r.memory_limit_bytes = j.value("memory_limit_bytes", int64_t{0});
  r.cpu = j.value("cpu", 0.0);
  r.sandboxed = j.value("sandboxed", false);
  r.stamped = j.value("stamped", false);
  r.foreign_image = j.value("foreign_image", "");
  r.uid = j.value("uid", -1);
  r.gid = j.value("gid", -1);
  r.ended = j.value("ended", false);
  if (j.contains("exit_code")) {
    r.exit_code = j.at("exit_code").get<int>();
  }
  r.oom_killed = j.value("oom_killed", false);
  r.finished_at_ms = j.value("finished_at_ms", int64_t{0});
  r.reason = j.value("reason", "");
  return r;
}

}  // namespace

Status StateDir::Ensure() const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return errors::Internal("cannot create the process runtime's state directory " + dir_ + ": " +
                            ec.message());
  }
  return Status::Ok();
}

Result<WorkloadRecord> StateDir::Load(const std::string& name) const {
  std::ifstream in(RecordPath(name));
  if (!in) {
    return errors::NotFound("workload", name);
  }
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return FromJson(json::parse(text.str()));
  } catch (const json::exception& e) {
    return errors::Internal("unreadable workload record " + RecordPath(name) + ": " + e.what());
  }
}

Status StateDir::Save(const WorkloadRecord& rec) const {
  const std::string path = RecordPath(rec.name);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << ToJson(rec).dump(2) << "\n";
    out.flush();
    if (!out) {
      return errors::Internal("cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return errors::Internal("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

std::vector<std::string> StateDir::Names() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().extension() == ".json") {
      out.push_back(e.path().stem().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void StateDir::Remove(const std::string& name) const {
  for (const std::string& p : {RecordPath(name), LogPath(name), ExitPath(name), PidPath(name)}) {
    unlink(p.c_str());
  }
}

std::optional<int> StateDir::ReadPid(const std::string& name) const {
  std::ifstream in(PidPath(name));
  int pid = 0;
  if (!in || !(in >> pid) || pid <= 0) {
    return std::nullopt;
  }
  return pid;
}

std::optional<std::pair<int, int64_t>> StateDir::ReadExit(const std::string& name) const {
  const std::string path = ExitPath(name);
  // The wrapper shell writes the number; bubblewrap's --json-status-fd a line
  // `{ "child-pid": N, ... }` at the start and `{ "exit-code": N }` at the end.
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string key = "\"exit-code\":";
  size_t at = text.find(key);
  if (at != std::string::npos) {
    at += key.size();
  } else if (text.find('{') != std::string::npos) {
    return std::nullopt;  // bubblewrap's monitor is still running (or was killed)
  } else {
    at = 0;
  }
  int code = 0;
  std::istringstream number(text.substr(at));
  if (!(number >> code)) {
    return std::nullopt;
  }
  struct stat st {};
  int64_t mtime_ms = 0;
  if (stat(path.c_str(), &st) == 0) {
    mtime_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  }
  return std::make_pair(code, mtime_ms);
}

}  // namespace quader::runtime::process
