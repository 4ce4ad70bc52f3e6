#pragma once
// How a workload names the data sets it reads (docs/datasets.md): a task's,
// a notebook's `datasets: [iris@2, digits]`. Each is mounted read-only at
// /datasets/NAME (registry/datasets.h MountDatasets).

#include <string>
#include <vector>

#include "core/documents.h"
#include "core/status.h"

namespace quader::workload {

// Where a workload finds a data set it names: /datasets/NAME.
inline constexpr const char* kDatasetsRoot = "/datasets";

// "iris" (the newest version when the workload starts) or "iris@2".
struct DatasetRef {
  std::string name;
  int version = 0;  // 0: the newest
  std::string Text() const { return version ? name + "@" + std::to_string(version) : name; }
};
Result<DatasetRef> ParseDatasetRef(const std::string& field, const std::string& text);
// A list of refs, or one string of them separated by commas; at most 32, no
// name twice. Null: none.
Result<std::vector<DatasetRef>> ParseDatasetRefs(const std::string& field, const Json* value);
Json DatasetRefsJson(const std::vector<DatasetRef>& refs);

}  // namespace quader::workload
