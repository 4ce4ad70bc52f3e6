#include "core/status.h"

namespace quader {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kUnauthenticated: return "unauthenticated";
    case Code::kPermissionDenied: return "permission_denied";
    case Code::kNotFound: return "not_found";
    case Code::kMethodNotAllowed: return "method_not_allowed";
    case Code::kAlreadyExists: return "already_exists";
    case Code::kConflict: return "conflict";
    case Code::kPayloadTooLarge: return "payload_too_large";
    case Code::kUnavailable: return "unavailable";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

namespace errors {
Status Invalid(const std::string& field, const std::string& why) {
  return {Code::kInvalidArgument, field.empty() ? why : field + ": " + why};
}
Status NotFound(const std::string& kind, const std::string& name) {
  return {Code::kNotFound, kind + " \"" + name + "\" not found"};
}
Status AlreadyExists(const std::string& kind, const std::string& name) {
  return {Code::kAlreadyExists, kind + " \"" + name + "\" already exists"};
}
Status Unauthenticated(const std::string& why) { return {Code::kUnauthenticated, why}; }
Status Denied(const std::string& why) { return {Code::kPermissionDenied, why}; }
Status Conflict(const std::string& why) { return {Code::kConflict, why}; }
Status Internal(const std::string& why) { return {Code::kInternal, why}; }
Status Unavailable(const std::string& why) { return {Code::kUnavailable, why}; }
}  // namespace errors

}  // namespace quader
