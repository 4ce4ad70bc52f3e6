#pragma once
// Serves the built web UI (web/dist) for every path outside /api/: the file
// when it exists, else index.html so client-side routes work. Thread-safe;
// files are read from disk on each request (the OS caches them).

#include <string>

#include "api/http.h"

namespace quader::api {

class StaticFiles {
 public:
  // `root` may be empty or missing: then a short page explains how to build the UI.
  explicit StaticFiles(std::string root);

  Response Serve(const Request& req) const;
  bool available() const { return available_; }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
  bool available_ = false;
};

}  // namespace quader::api
