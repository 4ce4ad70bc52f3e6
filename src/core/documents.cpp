#include "core/documents.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <regex>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace quader {
namespace {

bool LooksLikeJson(std::string_view text) {
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    return c == '{' || c == '[';
  }
  return false;
}

// YAML 1.2 core schema resolution of a plain scalar.
Json PlainScalar(const std::string& s) {
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (std::regex_match(s, kInt)) {
    errno = 0;
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == 0) return static_cast<int64_t>(v);
    return s;
  }
  if (std::regex_match(s, kFloat)) return std::strtod(s.c_str(), nullptr);
  return s;
}

Result<Json> FromYaml(const YAML::Node& node, const std::string& path) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Json(nullptr);
    case YAML::NodeType::Scalar:
      // "!" marks a quoted (non-plain) scalar: always a string.
      if (node.Tag() == "!") return Json(node.Scalar());
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      Json arr = Json::array();
      for (size_t i = 0; i < node.size(); ++i) {
        QUADER_ASSIGN_OR_RETURN(Json item, FromYaml(node[i], path + "[" + std::to_string(i) + "]"));
        arr.push_back(std::move(item));
      }
      return arr;
    }
    case YAML::NodeType::Map: {
      Json obj = Json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return errors::Invalid(path, "mapping keys must be strings");
        std::string key = kv.first.Scalar();
        if (obj.contains(key)) return errors::Invalid(path, "duplicate key \"" + key + "\"");
        QUADER_ASSIGN_OR_RETURN(Json value, FromYaml(kv.second, path.empty() ? key : path + "." + key));
        obj[key] = std::move(value);
      }
      return obj;
    }
  }
  return Json(nullptr);
}

void EmitYaml(YAML::Emitter& out, const Json& v) {
  if (v.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, item] : v.items()) {
      out << YAML::Key << k << YAML::Value;
      EmitYaml(out, item);
    }
    out << YAML::EndMap;
  } else if (v.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& item : v) EmitYaml(out, item);
    out << YAML::EndSeq;
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    // Quote strings that would otherwise read back as another type.
    Json plain = PlainScalar(s);
    if (!plain.is_string() || s.empty()) out << YAML::DoubleQuoted << s;
    else out << s;
  } else if (v.is_null()) {
    out << YAML::Null;
  } else {
    out << v.dump();
  }
}

}  // namespace

const char* ChangeName(Change change) {
  switch (change) {
    case Change::kCreated: return "created";
    case Change::kUpdated: return "updated";
    case Change::kUnchanged: return "unchanged";
  }
  return "unchanged";
}

Result<Json> ParseJson(std::string_view text) {
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    // Re-parse with exceptions for the precise position.
    try {
      (void)Json::parse(text);
    } catch (const Json::parse_error& e) {
      return errors::Invalid("body", std::string("malformed JSON: ") + e.what());
    }
    return errors::Invalid("body", "malformed JSON");
  }
  return value;
}

Result<std::vector<Json>> ParseDocuments(std::string_view text) {
  std::vector<Json> docs;
  if (LooksLikeJson(text)) {
    QUADER_ASSIGN_OR_RETURN(Json v, ParseJson(text));
    if (v.is_array()) {
      for (auto& d : v) docs.push_back(std::move(d));
    } else {
      docs.push_back(std::move(v));
    }
    return docs;
  }
  try {
    std::vector<YAML::Node> nodes = YAML::LoadAll(std::string(text));
    for (size_t i = 0; i < nodes.size(); ++i) {
      QUADER_ASSIGN_OR_RETURN(Json v, FromYaml(nodes[i], ""));
      if (v.is_null()) continue;
      docs.push_back(std::move(v));
    }
  } catch (const YAML::Exception& e) {
    return errors::Invalid("body", "malformed YAML at line " + std::to_string(e.mark.line + 1) +
                                       ", column " + std::to_string(e.mark.column + 1) + ": " +
                                       e.msg);
  }
  return docs;
}

std::string ToYaml(const Json& value) {
  YAML::Emitter out;
  EmitYaml(out, value);
  return std::string(out.c_str()) + "\n";
}

FieldReader::FieldReader(const Json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

std::string FieldReader::PathOf(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

Status FieldReader::CheckObject() const {
  if (!object_.is_object()) return errors::Invalid(path_.empty() ? "body" : path_, "must be an object");
  return Status::Ok();
}

Status FieldReader::CheckKnownKeys(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [k, v] : object_.items()) {
    bool known = false;
    for (auto a : allowed) known = known || a == k;
    if (!known) return errors::Invalid(PathOf(k), "unknown field");
  }
  return Status::Ok();
}

Result<std::string> FieldReader::String(const std::string& key, bool required,
                                        std::string fallback) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) {
    if (required) return errors::Invalid(PathOf(key), "is required");
    return fallback;
  }
  if (!it->is_string()) return errors::Invalid(PathOf(key), "must be a string");
  return it->get<std::string>();
}

Result<bool> FieldReader::Bool(const std::string& key, bool fallback) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return errors::Invalid(PathOf(key), "must be true or false");
  return it->get<bool>();
}

Result<int64_t> FieldReader::Int(const std::string& key, int64_t fallback) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) return errors::Invalid(PathOf(key), "must be an integer");
  return it->get<int64_t>();
}

Result<Json> FieldReader::Object(const std::string& key) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return Json::object();
  if (!it->is_object()) return errors::Invalid(PathOf(key), "must be an object");
  return *it;
}

const Json* FieldOrNull(const Json& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<const Json*> FieldOrAlias(const Json& object, const std::string& key, const std::string& alias) {
  const Json* v = FieldOrNull(object, key);
  if (const Json* a = alias.empty() ? nullptr : FieldOrNull(object, alias)) {
    if (v) return errors::Invalid(alias, "is an alias of " + key + "; give only one of them");
    v = a;
  }
  return v;
}

std::string TrimSpace(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace quader
