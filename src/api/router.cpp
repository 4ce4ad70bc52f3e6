#include "api/router.h"

#include <spdlog/spdlog.h>

#include "auth/session_cache.h"

namespace quader::api {
namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool IsParam(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

bool IsSafeMethod(const std::string& m) { return m == "GET" || m == "HEAD"; }

}  // namespace

std::string TokenOf(const Request& req, bool* from_cookie) {
  *from_cookie = false;
  const std::string& authz = req.Header("authorization");
  const std::string kBearer = "Bearer ";
  if (authz.size() > kBearer.size() && strncasecmp(authz.c_str(), kBearer.c_str(), kBearer.size()) == 0) {
    return authz.substr(kBearer.size());
  }
  std::string cookie = auth::CookieValue(req.Header("cookie"), auth::kSessionCookie);
  *from_cookie = !cookie.empty();
  return cookie;
  return "";
}

namespace {

// The request's Origin names the host it was sent to (scheme aside): a
// browser sends it with every WebSocket, and only this server's own pages
// send this server's address.
bool SameOrigin(const Request& req) {
  const std::string& origin = req.Header("origin");
  if (origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0) return false;
  size_t scheme = origin.find("://");
  const std::string host = origin.substr(scheme + 3);
  return !host.empty() && host == req.Header("host");
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Access access, Handler handler,
                 RouteDoc doc) {
  Route r{std::move(method), std::move(pattern), access, std::move(handler), std::move(doc), {}};
  r.segments = SplitPath(r.pattern);
  routes_.push_back(std::move(r));
}

const Route* Router::Match(const Request& req, std::map<std::string, std::string>* params,
                           std::string* allowed) const {
  std::vector<std::string> segs = SplitPath(req.path);
  const Route* best = nullptr;
  int best_literals = -1;
  for (const Route& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    int literals = 0;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      if (IsParam(r.segments[i])) continue;
      ok = r.segments[i] == segs[i];
      ++literals;
    }
    if (!ok) continue;
    bool method_ok = r.method == req.method || (req.method == "HEAD" && r.method == "GET");
    if (!method_ok) {
      if (allowed->find(r.method) == std::string::npos) *allowed += (allowed->empty() ? "" : ", ") + r.method;
      continue;
    }
    if (literals > best_literals) {
      best = &r;
      best_literals = literals;
    }
  }
  if (best) {
    for (size_t i = 0; i < segs.size(); ++i) {
      if (IsParam(best->segments[i])) {
        (*params)[best->segments[i].substr(1, best->segments[i].size() - 2)] = segs[i];
      }
    }
  }
  return best;
}

bool Router::StreamsBody(const std::string& method, const std::string& path) const {
  Request head;
  head.method = method;
  head.path = path;
  std::map<std::string, std::string> params;
  std::string allowed;
  const Route* route = Match(head, &params, &allowed);
  return route && route->doc.streamed_body;
}

Response Router::Dispatch(Request& req, std::string* route_label) const {
  std::string allowed;
  const Route* route = Match(req, &req.params, &allowed);
  if (!route) {
    *route_label = "unmatched";
    if (!allowed.empty()) {
      Response r = ErrorReply({Code::kMethodNotAllowed,
                               "method " + req.method + " is not allowed on " + req.path +
                                   " (allowed: " + allowed + ")"});
      r.headers.emplace_back("Allow", allowed);
      return r;
    }
    return ErrorReply(errors::NotFound("route", req.method + " " + req.path));
  }
  *route_label = route->pattern;
  if (route->access == Access::kSignedIn) {
    auto who = authenticator_(req);
    if (!who.ok()) return ErrorReply(who.status());
    bool from_cookie = false;
    TokenOf(req, &from_cookie);
    if (from_cookie && !IsSafeMethod(req.method) && req.Header("x-requested-with") != "quader") {
      return ErrorReply(errors::Denied(
          "a request signed in by cookie must send the header X-Requested-With: quader"));
    }
    if (from_cookie && IsWebSocketUpgrade(req) && !SameOrigin(req)) {
      // A page of another site cannot open a terminal with the user's cookie.
      return ErrorReply(errors::Denied("a WebSocket signed in by cookie must come from this server's own pages (Origin " +
                                       (req.Header("origin").empty() ? std::string("missing") : req.Header("origin")) +
                                       ")"));
    }
    req.principal = std::move(who).value();
  }
  try {
    return route->handler(req);
  } catch (const std::exception& e) {
    spdlog::error("[api] handler for {} {} threw: {}", req.method, route->pattern, e.what());
    return ErrorReply(errors::Internal("internal error while handling the request"));
  }
}

}  // namespace quader::api
