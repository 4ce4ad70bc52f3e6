#pragma once
// cube-studio's export files (its `myapp/init/*.json` and what its UI
// exports: job templates, pipelines `{pipeline, tasks}` with `dag_json`,
// services, inference services, AutoML experiments) as Quader documents,
// ready for the apply path (api/apply.h) and so held to exactly its checks.
// `quader import cube-studio` and POST /api/v1/projects/{p}/import/cube-studio
// (docs/cube-studio.md).
//
// The conversion is thin on purpose: the kinds' parsers accept cube-studio's
// field names themselves (so `quader apply` does too); here each object's
// kind is recognised by its fields, it is placed in the import's project, and
// names that are not Quader names are turned into ones (the original is kept
// as the template's alias). Pure: no store, no I/O. Thread-safe.

#include <string>
#include <vector>

#include "core/documents.h"
#include "core/status.h"

namespace quader::cubestudio {

// One object of a file.
struct ImportItem {
  std::string kind;        // JobTemplate, Pipeline, Service, InferenceService, Experiment; "" when not recognised
  std::string name;        // its name in the file (cube-studio's)
  Json document;           // the Quader document to apply; null when refused or built in
  std::string refused;     // why it cannot be imported; nothing is applied then
  bool builtin = false;    // a template built into Quader (pipeline::BuiltinTemplate): customize, model-register
};

// The objects of one file, in file order. A file is one object, a list of
// them, or an object of them by name (cube-studio's init files). Each object
// lands in `project` (the file's own project names are kept in the
// document's `cube_studio` field when they differ). kInvalidArgument only
// when `file` is neither an object nor a list; an object that cannot be
// converted is an item with `refused` set.
Result<std::vector<ImportItem>> ConvertFile(const Json& file, const std::string& project);

// A Quader name (ValidateObjectName) for cube-studio's `name`: itself when
// valid; else lower-cased with '_' and other characters as '-'; else (no
// ASCII letters, e.g. "自定义镜像") `PREFIX-` and 8 hex digits of its hash.
std::string QuaderName(const std::string& name, const std::string& prefix);

}  // namespace quader::cubestudio
