#pragma once
// The `Notebook` document (SPEC §3, CONTRACT.md "Documents"), typed and
// validated. Pure: no store, clock or runtime.
//
// The container fields (image, working_dir, env, volume_mount, resources)
// follow the JobTemplate rules (pipeline::ParseTemplateSpec). cube-studio's
// column names are accepted as aliases: `ide_type` for type, `images` for
// image, `describe` for description, flat `resource_cpu` / `resource_memory`
// / `resource_gpu`. Unknown fields are refused; every error is
// kInvalidArgument, "field: reason".

#include <map>
#include <string>
#include <vector>

#include "auth/expand.h"
#include "core/documents.h"
#include "core/status.h"
#include "pipeline/spec.h"

namespace quader::notebook {

inline constexpr const char* kTypeJupyter = "jupyter";
inline constexpr const char* kTypeVscode = "vscode";

// The images a type runs in when none is given (scripts/build-images.sh
// builds both; the process runtime ignores images).
inline constexpr const char* kJupyterImage = "quader/notebook:1";
inline constexpr const char* kVscodeImage = "quader/vscode:1";

// Names stay short enough for `$name-external` to be a DNS label (cube-studio: 54).
inline constexpr size_t kMaxNotebookNameLength = 54;

struct NotebookSpec {
  std::string project = "public";
  std::string name;         // a DNS label, at most 54 characters
  std::string description;  // alias: describe
  std::string type = kTypeJupyter;  // jupyter or vscode; alias: ide_type
  std::string image;        // default by type
  // Where the IDE opens; "" = the personal directory /mnt/$username.
  std::string working_dir;
  std::map<std::string, std::string> env;
  std::string volume_mount;               // extra mounts, the project grammar, raw
  std::vector<auth::VolumeMount> mounts;  // parsed from volume_mount
  pipeline::ResourceSpec resources;       // GPU notebooks ask for resources.gpu
  // Data set versions mounted read-only at /datasets/NAME (docs/datasets.md),
  // resolved when its server starts.
  std::vector<workload::DatasetRef> datasets;
  // cube-studio's fields that mean nothing here (namespace, node_selector,
  // image_pull_policy, expand), kept as given (docs/cube-studio.md).
  Json cube_studio = Json::object();

  Json ToJson() const;
};

// Parses a Notebook document (`kind` may be present and is ignored).
Result<NotebookSpec> ParseNotebookSpec(const Json& doc);

}  // namespace quader::notebook
