#pragma once
// Runs online image builds (SPEC §4): picks `pending` builds from the store,
// hands them to the ImageBuilder with the build's log file as the sink,
// records the outcome, and on success records the image.
//
// One background thread owns the loop; the public methods are thread-safe.
// Restart-safe: Recover() marks builds left `running` by a previous server
// as failed (their engine-side build died with it).

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "auth/expand.h"
#include "core/clock.h"
#include "core/wake_loop.h"
#include "images/builder.h"
#include "store/images.h"
#include "store/store.h"

namespace quader::images {

class BuildController {
 public:
  // `data_dir` holds logs/image-builds/<id>.log and the volumes mounts resolve to.
  BuildController(store::Store& store, const Clock& clock, ImageBuilder& builder, std::string data_dir);
  ~BuildController();  // Stop()s

  // Fails builds interrupted by a restart. Call once before Start().
  Status Recover();
  void Start();
  void Stop();
  // Wakes the loop (a build was created or reset).
  void Notify();
  // Ok when commit builds can run here (see ImageBuilder::CanCommit).
  Status CanCommit() const { return builder_.CanCommit(); }
  // Asks a running build to stop (it ends `failed`, reason "cancelled").
  void Cancel(int64_t build_id);

  // Where build `id` writes its log.
  std::string LogPath(int64_t id) const;
  // Streams the log: what is there now and, with `follow`, what comes until
  // the build is finished. `write` returns false when the reader is gone.
  Status FollowLog(int64_t id, bool follow, const std::function<bool(std::string_view)>& write);

 private:
  // One pass of the loop: runs the pending builds, one at a time.
  void Pass();
  void RunOne(const store::ImageBuildRecord& build);
  bool Finished(int64_t id);

  store::Store& store_;
  const Clock& clock_;
  ImageBuilder& builder_;
  const std::string data_dir_;

  WakeLoop loop_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  int64_t running_id_ = 0;     // guarded by mu_
  std::atomic<bool> cancel_running_{false};
};

}  // namespace quader::images
