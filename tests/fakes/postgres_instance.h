#pragma once
// A private PostgreSQL server for tests: Debian's postgresql binaries,
// initdb into a fresh directory owned by the `postgres` user (PostgreSQL
// refuses to run as root), listening on 127.0.0.1 at a free port with
// fsync off; stopped and removed when the object goes. Not a fake: the real
// database, on its own directory and port.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace quader::testing {

class PostgresInstance {
 public:
  PostgresInstance() {
    bin_ = FindBin();
    if (bin_.empty()) {
      error_ = "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb; scripts/install-deps.sh installs it)";
      return;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "quader-pg-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    passwd* pg = getpwnam("postgres");
    if (getuid() == 0) {
      if (!pg) {
        error_ = "running as root and there is no `postgres` user to run PostgreSQL as";
        return;
      }
      as_ = "runuser -u postgres -- ";
      if (chown(dir_.c_str(), pg->pw_uid, pg->pw_gid) != 0) {
        error_ = "cannot give " + dir_ + " to the postgres user";
        return;
      }
    }
    port_ = FreePort();
    std::string data = dir_ + "/data";
    if (!Run(bin_ + "/initdb -D " + data + " -A trust -U postgres -E UTF8 --no-sync")) {
      error_ = "initdb failed: see " + dir_ + "/cmd.log";
      return;
    }
    if (!Run(bin_ + "/pg_ctl -D " + data + " -l " + dir_ + "/server.log -w -t 30 -o \"-p " + std::to_string(port_) +
             " -k " + dir_ + " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
             " -c full_page_writes=off -c max_connections=200\" start")) {
      error_ = "pg_ctl start failed: see " + dir_ + "/server.log";
      return;
    }
    started_ = true;
  }
  ~PostgresInstance() {
    if (started_) Run(bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop");
    if (!dir_.empty() && !std::getenv("QUADER_KEEP_TEST_DATA")) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  PostgresInstance(const PostgresInstance&) = delete;
  PostgresInstance& operator=(const PostgresInstance&) = delete;

  bool ok() const { return started_; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }

  // A new empty database; its URL ("" on failure).
  std::string CreateDatabase() {
    std::string name = "q" + std::to_string(++databases_);
    if (!Run(bin_ + "/createdb -h 127.0.0.1 -p " + std::to_string(port_) + " -U postgres " + name)) return "";
    return Url(name);
  }
  std::string Url(const std::string& database) const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }

 private:
  static std::string FindBin() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      if (std::filesystem::exists(e.path() / "bin" / "initdb")) return (e.path() / "bin").string();
    }
    return "";
  }
  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    close(fd);
    return port;
  }
  bool Run(const std::string& cmd) {
    std::string full = "cd / && " + as_ + cmd + " >> " + dir_ + "/cmd.log 2>&1";
    return std::system(full.c_str()) == 0;
  }

  std::string bin_, dir_, as_, error_;
  int port_ = 0;
  int databases_ = 0;
  bool started_ = false;
};

}  // namespace quader::testing
