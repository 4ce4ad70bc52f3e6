// Resource and traffic strings: cpu, memory and gpu of templates (as text
// and as numbers), memory sizes, Kubernetes quantities, durations, image
// references, and the services' canary, shadow, health, hpa, metrics and
// custom host fields. Input: one string per line, each line fed to every
// parser (a line of JSON text is also tried as the JSON value).
#include "auth/expand.h"
#include "fuzz/fuzz.h"
#include "gateway/traffic.h"
#include "images/image_ref.h"
#include "pipeline/spec.h"
#include "runtime/kubernetes/mapping.h"

namespace {

void OneString(const std::string& s) {
  using quader::Json;
  (void)quader::auth::ParseMemorySize("memory", s);
  (void)quader::runtime::kubernetes::ParseQuantity(s);
  (void)quader::images::ParseImageRef("image", s);
  (void)quader::gateway::ParseCanary(s);
  (void)quader::gateway::ParseShadow(s);
  (void)quader::gateway::ParseHealth(s);
  (void)quader::gateway::ParseHpa(s);
  (void)quader::gateway::ParseMetrics(s);
  (void)quader::gateway::ValidateCustomHost(s, "*.service.example.com");
  (void)quader::pipeline::ParseDuration("timeout", Json(s));
  Json number = Json::parse(s, nullptr, /*allow_exceptions=*/false);
  if (!number.is_discarded()) (void)quader::pipeline::ParseDuration("timeout", number);
  for (const Json& value : {Json(s), number}) {
    if (value.is_discarded()) continue;
    for (const char* key : {"cpu", "memory", "gpu"}) {
      Json doc = {{"name", "t"}, {"image", "python:3"}, {"resources", {{key, value}}}};
      auto spec = quader::pipeline::ParseTemplateSpec(doc);
      if (spec.ok()) (void)spec->ToJson().dump();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const std::string& line : quader::fuzz::Lines(quader::fuzz::Bytes(data, size), 8)) OneString(line);
  return 0;
}
