// /api/v1/datasets: data sets (issue 19; docs/datasets.md). A data set of a
// project has versions of files, kept once each by content in the
// registry's blob store. A version is made from files uploaded to the data
// set (streamed: POST .../uploads, one file per request, never whole in
// memory), from a succeeded task's outputs, or from a path of the caller's
// own directory (/mnt/USER). Tasks and notebooks name versions
// (`datasets: [iris@2]`) and get them mounted read-only; what read a version
// is its lineage. Project membership rules as everywhere: strangers get 404.
#include <map>
#include <mutex>
#include <set>

#include "api/handlers/artifacts_reply.h"
#include "api/handlers/common.h"
#include "api/handlers/handlers.h"
#include "auth/access.h"
#include "core/names.h"
#include "pipeline/run_controller.h"
#include "registry/blob_store.h"
#include "registry/datasets.h"
#include "registry/preview.h"
#include "registry/register.h"
#include "store/datasets.h"
#include "store/models.h"
#include "store/pipelines.h"
#include "store/projects.h"
#include "workload/artifacts.h"
#include "workload/mounts.h"

namespace quader::api {
namespace {

constexpr size_t kMaxDescription = 4096;
// Uploads waiting to be made a version, per data set.
constexpr size_t kMaxPendingUploads = 10000;
// An upload not made into a version within this long is dropped (at start).
constexpr int64_t kUploadLifetimeMs = int64_t{24} * 3600 * 1000;

Json Parsed(const std::string& text, Json fallback) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

Json DatasetJson(const store::DatasetRecord& d) {
  return {{"id", d.id},
          {"project", d.project},
          {"name", d.name},
          {"description", d.description},
          {"created_by", d.created_by},
          {"created_at", FormatRfc3339(FromUnixSeconds(d.created_at))},
          {"updated_at", FormatRfc3339(FromUnixSeconds(d.updated_at))},
          {"versions", d.versions},
          {"latest_version", d.latest_version ? Json(d.latest_version) : Json(nullptr)}};
}

Json VersionJson(const store::DatasetRecord& d, const store::DatasetVersionRecord& v) {
  return {{"dataset", d.name},
          {"project", d.project},
          {"version", v.version},
          {"ref", d.name + "@" + std::to_string(v.version)},
          {"files", Parsed(v.files, Json::array())},
          {"file_count", v.file_count},
          {"size_bytes", v.size_bytes},
          {"source", Parsed(v.source, Json::object())},
          {"description", v.description},
          {"created_by", v.created_by},
          {"created_at", FormatRfc3339Ms(v.created_at)}};
}

Json UploadJson(const store::DatasetUploadRecord& u) {
  return {{"id", u.id},
          {"path", u.path},
          {"size", u.size},
          {"sha256", u.sha256},
          {"uploaded_by", u.uploaded_by},
          {"uploaded_at", FormatRfc3339Ms(u.uploaded_at)}};
}

Json ReadJson(const store::DatasetReadRecord& r) {
  return {{"kind", r.reader_kind}, {"id", r.reader_id}, {"detail", r.detail}, {"read_at", FormatRfc3339Ms(r.read_at)}};
}

// {id}: a number, or a name with ?project=P. A data set of a project the
// caller may not `action` in is not found.
Result<store::DatasetRecord> FindDatasetParam(store::Tx& tx, const Request& req, auth::ProjectAction action) {
  const std::string& key = req.Param("id");
  std::optional<store::DatasetRecord> d;
  if (IsNumericId(key)) {
    auto got = store::GetDataset(tx, std::stoll(key));
    if (got.ok()) d = *got;
  } else {
    auto project = store::GetProject(tx, ProjectParam(req));
    if (project.ok()) {
      QUADER_ASSIGN_OR_RETURN(d, store::FindDataset(tx, project->id, key));
    }
  }
  if (!d || !auth::CheckProject(tx, req.who(), d->project, action).ok()) return errors::NotFound("dataset", key);
  return *d;
}



// A version (0: any) that work still going reads is not deleted: refused
// naming the run, notebook or experiment.
Status RefuseInUse(store::Tx& tx, const store::DatasetRecord& d, int version) {
  QUADER_ASSIGN_OR_RETURN(auto versions, store::ListDatasetVersions(tx, d.id));
  for (const auto& v : versions) {
    if (version != 0 && v.version != version) continue;
    QUADER_ASSIGN_OR_RETURN(std::string busy, store::ActiveDatasetReader(tx, v.id));
    if (!busy.empty()) {
      return errors::Conflict(busy + " reads " + d.name + "@" + std::to_string(v.version) +
                              ": stop it, or wait for it to end, first");
    }
  }
  return Status::Ok();
}

Response ListDatasets(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    bool all = false;
    QUADER_ASSIGN_OR_RETURN(auto ids, VisibleProjects(tx, req, &all));
    QUADER_ASSIGN_OR_RETURN(auto list, store::ListDatasets(tx, ids, all));
    for (const auto& d : list) items.push_back(DatasetJson(d));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

Response CreateDataset(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  auto asked = ParseNewNamedObject(*body);
  if (!asked.ok()) return ErrorReply(asked.status());
  store::DatasetRecord d;
  d.name = asked->name;
  d.description = asked->description;
  d.created_by = req.who().username;
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a,
                            auth::CheckProject(tx, req.who(), asked->project, auth::ProjectAction::kUse));
    QUADER_ASSIGN_OR_RETURN(auto existing, store::FindDataset(tx, a.project.id, d.name));
    if (existing) return errors::AlreadyExists("dataset", d.name);
    d.project_id = a.project.id;
    QUADER_ASSIGN_OR_RETURN(auto made, store::InsertDataset(tx, d, ctx.now()));
    out = DatasetJson(made);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out, 201) : ErrorReply(st);
}

Response GetDataset(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto d, FindDatasetParam(tx, req, auth::ProjectAction::kView));
    out = DatasetJson(d);
    Json versions = Json::array();
    QUADER_ASSIGN_OR_RETURN(auto list, store::ListDatasetVersions(tx, d.id));
    for (const auto& v : list) versions.push_back(VersionJson(d, v));
    out["version_list"] = std::move(versions);
    Json uploads = Json::array();
    QUADER_ASSIGN_OR_RETURN(auto pending, store::ListDatasetUploads(tx, d.id));
    for (const auto& u : pending) uploads.push_back(UploadJson(u));
    out["uploads"] = std::move(uploads);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response DeleteDataset(HandlerContext& ctx, Request& req) {
  std::vector<std::string> unheld;
  store::DatasetRecord gone;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(gone, FindDatasetParam(tx, req, auth::ProjectAction::kUse));
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), gone.project, gone.created_by, "dataset", gone.name));
    QUADER_RETURN_IF_ERROR(RefuseInUse(tx, gone, 0));
    QUADER_ASSIGN_OR_RETURN(unheld, store::DeleteDataset(tx, gone.id));
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  if (ctx.blobs) {
    registry::ForgetDatasetFiles(ctx.store, *ctx.blobs, registry::DatasetDir(ctx.blobs->data_dir(), gone.project, gone.name),
                                 unheld);
  }
  return JsonReply(Json::object());
}

// Uploads at once per user (the HTTP server limits them per address before
// anyone is signed in): one user cannot take every upload slot.
constexpr int kMaxUploadsPerUser = 4;

class UploadSlot {
 public:
  explicit UploadSlot(const std::string& user) : user_(user) {
    std::lock_guard<std::mutex> lock(mu());
    held_ = counts()[user_] < kMaxUploadsPerUser;
    if (held_) counts()[user_]++;
  }
  ~UploadSlot() {
    if (!held_) return;
    std::lock_guard<std::mutex> lock(mu());
    if (--counts()[user_] <= 0) counts().erase(user_);
  }
  bool held() const { return held_; }

 private:
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::map<std::string, int>& counts() {
    static std::map<std::string, int> c;
    return c;
  }
  const std::string user_;
  bool held_ = false;
};

// POST .../uploads?path=FILE with the file as the body (streamed into the
// store as it comes). The data set and the path are checked before a byte
// is read.
Response Upload(HandlerContext& ctx, Request& req) {
  if (ctx.blobs == nullptr) return ErrorReply(errors::Unavailable("the registry is not enabled on this server"));
  auto it = req.query.find("path");
  const std::string path = it == req.query.end() ? "" : it->second;
  if (!req.body_reader) return ErrorReply(errors::Invalid("body", "the file is the request's body"));
  store::DatasetRecord d;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(d, FindDatasetParam(tx, req, auth::ProjectAction::kUse));
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), d.project, d.created_by, "dataset", d.name));
    if (Status ok = registry::CheckFileName("path", path); !ok.ok()) {
      return errors::Invalid("path", "give where the file goes in the version, ?path=train.csv: " + ok.message());
    }
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  UploadSlot slot(req.who().username);
  if (!slot.held()) {
    return ErrorReply(errors::Unavailable("you have " + std::to_string(kMaxUploadsPerUser) +
                                          " uploads going already: wait for one to end"));
  }
  auto staged = ctx.blobs->Stage(req.body_reader, registry::kMaxDatasetBytes);
  if (!staged.ok()) return ErrorReply(staged.status());
  // Placed and held in one step: no deletion removes the blob in between.
  auto holding = ctx.blobs->Holding();
  auto blob = ctx.blobs->Place(std::move(staged).value());
  if (!blob.ok()) return ErrorReply(blob.status());
  store::DatasetUploadRecord u{0, d.id, path, blob->sha256, blob->size, req.who().username, ctx.now_ms()};
  st = ctx.store.Write([&](store::Tx& tx) -> Status {
    // Deleted while the file came: nothing to add it to.
    if (!store::GetDataset(tx, d.id).ok()) return errors::NotFound("dataset", d.name);
    QUADER_ASSIGN_OR_RETURN(auto pending, store::ListDatasetUploads(tx, d.id));
    if (pending.size() >= kMaxPendingUploads) {
      return errors::Invalid("uploads", std::to_string(pending.size()) +
                                            " uploads already wait in this data set: make a version of them first");
    }
    QUADER_ASSIGN_OR_RETURN(u, store::InsertDatasetUpload(tx, u));
    return Status::Ok();
  });
  holding.unlock();
  if (!st.ok()) {
    registry::RemoveUnheldBlobs(ctx.store, *ctx.blobs, {blob->sha256});
    return ErrorReply(st);
  }
  return JsonReply(UploadJson(u), 201);
}

// Where a new version's files come from, from the body: {uploads: [ids] or
// "all"}, {run, task, path?} or {volume_path} (under /mnt/USER), and a
// description.
Result<registry::DatasetVersionRequest> ParseVersionRequest(HandlerContext& ctx, const Request& req, const Json& body,
                                                            store::Tx& tx, const store::DatasetRecord& d) {
  for (const auto& [k, v] : body.items()) {
    static const std::set<std::string> known = {"uploads", "run", "task", "path", "volume_path", "description"};
    if (!known.count(k)) return errors::Invalid(k, "unknown field");
  }
  registry::DatasetVersionRequest r;
  r.dataset_id = d.id;
  r.created_by = req.who().username;
  if (body.contains("description")) {
    QUADER_RETURN_IF_ERROR(CheckText("description", body["description"], kMaxDescription));
    r.description = body["description"].get<std::string>();
  }
  const int sources = body.contains("uploads") + body.contains("run") + body.contains("volume_path");
  if (sources != 1) return errors::Invalid("body", "give one of uploads, run (with task) or volume_path");
  if (body.contains("path") && !body.contains("run")) return errors::Invalid("path", "goes with run and task");
  if (body.contains("uploads")) {
    const Json& u = body["uploads"];
    if (u == "all") {
      QUADER_ASSIGN_OR_RETURN(auto pending, store::ListDatasetUploads(tx, d.id));
      for (const auto& p : pending) r.uploads.push_back(p.id);
    } else if (u.is_array()) {
      for (const auto& id : u) {
        if (!id.is_number_integer()) return errors::Invalid("uploads", "must be upload ids, or \"all\"");
        r.uploads.push_back(id.get<int64_t>());
      }
    } else {
      return errors::Invalid("uploads", "must be a list of upload ids, or \"all\"");
    }
    if (r.uploads.empty()) return errors::Invalid("uploads", "no uploads wait in this data set: upload files first");
    r.source = {{"kind", "upload"}};
  } else if (body.contains("run")) {
    if (!body["run"].is_number_integer() || body["run"].get<int64_t>() < 1) {
      return errors::Invalid("run", "must be a run id (a positive number)");
    }
    const int64_t run_id = body["run"].get<int64_t>();
    QUADER_RETURN_IF_ERROR(CheckText("task", body.value("task", Json()), 256));
    const std::string task_name = body["task"].get<std::string>();
    if (body.contains("path")) {
      QUADER_RETURN_IF_ERROR(CheckText("path", body["path"], 4096));
      r.path = body["path"].get<std::string>();
    }
    auto run = store::GetRun(tx, run_id);
    // A run of another project is not seen from here.
    if (!run.ok() || run->project_id != d.project_id) return errors::NotFound("run", std::to_string(run_id));
    QUADER_ASSIGN_OR_RETURN(auto task, store::FindRunTask(tx, run_id, task_name));
    if (!task) return errors::NotFound("task", task_name);
    if (task->state != "succeeded") {
      return errors::Conflict("task \"" + task_name + "\" is " + task->state + ": only a task that succeeded makes a version");
    }
    if (ctx.runs == nullptr) return errors::Unavailable("runs are not enabled on this server");
    r.root = ctx.runs->OutputsDir(run_id, task_name);
    r.source = {{"kind", "task"}, {"run", run_id}, {"pipeline", run->pipeline_name}, {"task", task_name},
                {"attempt", task->attempt}, {"path", r.path.empty() ? "." : r.path}};
  } else {
    QUADER_RETURN_IF_ERROR(CheckText("volume_path", body["volume_path"], 4096));
    std::string p = body["volume_path"].get<std::string>();
    // Absolute as the workloads see it (/mnt/USER/...) or relative to it: the caller's own directory only.
    const std::string mine = "/mnt/" + req.who().username;
    if (p == mine) p.clear();
    else if (p.rfind(mine + "/", 0) == 0) p = p.substr(mine.size() + 1);
    else if (!p.empty() && p[0] == '/') return errors::Invalid("volume_path", "must be under " + mine + " (your own directory)");
    r.root = workload::PersonalWorkDir(ctx.blobs->data_dir(), req.who().username);
    r.path = p;
    r.source = {{"kind", "volume"}, {"path", mine + (p.empty() ? "" : "/" + p)}};
  }
  return r;
}

Response CreateVersion(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  if (ctx.blobs == nullptr) return ErrorReply(errors::Unavailable("the registry is not enabled on this server"));
  registry::DatasetVersionRequest vr;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto d, FindDatasetParam(tx, req, auth::ProjectAction::kUse));
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), d.project, d.created_by, "dataset", d.name));
    QUADER_ASSIGN_OR_RETURN(vr, ParseVersionRequest(ctx, req, *body, tx, d));
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  auto made = registry::MakeDatasetVersion(ctx.store, *ctx.blobs, ctx.now_ms(), vr);
  if (!made.ok()) return ErrorReply(made.status());
  Json out = VersionJson(made->dataset, made->version);
  if (!made->skipped.empty()) out["skipped"] = made->skipped;
  return JsonReply(out, 201);
}

Response GetVersion(HandlerContext& ctx, Request& req) {
  auto version = VersionParam(req, "dataset version");
  if (!version.ok()) return ErrorReply(version.status());
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto d, FindDatasetParam(tx, req, auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(auto v, store::GetDatasetVersion(tx, d.id, *version));
    out = VersionJson(d, v);
    Json reads = Json::array();
    QUADER_ASSIGN_OR_RETURN(auto list, store::ListDatasetReads(tx, v.id));
    for (const auto& r : list) reads.push_back(ReadJson(r));
    out["read_by"] = std::move(reads);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response DeleteVersion(HandlerContext& ctx, Request& req) {
  auto version = VersionParam(req, "dataset version");
  if (!version.ok()) return ErrorReply(version.status());
  std::vector<std::string> unheld;
  store::DatasetRecord d;
  store::DatasetVersionRecord v;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(d, FindDatasetParam(tx, req, auth::ProjectAction::kUse));
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), d.project, d.created_by, "dataset", d.name));
    QUADER_ASSIGN_OR_RETURN(v, store::GetDatasetVersion(tx, d.id, *version));
    QUADER_RETURN_IF_ERROR(RefuseInUse(tx, d, *version));
    QUADER_ASSIGN_OR_RETURN(unheld, store::DeleteDatasetVersion(tx, v.id));
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  if (ctx.blobs) {
    registry::ForgetDatasetFiles(ctx.store, *ctx.blobs, registry::DatasetVersionDir(ctx.blobs->data_dir(), d.project, d.name, v),
                                 unheld);
  }
  return JsonReply(Json::object());
}

// The version's files, found under the caller's access.
Result<std::vector<registry::BlobFile>> FilesOf(HandlerContext& ctx, const Request& req) {
  QUADER_ASSIGN_OR_RETURN(int version, VersionParam(req, "dataset version"));
  std::vector<registry::BlobFile> files;
  QUADER_RETURN_IF_ERROR(ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto d, FindDatasetParam(tx, req, auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(auto v, store::GetDatasetVersion(tx, d.id, version));
    files = registry::VersionFiles(v.files);
    return Status::Ok();
  }));
  return files;
}

Response VersionFile(HandlerContext& ctx, Request& req) {
  auto files = FilesOf(ctx, req);
  if (!files.ok()) return ErrorReply(files.status());
  return RegistryFileReply(req, ctx.blobs, *files);
}

Response Preview(HandlerContext& ctx, Request& req) {
  auto files = FilesOf(ctx, req);
  if (!files.ok()) return ErrorReply(files.status());
  auto it = req.query.find("path");
  const std::string path = it == req.query.end() ? "" : it->second;
  if (path.empty()) return ErrorReply(errors::Invalid("path", "give ?path=FILE (one of the version's files)"));
  for (const auto& f : *files) {
    if (f.path != path) continue;
    if (ctx.blobs == nullptr) return ErrorReply(errors::Unavailable("the registry is not enabled on this server"));
    auto preview = registry::PreviewFile(f.path, f.blob.size, [&](const std::function<bool(std::string_view)>& take) {
      return ctx.blobs->Read(f.blob.sha256, take);
    });
    return preview.ok() ? JsonReply(*preview) : ErrorReply(preview.status());
  }
  return ErrorReply(errors::NotFound("file", path));
}

}  // namespace

Result<int> SweepRegistryBlobs(store::Store& store, const registry::BlobStore& blobs, int64_t now_ms) {
  std::set<std::string> held;
  QUADER_RETURN_IF_ERROR(store.Write([&](store::Tx& tx) -> Status {
    QUADER_RETURN_IF_ERROR(store::DropDatasetUploads(tx, now_ms - kUploadLifetimeMs).status());
    QUADER_ASSIGN_OR_RETURN(held, store::HeldBlobs(tx));
    return Status::Ok();
  }));
  return blobs.Collect([&](const std::string& sha) { return held.count(sha) > 0; });
}

void RegisterDatasetRoutes(Router& router, HandlerContext& ctx) {
  auto bind = [&ctx](Response (*fn)(HandlerContext&, Request&)) {
    return [&ctx, fn](Request& req) { return fn(ctx, req); };
  };
  router.Add("GET", "/api/v1/datasets", Access::kSignedIn, bind(ListDatasets),
             {"List data sets (?project=P)", "datasets", "", "List:Dataset"});
  router.Add("POST", "/api/v1/datasets", Access::kSignedIn, bind(CreateDataset),
             {"Create a data set: {project?, name, description?}", "datasets", "NewDataset", "Dataset", 201});
  router.Add("GET", "/api/v1/datasets/{id}", Access::kSignedIn, bind(GetDataset),
             {"A data set (id, or name with ?project=P) with its versions, newest first, and the uploads waiting",
              "datasets", "", "Dataset"});
  router.Add("DELETE", "/api/v1/datasets/{id}", Access::kSignedIn, bind(DeleteDataset),
             {"Delete a data set and its versions (refused while running work reads one)", "datasets", "", "Empty"});
  RouteDoc upload{"Upload one file (?path=WHERE/IN/THE/VERSION) as the request body, streamed; a version is then "
                  "made of the uploads",
                  "datasets", "Binary", "DatasetUpload", 201};
  upload.streamed_body = true;
  router.Add("POST", "/api/v1/datasets/{id}/uploads", Access::kSignedIn, bind(Upload), upload);
  router.Add("POST", "/api/v1/datasets/{id}/versions", Access::kSignedIn, bind(CreateVersion),
             {"Make the next version: {uploads: [ids] | \"all\"}, {run, task, path?} (a succeeded task's outputs) or "
              "{volume_path} (under your /mnt/USER); description?",
              "datasets", "NewDatasetVersion", "DatasetVersion", 201});
  router.Add("GET", "/api/v1/datasets/{id}/versions/{version}", Access::kSignedIn, bind(GetVersion),
             {"One version with its files and what read it", "datasets", "", "DatasetVersion"});
  router.Add("DELETE", "/api/v1/datasets/{id}/versions/{version}", Access::kSignedIn, bind(DeleteVersion),
             {"Delete a version (refused while running work reads it)", "datasets", "", "Empty"});
  router.Add("GET", "/api/v1/datasets/{id}/versions/{version}/file", Access::kSignedIn, bind(VersionFile),
             {"Download one file of a version (?path=FILE), checked against its SHA-256", "datasets", "", "Binary"});
  router.Add("GET", "/api/v1/datasets/{id}/versions/{version}/preview", Access::kSignedIn, bind(Preview),
             {"A preview of one file (?path=FILE): a table's columns, types, first rows and row count; JSON; text",
              "datasets", "", "DatasetPreview"});
}

}  // namespace quader::api
