#include "api/snapshot_cache.h"

namespace quader::api {

std::shared_ptr<const pipeline::PipelineSpec> SnapshotCache::Get(int64_t run_id, const std::string& snapshot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first != run_id) continue;
      entries_.splice(entries_.begin(), entries_, it);
      return entries_.front().second;
    }
  }
  // Parsed outside the lock: other requests are not held up by a big one.
  Json j = Json::parse(snapshot, nullptr, false);
  if (!j.is_object()) return nullptr;
  auto spec = pipeline::ParsePipelineSpec(j.value("pipeline", Json::object()));
  if (!spec.ok()) return nullptr;
  auto parsed = std::make_shared<const pipeline::PipelineSpec>(std::move(*spec));
  std::lock_guard<std::mutex> lock(mu_);
  entries_.emplace_front(run_id, parsed);
  if (entries_.size() > capacity_) entries_.pop_back();
  return parsed;
}

}  // namespace quader::api
