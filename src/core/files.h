#pragma once
// Small file helpers shared by the controllers.

#include <cstddef>
#include <fstream>
#include <functional>
#include <string>

#include "core/status.h"

namespace quader {

// Writes `path` through a temporary file renamed into place, so readers never
// see half of it. Parent directories are created.
void WriteFileAtomically(const std::string& path, const std::function<void(std::ofstream&)>& fill);

// Reads a file that a workload wrote (its outputs): never through a symbolic
// link and only a regular file, so a workload cannot make the server read
// another file for it. kNotFound when missing; kInvalidArgument naming `path`
// when it is a link or not a regular file, or larger than `max_bytes`.
Result<std::string> ReadWorkloadFile(const std::string& path, size_t max_bytes);

}  // namespace quader
