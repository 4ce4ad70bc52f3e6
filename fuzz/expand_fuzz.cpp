// A project's `expand` (auth/expand.h): the whole object, and its
// mini-grammars on their own (volume_mount, node_selector, memory sizes).
// Input: JSON expand text; the same bytes are also each grammar's text.
#include "auth/expand.h"
#include "fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using quader::Json;
  std::string text(quader::fuzz::Bytes(data, size));
  (void)quader::auth::ParseVolumeMounts("expand.volume_mount", text);
  (void)quader::auth::ParseNodeSelector("expand.node_selector", text);
  (void)quader::auth::ParseMemorySize("expand.volume_mount", text);
  Json expand = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (expand.is_discarded()) return 0;
  Json normalized;
  auto settings = quader::auth::ParseExpand(expand, &normalized);
  if (!settings.ok()) return 0;
  // What is stored must parse again to the same settings.
  Json again;
  auto reparsed = quader::auth::ParseExpand(normalized, &again);
  if (!reparsed.ok() || again != normalized) __builtin_trap();
  return 0;
}
