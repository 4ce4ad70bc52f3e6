#pragma once
// Small file helpers shared by the controllers.

#include <fstream>
#include <functional>
#include <string>

namespace quader {

// Writes `path` through a temporary file renamed into place, so readers never
// see half of it. Parent directories are created.
void WriteFileAtomically(const std::string& path, const std::function<void(std::ofstream&)>& fill);

}  // namespace quader
