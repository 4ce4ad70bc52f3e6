#include "auth/password_workers.h"

#include <algorithm>

namespace quader::auth {

int PasswordWorkers::DefaultThreads() {
  int n = static_cast<int>(std::thread::hardware_concurrency()) / 2;
  return std::clamp(n, 1, 2);
}

PasswordWorkers::PasswordWorkers(int threads, size_t max_waiting)
    : max_waiting_(max_waiting), capacity_(static_cast<size_t>(std::max(1, threads)) + max_waiting) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Loop(); });
}

PasswordWorkers::~PasswordWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

Status PasswordWorkers::Run(const std::function<void()>& work) {
  Job job{&work};
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return errors::Unavailable("the server is stopping");
  if (accepted_ >= capacity_) {
    return errors::Unavailable("too many password checks at once (the limit is " + std::to_string(capacity_) +
                               ": " + std::to_string(threads_.size()) + " running, " +
                               std::to_string(max_waiting_) + " waiting): retry in a second");
  }
  ++accepted_;
  queue_.push_back(&job);
  wake_.notify_one();
  finished_.wait(lock, [&] { return job.done; });
  --accepted_;
  return Status::Ok();
}

size_t PasswordWorkers::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void PasswordWorkers::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to do
    Job* job = queue_.front();
    queue_.pop_front();
    lock.unlock();
    try {
      (*job->work)();
    } catch (...) {  // the work's own errors are its caller's business; keep the thread
    }
    lock.lock();
    job->done = true;
    finished_.notify_all();
  }
}

}  // namespace quader::auth
