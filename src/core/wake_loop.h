#pragma once
// A controller's thread: runs a pass at once, then whenever notified, and at
// least every interval (asked again before each wait, so a controller can
// look sooner while something is starting). Stop() waits for the pass in
// progress. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace quader {

class WakeLoop {
 public:
  WakeLoop() = default;
  ~WakeLoop() { Stop(); }
  WakeLoop(const WakeLoop&) = delete;
  WakeLoop& operator=(const WakeLoop&) = delete;

  // `interval` is called on the loop's thread, like `pass`. A second Start
  // while running does nothing.
  void Start(std::function<void()> pass, std::function<std::chrono::milliseconds()> interval) {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable()) return;
    stopping_ = false;
    notified_ = true;
    thread_ = std::thread([this, pass = std::move(pass), interval = std::move(interval)] {
      while (true) {
        {
          std::unique_lock<std::mutex> lock(mu_);
          wake_.wait_for(lock, interval(), [&] { return stopping_ || notified_; });
          if (stopping_) return;
          notified_ = false;
        }
        pass();
      }
    });
  }

  void Stop() {
    std::thread t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      t = std::move(thread_);
    }
    wake_.notify_all();
    if (t.joinable()) t.join();
  }

  void Notify() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      notified_ = true;
    }
    wake_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  bool notified_ = true;   // guarded by mu_
  std::thread thread_;     // guarded by mu_
};

}  // namespace quader
