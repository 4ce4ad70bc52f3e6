#pragma once
// The answers about a workload's outputs (workload/artifacts.h) that tasks
// and trials share, after their handlers' access checks:
//   GET .../artifacts           -> {items: [{path, type, size, modified_at}], truncated, total_bytes}
//   GET .../artifact?path=P     -> the file (?download=1: as an attachment)

#include <string>

#include "api/http.h"
#include "registry/blob_store.h"

namespace quader::api {

// The listing of the outputs directory `root`.
Response ArtifactListReply(const std::string& root);

// One file of `root`, named by `?path=`, streamed; previewable types (text,
// CSV, JSON, images) inline, anything else (and with ?download=1) as an
// attachment, never sniffed or run as a page.
Response ArtifactFileReply(const Request& req, const std::string& root);

// One file of a registry version (a model's or a data set's), named by
// `?path=` among `files`, streamed as an attachment with X-Content-SHA256
// and X-Content-Size. Checked against its SHA-256: before the answer starts
// up to 64 MiB (a damaged file is an error, not a body), as it streams above
// (a damaged one ends short).
Response RegistryFileReply(const Request& req, registry::BlobStore* blobs, const std::vector<registry::BlobFile>& files);

}  // namespace quader::api
