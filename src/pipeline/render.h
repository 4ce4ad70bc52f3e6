#pragma once
// `{{name}}` variables in pipeline text (global env, task args, env, command,
// working dir), rendered once per run. Only plain substitution: no
// expressions, no code (cube-studio renders everything through Jinja with
// Python's datetime in reach; we do not). Whitespace inside the braces is
// allowed: `{{ run_id }}`.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/documents.h"
#include "core/status.h"

namespace quader::pipeline {

// The variable names in `text`, in order of appearance (with duplicates).
// kInvalidArgument naming `field` for an unclosed "{{" or an empty name.
Result<std::vector<std::string>> VariablesIn(const std::string& field, std::string_view text);

// Returns the value of a variable, or nullopt when it is unknown.
using VariableLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Replaces every {{name}} in `text`. kInvalidArgument naming `field` and the
// variable when one is unknown.
Result<std::string> Render(const std::string& field, std::string_view text, const VariableLookup& lookup);

// Renders every string inside a JSON value (object keys are left alone).
Result<Json> RenderJson(const std::string& field, const Json& value, const VariableLookup& lookup);

}  // namespace quader::pipeline
