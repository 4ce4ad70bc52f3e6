// The `{{ }}` renderer of pipeline text (pipeline/render.h). The whole
// input is rendered as a template, short variable names known (their value
// is the name reversed, holding "{{" that must not be rendered again), long
// ones unknown, execution_date known so that `{{ datetime... }}` expressions
// are evaluated; the same input as JSON goes through RenderJson.
#include <algorithm>

#include "fuzz/fuzz.h"
#include "pipeline/render.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using quader::Json;
  std::string_view text = quader::fuzz::Bytes(data, size);
  auto lookup = [](const std::string& name) -> std::optional<std::string> {
    // Known, so that datetime expressions reach the evaluator (expression.h);
    // the value validation assumes, so results cannot differ from it.
    if (name == "execution_date") return std::string("2000-01-01 00:00:00");
    if (name.size() > 8) return std::nullopt;
    std::string value(name.rbegin(), name.rend());
    return "<" + value + ">{{";  // a rendered value is not rendered again
  };
  auto names = quader::pipeline::VariablesIn("command", text);
  auto rendered = quader::pipeline::Render("command", text, lookup);
  // Render succeeds exactly when every variable is known.
  if (names.ok()) {
    bool all_known = std::all_of(names->begin(), names->end(), [&](const std::string& n) { return lookup(n).has_value(); });
    if (rendered.ok() != all_known) __builtin_trap();
  } else if (rendered.ok()) {
    __builtin_trap();
  }
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_discarded()) (void)quader::pipeline::RenderJson("env", value, lookup);
  return 0;
}
