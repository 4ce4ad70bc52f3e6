#pragma once
// The images and image_builds tables. Every function runs on a caller's Tx.

#include <optional>
#include <vector>

#include "store/store.h"

namespace quader::store {

struct ImageRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string project;  // filled by reads (join)
  std::string name;     // repository: "quader/python"
  std::string tag;      // "3.11"
  std::string description;
  std::string source;   // base, registry, build, commit
  std::optional<std::string> build_name;
  std::string created_by;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct ImageBuildRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string project;  // filled by reads (join)
  std::string name;
  std::string spec;     // the validated build request, JSON text
  std::string state;    // pending, running, succeeded, failed
  std::string reason;
  std::string created_by;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> started_at;
  std::optional<int64_t> finished_at;
};

// Inserts or, when (project, name, tag) exists, updates description, source
// and build. Returns the stored record.
Result<ImageRecord> UpsertImage(Tx& tx, ImageRecord image, int64_t now);
Result<ImageRecord> GetImage(Tx& tx, int64_t id);
// The image (project, name, tag), if recorded.
Result<std::optional<ImageRecord>> FindImage(Tx& tx, int64_t project_id, const std::string& name,
                                             const std::string& tag);
// Images of the given projects (all projects when `project_ids` is empty and
// `all` is set), by name and tag.
Result<std::vector<ImageRecord>> ListImages(Tx& tx, const std::vector<int64_t>& project_ids, bool all);
Status UpdateImageDescription(Tx& tx, int64_t id, const std::string& description, int64_t now);
Status DeleteImage(Tx& tx, int64_t id);

Result<ImageBuildRecord> InsertImageBuild(Tx& tx, ImageBuildRecord build, int64_t now);
Result<ImageBuildRecord> GetImageBuild(Tx& tx, int64_t id);
Result<std::optional<ImageBuildRecord>> FindImageBuild(Tx& tx, int64_t project_id, const std::string& name);
Result<std::vector<ImageBuildRecord>> ListImageBuilds(Tx& tx, const std::vector<int64_t>& project_ids, bool all);
// Builds in `state`, oldest first.
Result<std::vector<ImageBuildRecord>> ListImageBuildsInState(Tx& tx, const std::string& state);
// Replaces spec and resets the build to pending (a changed document).
Status ResetImageBuild(Tx& tx, int64_t id, const std::string& spec, int64_t now);
// Moves a build to `state`; sets started_at for running, finished_at for
// succeeded/failed. Only from `from_state` (kConflict otherwise), so two
// writers cannot both claim a build.
Status SetImageBuildState(Tx& tx, int64_t id, const std::string& from_state, const std::string& state,
                          const std::string& reason, int64_t now);
Status DeleteImageBuild(Tx& tx, int64_t id);

}  // namespace quader::store
