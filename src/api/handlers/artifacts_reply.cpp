#include "api/handlers/artifacts_reply.h"

#include <unistd.h>

#include <memory>

#include "api/handlers/common.h"
#include "workload/artifacts.h"

namespace quader::api {

Response ArtifactListReply(const std::string& root) {
  auto list = workload::ListArtifacts(root);
  if (!list.ok()) return ErrorReply(list.status());
  Json items = Json::array();
  for (const auto& e : list->entries) {
    Json item = {{"path", e.path},
                 {"type", workload::ArtifactTypeName(e.type)},
                 {"modified_at", FormatRfc3339Ms(e.modified_ms)}};
    if (e.type == workload::ArtifactEntry::Type::kFile) item["size"] = e.size;
    items.push_back(std::move(item));
  }
  return JsonReply({{"items", std::move(items)}, {"truncated", list->truncated}, {"total_bytes", list->total_bytes}});
}

Response ArtifactFileReply(const Request& req, const std::string& root) {
  auto it = req.query.find("path");
  if (it == req.query.end()) return ErrorReply(errors::Invalid("path", "give the file: ?path=model.joblib"));
  const std::string path = it->second;
  auto opened = workload::OpenArtifact(root, path);
  if (!opened.ok()) return ErrorReply(opened.status());
  auto fd = std::shared_ptr<int>(new int(opened->fd), [](int* p) {
    close(*p);
    delete p;
  });
  Response r;
  r.content_type = workload::ArtifactContentType(path);
  const bool attachment = FlagParam(req, "download") || r.content_type == "application/octet-stream";
  std::string name = path.substr(path.rfind('/') + 1);
  std::string quoted;
  for (char c : name) quoted += (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) ? '_' : c;
  r.headers.push_back({"Content-Disposition", std::string(attachment ? "attachment" : "inline") + "; filename=\"" +
                                                  quoted + "\""});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Content-Security-Policy", "sandbox; default-src 'none'"});
  r.headers.push_back({"X-Artifact-Size", std::to_string(opened->size)});
  r.stream = [fd](const ChunkWriter& write) {
    std::string buf(64 * 1024, '\0');
    for (;;) {
      ssize_t n = read(*fd, buf.data(), buf.size());
      if (n <= 0 || !write(std::string_view(buf.data(), static_cast<size_t>(n)))) return;
    }
  };
  return r;
}

Response RegistryFileReply(const Request& req, registry::BlobStore* blobs, const std::vector<registry::BlobFile>& files) {
  auto it = req.query.find("path");
  if (it == req.query.end() || it->second.empty()) {
    return ErrorReply(errors::Invalid("path", "give ?path=FILE (one of the version's files)"));
  }
  const std::string& path = it->second;
  const registry::BlobFile* file = nullptr;
  for (const auto& f : files) {
    if (f.path == path) file = &f;
  }
  if (file == nullptr) return ErrorReply(errors::NotFound("file", path));
  if (blobs == nullptr) return ErrorReply(errors::Unavailable("the registry is not enabled on this server"));
  // A small file is checked whole before the answer starts (a damaged one is
  // an error, not a body). A big one is checked as it streams, on the
  // stream's own thread: the last piece is withheld if the bytes do not
  // match, so the body comes out short of X-Content-Size (never on a worker
  // for minutes).
  constexpr int64_t kCheckFirstBytes = 64 << 20;
  if (file->blob.size <= kCheckFirstBytes) {
    if (Status ok = blobs->Verify(file->blob.sha256); !ok.ok()) return ErrorReply(ok);
  }
  Response r;
  r.content_type = "application/octet-stream";
  std::string name = path.substr(path.rfind('/') + 1);
  for (char& c : name) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
  }
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
  r.headers.emplace_back("X-Content-SHA256", file->blob.sha256);
  r.headers.emplace_back("X-Content-Size", std::to_string(file->blob.size));
  r.stream = [blobs, sha = file->blob.sha256](const ChunkWriter& write) { (void)blobs->Send(sha, write); };
  return r;
}

}  // namespace quader::api
