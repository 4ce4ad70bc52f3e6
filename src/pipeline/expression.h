#pragma once
// The `{{ ... }}` expressions of pipeline text that are more than a variable
// name: the small, safe part of cube-studio's Jinja that its pipelines and
// templates use (docs/cube-studio.md "Expressions"). Nothing here executes
// code: the grammar below is parsed and evaluated directly, and every name
// outside it is refused by name.
//
//   expr    := unary (('+' | '-') unary)*
//   unary   := '-' unary | postfix
//   postfix := atom ('.' NAME | '(' args ')')*
//   args    := [arg (',' arg)*]        arg := expr | NAME '=' expr
//   atom    := NUMBER | 'text' | "text" | '(' expr ')' | NAME
//
// Values: text, numbers, datetimes (naive, to the second), dates and
// timedeltas. Functions: datetime.datetime.now() and .today() (the run's
// logical time, its `execution_date`, in the run's time zone),
// datetime.date.today(), datetime.timedelta(days=, seconds=, minutes=,
// hours=, weeks=) (or positional days, seconds). Methods and attributes of a
// datetime or date: strftime(FMT), date(), isoformat(), year, month, day,
// hour, minute, second, weekday(). Operators: datetime/date ± timedelta,
// datetime - datetime, timedelta ± timedelta, number ± number, text + text.
// A bare NAME is a variable of the run (VariableLookup). strftime takes the
// directives %Y %y %m %d %e %H %I %M %S %p %j %a %A %b %B %w %f %F %T %%.
//
// Pure and thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "pipeline/render.h"

namespace quader::pipeline {

// The longest expression accepted (the text inside the braces).
inline constexpr size_t kMaxExpressionLength = 1000;

// True when `text` (trimmed) is a plain variable name (`run_id`,
// `tasks.a-b.outputs.k`), which Render looks up without evaluating.
bool IsPlainVariable(std::string_view text);

// Evaluates `expr` to its text. `lookup` gives the variables it reads;
// datetime.datetime.now() reads `execution_date` ("YYYY-MM-DD HH:MM:SS").
// kInvalidArgument naming `field` for a syntax error, a name outside the
// grammar (`"os" is not available in expressions`), a wrong type, an unknown
// variable or an unsupported strftime directive.
Result<std::string> EvaluateExpression(const std::string& field, std::string_view expr,
                                       const VariableLookup& lookup);

// The variables `expr` reads (execution_date for the datetime functions), or
// the error evaluating it would give for any reason other than a variable's
// value. Used at validation time, before any run exists.
Result<std::vector<std::string>> ExpressionVariables(const std::string& field, std::string_view expr);

}  // namespace quader::pipeline
