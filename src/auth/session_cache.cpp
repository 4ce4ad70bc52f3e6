#include "auth/session_cache.h"

#include "auth/passwords.h"
#include "auth/users.h"

#include <atomic>

namespace quader::auth {
namespace {
std::atomic<uint64_t> g_revocations{0};
}  // namespace

void NoteTokensRevoked() { g_revocations.fetch_add(1); }
uint64_t RevocationCount() { return g_revocations.load(); }

SessionCache::SessionCache(store::Store& store, const Clock& clock, std::chrono::milliseconds ttl)
    : store_(store), clock_(clock), ttl_(ttl) {}

std::optional<Principal> SessionCache::Lookup(const std::string& token) {
  if (token.empty() || token.size() > 256) return std::nullopt;
  std::string hash = HashToken(token);
  auto now = std::chrono::steady_clock::now();
  // Read before the store: a revocation that lands during the read makes
  // this entry stale at once.
  const uint64_t revocations = RevocationCount();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(hash);
    if (it != entries_.end() && now < it->second.until && it->second.revocations == revocations) {
      return it->second.who;
    }
  }
  auto who = Authenticate(store_, clock_, token);
  std::optional<Principal> result = who.ok() ? std::optional<Principal>(*who) : std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() > 10000) {  // bounded: drop what has expired, else everything
    for (auto it = entries_.begin(); it != entries_.end();) it = now >= it->second.until ? entries_.erase(it) : ++it;
    if (entries_.size() > 10000) entries_.clear();
  }
  entries_[hash] = {result, now + ttl_, revocations};
  return result;
}

std::string CookieValue(std::string_view header, std::string_view name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view item = header.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.size() > name.size() && item.compare(0, name.size(), name) == 0 && item[name.size()] == '=') {
      std::string_view value = item.substr(name.size() + 1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      return std::string(value);
    }
    pos = end + 1;
  }
  return "";
}

}  // namespace quader::auth
