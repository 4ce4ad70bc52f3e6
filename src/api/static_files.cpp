#include "api/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace quader::api {
namespace fs = std::filesystem;
namespace {

std::string ContentTypeOf(const fs::path& p) {
  std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool ReadFile(const fs::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

}  // namespace

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)) {
  std::error_code ec;
  available_ = !root_.empty() && fs::is_regular_file(fs::path(root_) / "index.html", ec);
}

Response StaticFiles::Serve(const Request& req) const {
  if (req.method != "GET" && req.method != "HEAD") {
    return ErrorReply({Code::kMethodNotAllowed, "method " + req.method + " is not allowed on " + req.path});
  }
  Response r;
  r.content_type = "text/html; charset=utf-8";
  if (!available_) {
    r.body =
        "<!doctype html><title>Quader</title><h1>Quader</h1><p>The web UI is not built. Run "
        "<code>make build</code> (it builds web/dist), or start the server with "
        "<code>--web-dir</code>. The REST API is at <a href=\"/api/v1/openapi.json\">/api/v1</a>.</p>";
    return r;
  }
  // Refuse anything that could climb out of the root.
  fs::path rel = fs::path(req.path).relative_path().lexically_normal();
  bool escapes = !rel.empty() && (*rel.begin() == "..");
  fs::path file = fs::path(root_) / rel;
  std::error_code ec;
  if (!escapes && !rel.empty() && fs::is_regular_file(file, ec) && ReadFile(file, &r.body)) {
    r.content_type = ContentTypeOf(file);
    // Vite puts content-hashed files under assets/: safe to cache for good.
    if (req.path.rfind("/assets/", 0) == 0) {
      r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
    }
    return r;
  }
  if (!ReadFile(fs::path(root_) / "index.html", &r.body)) {
    return ErrorReply(errors::NotFound("file", req.path));
  }
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace quader::api
