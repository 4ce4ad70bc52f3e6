#pragma once
// Limits on password guessing (POST /api/v1/login), per username and per
// client address. In memory: a server restart forgets every count and
// lockout, and each server sharing a store counts on its own.
//
// Per username (whether or not the user exists, so a refusal tells nothing
// about which names exist):
//   - failures count until `user_window` passes without one (counted from
//     the end of a lockout, if later), or until a successful sign-in, which
//     resets the count;
//   - the `user_max_failures`-th failure and every failure after it lock the
//     name for `user_base_lockout`, doubled at each further lockout, at most
//     `user_max_lockout`;
//   - while locked, attempts are refused without checking the password.
// Per client address (the TCP peer; X-Forwarded-For is not trusted, the
// server has no notion of a trusted proxy):
//   - at most `address_max_failures` failures in a fixed window of
//     `address_window`; further attempts are refused until it ends;
//   - at most `address_max_in_flight` attempts checked at once.
// Refused attempts count as neither failure nor success.
//
// Thread-safe. Memory is bounded: at most kMaxTracked names and addresses
// each; past that, entries that neither lock nor limit anything are dropped.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"

namespace quader::auth {

struct LoginLimits {
  int user_max_failures = 5;
  std::chrono::seconds user_window{15 * 60};
  std::chrono::seconds user_base_lockout{60};
  std::chrono::seconds user_max_lockout{60 * 60};
  int address_max_failures = 20;
  std::chrono::seconds address_window{60};
  int address_max_in_flight = 4;
};

// Why an attempt was refused; the API answers 429 with Retry-After.
struct LoginRefusal {
  std::string limit;            // "user_failures", "address_failures" or "address_in_flight"
  int64_t retry_after_seconds;  // >= 1
  std::string message;          // names the limit and when to retry
};

class LoginLimiter {
 public:
  static constexpr size_t kMaxTracked = 100000;

  LoginLimiter(const Clock& clock, LoginLimits limits = {});

  // Admits one attempt of `username` from `address`, or says why not. An
  // admitted attempt is in flight until Finish().
  std::optional<LoginRefusal> Admit(const std::string& username, const std::string& address);

  enum class Outcome { kSuccess, kFailure, kNotChecked };
  // Ends an admitted attempt: kSuccess resets the name's failures, kFailure
  // counts against the name and the address, kNotChecked (the password was
  // never checked, e.g. the hashing workers were busy) counts nothing.
  void Finish(const std::string& username, const std::string& address, Outcome outcome);

  const LoginLimits& limits() const { return limits_; }

 private:
  using TimePoint = std::chrono::system_clock::time_point;
  struct UserState {
    int failures = 0;
    int lockouts = 0;
    TimePoint last_failure;
    TimePoint locked_until;
  };
  struct AddressState {
    int failures = 0;
    int in_flight = 0;
    TimePoint window_start;
  };
  void PruneLocked(TimePoint now);

  const Clock& clock_;
  const LoginLimits limits_;
  std::mutex mu_;
  std::map<std::string, UserState> users_;          // guarded by mu_
  std::map<std::string, AddressState> addresses_;   // guarded by mu_
};

// The key a username is counted under: at most 128 bytes of it (longer
// names cannot exist, and must not grow memory).
std::string LimiterKey(const std::string& username);

}  // namespace quader::auth
