#pragma once
// How `quader get` prints objects: aligned table columns, pretty JSON, or
// YAML (core/documents.h ToYaml). Pure functions: text in, text out.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/kinds.h"
#include "core/documents.h"
#include "core/status.h"

namespace quader::cli {

enum class Format {
  kTable,  // aligned columns with a header row (the default)
  kJson,   // pretty JSON, two-space indent
  kYaml,   // block-style YAML
  kName,   // one name (or id, for kinds without names) per line: for scripts and completion
};

// "table", "json", "yaml" or "name"; anything else is kInvalidArgument naming it.
[[nodiscard]] Result<Format> ParseFormat(std::string_view text);

// The words ParseFormat accepts, for `-o`'s validator and help.
std::vector<std::string> FormatNames();

// The text of one cell: `column.field` of `row` (or its fallback field);
// a dotted field ("last_run.state") looks into nested objects.
// Strings print as they are with line breaks turned into spaces; booleans
// as true/false; numbers as JSON; arrays and objects as compact JSON; a
// missing, null or empty value as "-".
std::string CellText(const Json& row, const Column& column);

// The header row and one row per object, each column padded to its widest
// cell (counted in UTF-8 characters) and separated by three spaces, with no
// trailing spaces. Every line ends in '\n'.
std::string RenderTable(std::span<const Column> columns, const std::vector<Json>& rows);

// An object's name, or its id when it has no name ("12"), or "".
std::string ObjectName(const Json& object);

// Renders `value` (an object, or a list's items array) in `format`. For
// kTable an array gives one row per element and an object a single row.
std::string Render(Format format, std::span<const Column> columns, const Json& value);

}  // namespace quader::cli
