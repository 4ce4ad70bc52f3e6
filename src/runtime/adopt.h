#pragma once
// Adoption after a restart (ARCHITECTURE.md, STYLE.md "Recover before
// serving"): the server lists the workloads carrying its instance label;
// those an owner still claims keep running and are re-attached by their
// controller, the rest are orphans and are removed.

#include <functional>
#include <map>
#include <string>

#include "runtime/runtime.h"

namespace quader::runtime {

// True when the workload's owner (found by its labels) still exists and wants it.
using OwnerCheck = std::function<bool(const WorkloadStatus&)>;

struct AdoptionReport {
  int adopted = 0;
  int removed = 0;
};

// Lists workloads labelled managed + `instance`; a workload whose kLabelKind
// has an entry in `owners` that returns true is adopted, every other one is
// stopped and removed. Errors listing are returned; a failed removal is
// logged and counted as not removed.
Result<AdoptionReport> AdoptWorkloads(Runtime& runtime, const std::string& instance,
                                      const std::map<std::string, OwnerCheck>& owners);

}  // namespace quader::runtime
