#pragma once
// The files a workload left in its outputs directory (a task's /outputs, a
// trial's), listed and opened for users of the API, `quader cp` and the UI.
//
// The directory is written by the workload, so nothing in it is trusted: a
// path is walked one component at a time with openat(O_NOFOLLOW), so a
// symbolic link (planted before or during the walk) is listed as a link and
// never followed, out of the directory or anywhere else; only regular files
// are opened; a listing stops at a limit so a directory of millions of files
// cannot exhaust the server's memory.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace quader::workload {

struct ArtifactEntry {
  enum class Type { kFile, kDirectory, kLink, kOther };
  std::string path;  // relative to the root, "/"-separated: "model.joblib", "plots/roc.png"
  Type type = Type::kFile;
  int64_t size = 0;         // bytes (files)
  int64_t modified_ms = 0;  // Unix ms
};

// "file", "directory", "link", "other".
const char* ArtifactTypeName(ArtifactEntry::Type type);

struct ArtifactList {
  std::vector<ArtifactEntry> entries;  // depth first, each directory's entries by name
  bool truncated = false;              // more than the limit
  int64_t total_bytes = 0;             // of the files listed
};

// Every entry under `root` (not following links), at most `limit` of them,
// their paths at most `path_bytes` together, and at most 32 directories
// deep; `truncated` says when anything was left out. A missing root lists
// nothing.
Result<ArtifactList> ListArtifacts(const std::string& root, size_t limit = 10000, size_t path_bytes = 1 << 20);

// Checks a relative artifact path ("plots/roc.png"): not empty, not
// absolute, no "." or ".." or empty component, no NUL, at most 4096 bytes.
Status CheckArtifactPath(const std::string& relative);

// An artifact opened for reading: a descriptor the caller owns (close it)
// and its size.
struct OpenedArtifact {
  int fd = -1;
  int64_t size = 0;
};

// Opens `relative` under `root` without following any link: kNotFound when
// it does not exist (or a component is a link), kInvalidArgument for a bad
// path or what is not a regular file.
Result<OpenedArtifact> OpenArtifact(const std::string& root, const std::string& relative);

// Recreates the tree under `from` at `to` (created): directories made,
// files hard-linked, links recreated as links (never followed), anything
// else left out; walked as read, so memory does not grow with the tree. For
// a retried run's carried tasks. Never copies: a file that cannot be linked
// (already at the file system's link limit), more than 100,000 entries or a
// tree deeper than 32 directories fail it by name (kInvalidArgument). A
// missing `from` carries nothing.
Status LinkArtifacts(const std::string& from, const std::string& to);

// The Content-Type an artifact is served with for a preview, by its name:
// text, CSV, JSON, PNG, JPEG, GIF and WebP images; anything else (HTML and
// SVG included, which could run script in the UI's origin) is
// application/octet-stream.
std::string ArtifactContentType(const std::string& relative);

}  // namespace quader::workload
