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
  size_t rows = 20;                 // table/jsonl rows shown
  size_t text_bytes = 64 * 1024;    // text shown
  size_t json_bytes = 256 * 1024;   // JSON parsed up to this size; a JSON Lines line shown up to this
  size_t type_rows = 1000;          // rows a column's type is inferred from
  // Rows are counted in at most this much of a file (then row_count is a
  // lower bound and row_count_exact false): a preview stays quick.
  int64_t count_bytes = int64_t{256} << 20;
};

// `read` sends the file's bytes to the function it is given, in pieces
// (which returns false to stop early): BlobStore::Send, or a string in tests.
// The result: {kind, size, ...}: table {separator, columns: [{name, type}],
// rows, row_count, row_count_exact}; json {value} or {too_large|too_deep:
// true, head}; jsonl {rows, row_count, row_count_exact}; text {head,
// truncated}; image {content_type}. What it holds is bounded whatever the
// file: cells of 1 KiB, 500 columns, 64 KiB a row.
Result<Json> PreviewFile(const std::string& path, int64_t size,
                         const std::function<Status(const std::function<bool(std::string_view)>&)>& read,
                         const PreviewOptions& options = {});

}  // namespace quader::registry
