#include "cli/output.h"

#include <algorithm>

namespace quader::cli {
namespace {

constexpr std::string_view kSeparator = "   ";

// Characters, not bytes, so that names and descriptions in UTF-8 align.
size_t DisplayWidth(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return text;
}

// `field` may be a dotted path into nested objects ("schedule.cron"); a
// missing object or a non-object on the way gives nullptr.
const Json* FieldOf(const Json& row, std::string_view field) {
  if (field.empty()) return nullptr;
  const Json* at = &row;
  for (;;) {
    size_t dot = field.find('.');
    if (!at->is_object()) return nullptr;
    auto it = at->find(std::string(field.substr(0, dot)));
    if (it == at->end()) return nullptr;
    at = &*it;
    if (dot == std::string_view::npos) return at;
    field.remove_prefix(dot + 1);
  }
}

void AppendRow(const std::vector<std::string>& cells, const std::vector<size_t>& widths,
               std::string* out) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    line += cells[i];
    if (i + 1 < cells.size()) {
      line.append(widths[i] - DisplayWidth(cells[i]), ' ');
      line += kSeparator;
    }
  }
  // The last cell may be empty or short; never leave trailing blanks.
  while (!line.empty() && line.back() == ' ') line.pop_back();
  *out += line + "\n";
}

}  // namespace

Result<Format> ParseFormat(std::string_view text) {
  if (text == "table") return Format::kTable;
  if (text == "json") return Format::kJson;
  if (text == "yaml") return Format::kYaml;
  if (text == "name") return Format::kName;
  return errors::Invalid(
      "-o", "unknown output format \"" + std::string(text) + "\" (use table, json, yaml or name)");
}

std::vector<std::string> FormatNames() { return {"table", "json", "yaml", "name"}; }

std::string ObjectName(const Json& object) {
  if (!object.is_object()) return "";
  for (const char* field : {"name", "username", "id"}) {
    auto it = object.find(field);
    if (it == object.end() || it->is_null()) continue;
    return it->is_string() ? it->get<std::string>() : it->dump();
  }
  return "";
}

std::string CellText(const Json& row, const Column& column) {
  const Json* value = FieldOf(row, column.field);
  if (value == nullptr) value = FieldOf(row, column.fallback_field);
  if (value == nullptr || value->is_null()) return "-";
  if (value->is_string()) {
    const auto& s = value->get_ref<const std::string&>();
    return s.empty() ? "-" : OneLine(s);
  }
  if (value->is_boolean()) return value->get<bool>() ? "true" : "false";
  return OneLine(value->dump());
}

std::string RenderTable(std::span<const Column> columns, const std::vector<Json>& rows) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> header;
  for (const Column& c : columns) header.emplace_back(c.header);
  cells.push_back(std::move(header));
  for (const Json& row : rows) {
    std::vector<std::string> line;
    for (const Column& c : columns) line.push_back(CellText(row, c));
    cells.push_back(std::move(line));
  }
  std::vector<size_t> widths(columns.size(), 0);
  for (const auto& line : cells) {
    for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(line[i]));
  }
  std::string out;
  for (const auto& line : cells) AppendRow(line, widths, &out);
  return out;
}

std::string Render(Format format, std::span<const Column> columns, const Json& value) {
  switch (format) {
    case Format::kJson:
      return value.dump(2) + "\n";
    case Format::kYaml:
      return ToYaml(value);
    case Format::kName: {
      std::string out;
      for (const Json& item : value.is_array() ? value : Json::array({value})) {
        std::string name = ObjectName(item);
        if (!name.empty()) out += OneLine(name) + "\n";
      }
      return out;
    }
    case Format::kTable:
      break;
  }
  if (value.is_array()) return RenderTable(columns, value.get<std::vector<Json>>());
  return RenderTable(columns, {value});
}

}  // namespace quader::cli
