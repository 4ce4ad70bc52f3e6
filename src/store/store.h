#pragma once
// The metadata store: a transactional SQL database behind one interface.
//
// Everything Quader knows lives here. Callers run a function inside a
// transaction (Write) or a consistent snapshot (Read) and use the typed
// table helpers (users.h, projects.h, ...) on the Tx they are handed. The
// helpers write portable SQL with `?` placeholders, so the same code runs on
// SQLite (sqlite/) and, later, PostgreSQL; a backend only implements Store
// and Tx.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace quader::store {

// A SQL parameter or column value.
using Value = std::variant<std::nullptr_t, int64_t, double, std::string>;
using Params = std::vector<Value>;

// One result row. Accessors convert loosely (an integer column read as a
// string is formatted); reading past the end is a programming error.
class Row {
 public:
  explicit Row(std::vector<Value> cols) : cols_(std::move(cols)) {}
  bool IsNull(size_t i) const { return std::holds_alternative<std::nullptr_t>(cols_.at(i)); }
  int64_t Int(size_t i) const;
  double Double(size_t i) const;
  std::string Str(size_t i) const;
  size_t size() const { return cols_.size(); }

 private:
  std::vector<Value> cols_;
};
using Rows = std::vector<Row>;

// A connection inside a transaction. Owned by the Store for the duration of
// one Write/Read call; not thread-safe; never stored by callers.
class Tx {
 public:
  virtual ~Tx() = default;
  // Runs one statement. kAlreadyExists on a unique-constraint violation,
  // kConflict on a foreign-key violation, kUnavailable when the database is
  // busy past its timeout, kInternal otherwise.
  virtual Status Exec(std::string_view sql, const Params& params = {}) = 0;
  virtual Result<Rows> Query(std::string_view sql, const Params& params = {}) = 0;
  // Rows changed by the last Exec.
  virtual int64_t changes() const = 0;
};

// Leadership among servers sharing one store: only the leader runs the
// controllers (runs, cron, experiments, builds, services, notebooks), so no
// two servers start the same task or fire the same schedule.
class Leadership {
 public:
  virtual ~Leadership() = default;
  // True while it is still held (on PostgreSQL: while its session lives).
  virtual bool Held() = 0;
};

// Thread-safe. Write calls are serialised; Read calls run concurrently with
// each other and with a Write (they see the last committed state).
class Store {
 public:
  virtual ~Store() = default;
  // Runs `fn` in a write transaction: committed when fn returns ok, rolled
  // back otherwise (and the Status returned). Durable once Write returns ok.
  virtual Status Write(const std::function<Status(Tx&)>& fn) = 0;
  // Runs `fn` against a consistent read-only snapshot.
  virtual Status Read(const std::function<Status(Tx&)>& fn) = 0;
  // "sqlite" or "postgresql": for the rare statement that differs.
  virtual std::string dialect() const = 0;
  // Applies pending schema migrations; idempotent. Called once at start.
  virtual Status Migrate() = 0;
  // Grows with every committed write. Caches of derived data remember the
  // generation they were computed at and are stale once it moves. Read it
  // *before* reading the data a cache entry is built from.
  virtual uint64_t generation() const = 0;
  // Tries to become the leader: a Leadership, or nullptr when another server
  // holds it. SQLite: always granted (one server per database file).
  virtual Result<std::unique_ptr<Leadership>> TryLead() = 0;
};

// Opens a store by URL: "sqlite:PATH" (created if missing, ":memory:" for a
// private in-memory database) or "postgresql://USER@HOST:PORT/DATABASE" (any
// libpq URI; the database must exist). kInvalidArgument for an unknown
// scheme, kUnavailable when it cannot be opened.
Result<std::unique_ptr<Store>> OpenStore(const std::string& url);

// A numbered migration; `sql` may use {{id}} for an auto-increment primary key.
struct Migration {
  int version;
  std::string name;
  std::string sql;
};
// All migrations compiled into the binary, in version order.
const std::vector<Migration>& Migrations();

}  // namespace quader::store
