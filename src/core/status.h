#pragma once
// Status and Result<T>: how every fallible call in Quader reports failure.
// No exceptions cross a subsystem boundary; a Status names the code and a
// message that names the field or value at fault (CONTRACT.md "Errors").

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace quader {

// Each code maps to exactly one HTTP status and one wire code (api/errors.h).
enum class Code {
  kOk,
  kInvalidArgument,   // 400: the caller sent something malformed or out of range.
  kUnauthenticated,   // 401: no token, or a bad or expired one.
  kPermissionDenied,  // 403: authenticated, but not allowed to do this.
  kNotFound,          // 404: missing, or not visible to the caller.
  kMethodNotAllowed,  // 405: the route exists, the method does not.
  kAlreadyExists,     // 409: a create collided with an existing name.
  kConflict,          // 409: the change conflicts with current state.
  kPayloadTooLarge,   // 413: the body exceeds the server's limit.
  kUnavailable,       // 503: a dependency (store, runtime) is down; retry later.
  kInternal,          // 500: a bug or an unexpected environment failure.
};

// Immutable after construction; cheap to copy when ok().
class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not_found: project \"x\" not found"
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// The wire name of a code ("not_found"), used in JSON errors and logs.
const char* CodeName(Code code);

// Either a value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}   // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Uniform wording for errors (STYLE.md rule 16).
namespace errors {
Status Invalid(const std::string& field, const std::string& why);
Status NotFound(const std::string& kind, const std::string& name);
Status AlreadyExists(const std::string& kind, const std::string& name);
Status Unauthenticated(const std::string& why);
Status Denied(const std::string& why);
Status Conflict(const std::string& why);
Status Internal(const std::string& why);
Status Unavailable(const std::string& why);
}  // namespace errors

}  // namespace quader

// Returns early from the enclosing function when `expr` yields a non-ok Status.
#define QUADER_RETURN_IF_ERROR(expr)              \
  do {                                            \
    ::quader::Status _st = (expr);                \
    if (!_st.ok()) return _st;                    \
  } while (0)

#define QUADER_CONCAT_INNER(a, b) a##b
#define QUADER_CONCAT(a, b) QUADER_CONCAT_INNER(a, b)
// `QUADER_ASSIGN_OR_RETURN(auto x, Foo());` binds x or returns Foo()'s Status.
#define QUADER_ASSIGN_OR_RETURN(lhs, expr) \
  QUADER_ASSIGN_OR_RETURN_IMPL(QUADER_CONCAT(_res_, __LINE__), lhs, expr)
#define QUADER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
