#pragma once
// Parsing user documents: YAML or JSON text, one or many documents separated
// by `---`, into nlohmann::json values. YAML plain scalars become numbers,
// booleans or null as YAML 1.2's core schema says; quoted scalars stay strings.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace quader {

using Json = nlohmann::json;

// Parses `text` (JSON or YAML, several documents allowed). Empty documents
// are dropped. On a syntax error returns kInvalidArgument naming the line.
Result<std::vector<Json>> ParseDocuments(std::string_view text);

// Parses one JSON value; errors name the byte offset.
Result<Json> ParseJson(std::string_view text);

// Renders a JSON value as block-style YAML (for `quader get -o yaml`).
std::string ToYaml(const Json& value);

// What applying a document did to the stored object.
enum class Change { kCreated, kUpdated, kUnchanged };
// "created", "updated", "unchanged".
const char* ChangeName(Change change);

// The value at `key` of an object, or nullptr when it is missing or null.
const Json* FieldOrNull(const Json& object, const std::string& key);
// `key`, or its cube-studio `alias` (none when empty), or nullptr; both
// given is kInvalidArgument naming the alias.
Result<const Json*> FieldOrAlias(const Json& object, const std::string& key, const std::string& alias);
// `s` without leading and trailing white space.
std::string TrimSpace(std::string_view s);

// Field readers for validating an object: each returns kInvalidArgument
// naming `path` when the value has the wrong type. Missing optional fields
// return the fallback.
class FieldReader {
 public:
  // `object` must outlive the reader. `path` prefixes error messages ("spec").
  FieldReader(const Json& object, std::string path);

  // Fails when `object` is not an object.
  Status CheckObject() const;
  // Fails naming the first key not in `allowed`.
  Status CheckKnownKeys(std::initializer_list<std::string_view> allowed) const;

  Result<std::string> String(const std::string& key, bool required,
                             std::string fallback = "") const;
  Result<bool> Bool(const std::string& key, bool fallback) const;
  Result<int64_t> Int(const std::string& key, int64_t fallback) const;
  // An object or the fallback ({}).
  Result<Json> Object(const std::string& key) const;

  std::string PathOf(const std::string& key) const;

 private:
  const Json& object_;
  std::string path_;
};

}  // namespace quader
