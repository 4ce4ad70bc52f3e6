#include "auth/login_limiter.h"

#include <algorithm>

namespace quader::auth {
namespace {

int64_t CeilSeconds(std::chrono::system_clock::duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::max<int64_t>(1, (ms + 999) / 1000);
}

std::string Duration(std::chrono::seconds s) {
  int64_t n = s.count();
  if (n % 60 == 0) return std::to_string(n / 60) + (n == 60 ? " minute" : " minutes");
  return std::to_string(n) + " s";
}

}  // namespace

std::string LimiterKey(const std::string& username) { return username.substr(0, 128); }

LoginLimiter::LoginLimiter(const Clock& clock, LoginLimits limits) : clock_(clock), limits_(limits) {}

std::optional<LoginRefusal> LoginLimiter::Admit(const std::string& username, const std::string& address) {
  const TimePoint now = clock_.Now();
  const std::string key = LimiterKey(username);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = users_.find(key); it != users_.end()) {
    const UserState& u = it->second;
    if (now < u.locked_until) {
      return LoginRefusal{"user_failures", CeilSeconds(u.locked_until - now),
                          "too many failed sign-ins for user \"" + key + "\" (the limit is " +
                              std::to_string(limits_.user_max_failures) + " failures within " +
                              Duration(limits_.user_window) + "): signing in as this user is locked for " +
                              std::to_string(CeilSeconds(u.locked_until - now)) + " s more"};
    }
    if (now - std::max(u.last_failure, u.locked_until) >= limits_.user_window) users_.erase(it);
  }
  auto [it, added] = addresses_.try_emplace(address);
  AddressState& a = it->second;
  if (added || now - a.window_start >= limits_.address_window) {
    a.failures = 0;
    a.window_start = now;
  }
  if (a.failures >= limits_.address_max_failures) {
    int64_t retry = CeilSeconds(a.window_start + limits_.address_window - now);
    return LoginRefusal{"address_failures", retry,
                        "too many failed sign-ins from " + address + " (the limit is " +
                            std::to_string(limits_.address_max_failures) + " failures per " +
                            Duration(limits_.address_window) + "): retry in " + std::to_string(retry) + " s"};
  }
  if (a.in_flight >= limits_.address_max_in_flight) {
    return LoginRefusal{"address_in_flight", 1,
                        "too many sign-ins in progress from " + address + " (the limit is " +
                            std::to_string(limits_.address_max_in_flight) + " at once): retry in 1 s"};
  }
  ++a.in_flight;
  if (addresses_.size() > kMaxTracked || users_.size() > kMaxTracked) PruneLocked(now);
  return std::nullopt;
}

void LoginLimiter::Finish(const std::string& username, const std::string& address, Outcome outcome) {
  const TimePoint now = clock_.Now();
  const std::string key = LimiterKey(username);
  std::lock_guard<std::mutex> lock(mu_);
  auto a = addresses_.find(address);
  if (a != addresses_.end() && a->second.in_flight > 0) --a->second.in_flight;
  if (outcome == Outcome::kSuccess) {
    users_.erase(key);
    return;
  }
  if (outcome != Outcome::kFailure) return;
  UserState& u = users_[key];
  if (u.failures > 0 && now - std::max(u.last_failure, u.locked_until) >= limits_.user_window) u = UserState{};
  ++u.failures;
  u.last_failure = now;
  if (u.failures >= limits_.user_max_failures) {
    auto lockout = limits_.user_base_lockout * (int64_t{1} << std::min(u.lockouts, 20));
    u.locked_until = now + std::min<std::chrono::seconds>(lockout, limits_.user_max_lockout);
    ++u.lockouts;
  }
  if (a != addresses_.end()) {
    if (now - a->second.window_start >= limits_.address_window) {
      a->second.failures = 0;
      a->second.window_start = now;
    }
    ++a->second.failures;
  }
  if (users_.size() > kMaxTracked) PruneLocked(now);
}

// REQUIRES: mu_ is held.
void LoginLimiter::PruneLocked(TimePoint now) {
  for (auto it = users_.begin(); it != users_.end();) {
    it = now >= it->second.locked_until ? users_.erase(it) : std::next(it);
  }
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    const AddressState& a = it->second;
    bool limiting = a.in_flight > 0 || (a.failures >= limits_.address_max_failures &&
                                        now - a.window_start < limits_.address_window);
    it = limiting ? std::next(it) : addresses_.erase(it);
  }
}

}  // namespace quader::auth
