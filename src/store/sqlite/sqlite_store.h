#pragma once
// The embedded default Store: one SQLite file in WAL mode.
//
// Thread-safe. One write connection (Write calls are serialised on a mutex
// and run as BEGIN IMMEDIATE transactions) and a pool of read connections
// that run concurrently with it. Foreign keys are on, the busy timeout is 5 s,
// every statement is prepared once per connection and cached.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/store.h"

struct sqlite3;

namespace quader::store {

class SqliteConnection;

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database at `path`.
  static Result<std::unique_ptr<Store>> Open(const std::string& path);
  ~SqliteStore() override;

  // store::Store
  Status Write(const std::function<Status(Tx&)>& fn) override;
  Status Read(const std::function<Status(Tx&)>& fn) override;
  std::string dialect() const override { return "sqlite"; }
  Status Migrate() override;
  uint64_t generation() const override { return generation_.load(std::memory_order_acquire); }
  Result<std::unique_ptr<Leadership>> TryLead() override;

 private:
  explicit SqliteStore(std::string path);
  Result<std::unique_ptr<SqliteConnection>> Connect(bool writer);
  std::unique_ptr<SqliteConnection> TakeReader();
  void ReturnReader(std::unique_ptr<SqliteConnection> conn);

  // Constant after construction.
  const std::string path_;
  const bool in_memory_;

  // The only writer to the file is this process (SQLite's embedded mode),
  // so counting our own commits tracks every change.
  std::atomic<uint64_t> generation_{0};

  std::mutex write_mu_;
  std::unique_ptr<SqliteConnection> writer_;  // guarded by write_mu_

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<SqliteConnection>> readers_;  // guarded by pool_mu_
};

}  // namespace quader::store
