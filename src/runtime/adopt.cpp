#include "runtime/adopt.h"

#include <spdlog/spdlog.h>

#include "runtime/labels.h"

namespace quader::runtime {

Result<AdoptionReport> AdoptWorkloads(Runtime& runtime, const std::string& instance,
                                      const std::map<std::string, OwnerCheck>& owners) {
  QUADER_ASSIGN_OR_RETURN(auto found, runtime.List({{kLabelManaged, "true"}, {kLabelInstance, instance}}));
  AdoptionReport report;
  for (const auto& w : found) {
    auto kind = w.labels.find(kLabelKind);
    auto owner = kind == w.labels.end() ? owners.end() : owners.find(kind->second);
    if (owner != owners.end() && owner->second(w)) {
      ++report.adopted;
      continue;
    }
    Status st = runtime.Stop(w.id, std::chrono::seconds(5));
    if (st.ok()) {
      ++report.removed;
      spdlog::info("[runtime] removed orphan workload {} ({})", w.name, w.id);
    } else {
      spdlog::warn("[runtime] could not remove orphan workload {}: {}", w.name, st.ToString());
    }
  }
  return report;
}

}  // namespace quader::runtime
