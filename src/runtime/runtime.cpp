#include "runtime/runtime.h"

namespace quader::runtime {

const char* StateName(WorkloadState s) {
  switch (s) {
    case WorkloadState::kPending: return "pending";
    case WorkloadState::kRunning: return "running";
    case WorkloadState::kSucceeded: return "succeeded";
    case WorkloadState::kFailed: return "failed";
    case WorkloadState::kUnknown: return "unknown";
  }
  return "unknown";
}

}  // namespace quader::runtime
