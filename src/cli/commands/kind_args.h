#pragma once
// The arguments `get` and `delete` share: KIND, NAME and --project, and how
// they become an API path.

#include <CLI/CLI.hpp>
#include <string>

#include "cli/kinds.h"
#include "core/status.h"

namespace quader::cli {

// Filled by CLI11 while parsing; plain value.
struct KindArgs {
  std::string kind;
  std::string name;     // empty: none given
  std::string project;  // empty: none given
};

// Adds the KIND positional (validated against cli/kinds.h, so an unknown
// kind is a parse error; required unless `kind_required` is false), NAME
// (required or optional) and --project.
void AddKindArgs(CLI::App& sub, KindArgs& args, bool name_required, bool kind_required = true);

// A path below /api/v1 and whether it names a list or a single object.
struct Target {
  std::string path;
  bool is_list = false;
};

// For `get`: NAME selects one object, no NAME lists. Members need a project:
// --project P, or NAME as the project (`get members team-a` lists them).
// kInvalidArgument (bad usage) when a member query has no project.
[[nodiscard]] Result<Target> PathForGet(const KindSpec& kind, const KindArgs& args);

// For `delete`: always one object; members need --project.
[[nodiscard]] Result<Target> PathForDelete(const KindSpec& kind, const KindArgs& args);

}  // namespace quader::cli
