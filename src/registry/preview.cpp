#include "registry/preview.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

namespace quader::registry {
namespace {

constexpr size_t kMaxColumns = 500;
constexpr size_t kMaxCell = 1024;
constexpr size_t kMaxRowBytes = 64 * 1024;

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A column's type from its cells: the narrowest of integer, number,
// boolean that fits every non-empty one; else string.
class ColumnType {
 public:
  void See(const std::string& cell) {
    if (cell.empty()) return;
    seen_ = true;
    char* end = nullptr;
    if (integer_) {
      std::strtoll(cell.c_str(), &end, 10);
      integer_ = end && *end == '\0';
    }
    if (number_) {
      std::strtod(cell.c_str(), &end);
      number_ = end && *end == '\0' && !std::isalpha(static_cast<unsigned char>(cell.back()));
    }
    if (boolean_) {
      std::string low = cell;
      std::transform(low.begin(), low.end(), low.begin(), [](unsigned char c) { return std::tolower(c); });
      boolean_ = low == "true" || low == "false";
    }
  }
  std::string Name() const {
    if (!seen_) return "empty";
    if (integer_) return "integer";
    if (number_) return "number";
    if (boolean_) return "boolean";
    return "string";
  }

 private:
  bool seen_ = false, integer_ = true, number_ = true, boolean_ = true;
};

// RFC 4180 records, fed in pieces: quoted fields with "" escapes and line
// breaks, CRLF or LF. Keeps the first rows, counts them all.
class CsvScanner {
 public:
  CsvScanner(char sep, const PreviewOptions& o) : sep_(sep), options_(o) {}

  void Feed(std::string_view bytes) {
    for (char c : bytes) Put(c);
  }
  void Finish() {
    if (!field_.empty() || !row_.empty() || quoted_) EndRow();
  }

  Json Result() const {
    Json columns = Json::array();
    const std::vector<std::string> header = head_.empty() ? std::vector<std::string>() : head_[0];
    for (size_t i = 0; i < header.size(); ++i) {
      columns.push_back({{"name", header[i]}, {"type", i < types_.size() ? types_[i].Name() : "empty"}});
    }
    Json rows = Json::array();
    for (size_t i = 1; i < head_.size(); ++i) rows.push_back(head_[i]);
    return {{"separator", std::string(1, sep_)},
            {"columns", columns},
            {"rows", rows},
            {"row_count", records_ > 0 ? records_ - 1 : 0}};
  }

 private:
  void Put(char c) {
    if (in_quotes_) {
      if (c == '"') {
        in_quotes_ = false;
        after_quote_ = true;
      } else {
        Add(c);
      }
      return;
    }
    if (c == '"') {
      if (after_quote_) Add('"');  // "" inside a quoted field
      in_quotes_ = true;
      quoted_ = true;
      after_quote_ = false;
      return;
    }
    after_quote_ = false;
    if (c == sep_) return EndField();
    if (c == '\n') return EndRow();
    if (c == '\r') return;
    Add(c);
  }
  void Add(char c) {
    if (field_.size() < kMaxCell && row_bytes_ < kMaxRowBytes) {
      field_ += c;
      row_bytes_++;
    }
  }
  void EndField() {
    if (row_.size() < kMaxColumns) row_.push_back(std::move(field_));
    field_.clear();
    quoted_ = false;
  }
  void EndRow() {
    EndField();
    const bool blank = row_.size() == 1 && row_[0].empty();
    if (!blank) {
      if (records_ > 0 && static_cast<size_t>(records_) <= options_.type_rows) {
        if (types_.size() < row_.size()) types_.resize(row_.size());
        for (size_t i = 0; i < row_.size(); ++i) types_[i].See(row_[i]);
      }
      if (head_.size() <= options_.rows) head_.push_back(row_);
      records_++;
    }
    row_.clear();
    row_bytes_ = 0;
  }

  const char sep_;
  const PreviewOptions& options_;
  bool in_quotes_ = false, after_quote_ = false, quoted_ = false;
  std::string field_;
  std::vector<std::string> row_;
  size_t row_bytes_ = 0;
  std::vector<std::vector<std::string>> head_;
  std::vector<ColumnType> types_;
  int64_t records_ = 0;
};

// Invalid UTF-8 (a character cut at the end, a binary file named .txt) is
// replaced, not refused.
Json TextHead(const std::string& head, bool truncated) {
  std::string safe = Json(head).dump(-1, ' ', false, Json::error_handler_t::replace);
  return {{"head", Json::parse(safe)}, {"truncated", truncated}};
}


}  // namespace

std::string PreviewKind(const std::string& path) {
  std::string p = path;
  std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return std::tolower(c); });
  if (EndsWith(p, ".csv") || EndsWith(p, ".tsv")) return "table";
  if (EndsWith(p, ".jsonl") || EndsWith(p, ".ndjson")) return "jsonl";
  if (EndsWith(p, ".json")) return "json";
  for (const char* ext : {".png", ".jpg", ".jpeg", ".gif", ".webp"}) {
    if (EndsWith(p, ext)) return "image";
  }
  for (const char* ext : {".txt", ".md", ".log", ".yaml", ".yml", ".py", ".sh"}) {
    if (EndsWith(p, ext)) return "text";
  }
  return "binary";
}

Result<Json> PreviewFile(const std::string& path, int64_t size,
                         const std::function<Status(const std::function<bool(std::string_view)>&)>& read,
                         const PreviewOptions& options) {
  const std::string kind = PreviewKind(path);
  Json out = {{"path", path}, {"kind", kind}, {"size", size}};
  if (kind == "binary" || kind == "image") {
    if (kind == "image") out["content_type"] = "image/" + path.substr(path.rfind('.') + 1);
    return out;
  }
  if (kind == "table") {
    std::string low = path;
    std::transform(low.begin(), low.end(), low.begin(), [](unsigned char c) { return std::tolower(c); });
    CsvScanner scan(EndsWith(low, ".tsv") ? '\t' : ',', options);
    int64_t seen = 0;
    QUADER_RETURN_IF_ERROR(read([&](std::string_view piece) {
      scan.Feed(piece);
      seen += static_cast<int64_t>(piece.size());
      return seen < options.count_bytes;
    }));
    scan.Finish();
    out.update(scan.Result());
    out["row_count_exact"] = seen < options.count_bytes || seen >= size;
    return out;
  }
  if (kind == "jsonl") {
    Json rows = Json::array();
    int64_t count = 0;
    std::string line;
    int64_t seen = 0;
    size_t shown_bytes = 0;  // of the rows parsed: their memory stays bounded
    auto end_line = [&] {
      if (line.find_first_not_of(" \t\r") != std::string::npos) {
        if (rows.size() < options.rows) {
          const bool show = shown_bytes + line.size() <= options.json_bytes;
          Result<Json> v = show ? ParseJson(line) : Result<Json>(errors::Invalid("row", "not shown"));
          shown_bytes += show ? line.size() : 0;
          rows.push_back(v.ok() ? *v : Json(nullptr));
        }
        count++;
      }
      line.clear();
    };
    QUADER_RETURN_IF_ERROR(read([&](std::string_view piece) {
      for (char c : piece) {
        if (c == '\n') end_line();
        else if (line.size() < options.json_bytes && rows.size() < options.rows) line += c;
        else if (line.empty()) line += c;  // counted, not kept
      }
      seen += static_cast<int64_t>(piece.size());
      return seen < options.count_bytes;
    }));
    end_line();
    out["rows"] = rows;
    out["row_count"] = count;
    out["row_count_exact"] = seen < options.count_bytes || seen >= size;
    return out;
  }
  // json and text: the first bytes only.
  const size_t limit = kind == "json" ? options.json_bytes : options.text_bytes;
  std::string head;
  bool more = false;
  QUADER_RETURN_IF_ERROR(read([&](std::string_view piece) {
    size_t take = std::min(piece.size(), limit - head.size());
    head.append(piece.substr(0, take));
    more = more || take < piece.size();
    return head.size() < limit;
  }));
  more = more || static_cast<int64_t>(head.size()) < size;
  if (kind == "json") {
    if (!more) {
      // Parsed as a request's body is (core/documents.h: at most 64 levels,
      // 100,000 nodes): printing a value nested thousands deep would recurse
      // that deep.
      Result<Json> v = ParseJson(head);
      if (v.ok()) {
        out["value"] = *v;
        return out;
      }
      const bool deep = v.status().message().find("nesting deeper") != std::string::npos;
      out[deep ? "too_deep" : "invalid"] = true;
    } else {
      out["too_large"] = true;
    }
  }
  out.update(TextHead(head, more));
  return out;
}

}  // namespace quader::registry
