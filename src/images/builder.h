#pragma once
// Turns a validated build into an image in the container engine. The
// docker-api runtime provides the real one (runtime/docker); without an
// engine, builds fail with a reason that says what is missing.

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "images/image_ref.h"
#include "runtime/runtime.h"

namespace quader::images {

struct BuildJob {
  int64_t id = 0;
  ImageRef image;                    // tag the result with this
  std::string dockerfile;            // full text, with FROM (Dockerfile builds)
  std::string commit_workload;       // or: the workload (name or id) to commit
  int64_t memory_bytes = 0;          // 0: engine default
  double cpu = 0;                    // 0: engine default
  std::vector<runtime::Mount> mounts;  // resolved host paths, applied while building
  std::map<std::string, std::string> labels;
};

// Thread-safe.
class ImageBuilder {
 public:
  virtual ~ImageBuilder() = default;
  // Builds `job.image`, sending progress text to `log` as it comes. Returns
  // ok when the image exists and is tagged; otherwise a Status whose message
  // says why (shown to the user as the build's reason). Should give up soon
  // after `cancelled` becomes true.
  virtual Status Build(const BuildJob& job, const std::function<void(std::string_view)>& log,
                       const std::atomic<bool>& cancelled) = 0;
  // Ok when this builder can save a running workload as an image (a commit
  // build); otherwise why not, said when such a build is asked for.
  virtual Status CanCommit() const { return Status::Ok(); }
};

// For servers with no container engine.
class NoEngineBuilder final : public ImageBuilder {
 public:
  explicit NoEngineBuilder(std::string why) : why_(std::move(why)) {}
  Status Build(const BuildJob&, const std::function<void(std::string_view)>& log,
               const std::atomic<bool>&) override {
    log("cannot build: " + why_ + "\n");
    return errors::Unavailable(why_);
  }
  Status CanCommit() const override {
    return errors::Unavailable("a commit build (saving a running workload as an image) needs a container engine "
                               "as the server's runtime; " + why_);
  }

 private:
  std::string why_;
};

}  // namespace quader::images
