#pragma once
// A job template's parameter schema (SPEC §5, cube-studio's `args` format) and
// how a task's values become the container's argv.
//
// The schema is cube-studio's, so its published templates import unchanged:
//   {"Group": {"--flag": {"type": "int", "item_type": "str", "label": "…",
//    "require": 1, "choice": [], "range": "", "default": …, "placeholder": "",
//    "describe": "", "editable": 1, "sub_args": {…}}}}
// Types: int, float, bool, str, text, enum, multiple, list, dict, file, json.
// Groups are only UI headings. Quader keeps groups and parameters sorted by
// name (JSON objects are unordered); argv follows that order.

#include <string>
#include <vector>

#include "core/documents.h"
#include "core/status.h"

namespace quader::pipeline {

enum class ArgType { kInt, kFloat, kBool, kStr, kText, kEnum, kMultiple, kList, kDict, kFile, kJson };
// "int", "float", ...
const char* ArgTypeName(ArgType t);

struct ArgSpec {
  std::string name;    // the key, usually a flag: "--lr"
  std::string group;   // UI heading it sits under
  ArgType type = ArgType::kStr;
  std::string item_type = "str";  // element type of enum/multiple/list; editor language for text
  std::string label;
  std::string describe;
  std::string placeholder;
  bool required = true;           // "require": 1 (the default); a default value makes it optional
  Json choice = Json::array();    // allowed values (enum, multiple)
  std::string range;              // "min,max" for numbers (min included, max excluded)
  Json default_value;             // null: none
  bool editable = true;
  std::vector<ArgSpec> sub_args;  // dict, and list whose item_type is dict
};

struct ArgSchema {
  std::vector<ArgSpec> args;  // by group, then name

  const ArgSpec* Find(const std::string& name) const;
  // Back to cube-studio's format (what the API shows and the UI renders).
  Json ToJson() const;
};

// Parses the schema. `args` may be an object or a string holding JSON text
// (cube-studio stores it as text). Errors are kInvalidArgument naming the
// path, e.g. `args.Train.--lr.type: unknown type "number" (use int, float, …)`.
// An enum or multiple without `choice`, a default outside `choice`, or a
// default of the wrong type is refused (a templated default, "{{...}}", is not
// checked; "" counts as no default). Unknown attributes are refused, except
// cube-studio's front-end-only `regex`, which is accepted and dropped. `range`
// is kept for the UI and not enforced (as in cube-studio).
Result<ArgSchema> ParseArgSchema(const Json& args, const std::string& path);

// Checks and normalises a task's values against the schema, as cube-studio's
// validate_task_args: unknown names are refused; str/text/int/float are cast
// ("3" is an int 3, 3 is a str "3"; "x" for an int is refused); enum values
// must be in `choice`; `multiple` accepts a list or a string split on
// whitespace, ',' or ';' and every item must be in `choice`; `list` accepts a
// list or a comma-separated string (kept as a list); dict recurses into
// sub_args; json passes any value (a string holding a JSON object or list is
// parsed, so it is passed on as JSON, not quoted); a bool accepts true/false, "true"/"false",
// 1/0. Missing values get the default; a missing required value without a
// default is refused. A string value containing "{{" is a template rendered at
// run time: with `allow_templates` it is kept unchecked (the run validates it
// again after rendering); without, it is type-checked like any string.
// Errors name `path`.NAME, e.g. `tasks[1].args.--lr: "fast" is not a float`.
// Returns an object of every parameter with a value (after defaults).
Result<Json> ValidateTaskArgs(const ArgSchema& schema, const Json& values, const std::string& path,
                              bool allow_templates);

// The argv for validated values, as cube-studio renders it: parameters in
// schema order; a true bool emits the bare flag, a false bool nothing; an
// empty value ("", [], {}, null) is skipped; a dict, list, multiple or json
// value emits the flag then its compact JSON text (multiple: the items joined
// by ','); anything else emits the flag then its string form (floats without
// a trailing ".0" only when integral: 1.0 -> "1.0", 0.5 -> "0.5"). The keys
// `images` and `workdir` are never emitted (they override the image and the
// working directory).
std::vector<std::string> RenderArgv(const ArgSchema& schema, const Json& values);

}  // namespace quader::pipeline
