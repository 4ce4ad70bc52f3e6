#pragma once
// The kinds `quader get` and `quader delete` understand, in one table: the
// words a user may type for each, the API collection behind it, and the
// columns of its table output. A new kind is one more row in kinds.cpp.

#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace quader::cli {

// One table column: the header and the field it shows, top-level or a
// dotted path into nested objects ("schedule.cron"). When the object lacks
// `field`, `fallback_field` (if any) is shown instead.
struct Column {
  std::string_view header;
  std::string_view field;
  std::string_view fallback_field = {};
};

// Where a kind's objects live in the API.
enum class Scope {
  kGlobal,      // /api/v1/<collection>[/<name>] (users, projects)
  kProject,     // /api/v1/<collection>[/<name>], filtered by ?project=P
  kProjectSub,  // /api/v1/projects/<P>/<collection>[/<name>] (members)
};

// One row of the kinds table. Immutable (constexpr data).
struct KindSpec {
  std::string_view name;                      // singular, as in messages: "project"
  std::string_view plural;                    // "projects"
  std::span<const std::string_view> aliases;  // other accepted words: "proj"
  std::string_view collection;                // path segment below /api/v1
  Scope scope;
  std::span<const Column> columns;  // empty: the generic columns (GenericColumns)
};

// Every kind, in the order `--help` lists them.
std::span<const KindSpec> Kinds();

// Finds the kind for a word typed by the user: its singular, plural or an
// alias, case-insensitively. kInvalidArgument naming the word and listing
// the known kinds otherwise (the CLI reports it as bad usage).
[[nodiscard]] Result<const KindSpec*> ResolveKind(std::string_view word);

// The columns for `kind`: its own, or NAME and CREATED (plus PROJECT for
// project-scoped kinds) when it has none.
std::span<const Column> ColumnsFor(const KindSpec& kind);

// API paths below /api/v1. `project` may be empty except for kProjectSub
// kinds, whose caller must supply it. Components are percent-encoded.
std::string ListPath(const KindSpec& kind, const std::string& project);
std::string ItemPath(const KindSpec& kind, const std::string& name, const std::string& project);

// "projects, users, members, ..." for help and error messages.
std::string KnownKindsText();

}  // namespace quader::cli
