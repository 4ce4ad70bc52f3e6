// YAML and JSON documents (core/documents.h): what every apply, create and
// update body goes through first.
#include "core/documents.h"
#include "fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = quader::fuzz::Bytes(data, size);
  auto docs = quader::ParseDocuments(text);
  if (docs.ok()) {
    // What `quader get -o yaml` and the API do with a stored document.
    for (const auto& doc : *docs) {
      (void)quader::ToYaml(doc);
      (void)doc.dump();
    }
  }
  (void)quader::ParseJson(text);
  return 0;
}
