#pragma once
// Work whose image is not on this machine yet waits for it instead of failing
// at once: on a fresh machine `make run` builds Quader's base images in the
// background while the examples start, an image build may be making it, or a
// pull. The wait is bounded, so a misspelt image still fails (with the
// runtime's reason) after kImageWait; while it lasts the work's reason says
// what it waits for.

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "core/clock.h"
#include "runtime/runtime.h"

namespace quader::workload {

inline constexpr std::chrono::minutes kImageWait{30};

// The reason shown while waiting, from Start's MissingImage error (its
// image, and what the runtime does about it: "pulling it", "pulling it failed: …").
std::string WaitingForImage(const Status& missing);

// Starts `spec`. While Start fails only because the image is missing, calls
// `waiting(reason)` (again when the reason changes) and tries again every `every`, until the image
// exists, `stop()` holds (kConflict "stopped while waiting for image …"), or
// `limit` has passed (the missing-image error, saying how long it waited).
Result<runtime::WorkloadStatus> StartWhenImageExists(runtime::Runtime& rt, const runtime::WorkloadSpec& spec,
                                                     const std::function<bool()>& stop,
                                                     const std::function<void(const std::string&)>& waiting,
                                                     std::chrono::milliseconds limit = kImageWait,
                                                     std::chrono::milliseconds every = std::chrono::seconds(2));

// For controllers that try again on each pass (notebooks, services): since
// when each of their workloads has waited for its image.
class ImageWaits {
 public:
  explicit ImageWaits(std::chrono::milliseconds limit = kImageWait) : limit_(limit) {}
  // After Start of `key` failed with `status`: the waiting reason while the
  // wait lasts; empty when `status` is no missing image or the wait ran out.
  std::string Waiting(const std::string& key, const Status& status, std::chrono::system_clock::time_point now);
  // The workload of `key` started (or is gone): its wait is over.
  void Clear(const std::string& key) { since_.erase(key); }

 private:
  std::chrono::milliseconds limit_;
  std::map<std::string, std::chrono::system_clock::time_point> since_;
};

}  // namespace quader::workload
