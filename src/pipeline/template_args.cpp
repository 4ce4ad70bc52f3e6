#include "pipeline/template_args.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string_view>

namespace quader::pipeline {
namespace {

struct TypeEntry {
  ArgType type;
  const char* name;
};
constexpr TypeEntry kTypes[] = {
    {ArgType::kInt, "int"},       {ArgType::kFloat, "float"},       {ArgType::kBool, "bool"},
    {ArgType::kStr, "str"},       {ArgType::kText, "text"},         {ArgType::kEnum, "enum"},
    {ArgType::kMultiple, "multiple"}, {ArgType::kList, "list"},     {ArgType::kDict, "dict"},
    {ArgType::kFile, "file"},     {ArgType::kJson, "json"},
};
constexpr const char* kTypeList = "int, float, bool, str, text, enum, multiple, list, dict, file or json";
// Element types of enum, multiple and list (cube-studio's validate_job_args).
constexpr const char* kItemTypes[] = {"int", "float", "str", "text", "dict"};
// Attributes of one parameter. `regex` appears in cube-studio's shipped
// templates for front-end validation only: accepted and dropped.
constexpr std::string_view kAttributes[] = {"type",    "item_type", "label",    "describe", "placeholder",
                                            "require", "choice",    "range",    "default",  "editable",
                                            "sub_args", "regex"};
constexpr int kMaxDepth = 4;  // dict in list in dict ...: deeper schemas are refused

std::optional<ArgType> TypeFromName(const std::string& name) {
  for (const auto& t : kTypes) {
    if (name == t.name) return t.type;
  }
  return std::nullopt;
}

// Splits on any character of `seps`, trimming items and dropping empty ones.
std::vector<std::string> Split(const std::string& text, std::string_view seps) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    std::string item = TrimSpace(cur);
    if (!item.empty()) out.push_back(std::move(item));
    cur.clear();
  };
  for (char c : text) {
    if (seps.find(c) != std::string_view::npos) flush();
    else cur += c;
  }
  flush();
  return out;
}

// JSON text that never throws (invalid UTF-8 is replaced).
std::string Dump(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

// A value as it appears in an error message: JSON text, cut short.
std::string Shown(const Json& v) {
  std::string s = Dump(v);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// The string form of a scalar: strings as they are, numbers as JSON writes
// them (shortest round-trip form; integral floats keep ".0", like Python).
std::string ScalarText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "";
  return Dump(v);
}

bool IsEmpty(const Json& v) {
  return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
         (v.is_array() && v.empty()) || (v.is_object() && v.empty());
}

bool IsTemplate(const Json& v) {
  return v.is_string() && v.get_ref<const std::string&>().find("{{") != std::string::npos;
}

Result<Json> CastInt(const Json& v, const std::string& field) {
  if (v.is_number_integer()) return Json(v.get<int64_t>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return Json(static_cast<int64_t>(d));
  } else if (v.is_string()) {
    std::string s = TrimSpace(v.get<std::string>());
    if (!s.empty() && s.find_first_not_of("+-0123456789") == std::string::npos) {
      errno = 0;
      char* end = nullptr;
      long long n = std::strtoll(s.c_str(), &end, 10);
      if (errno == 0 && end == s.c_str() + s.size()) return Json(static_cast<int64_t>(n));
    }
  }
  return errors::Invalid(field, Shown(v) + " is not an int");
}

Result<Json> CastFloat(const Json& v, const std::string& field) {
  if (v.is_number()) return Json(v.get<double>());
  if (v.is_string()) {
    std::string s = TrimSpace(v.get<std::string>());
    if (!s.empty()) {
      errno = 0;
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (errno == 0 && end == s.c_str() + s.size() && std::isfinite(d)) return Json(d);
    }
  }
  return errors::Invalid(field, Shown(v) + " is not a float");
}

Result<Json> CastBool(const Json& v, const std::string& field) {
  if (v.is_boolean()) return v;
  if (v.is_number_integer() && (v.get<int64_t>() == 0 || v.get<int64_t>() == 1)) return Json(v.get<int64_t>() == 1);
  if (v.is_string()) {
    std::string s = TrimSpace(v.get<std::string>());
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "true" || s == "1") return Json(true);
    if (s == "false" || s == "0") return Json(false);
  }
  return errors::Invalid(field, Shown(v) + " is not a bool (use true or false)");
}

Result<Json> CastStr(const Json& v, const std::string& field) {
  if (v.is_string()) return v;
  if (v.is_number() || v.is_boolean()) return Json(ScalarText(v));
  return errors::Invalid(field, "must be a string, not " + std::string(v.type_name()));
}

// Loose membership: a choice equal to the value, or with the same text
// ("2" matches 2). Returns the choice itself, so values take its type.
Result<Json> MatchChoice(const Json& v, const Json& choice, const std::string& field) {
  for (const auto& c : choice) {
    if (c == v) return c;
  }
  if (v.is_primitive()) {
    for (const auto& c : choice) {
      if (c.is_primitive() && ScalarText(c) == ScalarText(v)) return c;
    }
  }
  std::string list;
  for (const auto& c : choice) list += (list.empty() ? "" : ", ") + Dump(c);
  return errors::Invalid(field, Shown(v) + " is not one of " + list);
}

ArgSchema SubSchema(const ArgSpec& spec) {
  ArgSchema schema;
  schema.args = spec.sub_args;
  return schema;
}

Result<Json> ValidateValue(const ArgSpec& spec, const Json& v, const std::string& field, bool allow_templates);

// One element of a list, by item_type.
Result<Json> ValidateItem(const ArgSpec& spec, const Json& v, const std::string& field, bool allow_templates) {
  if (allow_templates && IsTemplate(v)) return v;
  if (spec.item_type == "int") return CastInt(v, field);
  if (spec.item_type == "float") return CastFloat(v, field);
  if (spec.item_type == "dict") {
    if (!v.is_object()) return errors::Invalid(field, "must be an object");
    if (spec.sub_args.empty()) return v;
    return ValidateTaskArgs(SubSchema(spec), v, field, allow_templates);
  }
  return CastStr(v, field);
}

Result<Json> ValidateMultiple(const ArgSpec& spec, const Json& v, const std::string& field, bool allow_templates) {
  Json items;
  if (v.is_string()) {
    items = Json::array();
    for (auto& s : Split(v.get<std::string>(), " \t\r\n,;")) items.push_back(std::move(s));
  } else if (v.is_array()) {
    items = v;
  } else {
    return errors::Invalid(field, "must be a list, or a string of items separated by ',', ';' or spaces");
  }
  Json out = Json::array();
  for (size_t i = 0; i < items.size(); ++i) {
    if (allow_templates && IsTemplate(items[i])) {
      out.push_back(items[i]);
      continue;
    }
    QUADER_ASSIGN_OR_RETURN(Json item, MatchChoice(items[i], spec.choice, field));
    out.push_back(std::move(item));
  }
  return out;
}

Result<Json> ValidateList(const ArgSpec& spec, const Json& v, const std::string& field, bool allow_templates) {
  Json items;
  if (v.is_string()) {
    items = Json::array();
    for (auto& s : Split(v.get<std::string>(), ",")) items.push_back(std::move(s));
  } else if (v.is_array()) {
    items = v;
  } else {
    return errors::Invalid(field, "must be a list, or a string of items separated by ','");
  }
  Json out = Json::array();
  for (size_t i = 0; i < items.size(); ++i) {
    QUADER_ASSIGN_OR_RETURN(Json item,
                            ValidateItem(spec, items[i], field + "[" + std::to_string(i) + "]", allow_templates));
    out.push_back(std::move(item));
  }
  return out;
}

Result<Json> ValidateDict(const ArgSpec& spec, const Json& v, const std::string& field, bool allow_templates) {
  Json obj = v;
  if (v.is_string()) {
    obj = Json::parse(v.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (obj.is_discarded()) return errors::Invalid(field, "must be an object (or JSON text of one)");
  }
  if (!obj.is_object()) return errors::Invalid(field, "must be an object");
  if (spec.sub_args.empty()) return obj;
  return ValidateTaskArgs(SubSchema(spec), obj, field, allow_templates);
}

// A json value passes as it is; a string holding a JSON object or list is
// parsed, so it is passed on as JSON rather than as a quoted string.
Json NormaliseJson(const Json& v) {
  if (!v.is_string()) return v;
  Json parsed = Json::parse(v.get<std::string>(), nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded() && parsed.is_structured()) return parsed;
  return v;
}

Result<Json> ValidateValue(const ArgSpec& spec, const Json& v, const std::string& field, bool allow_templates) {
  if (allow_templates && IsTemplate(v)) return v;
  switch (spec.type) {
    case ArgType::kInt: return CastInt(v, field);
    case ArgType::kFloat: return CastFloat(v, field);
    case ArgType::kBool: return CastBool(v, field);
    case ArgType::kStr:
    case ArgType::kText:
    case ArgType::kFile: return CastStr(v, field);
    case ArgType::kEnum: return MatchChoice(v, spec.choice, field);
    case ArgType::kMultiple: return ValidateMultiple(spec, v, field, allow_templates);
    case ArgType::kList: return ValidateList(spec, v, field, allow_templates);
    case ArgType::kDict: return ValidateDict(spec, v, field, allow_templates);
    case ArgType::kJson: return NormaliseJson(v);
  }
  return v;
}

// A text attribute: a string, or a scalar written as one (cube-studio does str()).
Result<std::string> TextAttribute(const Json& attrs, const char* key, const std::string& path) {
  auto it = attrs.find(key);
  if (it == attrs.end() || it->is_null()) return std::string();
  if (it->is_string() || it->is_number()) return ScalarText(*it);
  return errors::Invalid(path + "." + key, "must be a string");
}

// require / editable: 1 or 0, true or false.
Result<bool> FlagAttribute(const Json& attrs, const char* key, const std::string& path) {
  auto it = attrs.find(key);
  if (it == attrs.end() || it->is_null()) return true;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number_integer()) return it->get<int64_t>() != 0;
  if (it->is_string() && (*it == "0" || *it == "1")) return *it == "1";
  return errors::Invalid(path + "." + key, "must be 1 or 0");
}

Result<std::vector<ArgSpec>> ParseParams(const Json& params, const std::string& group, const std::string& path,
                                         int depth);

Result<ArgSpec> ParseSpec(const std::string& name, const std::string& group, const Json& attrs,
                          const std::string& path, int depth) {
  if (!attrs.is_object()) return errors::Invalid(path, "must be an object of attributes (type, label, default, ...)");
  for (const auto& [key, value] : attrs.items()) {
    bool known = false;
    for (auto a : kAttributes) known = known || a == key;
    if (!known) {
      return errors::Invalid(path + "." + key, "unknown attribute (use type, item_type, label, describe, placeholder, "
                                               "require, choice, range, default, editable or sub_args)");
    }
  }
  ArgSpec spec;
  spec.name = name;
  spec.group = group;
  QUADER_ASSIGN_OR_RETURN(std::string type, TextAttribute(attrs, "type", path));
  if (type.empty()) type = "str";
  std::optional<ArgType> t = TypeFromName(type);
  if (!t) return errors::Invalid(path + ".type", "unknown type \"" + type + "\" (use " + kTypeList + ")");
  spec.type = *t;
  QUADER_ASSIGN_OR_RETURN(spec.item_type, TextAttribute(attrs, "item_type", path));
  if (spec.item_type.empty()) spec.item_type = "str";
  bool has_items = spec.type == ArgType::kEnum || spec.type == ArgType::kMultiple || spec.type == ArgType::kList;
  if (has_items) {
    bool known = false;
    for (const char* it : kItemTypes) known = known || spec.item_type == it;
    if (!known) {
      return errors::Invalid(path + ".item_type",
                             "unknown item type \"" + spec.item_type + "\" (use int, float, str, text or dict)");
    }
  }
  QUADER_ASSIGN_OR_RETURN(spec.label, TextAttribute(attrs, "label", path));
  QUADER_ASSIGN_OR_RETURN(spec.describe, TextAttribute(attrs, "describe", path));
  QUADER_ASSIGN_OR_RETURN(spec.placeholder, TextAttribute(attrs, "placeholder", path));
  QUADER_ASSIGN_OR_RETURN(spec.range, TextAttribute(attrs, "range", path));
  QUADER_ASSIGN_OR_RETURN(spec.required, FlagAttribute(attrs, "require", path));
  QUADER_ASSIGN_OR_RETURN(spec.editable, FlagAttribute(attrs, "editable", path));
  if (attrs.contains("choice") && !attrs["choice"].is_null()) {
    if (!attrs["choice"].is_array()) return errors::Invalid(path + ".choice", "must be a list");
    spec.choice = attrs["choice"];
  }
  if ((spec.type == ArgType::kEnum || spec.type == ArgType::kMultiple) && spec.choice.empty()) {
    return errors::Invalid(path + ".choice", "is required for type " + type + " (the allowed values)");
  }
  if (attrs.contains("sub_args") && !attrs["sub_args"].is_null()) {
    const Json& sub = attrs["sub_args"];
    if (!sub.is_object()) return errors::Invalid(path + ".sub_args", "must be an object of parameters");
    bool takes_sub = spec.type == ArgType::kDict || (spec.type == ArgType::kList && spec.item_type == "dict");
    if (!sub.empty() && !takes_sub) {
      return errors::Invalid(path + ".sub_args", "is only for type dict, or list with item_type dict");
    }
    if (depth >= kMaxDepth) return errors::Invalid(path + ".sub_args", "nests too deep");
    QUADER_ASSIGN_OR_RETURN(spec.sub_args, ParseParams(sub, "", path + ".sub_args", depth + 1));
  }
  if (attrs.contains("default")) {
    spec.default_value = attrs["default"];
    if (!IsEmpty(spec.default_value)) {
      QUADER_RETURN_IF_ERROR(
          ValidateValue(spec, spec.default_value, path + ".default", /*allow_templates=*/true).status());
    }
  }
  return spec;
}

Result<std::vector<ArgSpec>> ParseParams(const Json& params, const std::string& group, const std::string& path,
                                         int depth) {
  std::vector<ArgSpec> out;
  for (const auto& [name, attrs] : params.items()) {
    std::string field = path + "." + name;
    if (TrimSpace(name).empty()) return errors::Invalid(field, "a parameter needs a name");
    QUADER_ASSIGN_OR_RETURN(ArgSpec spec, ParseSpec(name, group, attrs, field, depth));
    out.push_back(std::move(spec));
  }
  return out;
}

Json SpecToJson(const ArgSpec& spec) {
  Json j = {{"type", ArgTypeName(spec.type)},
            {"item_type", spec.item_type},
            {"label", spec.label},
            {"describe", spec.describe},
            {"placeholder", spec.placeholder},
            {"require", spec.required ? 1 : 0},
            {"choice", spec.choice},
            {"range", spec.range},
            {"editable", spec.editable ? 1 : 0}};
  if (!spec.default_value.is_null()) j["default"] = spec.default_value;
  if (!spec.sub_args.empty()) {
    Json sub = Json::object();
    for (const auto& s : spec.sub_args) sub[s.name] = SpecToJson(s);
    j["sub_args"] = std::move(sub);
  }
  return j;
}

}  // namespace

const char* ArgTypeName(ArgType t) {
  for (const auto& e : kTypes) {
    if (e.type == t) return e.name;
  }
  return "str";
}

const ArgSpec* ArgSchema::Find(const std::string& name) const {
  for (const auto& a : args) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Json ArgSchema::ToJson() const {
  Json out = Json::object();
  for (const auto& a : args) out[a.group][a.name] = SpecToJson(a);
  return out;
}

Result<ArgSchema> ParseArgSchema(const Json& input, const std::string& path) {
  Json args = input;
  if (args.is_string()) {
    std::string text = TrimSpace(args.get<std::string>());
    args = Json::parse(text.empty() ? "{}" : text, nullptr, /*allow_exceptions=*/false);
    if (args.is_discarded()) return errors::Invalid(path, "is not valid JSON");
  }
  if (args.is_null()) args = Json::object();
  if (!args.is_object()) return errors::Invalid(path, "must be an object of groups: {group: {name: {type: ...}}}");
  ArgSchema schema;
  std::map<std::string, std::string> group_of;  // parameter -> its group
  for (const auto& [group, params] : args.items()) {
    std::string field = path + "." + group;
    if (params.is_null()) continue;
    if (!params.is_object()) return errors::Invalid(field, "must be an object of parameters");
    QUADER_ASSIGN_OR_RETURN(std::vector<ArgSpec> specs, ParseParams(params, group, field, 0));
    for (auto& s : specs) {
      auto [it, fresh] = group_of.emplace(s.name, group);
      if (!fresh) return errors::Invalid(field + "." + s.name, "is also defined in group \"" + it->second + "\"");
      schema.args.push_back(std::move(s));
    }
  }
  return schema;
}

Result<Json> ValidateTaskArgs(const ArgSchema& schema, const Json& values, const std::string& path,
                              bool allow_templates) {
  Json given = values.is_null() ? Json::object() : values;
  if (!given.is_object()) return errors::Invalid(path, "must be an object of {name: value}");
  for (const auto& [name, value] : given.items()) {
    if (!schema.Find(name)) return errors::Invalid(path + "." + name, "unknown argument (not in the template's args)");
  }
  Json out = Json::object();
  for (const auto& spec : schema.args) {
    std::string field = path + "." + spec.name;
    auto it = given.find(spec.name);
    if (it != given.end() && !it->is_null()) {
      QUADER_ASSIGN_OR_RETURN(out[spec.name], ValidateValue(spec, *it, field, allow_templates));
    } else if (!IsEmpty(spec.default_value)) {
      QUADER_ASSIGN_OR_RETURN(out[spec.name], ValidateValue(spec, spec.default_value, field, allow_templates));
    } else if (spec.required) {
      return errors::Invalid(field, "is required");
    }
  }
  return out;
}

std::vector<std::string> RenderArgv(const ArgSchema& schema, const Json& values) {
  std::vector<std::string> argv;
  if (!values.is_object()) return argv;
  for (const auto& spec : schema.args) {
    if (spec.name == "images" || spec.name == "workdir") continue;
    auto it = values.find(spec.name);
    if (it == values.end()) continue;
    const Json& v = *it;
    if (v.is_boolean()) {
      if (v.get<bool>()) argv.push_back(spec.name);
      continue;
    }
    if (IsEmpty(v)) continue;
    argv.push_back(spec.name);
    if (spec.type == ArgType::kMultiple && v.is_array()) {
      std::string joined;
      for (size_t i = 0; i < v.size(); ++i) joined += (i ? "," : "") + ScalarText(v[i]);
      argv.push_back(std::move(joined));
    } else if (v.is_structured() || spec.type == ArgType::kJson) {
      argv.push_back(Dump(v));
    } else {
      argv.push_back(ScalarText(v));
    }
  }
  return argv;
}

}  // namespace quader::pipeline
