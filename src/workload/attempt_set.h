#pragma once
// The attempts a controller has started, from their start until their
// threads are joined: what pipeline runs and experiments both keep.
// `Handle` is the controller's own record of an attempt; it has a member
// `std::unique_ptr<workload::Attempt> attempt`. Thread-safe.

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "workload/attempt.h"

namespace quader::workload {

template <class Handle>
class AttemptSet {
 public:
  // The `exited` hook of `h`'s attempt: moves it to the ended ones. No
  // shared_ptr to the handle lives on in the hook, since its last owner
  // joins the attempt's thread.
  std::function<void()> ExitHook(Handle* h) {
    return [this, h] {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = live_.find(h);
      if (it != live_.end()) {
        ended_.push_back(std::move(it->second));
        live_.erase(it);
      }
      cv_.notify_all();
    };
  }

  // Keeps `h` (its attempt made with ExitHook(h.get())) and starts its attempt.
  void Start(std::shared_ptr<Handle> h) {
    Handle* raw = h.get();
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_[raw] = std::move(h);
    }
    raw->attempt->Start();
  }

  // Joins the threads of the attempts that ended (call from the controller's loop).
  void Reap() {
    std::vector<std::shared_ptr<Handle>> ended;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ended.swap(ended_);
    }
  }  // `ended` goes here: each Attempt's destructor joins its finished thread

  // The server is stopping: every attempt leaves its workload running and
  // ends; returns once all their threads are joined.
  void AbandonAll() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [raw, h] : live_) h->attempt->Abandon();
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return live_.empty(); });
    }
    Reap();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Handle*, std::shared_ptr<Handle>> live_;  // guarded by mu_: their threads run
  std::vector<std::shared_ptr<Handle>> ended_;       // guarded by mu_: their threads ended: to join
};

}  // namespace quader::workload
