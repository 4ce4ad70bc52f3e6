#include "core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

Result<std::string> ReadWorkloadFile(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return errors::NotFound("file", path);
    if (errno == ELOOP) return errors::Invalid(path, "is a symbolic link");
    return errors::Invalid(path, std::string("cannot be read: ") + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return errors::Invalid(path, "is not a regular file");
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    close(fd);
    return errors::Invalid(path, "is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      close(fd);
      return errors::Invalid(path, "is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  close(fd);
  return out;
}

}  // namespace quader
