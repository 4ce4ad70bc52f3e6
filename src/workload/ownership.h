#pragma once
// Which stored object a workload belongs to, from the labels every workload
// carries (runtime/labels.h), and the one ownership check that adoption at
// start (runtime/adopt.h) asks each controller: does the store still record
// this workload as its object's?

#include <cstdint>
#include <functional>
#include <map>
#include <vector>
#include <optional>
#include <string>

#include "core/status.h"
#include "runtime/runtime.h"
#include "store/store.h"

namespace quader::workload {

struct Owner {
  std::string kind;    // quader.kind: task, trial, service, notebook, ...
  int64_t id = 0;      // quader.owner: the run, experiment, service or notebook
  std::string member;  // within it: the task name, the trial's sequence, the replica's index; "" when none
};

// nullopt when the labels name no owner (no quader.owner, or not a positive number).
std::optional<Owner> OwnerOf(const runtime::WorkloadStatus& w);

// True when `claims` (run in a read transaction) says the store still
// records `w` as its owner's; false for a workload with no owner, a store
// error, or a claim's error.
bool Owns(store::Store& store, const runtime::WorkloadStatus& w,
          const std::function<Result<bool>(store::Tx& tx, const Owner& owner)>& claims);

// The runtime's workloads of `kind` started by server `instance`, grouped by
// their owner's id (key 0: those whose labels name no owner, to be removed).
// The first step of every controller's pass over its workloads.
Result<std::map<int64_t, std::vector<runtime::WorkloadStatus>>> ListByOwner(runtime::Runtime& runtime,
                                                                          const std::string& instance,
                                                                          const std::string& kind);

}  // namespace quader::workload
