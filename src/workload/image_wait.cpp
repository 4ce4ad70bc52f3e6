#include "workload/image_wait.h"

#include <thread>

namespace quader::workload {

std::string WaitingForImage(const Status& missing) {
  // `image "NAME" not found (DETAIL)`
  const std::string& m = missing.message();
  size_t q = m.find('"'), e = m.find('"', q + 1), open = m.find(" (", e);
  std::string image = q == std::string::npos || e == std::string::npos ? "?" : m.substr(q + 1, e - q - 1);
  std::string detail = open == std::string::npos ? "" : m.substr(open + 2, m.size() - open - 2);
  if (!detail.empty() && detail.back() == ')') detail.pop_back();
  return "waiting for image " + image + ": " + (detail.empty() ? "not on this machine" : detail) +
         " (being built or pulled?); the work starts once it exists";
}

namespace {

std::string Minutes(std::chrono::milliseconds d) {
  auto m = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  if (m >= 1) return std::to_string(m) + " min";
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

Result<runtime::WorkloadStatus> StartWhenImageExists(runtime::Runtime& rt, const runtime::WorkloadSpec& spec,
                                                     const std::function<bool()>& stop,
                                                     const std::function<void(const std::string&)>& waiting,
                                                     std::chrono::milliseconds limit,
                                                     std::chrono::milliseconds every) {
  using std::chrono::steady_clock;
  const auto deadline = steady_clock::now() + limit;
  std::string told;
  while (true) {
    auto started = rt.Start(spec);
    if (started.ok() || !runtime::IsMissingImage(started.status())) return started;
    if (steady_clock::now() >= deadline) {
      return Status(started.status().code(), started.status().message() + "; waited " + Minutes(limit));
    }
    std::string reason = WaitingForImage(started.status());
    if (reason != told && waiting) waiting(reason);
    told = reason;
    auto next = std::min(deadline, steady_clock::now() + every);
    while (steady_clock::now() < next) {
      if (stop && stop()) return errors::Conflict("stopped while waiting for image " + spec.image);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

std::string ImageWaits::Waiting(const std::string& key, const Status& status, std::chrono::system_clock::time_point now) {
  if (!runtime::IsMissingImage(status)) {
    since_.erase(key);
    return "";
  }
  auto it = since_.emplace(key, now).first;
  if (now - it->second >= limit_) return "";
  return WaitingForImage(status);
}

}  // namespace quader::workload
