#include "api/http.h"

namespace quader::api {

const std::string& Request::Header(const std::string& lower_name) const {
  static const std::string kEmpty;
  auto it = headers.find(lower_name);
  return it == headers.end() ? kEmpty : it->second;
}

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kMethodNotAllowed: return 405;
    case Code::kAlreadyExists: return 409;
    case Code::kConflict: return 409;
    case Code::kPayloadTooLarge: return 413;
    case Code::kUnavailable: return 503;
    case Code::kInternal: return 500;
  }
  return 500;
}

Response JsonReply(const Json& value, int status) {
  Response r;
  r.status = status;
  r.body = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

Response ErrorReply(const Status& status) {
  Json body = {{"error", {{"code", CodeName(status.code())}, {"message", status.message()}}}};
  return JsonReply(body, HttpStatusOf(status.code()));
}

Result<Json> JsonBody(const Request& req) {
  if (req.body.empty()) return errors::Invalid("body", "is empty: send a JSON object");
  QUADER_ASSIGN_OR_RETURN(Json v, ParseJson(req.body));
  if (!v.is_object()) return errors::Invalid("body", "must be a JSON object");
  return v;
}

std::string PercentDecode(const std::string& s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace quader::api
