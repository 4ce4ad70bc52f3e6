#pragma once
// Maps (method, path) to a handler, authenticates the caller for routes that
// need it, and describes every route for the OpenAPI document.
//
// Immutable after start-up (routes are added before the server serves), so
// Dispatch is thread-safe.

#include <functional>
#include <string>
#include <vector>

#include "api/http.h"

namespace quader::api {

using Handler = std::function<Response(Request&)>;

enum class Access {
  kPublic,    // no token needed (login, health, openapi)
  kSignedIn,  // a valid token or session cookie
};

// What the OpenAPI document says about a route.
struct RouteDoc {
  std::string summary;
  std::string tag;          // groups routes: "projects", "users", ...
  std::string request_ref;  // schema name in components, or "" for no body
  std::string response_ref; // schema name; "List:X" for {"items": [X]}
  int success_status = 200;
  // The body is not read whole before the handler runs: the handler reads
  // it through Request::body_reader (uploads; HttpServerOptions::streamed_body).
  bool streamed_body = false;
};

struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/projects/{name}"
  Access access = Access::kSignedIn;
  Handler handler;
  RouteDoc doc;
  std::vector<std::string> segments;  // split pattern, filled by Add
};

class Router {
 public:
  // Turns a request's credentials into a Principal (auth/users.h Authenticate).
  using Authenticator = std::function<Result<auth::Principal>(const Request&)>;

  explicit Router(Authenticator authenticator) : authenticator_(std::move(authenticator)) {}

  void Add(std::string method, std::string pattern, Access access, Handler handler, RouteDoc doc);

  // Finds the route, checks access, runs the handler. Fills `route_label` with
  // the matched pattern (for metrics) or "unmatched". Never throws: a handler
  // exception becomes a 500.
  Response Dispatch(Request& req, std::string* route_label) const;

  // Whether the route `method` `path` would go to streams its body.
  bool StreamsBody(const std::string& method, const std::string& path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  const Route* Match(const Request& req, std::map<std::string, std::string>* params,
                     std::string* allowed) const;

  Authenticator authenticator_;
  std::vector<Route> routes_;
};

// Extracts the caller's token: "Authorization: Bearer T", else the
// quader_session cookie (setting *from_cookie).
std::string TokenOf(const Request& req, bool* from_cookie);

}  // namespace quader::api
