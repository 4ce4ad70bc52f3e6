#include "api/response_cache.h"

namespace quader::api {

std::shared_ptr<const std::string> ResponseCache::Get(const std::string& key, uint64_t generation) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.generation != generation) return nullptr;
  return it->second.body;
}

void ResponseCache::Put(const std::string& key, uint64_t generation, std::string body) {
  auto shared = std::make_shared<const std::string>(std::move(body));
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= max_entries_ && !entries_.count(key)) {
    // Stale entries are useless; drop them all rather than track recency.
    entries_.clear();
  }
  entries_[key] = Entry{generation, std::move(shared)};
}

}  // namespace quader::api
