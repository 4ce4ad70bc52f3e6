#pragma once
// The Store on PostgreSQL (libpqxx), for servers that share one database
// (docs/server.md "PostgreSQL").
//
// Thread-safe. Write calls are serialised on one connection per process and
// run as READ COMMITTED transactions; Read calls take a connection from a
// pool and run as REPEATABLE READ, READ ONLY (a consistent snapshot). The
// table helpers' `?` placeholders become $1, $2, ...; every statement of a
// write runs under a savepoint, so a failed statement (a unique violation a
// caller expects, say) leaves the transaction usable, as on SQLite.
// Migrations run under an advisory lock, so servers starting together apply
// each one once.
//
// generation() moves with this process's commits and, at least once a
// second, with time: another server's writes reach this one's caches within
// a second.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/store.h"

namespace quader::store {

class PostgresConnection;

class PostgresStore final : public Store {
 public:
  // `url`: a libpq connection URI ("postgresql://user@host:port/db?...") or
  // key=value string. kUnavailable when it cannot connect.
  static Result<std::unique_ptr<Store>> Open(const std::string& url);
  ~PostgresStore() override;

  // store::Store
  Status Write(const std::function<Status(Tx&)>& fn) override;
  Status Read(const std::function<Status(Tx&)>& fn) override;
  std::string dialect() const override { return "postgresql"; }
  Status Migrate() override;
  uint64_t generation() const override;
  // A session advisory lock held on a connection of its own.
  Result<std::unique_ptr<Leadership>> TryLead() override;

  // `?` placeholders as $1, $2, ... (outside quoted text). Exposed for tests.
  static std::string NumberPlaceholders(std::string_view sql);

 private:
  explicit PostgresStore(std::string url);
  Result<std::unique_ptr<PostgresConnection>> Connect();
  Result<std::unique_ptr<PostgresConnection>> TakeReader();
  void ReturnReader(std::unique_ptr<PostgresConnection> conn);

  const std::string url_;
  const std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
  std::atomic<uint64_t> commits_{0};

  std::mutex write_mu_;
  std::unique_ptr<PostgresConnection> writer_;  // guarded by write_mu_

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<PostgresConnection>> readers_;  // guarded by pool_mu_
};

}  // namespace quader::store
