#pragma once
// Small helpers shared by the table files (internal to store/).

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace quader::store::internal {

// Runs a caller's transaction function and turns anything it throws into
// kInternal naming `what` ("write transaction") and the exception's text, so
// a backend always reaches its rollback: a throw that skipped it would leave
// the connection inside a transaction and fail every later one.
inline Status CallTransactionFn(const std::function<Status(Tx&)>& fn, Tx& tx, std::string_view what) {
  try {
    return fn(tx);
  } catch (const std::exception& e) {
    return errors::Internal(std::string(what) + " failed with an exception: " + e.what());
  } catch (...) {
    return errors::Internal(std::string(what) + " failed with an unknown exception");
  }
}

// " WHERE x.project_id IN (?, ?)" for the given ids; "" for all; a clause
// matching nothing for no ids. `keyword` lets callers continue with AND.
inline std::string ProjectFilter(const char* alias, const std::vector<int64_t>& ids, bool all, Params* params,
                                 const char* keyword = " WHERE ") {
  if (all && ids.empty()) return "";
  if (ids.empty()) return std::string(keyword) + "1 = 0";
  std::string sql = std::string(keyword) + alias + ".project_id IN (";
  for (size_t i = 0; i < ids.size(); ++i) {
    sql += i ? ", ?" : "?";
    params->push_back(ids[i]);
  }
  return sql + ")";
}

// Rows to records.
template <typename T, typename F>
Result<std::vector<T>> Map(Result<Rows> rows, F fn) {
  if (!rows.ok()) return rows.status();
  std::vector<T> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(fn(r));
  return out;
}

inline Value Nullable(const std::optional<int64_t>& v) { return v ? Value(*v) : Value(nullptr); }
inline std::optional<int64_t> OptInt(const Row& r, size_t i) {
  return r.IsNull(i) ? std::nullopt : std::optional<int64_t>(r.Int(i));
}

}  // namespace quader::store::internal
