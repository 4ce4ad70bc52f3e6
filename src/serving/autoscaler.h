#pragma once
// The autoscaler of an inference service (SPEC §8 `hpa`), deciding like
// Kubernetes' HorizontalPodAutoscaler (autoscaling/v2 defaults):
// - per metric, desired = ceil(ready × utilization / target); the largest
//   wins; metrics with no sample are skipped;
// - within the tolerance (|utilization / target − 1| ≤ 0.1) nothing changes;
// - scaling up is immediate but at most to max(2 × current, current + 4);
// - scaling down is stabilized: the count is the highest recommendation of
//   the last `scale_down_window`, so a short lull does not drop replicas;
// - the result is clamped to [min, max].
// Pure: the caller samples the replicas and applies the decision.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/traffic.h"
#include "runtime/runtime.h"

namespace quader::serving {

struct AutoscalerOptions {
  double tolerance = 0.1;
  int64_t scale_down_window_ms = 300'000;  // Kubernetes' default: 5 minutes
};

// One sample over the ready replicas: utilization in percent of what each
// replica asked for (cpu: cores used / cores requested; mem: bytes / limit).
struct UtilizationSample {
  int ready = 0;  // replicas the sample covers
  std::optional<double> cpu_percent;
  std::optional<double> mem_percent;
  std::optional<double> gpu_percent;
};

// The sample of the ready replicas' `stats` (one entry per replica the
// runtime could measure), in percent of what each asked for: CPU of
// `cpu_request` cores (one core when 0: a replica without a request may use
// one core before others suffer), memory of `memory_request` bytes (else
// each replica's limit; unmeasured without either), GPU as the runtime
// reports it, and only when it does for every replica (otherwise unset:
// a `gpu` target then has nothing to act on).
UtilizationSample SampleOf(const std::vector<runtime::WorkloadStats>& stats, double cpu_request,
                           int64_t memory_request);

struct ScaleDecision {
  int replicas = 0;     // the new count (equal to `current`: no change)
  std::string reason;   // "cpu 180% of 50% target on 2 replicas: 2 → 4 (max 4)"
};

class Autoscaler {
 public:
  explicit Autoscaler(AutoscalerOptions options = {}) : options_(options) {}

  // `current` is the replica count now (desired, not necessarily ready).
  ScaleDecision Decide(int64_t now_ms, int current, int min_replicas, int max_replicas,
                       const gateway::HpaSpec& hpa, const UtilizationSample& sample);

 private:
  AutoscalerOptions options_;
  std::deque<std::pair<int64_t, int>> recommendations_;  // (when, replicas), oldest first
};

}  // namespace quader::serving
