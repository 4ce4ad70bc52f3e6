#include "core/files.h"

#include <filesystem>

namespace quader {

void WriteFileAtomically(const std::string& path, const std::function<void(std::ofstream&)>& fill) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    fill(out);
  }
  fs::rename(tmp, path, ec);
}

}  // namespace quader
