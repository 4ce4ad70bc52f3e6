#include "store/postgres/postgres_store.h"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "store/sql_util.h"

namespace quader::store {
namespace {

constexpr size_t kMaxIdleReaders = 8;
// pg_advisory_lock keys: "quader" in ASCII, and that + 1 for leadership.
constexpr int64_t kMigrationLock = 0x717561646572;
constexpr int64_t kLeaderLock = kMigrationLock + 1;

// A statement parameter as libpqxx sends it: text, or NULL.
struct PgParam {
  bool null = false;
  std::string text;
};

}  // namespace
}  // namespace quader::store

namespace pqxx {
template <>
struct string_traits<quader::store::PgParam> {
  static constexpr const char* name() noexcept { return "quader::store::PgParam"; }
  static constexpr bool has_null() noexcept { return true; }
  static bool is_null(const quader::store::PgParam& p) { return p.null; }
  static quader::store::PgParam null() { return {true, {}}; }
  static void from_string(const char* str, quader::store::PgParam& p) { p = {false, str}; }
  static std::string to_string(const quader::store::PgParam& p) { return p.text; }
};
}  // namespace pqxx

namespace quader::store {
namespace {

Status FromPqxx(const std::exception& e, std::string_view what) {
  std::string msg = std::string(what) + ": " + e.what();
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (dynamic_cast<const pqxx::unique_violation*>(&e)) return {Code::kAlreadyExists, msg};
  if (dynamic_cast<const pqxx::foreign_key_violation*>(&e)) return {Code::kConflict, msg};
  if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::serialization_failure*>(&e) ||
      dynamic_cast<const pqxx::deadlock_detected*>(&e)) {
    return {Code::kUnavailable, msg};
  }
  return {Code::kInternal, msg};
}

std::vector<PgParam> ToParams(const Params& params) {
  std::vector<PgParam> out;
  out.reserve(params.size());
  for (const Value& v : params) {
    if (std::holds_alternative<std::nullptr_t>(v)) {
      out.push_back({true, {}});
    } else if (auto p = std::get_if<int64_t>(&v)) {
      out.push_back({false, std::to_string(*p)});
    } else if (auto p = std::get_if<double>(&v)) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.17g", *p);
      out.push_back({false, buf});
    } else {
      out.push_back({false, std::get<std::string>(v)});
    }
  }
  return out;
}

// Column values by type: integers and booleans as int64, floating point as
// double, everything else as text.
Value ColumnValue(const pqxx::field& f, pqxx::oid type) {
  if (f.is_null()) return nullptr;
  switch (type) {
    case 16:  // bool
      return int64_t{f.c_str()[0] == 't' ? 1 : 0};
    case 20:  // int8
    case 21:  // int2
    case 23:  // int4
      return static_cast<int64_t>(std::strtoll(f.c_str(), nullptr, 10));
    case 700:   // float4
    case 701:   // float8
    case 1700:  // numeric
      return std::strtod(f.c_str(), nullptr);
    default:
      return std::string(f.c_str(), f.size());
  }
}

}  // namespace

// One connection; inside Write/Read it holds the open transaction.
class PostgresConnection final : public Tx {
 public:
  explicit PostgresConnection(std::unique_ptr<pqxx::connection> conn) : conn_(std::move(conn)) {}

  pqxx::connection& conn() { return *conn_; }
  void Begin(std::unique_ptr<pqxx::transaction_base> tx, bool savepoints) {
    tx_ = std::move(tx);
    savepoints_ = savepoints;
  }
  std::unique_ptr<pqxx::transaction_base> End() { return std::move(tx_); }

  // store::Tx
  Status Exec(std::string_view sql, const Params& params) override {
    auto r = Run(sql, params);
    if (!r.ok()) return r.status();
    changes_ = static_cast<int64_t>(r->affected_rows());
    return Status::Ok();
  }
  Result<Rows> Query(std::string_view sql, const Params& params) override {
    QUADER_ASSIGN_OR_RETURN(pqxx::result r, Run(sql, params));
    Rows rows;
    rows.reserve(r.size());
    std::vector<pqxx::oid> types;
    for (pqxx::row_size_type c = 0; c < r.columns(); ++c) types.push_back(r.column_type(c));
    for (const auto& row : r) {
      std::vector<Value> cols;
      cols.reserve(types.size());
      for (size_t c = 0; c < types.size(); ++c) cols.push_back(ColumnValue(row[static_cast<int>(c)], types[c]));
      rows.emplace_back(std::move(cols));
    }
    return rows;
  }
  int64_t changes() const override { return changes_; }

 private:
  Result<pqxx::result> Run(std::string_view sql, const Params& params) {
    if (!tx_) return errors::Internal("statement outside a transaction");
    std::string text = PostgresStore::NumberPlaceholders(sql);
    std::vector<PgParam> values = ToParams(params);
    try {
      if (!savepoints_) return tx_->exec_params(text, pqxx::prepare::make_dynamic_params(values));
      // A failed statement must not abort the whole transaction.
      tx_->exec0("SAVEPOINT quader_stmt");
      try {
        pqxx::result r = tx_->exec_params(text, pqxx::prepare::make_dynamic_params(values));
        tx_->exec0("RELEASE SAVEPOINT quader_stmt");
        return r;
      } catch (const pqxx::sql_error& e) {
        tx_->exec0("ROLLBACK TO SAVEPOINT quader_stmt");
        return FromPqxx(e, "statement");
      }
    } catch (const std::exception& e) {
      return FromPqxx(e, "statement");
    }
  }

  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::transaction_base> tx_;
  bool savepoints_ = false;
  int64_t changes_ = 0;
};

std::string PostgresStore::NumberPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += "$" + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

PostgresStore::PostgresStore(std::string url) : url_(std::move(url)) {}
PostgresStore::~PostgresStore() = default;

Result<std::unique_ptr<Store>> PostgresStore::Open(const std::string& url) {
  std::unique_ptr<PostgresStore> store(new PostgresStore(url));
  QUADER_ASSIGN_OR_RETURN(store->writer_, store->Connect());
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<PostgresConnection>> PostgresStore::Connect() {
  try {
    auto conn = std::make_unique<pqxx::connection>(url_);
    return std::make_unique<PostgresConnection>(std::move(conn));
  } catch (const std::exception& e) {
    std::string msg = e.what();
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return errors::Unavailable("cannot connect to PostgreSQL: " + msg);
  }
}

Result<std::unique_ptr<PostgresConnection>> PostgresStore::TakeReader() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    while (!readers_.empty()) {
      auto conn = std::move(readers_.back());
      readers_.pop_back();
      if (conn->conn().is_open()) return conn;
    }
  }
  return Connect();
}

void PostgresStore::ReturnReader(std::unique_ptr<PostgresConnection> conn) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (readers_.size() < kMaxIdleReaders && conn->conn().is_open()) readers_.push_back(std::move(conn));
}

uint64_t PostgresStore::generation() const {
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - opened_).count();
  // Own commits in the low bits, elapsed seconds above: either moving moves it.
  return (static_cast<uint64_t>(seconds) << 32) + commits_.load(std::memory_order_acquire);
}

Status PostgresStore::Write(const std::function<Status(Tx&)>& fn) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!writer_->conn().is_open()) {
    QUADER_ASSIGN_OR_RETURN(writer_, Connect());
  }
  Status st;
  try {
    writer_->Begin(std::make_unique<pqxx::work>(writer_->conn()), /*savepoints=*/true);
    st = internal::CallTransactionFn(fn, *writer_, "write transaction");
    auto tx = writer_->End();
    if (st.ok()) {
      tx->commit();
      commits_.fetch_add(1, std::memory_order_acq_rel);
    } else {
      tx->abort();
    }
  } catch (const std::exception& e) {
    (void)writer_->End();  // destroying an open pqxx transaction aborts it
    return FromPqxx(e, "write transaction");
  } catch (...) {
    (void)writer_->End();
    return errors::Internal("write transaction failed with an unknown exception");
  }
  return st;
}

Status PostgresStore::Read(const std::function<Status(Tx&)>& fn) {
  QUADER_ASSIGN_OR_RETURN(auto conn, TakeReader());
  Status st;
  try {
    conn->Begin(std::make_unique<pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>>(conn->conn()),
                /*savepoints=*/false);
    st = internal::CallTransactionFn(fn, *conn, "read transaction");
    auto tx = conn->End();
    if (st.ok()) {
      tx->commit();
    } else {
      tx->abort();
    }
  } catch (const std::exception& e) {
    (void)conn->End();
    st = FromPqxx(e, "read transaction");
  } catch (...) {
    (void)conn->End();
    st = errors::Internal("read transaction failed with an unknown exception");
  }
  ReturnReader(std::move(conn));
  return st;
}

namespace {

class PostgresLeadership final : public Leadership {
 public:
  explicit PostgresLeadership(std::unique_ptr<PostgresConnection> conn) : conn_(std::move(conn)) {}
  bool Held() override {
    try {
      pqxx::nontransaction tx(conn_->conn());
      tx.exec("SELECT 1");
      return true;
    } catch (const std::exception& e) {
      spdlog::error("[store] leadership lost: {}", e.what());
      return false;
    }
  }

 private:
  std::unique_ptr<PostgresConnection> conn_;
};

}  // namespace

Result<std::unique_ptr<Leadership>> PostgresStore::TryLead() {
  QUADER_ASSIGN_OR_RETURN(auto conn, Connect());
  try {
    pqxx::nontransaction tx(conn->conn());
    bool got = tx.exec1("SELECT pg_try_advisory_lock(" + std::to_string(kLeaderLock) + ")")[0].as<bool>();
    tx.commit();
    if (!got) return std::unique_ptr<Leadership>();
  } catch (const std::exception& e) {
    return FromPqxx(e, "leadership");
  }
  return std::unique_ptr<Leadership>(std::make_unique<PostgresLeadership>(std::move(conn)));
}

Status PostgresStore::Migrate() {
  std::lock_guard<std::mutex> lock(write_mu_);
  try {
    pqxx::connection& c = writer_->conn();
    pqxx::nontransaction lock_tx(c);
    lock_tx.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")");
    lock_tx.exec0(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
    int64_t current = lock_tx.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0].as<int64_t>();
    lock_tx.commit();
    Status result = Status::Ok();
    for (const Migration& m : Migrations()) {
      if (m.version <= current) continue;
      std::string sql = m.sql;
      for (size_t pos; (pos = sql.find("{{id}}")) != std::string::npos;) sql.replace(pos, 6, "BIGSERIAL PRIMARY KEY");
      try {
        pqxx::work tx(c);
        tx.exec(sql);
        auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        tx.exec_params("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", m.version,
                       m.name, now);
        tx.commit();
        spdlog::info("[store] applied migration {} {}", m.version, m.name);
      } catch (const std::exception& e) {
        result = errors::Internal("migration " + std::to_string(m.version) + " (" + m.name + ") failed: " + e.what());
        break;
      }
    }
    pqxx::nontransaction unlock(c);
    unlock.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")");
    return result;
  } catch (const std::exception& e) {
    return FromPqxx(e, "migrate");
  }
}

}  // namespace quader::store
