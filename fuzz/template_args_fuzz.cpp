// A job template's `args` schema and a task's values against it, then the
// argv (pipeline/template_args.h). Input: a JSON array
// [schema, values, allow_templates]; the schema may also be a string of JSON
// text (cube-studio's form).
#include "fuzz/fuzz.h"
#include "pipeline/template_args.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using quader::Json;
  Json input = Json::parse(quader::fuzz::Bytes(data, size), nullptr, /*allow_exceptions=*/false);
  if (input.is_discarded()) return 0;
  Json schema_doc = input.is_array() && !input.empty() ? input[0] : input;
  Json values = input.is_array() && input.size() > 1 ? input[1] : Json::object();
  bool allow_templates = input.is_array() && input.size() > 2 && input[2].is_boolean() && input[2].get<bool>();
  auto schema = quader::pipeline::ParseArgSchema(schema_doc, "args");
  if (!schema.ok()) return 0;
  (void)schema->ToJson().dump();
  auto checked = quader::pipeline::ValidateTaskArgs(*schema, values, "tasks[1].args", allow_templates);
  if (!checked.ok()) return 0;
  (void)quader::pipeline::RenderArgv(*schema, *checked);
  // Validated values are validated again after rendering at run time.
  (void)quader::pipeline::ValidateTaskArgs(*schema, *checked, "tasks[1].args", false);
  return 0;
}
