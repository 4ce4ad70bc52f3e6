#pragma once
// Rendered response bodies of hot list routes, kept until the store's
// generation moves (any committed write). Keys name the route and whatever
// changes the answer (the caller). Thread-safe; bounded in entries.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace quader::api {

class ResponseCache {
 public:
  explicit ResponseCache(size_t max_entries = 1024) : max_entries_(max_entries) {}

  // The body cached under `key` at exactly `generation`, or null.
  std::shared_ptr<const std::string> Get(const std::string& key, uint64_t generation) const;
  // Remembers `body` as the answer for `key` at `generation`.
  void Put(const std::string& key, uint64_t generation, std::string body);

 private:
  struct Entry {
    uint64_t generation;
    std::shared_ptr<const std::string> body;
  };
  const size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
};

}  // namespace quader::api
