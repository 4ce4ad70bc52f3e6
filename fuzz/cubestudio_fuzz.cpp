// cube-studio's export files (cubestudio/convert.h), as POST
// /api/v1/projects/{p}/import/cube-studio reads them: the body through the
// server's JSON parser and its limits, then ConvertFile, then each converted
// document through its kind's parser (what apply does before the store).
// Invariants: every name it makes is a Quader name, and every item is either
// refused, built in, or a document of its kind.
#include "core/documents.h"
#include "core/names.h"
#include "cubestudio/convert.h"
#include "experiment/experiment_spec.h"
#include "fuzz/fuzz.h"
#include "pipeline/spec.h"
#include "serving/service_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using quader::Json;
  auto file = quader::ParseJson(std::string(quader::fuzz::Bytes(data, size)));
  if (!file.ok()) return 0;
  auto items = quader::cubestudio::ConvertFile(*file, "team");
  if (!items.ok()) return 0;
  for (const auto& item : *items) {
    if (!quader::ValidateObjectName("name", quader::cubestudio::QuaderName(item.name, "x")).ok()) __builtin_trap();
    if (!item.refused.empty() || item.builtin) continue;
    if (!item.document.is_object() || item.document.value("kind", "") != item.kind) __builtin_trap();
    const Json& doc = item.document;
    if (item.kind == "JobTemplate") (void)quader::pipeline::ParseTemplateSpec(doc);
    else if (item.kind == "Pipeline") (void)quader::pipeline::ParsePipelineSpec(doc);
    else if (item.kind == "Experiment") (void)quader::experiment::ParseExperimentSpec(doc);
    else if (item.kind == "Service") (void)quader::serving::ParseServiceSpec(doc);
    else if (item.kind == "InferenceService") (void)quader::serving::ParseInferenceServiceSpec(doc);
  }
  return 0;
}
