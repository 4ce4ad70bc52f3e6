#include "api/http.h"

#include <strings.h>

namespace quader::api {

const std::string& Request::Header(const std::string& lower_name) const {
  static const std::string kEmpty;
  auto it = headers.find(lower_name);
  return it == headers.end() ? kEmpty : it->second;
}

namespace {

// Whether the comma-separated header value lists `token` (case-insensitively).
bool ListsToken(const std::string& value, std::string_view token) {
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    if (comma == std::string::npos) comma = value.size();
    std::string item = value.substr(pos, comma - pos);
    size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    if (a != std::string::npos && b - a + 1 == token.size() &&
        strncasecmp(item.c_str() + a, token.data(), token.size()) == 0) {
      return true;
    }
    pos = comma + 1;
  }
  return false;
}

}  // namespace

bool IsWebSocketUpgrade(const Request& req) {
  return req.method == "GET" && ListsToken(req.Header("upgrade"), "websocket") &&
         ListsToken(req.Header("connection"), "upgrade");
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
