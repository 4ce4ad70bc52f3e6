#pragma once
// An in-memory Runtime for unit tests of code above the seam: records what
// was started and stopped; tests set workload states by hand.

#include <map>
#include <mutex>
#include <set>

#include "runtime/runtime.h"

namespace quader::testing {

class FakeRuntime final : public runtime::Runtime {
 public:
  std::string kind() const override { return "fake"; }

  Result<runtime::WorkloadStatus> Start(const runtime::WorkloadSpec& spec) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_next_start_) {
      fail_next_start_ = false;
      return errors::Unavailable("fake: start failed on request");
    }
    if (missing_images_.count(spec.image)) return runtime::MissingImage(spec.image, "fake: no such image");
    if (workloads_.count(spec.name)) return errors::AlreadyExists("workload", spec.name);
    runtime::WorkloadStatus st;
    st.id = spec.name;
    st.name = spec.name;
    st.state = runtime::WorkloadState::kRunning;
    st.labels = spec.labels;
    workloads_[spec.name] = st;
    started_.push_back(spec);
    return st;
  }
  Status Stop(const std::string& id, std::chrono::seconds) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (workloads_.erase(id)) stopped_.push_back(id);
    return Status::Ok();
  }
  Result<runtime::WorkloadStatus> Inspect(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = workloads_.find(id);
    if (it == workloads_.end()) return errors::NotFound("workload", id);
    return it->second;
  }
  Result<std::vector<runtime::WorkloadStatus>> List(const std::map<std::string, std::string>& selector) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<runtime::WorkloadStatus> out;
    for (const auto& [id, w] : workloads_) {
      bool match = true;
      for (const auto& [k, v] : selector) {
        auto it = w.labels.find(k);
        match = match && it != w.labels.end() && it->second == v;
      }
      if (match) out.push_back(w);
    }
    return out;
  }
  Status Logs(const std::string& id, bool, const runtime::LogSink& sink) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!workloads_.count(id)) return errors::NotFound("workload", id);
    sink(logs_[id]);
    return Status::Ok();
  }
  Result<runtime::WorkloadStats> Stats(const std::string& id) override {
    return runtime::WorkloadStats{};
  }

  std::vector<runtime::WorkloadSpec> started() {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }
  std::vector<std::string> stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }
  // Start of a workload with `image` fails as the engines do for an image not
  // on the machine, until it is set present again.
  void SetImageMissing(const std::string& image, bool missing) {
    std::lock_guard<std::mutex> lock(mu_);
    if (missing) missing_images_.insert(image);
    else missing_images_.erase(image);
  }
  // Ends a running workload as if its process exited with `exit_code`.
  void End(const std::string& id, int exit_code, bool oom_killed = false) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = workloads_.find(id);
    if (it == workloads_.end()) return;
    it->second.state = exit_code == 0 && !oom_killed ? runtime::WorkloadState::kSucceeded : runtime::WorkloadState::kFailed;
    it->second.exit_code = exit_code;
    it->second.oom_killed = oom_killed;
    if (exit_code != 0) it->second.reason = "exited with code " + std::to_string(exit_code);
  }
  // The workload vanishes without being stopped (a lost container, a reboot).
  void Lose(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    workloads_.erase(id);
  }
  void AppendLog(const std::string& id, const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    logs_[id] += text;
  }
  bool Exists(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return workloads_.count(id) > 0;
  }
  void FailNextStart() {
    std::lock_guard<std::mutex> lock(mu_);
    fail_next_start_ = true;
  }

 private:
  std::mutex mu_;
  std::map<std::string, runtime::WorkloadStatus> workloads_;
  std::map<std::string, std::string> logs_;
  std::vector<runtime::WorkloadSpec> started_;
  std::vector<std::string> stopped_;
  bool fail_next_start_ = false;
  std::set<std::string> missing_images_;
};

}  // namespace quader::testing
