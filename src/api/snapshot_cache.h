#pragma once
// Parsed pipeline snapshots of runs, by run id. A run's snapshot never
// changes, so polling GET /runs/{id} of a 10,000-task run parses it once
// rather than on every request. Thread-safe; keeps the few most recently
// used (a 10,000-task pipeline parsed is some megabytes).

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "pipeline/spec.h"

namespace quader::api {

class SnapshotCache {
 public:
  explicit SnapshotCache(size_t capacity = 4) : capacity_(capacity) {}

  // The pipeline of run `run_id` from its stored `snapshot` JSON; null when
  // the snapshot cannot be read (the caller shows the tasks without it).
  std::shared_ptr<const pipeline::PipelineSpec> Get(int64_t run_id, const std::string& snapshot);

 private:
  const size_t capacity_;
  std::mutex mu_;
  // Most recently used first; guarded by mu_.
  std::list<std::pair<int64_t, std::shared_ptr<const pipeline::PipelineSpec>>> entries_;
};

}  // namespace quader::api
