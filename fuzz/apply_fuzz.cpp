// Every kind a document may be (api/apply.cpp's KindRegistry), through the
// same parse and validation calls its apply function makes before the store:
// JobTemplate, Pipeline (structure and template resolution against the
// templates of the same input), Experiment (with its tuner and assessor),
// Service and InferenceService (with their hosts), Notebook, Project (with
// its expand) and ImageBuild. A document without a known kind goes through
// every parser.
#include <map>

#include "auth/expand.h"
#include "auth/projects.h"
#include "core/documents.h"
#include "experiment/experiment_spec.h"
#include "fuzz/fuzz.h"
#include "images/build_spec.h"
#include "notebook/notebook_spec.h"
#include "pipeline/spec.h"
#include "serving/service_spec.h"

namespace {

using quader::Json;

constexpr const char* kDomain = "service.example.com";

void Template(const Json& doc, std::map<std::string, quader::pipeline::TemplateSpec>* templates) {
  auto spec = quader::pipeline::ParseTemplateSpec(doc);
  if (!spec.ok()) return;
  (void)spec->ToJson().dump();
  (*templates)[spec->name] = *spec;
}

void Pipeline(const Json& doc, const std::map<std::string, quader::pipeline::TemplateSpec>& templates) {
  auto spec = quader::pipeline::ParsePipelineSpec(doc);
  if (!spec.ok()) return;
  (void)spec->ToJson().dump();
  if (!quader::pipeline::ValidatePipeline(*spec).ok()) return;
  (void)quader::pipeline::TopologicalOrder(*spec);
  (void)quader::pipeline::ResolveTemplates(&*spec, [&](const std::string& name)
                                                       -> quader::Result<quader::pipeline::TemplateSpec> {
    auto it = templates.find(name);
    if (it == templates.end()) return quader::errors::NotFound("job template", name);
    return it->second;
  });
}

void Experiment(const Json& doc) {
  auto spec = quader::experiment::ParseExperimentSpec(doc);
  if (!spec.ok()) return;
  (void)spec->ToJson().dump();
  auto tuner = quader::experiment::MakeExperimentTuner(*spec);
  if (tuner.ok() && *tuner) (void)(*tuner)->Suggest(1);
  (void)quader::experiment::MakeExperimentAssessor(*spec);
}

void Service(const Json& doc) {
  auto spec = quader::serving::ParseServiceSpec(doc);
  if (!spec.ok()) return;
  (void)spec->ToJson().dump();
  (void)quader::serving::ResolveHosts(*spec, kDomain);
}

void InferenceService(const Json& doc) {
  auto spec = quader::serving::ParseInferenceServiceSpec(doc);
  if (!spec.ok()) return;
  (void)spec->ToJson().dump();
  (void)quader::serving::ResolveHosts(*spec, kDomain);
}

void Notebook(const Json& doc) {
  auto spec = quader::notebook::ParseNotebookSpec(doc);
  if (spec.ok()) (void)spec->ToJson().dump();
}

void Project(const Json& doc) {
  auto spec = quader::auth::ParseProjectSpec(doc, /*allow_members=*/true);
  if (spec.ok() && spec->expand) (void)quader::auth::ParseExpand(*spec->expand);
}

void ImageBuild(const Json& doc) {
  auto spec = quader::images::ParseBuildSpec(doc);
  if (spec.ok()) (void)spec->ToJson().dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto docs = quader::ParseDocuments(quader::fuzz::Bytes(data, size));
  if (!docs.ok()) return 0;
  // Templates first, so that pipelines of the same input can use them.
  std::map<std::string, quader::pipeline::TemplateSpec> templates;
  for (const Json& doc : *docs) {
    if (doc.is_object() && doc.value("kind", Json()) == "JobTemplate") Template(doc, &templates);
  }
  for (const Json& doc : *docs) {
    if (!doc.is_object()) continue;
    const Json kind = doc.value("kind", Json());
    bool any = !kind.is_string();
    if (any) Template(doc, &templates);
    if (any || kind == "Pipeline") Pipeline(doc, templates);
    if (any || kind == "Experiment") Experiment(doc);
    if (any || kind == "Service") Service(doc);
    if (any || kind == "InferenceService") InferenceService(doc);
    if (any || kind == "Notebook") Notebook(doc);
    if (any || kind == "Project") Project(doc);
    if (any || kind == "ImageBuild") ImageBuild(doc);
  }
  return 0;
}
