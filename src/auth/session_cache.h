#pragma once
// Who is behind a session token, for hot paths that must not wait on the
// store for every request (the gateway's access hooks run on its io
// threads). Answers from memory for `ttl` after a lookup; a miss reads the
// store once. An expired token is therefore refused at most `ttl` late; a
// token revoked through this process (logout, password change, deactivation,
// deletion: NoteTokensRevoked) at once, since every cache forgets what it
// held; one revoked through another server sharing the store at most `ttl`
// late. Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "auth/access.h"
#include "core/clock.h"
#include "store/store.h"

namespace quader::auth {

class SessionCache {
 public:
  SessionCache(store::Store& store, const Clock& clock, std::chrono::milliseconds ttl = std::chrono::seconds(5));

  // The signed-in user of `token`; nullopt when it is empty, unknown,
  // expired or its user inactive.
  std::optional<Principal> Lookup(const std::string& token);

 private:
  struct Entry {
    std::optional<Principal> who;
    std::chrono::steady_clock::time_point until;
    uint64_t revocations;  // RevocationCount() when it was read from the store
  };
  store::Store& store_;
  const Clock& clock_;
  const std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // by token hash; guarded by mu_
};

// Call after a committed write that deleted tokens or deactivated a user:
// every SessionCache in this process stops answering from what it read before.
void NoteTokensRevoked();
// How many times NoteTokensRevoked was called in this process.
uint64_t RevocationCount();

// The browser's session cookie (set by POST /api/v1/login).
inline constexpr const char* kSessionCookie = "quader_session";

// The value of cookie `name` in a Cookie header, or "".
std::string CookieValue(std::string_view header, std::string_view name);

}  // namespace quader::auth
