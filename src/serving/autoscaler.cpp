#include "serving/autoscaler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace quader::serving {
namespace {

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f%%", v);
  return buf;
}

}  // namespace

UtilizationSample SampleOf(const std::vector<runtime::WorkloadStats>& stats, double cpu_request,
                           int64_t memory_request) {
  UtilizationSample out;
  double cores = 0, cores_asked = 0, memory = 0, memory_asked = 0, gpu = 0;
  int gpu_measured = 0;
  for (const auto& s : stats) {
    out.ready++;
    cores += s.cpu_cores;
    cores_asked += cpu_request > 0 ? cpu_request : 1.0;
    int64_t limit = memory_request > 0 ? memory_request : s.memory_limit_bytes;
    if (limit > 0) {
      memory += static_cast<double>(s.memory_bytes);
      memory_asked += static_cast<double>(limit);
    }
    if (s.gpu_percent) {
      gpu += *s.gpu_percent;
      gpu_measured++;
    }
  }
  if (out.ready == 0) return out;
  out.cpu_percent = 100.0 * cores / cores_asked;
  if (memory_asked > 0) out.mem_percent = 100.0 * memory / memory_asked;
  if (gpu_measured == out.ready) out.gpu_percent = gpu / gpu_measured;
  return out;
}

ScaleDecision Autoscaler::Decide(int64_t now_ms, int current, int min_replicas, int max_replicas,
                                 const gateway::HpaSpec& hpa, const UtilizationSample& sample) {
  ScaleDecision out;
  out.replicas = std::clamp(current, min_replicas, max_replicas);
  if (out.replicas != current) {
    out.reason = "outside " + std::to_string(min_replicas) + ".." + std::to_string(max_replicas) + ": " +
                 std::to_string(current) + " → " + std::to_string(out.replicas);
    recommendations_.clear();
    return out;
  }
  // The recommendation from this sample: the largest over the metrics.
  int recommended = -1;
  std::string why;
  auto consider = [&](const char* name, const std::optional<int>& target, const std::optional<double>& used) {
    if (!target || !used || sample.ready <= 0) return;
    double ratio = *used / *target;
    int desired = std::abs(ratio - 1.0) <= options_.tolerance
                      ? current
                      : static_cast<int>(std::ceil(sample.ready * ratio - 1e-9));
    if (desired > recommended) {
      recommended = desired;
      why = std::string(name) + " " + Percent(*used) + " of " + Percent(*target) + " target on " +
            std::to_string(sample.ready) + (sample.ready == 1 ? " replica" : " replicas");
    }
  };
  consider("cpu", hpa.cpu, sample.cpu_percent);
  consider("mem", hpa.mem, sample.mem_percent);
  consider("gpu", hpa.gpu, sample.gpu_percent);
  if (recommended < 0) return out;  // nothing measured
  recommended = std::clamp(recommended, min_replicas, max_replicas);

  // Scale-down stabilization: the highest recommendation within the window.
  recommendations_.push_back({now_ms, recommended});
  while (!recommendations_.empty() && recommendations_.front().first < now_ms - options_.scale_down_window_ms) {
    recommendations_.pop_front();
  }
  int target = recommended;
  if (recommended < current) {
    for (const auto& [at, r] : recommendations_) target = std::max(target, r);
    target = std::min(target, current);
  } else if (recommended > current) {
    target = std::min(recommended, std::max(2 * current, current + 4));
  }
  target = std::clamp(target, min_replicas, max_replicas);
  if (target == current) return out;
  out.replicas = target;
  out.reason = why + ": " + std::to_string(current) + " → " + std::to_string(target) + " (min " +
               std::to_string(min_replicas) + ", max " + std::to_string(max_replicas) + ")";
  return out;
}

}  // namespace quader::serving
