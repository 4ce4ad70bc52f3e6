#include "images/build_controller.h"

#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "core/log_stamp.h"
#include "images/build_spec.h"
#include "runtime/labels.h"
#include "workload/log_follow.h"
#include "workload/mounts.h"

namespace quader::images {
namespace fs = std::filesystem;

BuildController::BuildController(store::Store& store, const Clock& clock, ImageBuilder& builder,
                                 std::string data_dir)
    : store_(store), clock_(clock), builder_(builder), data_dir_(std::move(data_dir)) {}

BuildController::~BuildController() { Stop(); }

std::string BuildController::LogPath(int64_t id) const {
  return (fs::path(data_dir_) / "logs" / "image-builds" / (std::to_string(id) + ".log")).string();
}

Status BuildController::Recover() {
  int64_t now = ToUnixSeconds(clock_.Now());
  return store_.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto running, store::ListImageBuildsInState(tx, "running"));
    for (const auto& b : running) {
      QUADER_RETURN_IF_ERROR(store::SetImageBuildState(
          tx, b.id, "running", "failed", "interrupted: the server stopped while it was building; apply it again to rebuild", now));
      spdlog::warn("[images] build {} ({}/{}) was interrupted by a restart", b.id, b.project, b.name);
    }
    return Status::Ok();
  });
}

void BuildController::Start() {
  stopping_ = false;
  loop_.Start([this] { Pass(); }, [] { return std::chrono::milliseconds(2000); });
}

void BuildController::Stop() {
  stopping_ = true;
  cancel_running_ = true;
  loop_.Stop();
}

void BuildController::Notify() { loop_.Notify(); }

void BuildController::Cancel(int64_t build_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_id_ == build_id) cancel_running_ = true;
}

void BuildController::Pass() {
  std::vector<store::ImageBuildRecord> pending;
  Status st = store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(pending, store::ListImageBuildsInState(tx, "pending"));
    return Status::Ok();
  });
  if (!st.ok()) spdlog::error("[images] listing pending builds failed: {}", st.ToString());
  for (const auto& b : pending) {
    if (stopping_) return;
    RunOne(b);
  }
}

void BuildController::RunOne(const store::ImageBuildRecord& build) {
  int64_t now = ToUnixSeconds(clock_.Now());
  Status claimed = store_.Write([&](store::Tx& tx) {
    return store::SetImageBuildState(tx, build.id, "pending", "running", "", now);
  });
  if (!claimed.ok()) return;  // deleted or claimed meanwhile
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_id_ = build.id;
    cancel_running_ = false;
  }
  std::error_code ec;
  fs::create_directories(fs::path(LogPath(build.id)).parent_path(), ec);
  std::ofstream log(LogPath(build.id), std::ios::trunc);
  LineStamper stamper;  // each line stamped as it is written, like a workload's
  auto sink = [&log, &stamper](std::string_view text) {
    const std::string stamped = stamper.Feed(text, std::chrono::system_clock::now());
    log.write(stamped.data(), static_cast<std::streamsize>(stamped.size()));
    log.flush();
  };

  Status result;
  auto spec = ParseBuildSpec(Json::parse(build.spec, nullptr, false));
  if (!spec.ok()) {
    result = spec.status();
  } else {
    BuildJob job;
    job.id = build.id;
    job.image = spec->image;
    if (spec->is_commit()) job.commit_workload = spec->commit;
    else job.dockerfile = spec->FullDockerfile();
    job.memory_bytes = spec->config.memory_bytes;
    job.cpu = spec->config.cpu;
    job.mounts = workload::ResolveMounts({data_dir_, build.created_by, false, false, {&spec->config.mounts}});
    job.labels = {{runtime::kLabelManaged, "true"}, {runtime::kLabelKind, "build"},
                  {runtime::kLabelProject, build.project}, {runtime::kLabelOwner, std::to_string(build.id)}};
    sink("== building " + job.image.str() + " (build " + std::to_string(build.id) + ")\n");
    result = builder_.Build(job, sink, cancel_running_);
    if (result.ok() && cancel_running_) result = errors::Conflict("cancelled");
  }
  sink(result.ok() ? "== done\n" : "== failed: " + result.message() + "\n");
  log.close();

  int64_t end = ToUnixSeconds(clock_.Now());
  Status st = store_.Write([&](store::Tx& tx) -> Status {
    QUADER_RETURN_IF_ERROR(store::SetImageBuildState(tx, build.id, "running", result.ok() ? "succeeded" : "failed",
                                                     result.ok() ? "" : result.message(), end));
    if (!result.ok()) return Status::Ok();
    store::ImageRecord image;
    image.project_id = build.project_id;
    image.name = spec->image.name;
    image.tag = spec->image.tag;
    image.description = spec->description;
    image.source = spec->is_commit() ? "commit" : "build";
    image.build_name = build.name;
    image.created_by = build.created_by;
    return store::UpsertImage(tx, image, end).status();
  });
  if (!st.ok() && st.code() != Code::kConflict) {
    spdlog::error("[images] recording build {} failed: {}", build.id, st.ToString());
  }
  spdlog::info("[images] build {} ({}/{}) {}", build.id, build.project, build.name,
               result.ok() ? "succeeded" : "failed: " + result.message());
  std::lock_guard<std::mutex> lock(mu_);
  running_id_ = 0;
}

bool BuildController::Finished(int64_t id) {
  bool finished = true;
  (void)store_.Read([&](store::Tx& tx) -> Status {
    auto b = store::GetImageBuild(tx, id);
    finished = !b.ok() || (b->state != "pending" && b->state != "running");
    return Status::Ok();
  });
  return finished;
}

Status BuildController::FollowLog(int64_t id, bool follow, const std::function<bool(std::string_view)>& write) {
  return workload::FollowFile(
      LogPath(id), [&] { return !follow || Finished(id); }, write, [this] { return stopping_.load(); });
}

}  // namespace quader::images
