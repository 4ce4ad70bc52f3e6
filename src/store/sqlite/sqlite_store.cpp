#include "store/sqlite/sqlite_store.h"

#include <chrono>
#include <unordered_map>

#include <sqlite3.h>
#include <spdlog/spdlog.h>

#include "store/sql_util.h"

namespace quader::store {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr size_t kMaxIdleReaders = 8;

Status FromSqlite(sqlite3* db, int rc, std::string_view what) {
  int ext = sqlite3_extended_errcode(db);
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db);
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return {Code::kAlreadyExists, msg};
  }
  if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) return {Code::kConflict, msg};
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return {Code::kUnavailable, msg};
  return {Code::kInternal, msg};
}

}  // namespace

// One sqlite3 handle with its statement cache. Used by one thread at a time.
class SqliteConnection final : public Tx {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // store::Tx
  Status Exec(std::string_view sql, const Params& params) override {
    QUADER_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    Status st = rc == SQLITE_DONE ? Status::Ok() : FromSqlite(db_, rc, "exec");
    sqlite3_reset(stmt);
    changes_ = sqlite3_changes64(db_);
    return st;
  }

  Result<Rows> Query(std::string_view sql, const Params& params) override {
    QUADER_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    Rows rows;
    int rc;
    int n = sqlite3_column_count(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<Value> cols;
      cols.reserve(n);
      for (int i = 0; i < n; ++i) cols.push_back(Column(stmt, i));
      rows.emplace_back(std::move(cols));
    }
    Status st = rc == SQLITE_DONE ? Status::Ok() : FromSqlite(db_, rc, "query");
    sqlite3_reset(stmt);
    if (!st.ok()) return st;
    return rows;
  }

  int64_t changes() const override { return changes_; }

  // True while a transaction is open on this handle.
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

  // Runs SQL text with no parameters, possibly several statements.
  Status ExecScript(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return FromSqlite(db_, rc, "script: " + msg);
    }
    return Status::Ok();
  }

 private:
  Result<sqlite3_stmt*> Prepare(std::string_view sql, const Params& params) {
    auto key = std::string(sql);
    auto it = cache_.find(key);
    sqlite3_stmt* stmt = nullptr;
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                  SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return FromSqlite(db_, rc, "prepare");
      cache_.emplace(std::move(key), stmt);
    }
    sqlite3_clear_bindings(stmt);
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::nullptr_t>(v)) rc = sqlite3_bind_null(stmt, idx);
      else if (auto p = std::get_if<int64_t>(&v)) rc = sqlite3_bind_int64(stmt, idx, *p);
      else if (auto p = std::get_if<double>(&v)) rc = sqlite3_bind_double(stmt, idx, *p);
      else {
        const auto& s = std::get<std::string>(v);
        rc = sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      }
      if (rc != SQLITE_OK) return FromSqlite(db_, rc, "bind");
    }
    return stmt;
  }

  static Value Column(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(stmt, i));
      case SQLITE_FLOAT: return sqlite3_column_double(stmt, i);
      case SQLITE_NULL: return nullptr;
      default: {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        return std::string(p, sqlite3_column_bytes(stmt, i));
      }
    }
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  int64_t changes_ = 0;
};

SqliteStore::SqliteStore(std::string path)
    : path_(std::move(path)), in_memory_(path_ == ":memory:") {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<Store>> SqliteStore::Open(const std::string& path) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(path));
  QUADER_ASSIGN_OR_RETURN(store->writer_, store->Connect(/*writer=*/true));
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<SqliteConnection>> SqliteStore::Connect(bool writer) {
  sqlite3* db = nullptr;
  // A private in-memory database is one connection: readers share the writer.
  std::string target = in_memory_ ? "file:quader_mem?mode=memory&cache=shared" : path_;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  int rc = sqlite3_open_v2(target.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return errors::Unavailable("cannot open database " + path_ + ": " + msg);
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  std::string pragmas =
      "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;";
  if (writer && !in_memory_) pragmas = "PRAGMA journal_mode = WAL; " + pragmas;
  QUADER_RETURN_IF_ERROR(conn->ExecScript(pragmas));
  return conn;
}

std::unique_ptr<SqliteConnection> SqliteStore::TakeReader() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!readers_.empty()) {
      auto conn = std::move(readers_.back());
      readers_.pop_back();
      return conn;
    }
  }
  auto conn = Connect(/*writer=*/false);
  if (!conn.ok()) {
    spdlog::error("[store] opening a read connection failed: {}", conn.status().ToString());
    return nullptr;
  }
  return std::move(conn).value();
}

void SqliteStore::ReturnReader(std::unique_ptr<SqliteConnection> conn) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (readers_.size() < kMaxIdleReaders) readers_.push_back(std::move(conn));
}

Status SqliteStore::Write(const std::function<Status(Tx&)>& fn) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (writer_->InTransaction()) {
    // Never expected (every path below ends the transaction), but a handle
    // left inside one would refuse every later BEGIN: end it here.
    spdlog::error("[store] the write connection was left inside a transaction; rolling it back");
    (void)writer_->ExecScript("ROLLBACK");
  }
  QUADER_RETURN_IF_ERROR(writer_->ExecScript("BEGIN IMMEDIATE"));
  Status st = internal::CallTransactionFn(fn, *writer_, "write transaction");
  if (!st.ok()) {
    Status rb = writer_->ExecScript("ROLLBACK");
    if (!rb.ok()) spdlog::error("[store] rollback failed: {}", rb.ToString());
    return st;
  }
  Status commit = writer_->ExecScript("COMMIT");
  if (!commit.ok()) {
    (void)writer_->ExecScript("ROLLBACK");
    return commit;
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return commit;
}

Status SqliteStore::Read(const std::function<Status(Tx&)>& fn) {
  if (in_memory_) {
    // Shared-cache memory databases serialise anyway; use the writer.
    std::lock_guard<std::mutex> lock(write_mu_);
    return internal::CallTransactionFn(fn, *writer_, "read transaction");
  }
  auto conn = TakeReader();
  if (!conn) return errors::Unavailable("cannot open a read connection to " + path_);
  Status st = conn->ExecScript("BEGIN");
  if (st.ok()) {
    st = internal::CallTransactionFn(fn, *conn, "read transaction");
    Status end = conn->ExecScript(st.ok() ? "COMMIT" : "ROLLBACK");
    if (st.ok()) st = end;
  }
  if (conn->InTransaction()) {
    // Pooling a handle inside a transaction would pin an old snapshot.
    spdlog::error("[store] a read connection could not end its transaction; closing it");
    return st;
  }
  ReturnReader(std::move(conn));
  return st;
}

Result<std::unique_ptr<Leadership>> SqliteStore::TryLead() {
  struct Always final : Leadership {
    bool Held() override { return true; }
  };
  return std::unique_ptr<Leadership>(std::make_unique<Always>());
}

Status SqliteStore::Migrate() {
  std::lock_guard<std::mutex> lock(write_mu_);
  QUADER_RETURN_IF_ERROR(writer_->ExecScript(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "name TEXT NOT NULL, applied_at BIGINT NOT NULL)"));
  QUADER_ASSIGN_OR_RETURN(Rows rows,
                          writer_->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {}));
  int64_t current = rows.at(0).Int(0);
  for (const Migration& m : Migrations()) {
    if (m.version <= current) continue;
    std::string sql = m.sql;
    for (size_t pos; (pos = sql.find("{{id}}")) != std::string::npos;) {
      sql.replace(pos, 6, "INTEGER PRIMARY KEY AUTOINCREMENT");
    }
    QUADER_RETURN_IF_ERROR(writer_->ExecScript("BEGIN IMMEDIATE"));
    Status st = writer_->ExecScript(sql);
    if (st.ok()) {
      auto now = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
      st = writer_->Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                         {int64_t{m.version}, m.name, int64_t{now}});
    }
    if (!st.ok()) {
      (void)writer_->ExecScript("ROLLBACK");
      return errors::Internal("migration " + std::to_string(m.version) + " (" + m.name +
                              ") failed: " + st.message());
    }
    QUADER_RETURN_IF_ERROR(writer_->ExecScript("COMMIT"));
    spdlog::info("[store] applied migration {} {}", m.version, m.name);
  }
  return Status::Ok();
}

}  // namespace quader::store
