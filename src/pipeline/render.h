#pragma once
// `{{name}}` variables in pipeline text (global env, task args, env, command,
// working dir), rendered once per run. Whitespace inside the braces is
// allowed: `{{ run_id }}`. Text that is not a plain name is one of the safe
// expressions of pipeline/expression.h (`{{ datetime.datetime.now().strftime('%Y') }}`);
// nothing else is evaluated and no code runs (cube-studio renders everything
// through Jinja with Python in reach; we do not).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/documents.h"
#include "core/status.h"

namespace quader::pipeline {

// The variable names in `text`, in order of appearance (with duplicates);
// for an expression, the variables it reads (execution_date for datetime).
// kInvalidArgument naming `field` for an unclosed "{{", an empty name or an
// expression outside the grammar (refused by name).
Result<std::vector<std::string>> VariablesIn(const std::string& field, std::string_view text);

// Returns the value of a variable, or nullopt when it is unknown.
using VariableLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Replaces every {{name}} in `text` and evaluates every expression.
// kInvalidArgument naming `field` and the variable when one is unknown.
Result<std::string> Render(const std::string& field, std::string_view text, const VariableLookup& lookup);

// Renders every string inside a JSON value (object keys are left alone).
Result<Json> RenderJson(const std::string& field, const Json& value, const VariableLookup& lookup);

}  // namespace quader::pipeline
