#include "core/documents.h"
#include "core/ignored_fields.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <optional>
#include <regex>
#include <sstream>
#include <unordered_map>

#include <yaml-cpp/eventhandler.h>
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

// "line 3, column 12 (byte offset 40)" for a byte offset into `text`.
std::string PlaceOf(std::string_view text, size_t offset) {
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(offset - line_start + 1) +
         " (byte offset " + std::to_string(offset) + ")";
}

// The offset of the first byte of `s` that is not part of well-formed UTF-8
// (no overlongs, no surrogates, nothing past U+10FFFF), or npos.
size_t InvalidUtf8At(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

// The text as a whole must be UTF-8 without NUL characters.
Status CheckText(std::string_view text) {
  const size_t nul = text.find('\0');
  const size_t bad = InvalidUtf8At(text.substr(0, nul));
  if (bad != std::string_view::npos) {
    return errors::Invalid("body", "invalid UTF-8 at " + PlaceOf(text, bad) + ": send UTF-8 text");
  }
  if (nul != std::string_view::npos) {
    return errors::Invalid("body", "NUL character at " + PlaceOf(text, nul) + ": text may not contain NUL");
  }
  return Status::Ok();
}

// Why a string value (after escapes) cannot be stored, or "".
std::string StringFault(std::string_view s) {
  if (s.find('\0') != std::string_view::npos) return "contains a NUL character (an escape such as \\0 or \\u0000)";
  if (InvalidUtf8At(s) != std::string_view::npos) return "is not valid UTF-8 (an escape such as \\xff or \\ud800)";
  return "";
}

std::string TooDeep(const DocumentLimits& limits) {
  return "nesting deeper than " + std::to_string(limits.max_depth) + " levels";
}

std::string TooManyNodes(const DocumentLimits& limits) {
  return "more than " + std::to_string(limits.max_nodes) +
         " nodes (mappings, sequences, scalars and keys, with aliases expanded)";
}

// An integer must fit in int64_t and a float must stay finite; `s` is
// already known to be a number's text. Returns why not, or "".
std::string NumberFault(std::string_view s, bool integer) {
  if (integer) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc::result_out_of_range) return "is out of range: integers must fit in 64 bits";
    return "";
  }
  if (std::isinf(std::strtod(std::string(s).c_str(), nullptr))) {
    return "is out of range: larger than a 64-bit float can hold";
  }
  return "";
}

// YAML 1.2 core schema resolution of a plain scalar; kInvalidArgument (no
// field named) for a number out of range.
Result<Json> PlainScalar(const std::string& s) {
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return Json(nullptr);
  if (s == "true" || s == "True" || s == "TRUE") return Json(true);
  if (s == "false" || s == "False" || s == "FALSE") return Json(false);
  const bool integer = std::regex_match(s, kInt);
  if (!integer && !std::regex_match(s, kFloat)) return Json(s);
  if (std::string why = NumberFault(s, integer); !why.empty()) {
    return Status(Code::kInvalidArgument, "number " + s + " " + why + " (quote it to keep a string)");
  }
  if (integer) return Json(static_cast<int64_t>(std::strtoll(s.c_str(), nullptr, 10)));
  return Json(std::strtod(s.c_str(), nullptr));
}

// Depth, node count and numbers of JSON text, checked on the text before
// nlohmann parses it (its parser and destructor would recurse or allocate
// first). Tolerant of malformed text: the parser reports that.
Status ScanJson(std::string_view t, const DocumentLimits& limits) {
  size_t depth = 0;
  size_t nodes = 0;
  size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    const size_t at = i;
    if (c == '"') {  // a string (or key): skip to its closing quote
      for (++i; i < t.size() && t[i] != '"'; ++i) {
        if (t[i] == '\\') ++i;
      }
      ++i;
      ++nodes;
    } else if (c == '[' || c == '{') {
      ++i;
      ++nodes;
      if (++depth > limits.max_depth) return errors::Invalid("body", TooDeep(limits) + " at " + PlaceOf(t, at));
    } else if (c == ']' || c == '}') {
      ++i;
      if (depth > 0) --depth;
    } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      bool integer = true;
      while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '-' || t[i] == '+' ||
                              t[i] == '.' || t[i] == 'e' || t[i] == 'E')) {
        integer = integer && t[i] != '.' && t[i] != 'e' && t[i] != 'E';
        ++i;
      }
      const std::string_view number = t.substr(at, i - at);
      if (std::string why = NumberFault(number, integer); !why.empty()) {
        return errors::Invalid("body", "number " + std::string(number) + " at " + PlaceOf(t, at) + " " + why);
      }
      ++nodes;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {  // true, false, null
      while (i < t.size() && std::isalpha(static_cast<unsigned char>(t[i]))) ++i;
      ++nodes;
    } else {
      ++i;
    }
    if (nodes > limits.max_nodes) return errors::Invalid("body", TooManyNodes(limits));
  }
  return Status::Ok();
}

std::string ChildPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// NUL characters that JSON escapes (\u0000) put into strings and keys.
// Recursion is bounded by the depth ScanJson checked.
Status CheckJsonStrings(const Json& v, const std::string& path) {
  if (v.is_string()) {
    if (std::string why = StringFault(v.get_ref<const std::string&>()); !why.empty()) {
      return errors::Invalid(path.empty() ? "body" : path, why);
    }
  } else if (v.is_object()) {
    for (const auto& [k, item] : v.items()) {
      if (std::string why = StringFault(k); !why.empty()) {
        return errors::Invalid(path.empty() ? "body" : path, "a key " + why);
      }
      QUADER_RETURN_IF_ERROR(CheckJsonStrings(item, ChildPath(path, k)));
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      QUADER_RETURN_IF_ERROR(CheckJsonStrings(v[i], path + "[" + std::to_string(i) + "]"));
    }
  }
  return Status::Ok();
}

// Thrown inside the YAML event handler to stop the parser at the first
// fault; caught in ParseDocuments, never beyond it.
struct DocumentFault {
  Status status;
};

// Builds JSON values from yaml-cpp's parse events, never from its node
// tree: aliases are copied here one at a time, so expansion is counted
// (nodes, bytes, depth) before it is done, and an alias to a node still
// open (a cycle) is refused instead of recursing forever.
class YamlBuilder final : public YAML::EventHandler {
 public:
  explicit YamlBuilder(const DocumentLimits& limits) : limits_(limits) {}

  std::vector<Json> TakeDocuments() { return std::move(docs_); }

  // YAML::EventHandler
  void OnDocumentStart(const YAML::Mark&) override {
    anchors_.clear();
    names_.clear();
  }
  void OnDocumentEnd() override {}
  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_name_ = name; }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    NameAnchor(anchor);
    if (ExpectingKey()) Fail(mark, Path(), "mapping keys must be strings");
    Count(mark, 1, 0);
    Place(Json(nullptr), Cost{1, 0, 0}, anchor, "");
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    NameAnchor(anchor);
    if (std::string why = StringFault(value); !why.empty()) Fail(mark, Path(), (ExpectingKey() ? "a key " : "") + why);
    Count(mark, 1, value.size());
    if (ExpectingKey()) {
      SetKey(mark, value);
      if (anchor != YAML::NullAnchor) {
        // An anchored key used later as a value resolves like one; a key
        // such as 1e999 is fine as a key, so it stays text rather than fail.
        Result<Json> as_value = tag == "!" ? Result<Json>(Json(value)) : PlainScalar(value);
        anchors_[anchor] = Anchored{as_value.ok() ? *as_value : Json(value), value, {1, value.size(), 0}};
      }
      return;
    }
    Place(ScalarValue(mark, tag, value), Cost{1, value.size(), 0}, anchor, value);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, Json::array(), anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, Json::object(), anchor);
  }
  void OnMapEnd() override { Close(); }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      Fail(mark, Path(), "recursive alias *" + NameOf(anchor) + ": it refers to a node that contains it");
    }
    const Anchored& a = it->second;
    if (ExpectingKey()) {
      if (!a.key_text) Fail(mark, Path(), "mapping keys must be strings");
      CountAliasBytes(mark, a.key_text->size());
      Count(mark, 1, a.key_text->size());
      SetKey(mark, *a.key_text);
      return;
    }
    if (stack_.size() + a.cost.height > limits_.max_depth) Fail(mark, Path(), TooDeep(limits_));
    CountAliasBytes(mark, a.cost.bytes);
    Count(mark, a.cost.nodes, a.cost.bytes);
    Place(a.value, a.cost, YAML::NullAnchor, "");
  }

 private:
  // What a node holds: nodes and scalar bytes (aliases expanded) and levels.
  struct Cost {
    size_t nodes = 0;
    size_t bytes = 0;
    size_t height = 0;  // 0 for a scalar, 1 + the deepest child for a collection
  };
  struct Anchored {
    Json value;
    std::optional<std::string> key_text;  // a scalar's text, for use as a key
    Cost cost;
  };
  // A mapping or sequence being built.
  struct Frame {
    Json value;
    std::string path;
    std::optional<std::string> key;  // mappings: the key waiting for its value
    YAML::anchor_t anchor;
    size_t nodes_at_start;
    size_t bytes_at_start;
    size_t height = 1;
  };

  [[noreturn]] static void Fail(const YAML::Mark& mark, const std::string& path, const std::string& why) {
    throw DocumentFault{errors::Invalid(path.empty() ? "body" : path,
                                        why + " (line " + std::to_string(mark.line + 1) + ", column " +
                                            std::to_string(mark.column + 1) + ")")};
  }

  bool ExpectingKey() const { return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().key; }

  // The path of the node the next event makes.
  std::string Path() const {
    if (stack_.empty()) return "";
    const Frame& f = stack_.back();
    if (f.value.is_array()) return f.path + "[" + std::to_string(f.value.size()) + "]";
    return f.key ? ChildPath(f.path, *f.key) : f.path;
  }

  void NameAnchor(YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) names_[anchor] = pending_name_;
    pending_name_.clear();
  }
  std::string NameOf(YAML::anchor_t anchor) const {
    auto it = names_.find(anchor);
    return it == names_.end() ? std::to_string(anchor) : it->second;
  }

  void CountAliasBytes(const YAML::Mark& mark, size_t bytes) {
    alias_bytes_ += bytes;
    if (alias_bytes_ > limits_.max_alias_bytes) {
      Fail(mark, Path(), "aliases expand to more than " + std::to_string(limits_.max_alias_bytes) + " bytes");
    }
  }

  void Count(const YAML::Mark& mark, size_t nodes, size_t bytes) {
    nodes_ += nodes;
    bytes_ += bytes;
    if (nodes_ > limits_.max_nodes) Fail(mark, Path(), TooManyNodes(limits_));
  }

  Json ScalarValue(const YAML::Mark& mark, const std::string& tag, const std::string& value) const {
    // "!" marks a quoted (non-plain) scalar: always a string.
    if (tag == "!") return Json(value);
    Result<Json> v = PlainScalar(value);
    if (!v.ok()) Fail(mark, Path(), v.status().message());
    return std::move(v).value();
  }

  void SetKey(const YAML::Mark& mark, const std::string& key) {
    Frame& f = stack_.back();
    if (f.value.contains(key)) Fail(mark, f.path, "duplicate key \"" + key + "\"");
    f.key = key;
  }

  void Open(const YAML::Mark& mark, Json empty, YAML::anchor_t anchor) {
    NameAnchor(anchor);
    if (ExpectingKey()) Fail(mark, Path(), "mapping keys must be strings");
    if (stack_.size() + 1 > limits_.max_depth) Fail(mark, Path(), TooDeep(limits_));
    Count(mark, 1, 0);
    stack_.push_back(Frame{std::move(empty), Path(), std::nullopt, anchor, nodes_ - 1, bytes_});
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    Cost cost{nodes_ - f.nodes_at_start, bytes_ - f.bytes_at_start, f.height};
    Place(std::move(f.value), cost, f.anchor, "");
  }

  // Puts a finished value into its parent (or the document list) and
  // remembers it under its anchor.
  void Place(Json value, const Cost& cost, YAML::anchor_t anchor, const std::string& scalar_text) {
    if (anchor != YAML::NullAnchor) {
      Anchored a{value, std::nullopt, cost};
      if (value.is_primitive() && !value.is_null()) a.key_text = scalar_text;
      anchors_[anchor] = std::move(a);
    }
    if (stack_.empty()) {
      if (!value.is_null()) docs_.push_back(std::move(value));
      return;
    }
    Frame& f = stack_.back();
    f.height = std::max(f.height, cost.height + 1);
    if (f.value.is_array()) {
      f.value.push_back(std::move(value));
    } else {
      f.value[*f.key] = std::move(value);
      f.key.reset();
    }
  }

  const DocumentLimits limits_;
  std::vector<Json> docs_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchored> anchors_;      // finished anchored nodes
  std::unordered_map<YAML::anchor_t, std::string> names_;  // anchor names, for messages
  std::string pending_name_;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
  size_t alias_bytes_ = 0;
};

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
    // Quote strings that would otherwise read back as another type (or be
    // refused as a number out of range).
    Result<Json> plain = PlainScalar(s);
    if (!plain.ok() || !plain->is_string() || s.empty()) out << YAML::DoubleQuoted << s;
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

Result<Json> ParseJson(std::string_view text, const DocumentLimits& limits) {
  QUADER_RETURN_IF_ERROR(CheckText(text));
  QUADER_RETURN_IF_ERROR(ScanJson(text, limits));
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    // Re-parse with exceptions for the precise position.
    try {
      (void)Json::parse(text);
    } catch (const std::exception& e) {
      return errors::Invalid("body", std::string("malformed JSON: ") + e.what());
    }
    return errors::Invalid("body", "malformed JSON");
  }
  QUADER_RETURN_IF_ERROR(CheckJsonStrings(value, ""));
  return value;
}

Result<std::vector<Json>> ParseDocuments(std::string_view text, const DocumentLimits& limits) {
  std::vector<Json> docs;
  if (LooksLikeJson(text)) {
    QUADER_ASSIGN_OR_RETURN(Json v, ParseJson(text, limits));
    if (v.is_array()) {
      for (auto& d : v) docs.push_back(std::move(d));
    } else {
      docs.push_back(std::move(v));
    }
    return docs;
  }
  QUADER_RETURN_IF_ERROR(CheckText(text));
  // yaml-cpp throws its own exceptions (ParserException, DeepRecursion, ...)
  // and std ones (bad_alloc); none leaves this function.
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    YamlBuilder builder(limits);
    while (parser.HandleNextDocument(builder)) {
    }
    return builder.TakeDocuments();
  } catch (const DocumentFault& f) {
    return f.status;
  } catch (const YAML::Exception& e) {
    return errors::Invalid("body", "malformed YAML at line " + std::to_string(e.mark.line + 1) +
                                       ", column " + std::to_string(e.mark.column + 1) + ": " +
                                       e.msg);
  } catch (const std::bad_alloc&) {
    return errors::Invalid("body", "too large to parse");
  } catch (const std::exception& e) {
    return errors::Invalid("body", std::string("cannot be parsed: ") + e.what());
  } catch (...) {
    return errors::Invalid("body", "cannot be parsed");
  }
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

Status KeepIgnoredFields(Json* doc, std::initializer_list<const char*> ignored) {
  if (!doc->is_object()) return Status::Ok();
  if (doc->contains("cube_studio") && !(*doc)["cube_studio"].is_object()) {
    if ((*doc)["cube_studio"].is_null()) {
      doc->erase("cube_studio");
    } else {
      return errors::Invalid("cube_studio", "must be an object (cube-studio's fields kept as given)");
    }
  }
  for (const char* key : ignored) {
    auto it = doc->find(key);
    if (it == doc->end()) continue;
    Json value = *it;
    doc->erase(it);
    (*doc)["cube_studio"][key] = std::move(value);
  }
  return Status::Ok();
}

std::string TrimSpace(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace quader
