#pragma once
// A preview of one file of a data set (or model) version, computed as its
// bytes stream by (never whole in memory): CSV/TSV as a table (the header,
// the first rows, each column's type, the number of rows), JSON parsed (up
// to 1 MiB), JSON Lines as rows, text as its first lines, images by
// reference (the UI shows the file), anything else by its size.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/documents.h"
#include "core/status.h"

namespace quader::registry {

// How a file is previewed, by its name: "table" (.csv, .tsv), "json",
// "jsonl", "text" (.txt, .md, .log, .yaml, .yml, .py, .sh), "image" (.png,
// .jpg, .jpeg, .gif, .webp), else "binary".
std::string PreviewKind(const std::string& path);

struct PreviewOptions {
  size_t rows = 20;              // table/jsonl rows shown
  size_t text_bytes = 64 * 1024; // text shown
  size_t json_bytes = 1 << 20;   // JSON parsed up to this size
  size_t type_rows = 1000;       // rows a column's type is inferred from
};

// `read` sends the file's bytes to the function it is given, in pieces
// (which returns false to stop early): BlobStore::Send, or a string in tests.
// The result: {kind, size, ...}: table {separator, columns: [{name, type}],
// rows, row_count}; json {value} or {too_large: true, head}; jsonl {rows,
// row_count}; text {head, truncated}; image {content_type}.
Result<Json> PreviewFile(const std::string& path, int64_t size,
                         const std::function<Status(const std::function<bool(std::string_view)>&)>& read,
                         const PreviewOptions& options = {});

}  // namespace quader::registry
