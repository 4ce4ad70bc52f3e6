#pragma once
// Host identities of sandboxed workloads (docs/security.md).
//
// Every Quader user's workloads run as one unprivileged host uid of their
// own (gid equal to it), so that the kernel, not Quader, keeps one user's
// processes and files from another's: that user's workloads share
// `/mnt/$username`, and nobody else's can read or signal them. Uids are
// handed out from `base` upwards in order of first use and never change
// (a user re-created under the same name gets the same uid, as it gets the
// same `/mnt/$username`). Workloads that name no user share `base`.
//
// The table lives in `<dir>/users` (one "name uid" per line), and for every
// uid a passwd and a group file (`<dir>/etc/UID.passwd`, `UID.group`) that
// the sandbox shows as its /etc/passwd and /etc/group, so that `id`,
// `whoami`, Python's getpass and the like work inside.
//
// Thread-safe.

#include <map>
#include <mutex>
#include <string>

#include "core/status.h"

namespace quader::runtime::process {

struct HostIdentity {
  std::string user;  // the Quader user ("" for none)
  int uid = -1;
  int gid = -1;
  std::string passwd_file;  // host paths of the files shown at /etc/passwd, /etc/group
  std::string group_file;
};

class IdentityTable {
 public:
  // Uids [base, base + kRange). `dir` is created on first use.
  static constexpr int kRange = 1 << 20;
  IdentityTable(std::string dir, int base);

  // The identity of `user`, allocated (and its files written) on first use.
  // kInvalidArgument for a name that cannot be a login name (it appears in
  // the passwd file); kUnavailable when the range is used up;
  // kInternal when the table cannot be written.
  Result<HostIdentity> Get(const std::string& user);

 private:
  Status LoadLocked();
  Status WriteFilesLocked(const HostIdentity& id) const;

  const std::string dir_;
  const int base_;
  std::mutex mu_;
  bool loaded_ = false;             // guarded by mu_
  std::map<std::string, int> uids_;  // guarded by mu_
};

}  // namespace quader::runtime::process
