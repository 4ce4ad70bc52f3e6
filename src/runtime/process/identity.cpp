#include "runtime/process/identity.h"

#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/files.h"

namespace quader::runtime::process {
namespace fs = std::filesystem;
namespace {

// What may stand in a passwd file's name field: no ':' or newline, no
// leading '-' or '+' (NIS), at most 64 characters.
bool LoginName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '-' || name[0] == '+') return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace

IdentityTable::IdentityTable(std::string dir, int base) : dir_(std::move(dir)), base_(base) {}

Status IdentityTable::LoadLocked() {
  if (loaded_) return Status::Ok();
  std::error_code ec;
  fs::create_directories(dir_ + "/etc", ec);
  if (ec) return errors::Internal("cannot create " + dir_ + "/etc: " + ec.message());
  // The sandbox binds the passwd and group files as the workload's user: the
  // directories must be searchable by everyone (the files hold no secret).
  chmod(dir_.c_str(), 0711);
  chmod((dir_ + "/etc").c_str(), 0755);
  std::ifstream in(dir_ + "/users");
  std::string name;
  int uid = 0;
  while (in >> name >> uid) {
    if (uid >= base_ && uid < base_ + kRange) uids_[name] = uid;
  }
  loaded_ = true;
  return Status::Ok();
}

Status IdentityTable::WriteFilesLocked(const HostIdentity& id) const {
  // Root and nobody as on any system, then the user, whose home is the
  // sandbox's private /home/NAME.
  std::string name = id.user.empty() ? "quader" : id.user;
  std::string uid = std::to_string(id.uid);
  WriteFileAtomically(id.passwd_file, [&](std::ofstream& f) {
    f << "root:x:0:0:root:/root:/bin/bash\n"
      << "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
      << name << ":x:" << uid << ":" << uid << ":Quader user " << name << ":/home/" << name << ":/bin/bash\n";
  });
  WriteFileAtomically(id.group_file, [&](std::ofstream& f) {
    f << "root:x:0:\nnogroup:x:65534:\n" << name << ":x:" << uid << ":\n";
  });
  for (const std::string& p : {id.passwd_file, id.group_file}) {
    if (chmod(p.c_str(), 0644) != 0) return errors::Internal("cannot write " + p);
  }
  return Status::Ok();
}

Result<HostIdentity> IdentityTable::Get(const std::string& user) {
  if (!user.empty() && !LoginName(user)) {
    return errors::Invalid("user", "\"" + user + "\" cannot be a host login name");
  }
  std::lock_guard<std::mutex> lock(mu_);
  QUADER_RETURN_IF_ERROR(LoadLocked());
  HostIdentity id;
  id.user = user;
  bool fresh = false;
  if (user.empty()) {
    id.uid = base_;
  } else if (auto it = uids_.find(user); it != uids_.end()) {
    id.uid = it->second;
  } else {
    int next = base_ + 1;
    for (const auto& [n, u] : uids_) next = std::max(next, u + 1);
    if (next >= base_ + kRange) return errors::Unavailable("no host uid is left for user " + user);
    std::ofstream out(dir_ + "/users", std::ios::app);
    out << user << " " << next << "\n";
    out.flush();
    if (!out) return errors::Internal("cannot write " + dir_ + "/users");
    uids_[user] = next;
    id.uid = next;
    fresh = true;
  }
  id.gid = id.uid;
  id.passwd_file = dir_ + "/etc/" + std::to_string(id.uid) + ".passwd";
  id.group_file = dir_ + "/etc/" + std::to_string(id.uid) + ".group";
  std::error_code ec;
  if (fresh || !fs::exists(id.passwd_file, ec) || !fs::exists(id.group_file, ec)) {
    QUADER_RETURN_IF_ERROR(WriteFilesLocked(id));
  }
  return id;
}

}  // namespace quader::runtime::process
