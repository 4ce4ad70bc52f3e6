#include "store/images.h"

#include "store/sql_util.h"

namespace quader::store {
namespace {

using internal::Map;
using internal::ProjectFilter;

constexpr const char* kImageCols =
    "i.id, i.project_id, p.name, i.name, i.tag, i.description, i.source, i.build_name, "
    "i.created_by, i.created_at, i.updated_at FROM images i JOIN projects p ON p.id = i.project_id";

constexpr const char* kBuildCols =
    "b.id, b.project_id, p.name, b.name, b.spec, b.state, b.reason, b.created_by, b.created_at, "
    "b.updated_at, b.started_at, b.finished_at FROM image_builds b JOIN projects p ON p.id = b.project_id";

ImageRecord ImageFromRow(const Row& r) {
  ImageRecord i;
  i.id = r.Int(0);
  i.project_id = r.Int(1);
  i.project = r.Str(2);
  i.name = r.Str(3);
  i.tag = r.Str(4);
  i.description = r.Str(5);
  i.source = r.Str(6);
  if (!r.IsNull(7)) i.build_name = r.Str(7);
  i.created_by = r.Str(8);
  i.created_at = r.Int(9);
  i.updated_at = r.Int(10);
  return i;
}

ImageBuildRecord BuildFromRow(const Row& r) {
  ImageBuildRecord b;
  b.id = r.Int(0);
  b.project_id = r.Int(1);
  b.project = r.Str(2);
  b.name = r.Str(3);
  b.spec = r.Str(4);
  b.state = r.Str(5);
  b.reason = r.Str(6);
  b.created_by = r.Str(7);
  b.created_at = r.Int(8);
  b.updated_at = r.Int(9);
  if (!r.IsNull(10)) b.started_at = r.Int(10);
  if (!r.IsNull(11)) b.finished_at = r.Int(11);
  return b;
}

}  // namespace

Result<ImageRecord> UpsertImage(Tx& tx, ImageRecord image, int64_t now) {
  Value build = image.build_name ? Value(*image.build_name) : Value(nullptr);
  QUADER_RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO images (project_id, name, tag, description, source, build_name, created_by, "
      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (project_id, name, tag) DO UPDATE SET description = excluded.description, "
      "source = excluded.source, build_name = excluded.build_name, updated_at = excluded.updated_at",
      {image.project_id, image.name, image.tag, image.description, image.source, build,
       image.created_by, now, now}));
  QUADER_ASSIGN_OR_RETURN(auto stored, FindImage(tx, image.project_id, image.name, image.tag));
  if (!stored) return errors::Internal("image vanished after upsert");
  return *stored;
}

Result<ImageRecord> GetImage(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kImageCols + " WHERE i.id = ?", {id}));
  if (rows.empty()) return errors::NotFound("image", std::to_string(id));
  return ImageFromRow(rows[0]);
}

Result<std::optional<ImageRecord>> FindImage(Tx& tx, int64_t project_id, const std::string& name,
                                             const std::string& tag) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query(std::string("SELECT ") + kImageCols + " WHERE i.project_id = ? AND i.name = ? AND i.tag = ?",
                          {project_id, name, tag}));
  if (rows.empty()) return std::optional<ImageRecord>();
  return std::optional<ImageRecord>(ImageFromRow(rows[0]));
}

Result<std::vector<ImageRecord>> ListImages(Tx& tx, const std::vector<int64_t>& project_ids, bool all) {
  Params params;
  std::string sql = std::string("SELECT ") + kImageCols + ProjectFilter("i", project_ids, all, &params) +
                    " ORDER BY i.name, i.tag, p.name";
  return Map<ImageRecord>(tx.Query(sql, params), ImageFromRow);
}

Status UpdateImageDescription(Tx& tx, int64_t id, const std::string& description, int64_t now) {
  QUADER_RETURN_IF_ERROR(
      tx.Exec("UPDATE images SET description = ?, updated_at = ? WHERE id = ?", {description, now, id}));
  if (tx.changes() == 0) return errors::NotFound("image", std::to_string(id));
  return Status::Ok();
}

Status DeleteImage(Tx& tx, int64_t id) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM images WHERE id = ?", {id}));
  if (tx.changes() == 0) return errors::NotFound("image", std::to_string(id));
  return Status::Ok();
}

Result<ImageBuildRecord> InsertImageBuild(Tx& tx, ImageBuildRecord b, int64_t now) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query("INSERT INTO image_builds (project_id, name, spec, state, reason, created_by, "
               "created_at, updated_at) VALUES (?, ?, ?, ?, '', ?, ?, ?) RETURNING id",
               {b.project_id, b.name, b.spec, b.state, b.created_by, now, now}));
  return GetImageBuild(tx, rows.at(0).Int(0));
}

Result<ImageBuildRecord> GetImageBuild(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kBuildCols + " WHERE b.id = ?", {id}));
  if (rows.empty()) return errors::NotFound("image build", std::to_string(id));
  return BuildFromRow(rows[0]);
}

Result<std::optional<ImageBuildRecord>> FindImageBuild(Tx& tx, int64_t project_id, const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query(std::string("SELECT ") + kBuildCols + " WHERE b.project_id = ? AND b.name = ?",
                          {project_id, name}));
  if (rows.empty()) return std::optional<ImageBuildRecord>();
  return std::optional<ImageBuildRecord>(BuildFromRow(rows[0]));
}

Result<std::vector<ImageBuildRecord>> ListImageBuilds(Tx& tx, const std::vector<int64_t>& project_ids, bool all) {
  Params params;
  std::string sql = std::string("SELECT ") + kBuildCols + ProjectFilter("b", project_ids, all, &params) +
                    " ORDER BY b.id DESC";
  return Map<ImageBuildRecord>(tx.Query(sql, params), BuildFromRow);
}

Result<std::vector<ImageBuildRecord>> ListImageBuildsInState(Tx& tx, const std::string& state) {
  return Map<ImageBuildRecord>(
      tx.Query(std::string("SELECT ") + kBuildCols + " WHERE b.state = ? ORDER BY b.id", {state}),
      BuildFromRow);
}

Status ResetImageBuild(Tx& tx, int64_t id, const std::string& spec, int64_t now) {
  return tx.Exec(
      "UPDATE image_builds SET spec = ?, state = 'pending', reason = '', started_at = NULL, "
      "finished_at = NULL, updated_at = ? WHERE id = ?",
      {spec, now, id});
}

Status SetImageBuildState(Tx& tx, int64_t id, const std::string& from_state, const std::string& state,
                          const std::string& reason, int64_t now) {
  std::string times = state == "running" ? ", started_at = ?" : ", finished_at = ?";
  QUADER_RETURN_IF_ERROR(tx.Exec("UPDATE image_builds SET state = ?, reason = ?, updated_at = ?" + times +
                                     " WHERE id = ? AND state = ?",
                                 {state, reason, now, now, id, from_state}));
  if (tx.changes() == 0) {
    return errors::Conflict("image build " + std::to_string(id) + " is no longer " + from_state);
  }
  return Status::Ok();
}

Status DeleteImageBuild(Tx& tx, int64_t id) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM image_builds WHERE id = ?", {id}));
  if (tx.changes() == 0) return errors::NotFound("image build", std::to_string(id));
  return Status::Ok();
}

}  // namespace quader::store
