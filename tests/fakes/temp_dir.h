#pragma once
// A fresh directory per test, removed when the test ends.

#include <cstdlib>
#include <filesystem>
#include <string>

namespace quader::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "quader-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
    // Servers started on a directory in here run workloads as other uids,
    // which must pass through it to their own directories (docs/security.md).
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                            std::filesystem::perms::others_exec);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace quader::testing
