#pragma once
// Parsing user documents: YAML or JSON text, one or many documents separated
// by `---`, into nlohmann::json values. YAML plain scalars become numbers,
// booleans or null as YAML 1.2's core schema says; quoted scalars stay strings.
// Everything from outside is held to the limits below (hostile input gives
// kInvalidArgument, never a crash, a stall or a corrupt value).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace quader {

using Json = nlohmann::json;

// Limits every document read from outside (apply bodies, JSON request
// bodies) is held to before anything is built from it, so that no request
// can exhaust the stack, the memory or the CPU. The byte size of a request
// is bounded earlier, by the server's --max-body.

// Nesting of mappings and sequences (objects and arrays): a document is
// depth 1, each level inside it one more; what aliases insert counts at the
// depth it lands. Deeper text is refused before it is parsed (nlohmann and
// yaml-cpp recurse per level, and 100,000 levels overflow the stack).
inline constexpr size_t kMaxDocumentDepth = 64;
// Nodes (every mapping, sequence, scalar and mapping key) of all the
// documents in one text together, counted after alias expansion: a YAML
// alias counts the nodes of what it copies. Bounds billion-laughs bombs
// (535 bytes that expand to 10^9 nodes); counted as the value is built, so
// the refusal comes before the memory is spent.
inline constexpr size_t kMaxDocumentNodes = 100'000;
// Bytes of scalar text that YAML aliases may copy in all (an alias of a
// 100 KiB string used 1,000 times stays under the node limit).
inline constexpr size_t kMaxAliasExpansionBytes = 4 * 1024 * 1024;

// The limits one parse is held to.
struct DocumentLimits {
  size_t max_depth = kMaxDocumentDepth;
  size_t max_nodes = kMaxDocumentNodes;
  size_t max_alias_bytes = kMaxAliasExpansionBytes;
};

// For the CLI reading the server's replies: lists of stored documents may
// hold any number of nodes, and wrap a document of the full depth a few
// levels down; the depth stays bounded all the same.
inline constexpr DocumentLimits kServerReplyLimits{4 * kMaxDocumentDepth, SIZE_MAX, SIZE_MAX};

// Parses `text` (JSON or YAML, several documents allowed). Empty documents
// are dropped. Returns kInvalidArgument, naming the place, for:
//   - a syntax error (the line and column);
//   - bytes that are not UTF-8 or a NUL character, in the text (line,
//     column and byte offset) or produced by an escape ("\0", "\xff",
//     "\u0000"; the field's path);
//   - nesting deeper than `limits.max_depth`, more than `limits.max_nodes`
//     nodes or aliases copying more than `limits.max_alias_bytes`;
//   - an alias to its own enclosing node (`env: &e {A: *e}`);
//   - a number out of range: an integer outside 64 bits or a float that
//     overflows a double (`1e999`); quote it to keep it a string.
// Never throws.
Result<std::vector<Json>> ParseDocuments(std::string_view text, const DocumentLimits& limits = {});

// Parses one JSON value, with the checks and limits of ParseDocuments;
// syntax errors name the byte offset.
Result<Json> ParseJson(std::string_view text, const DocumentLimits& limits = {});

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
