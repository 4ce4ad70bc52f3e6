#include "pipeline/render.h"

#include "pipeline/expression.h"

namespace quader::pipeline {
namespace {

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// One `{{name}}` occurrence: [begin, end) in the text and the trimmed name.
struct Occurrence {
  size_t begin = 0;
  size_t end = 0;
  std::string name;
};

// Every occurrence in order; kInvalidArgument naming `field` for an unclosed
// "{{" or an empty name.
Result<std::vector<Occurrence>> Scan(const std::string& field, std::string_view text) {
  std::vector<Occurrence> out;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return errors::Invalid(field, "unclosed \"{{\" at character " + std::to_string(open + 1) +
                                        " (write {{name}})");
    }
    std::string_view name = Trim(text.substr(open + 2, close - open - 2));
    if (name.empty()) return errors::Invalid(field, "empty variable \"{{}}\" at character " + std::to_string(open + 1));
    out.push_back({open, close + 2, std::string(name)});
    pos = close + 2;
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> VariablesIn(const std::string& field, std::string_view text) {
  QUADER_ASSIGN_OR_RETURN(std::vector<Occurrence> found, Scan(field, text));
  std::vector<std::string> names;
  names.reserve(found.size());
  for (auto& o : found) {
    if (IsPlainVariable(o.name)) {
      names.push_back(std::move(o.name));
      continue;
    }
    QUADER_ASSIGN_OR_RETURN(std::vector<std::string> read, ExpressionVariables(field, o.name));
    names.insert(names.end(), read.begin(), read.end());
  }
  return names;
}

Result<std::string> Render(const std::string& field, std::string_view text, const VariableLookup& lookup) {
  QUADER_ASSIGN_OR_RETURN(std::vector<Occurrence> found, Scan(field, text));
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const auto& o : found) {
    std::string value;
    if (IsPlainVariable(o.name)) {
      std::optional<std::string> found = lookup(o.name);
      if (!found) return errors::Invalid(field, "unknown variable {{" + o.name + "}}");
      value = std::move(*found);
    } else {
      QUADER_ASSIGN_OR_RETURN(value, EvaluateExpression(field, o.name, lookup));
    }
    out.append(text.substr(pos, o.begin - pos));
    out.append(value);
    pos = o.end;
  }
  out.append(text.substr(pos));
  return out;
}

Result<Json> RenderJson(const std::string& field, const Json& value, const VariableLookup& lookup) {
  if (value.is_string()) {
    QUADER_ASSIGN_OR_RETURN(std::string text, Render(field, value.get_ref<const std::string&>(), lookup));
    return Json(std::move(text));
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (size_t i = 0; i < value.size(); ++i) {
      QUADER_ASSIGN_OR_RETURN(Json item, RenderJson(field + "[" + std::to_string(i) + "]", value[i], lookup));
      out.push_back(std::move(item));
    }
    return out;
  }
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [key, item] : value.items()) {
      QUADER_ASSIGN_OR_RETURN(out[key], RenderJson(field + "." + key, item, lookup));
    }
    return out;
  }
  return value;
}

}  // namespace quader::pipeline
