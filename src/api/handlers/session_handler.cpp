// POST /api/v1/login, POST /api/v1/logout, GET /api/v1/me.
#include "api/handlers/handlers.h"
#include "auth/users.h"
#include "store/projects.h"
#include "store/users.h"

namespace quader::api {
namespace {

std::string SessionCookie(const std::string& token, int64_t max_age) {
  return "quader_session=" + token + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(max_age);
}

// 429 (or 503 for `code` "unavailable") with Retry-After and the limit named.
Response Refused(int status, const std::string& code, const std::string& limit, int64_t retry_after,
                 const std::string& message) {
  Response res = JsonReply({{"error", {{"code", code}, {"message", message}, {"limit", limit},
                                       {"retry_after_seconds", retry_after}}}},
                           status);
  res.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return res;
}

// Limits (auth/login_limiter.h): per name, whether it exists or not, and per
// client address (the TCP peer). The password is checked on the password
// workers, never on this request worker's own time beyond waiting.
Response Login(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  FieldReader r(*body, "");
  if (auto st = r.CheckKnownKeys({"username", "password"}); !st.ok()) return ErrorReply(st);
  auto username = r.String("username", true);
  if (!username.ok()) return ErrorReply(username.status());
  auto password = r.String("password", true);
  if (!password.ok()) return ErrorReply(password.status());
  using Outcome = auth::LoginLimiter::Outcome;
  if (ctx.login_limiter) {
    if (auto refusal = ctx.login_limiter->Admit(*username, req.remote)) {
      return Refused(429, "rate_limited", refusal->limit, refusal->retry_after_seconds, refusal->message);
    }
  }
  // Ends the admitted attempt however this returns (a throw included).
  struct Attempt {
    auth::LoginLimiter* limiter;
    const std::string& username;
    const std::string& address;
    Outcome outcome = Outcome::kNotChecked;
    ~Attempt() {
      if (limiter) limiter->Finish(username, address, outcome);
    }
  } attempt{ctx.login_limiter, *username, req.remote};
  auto session = auth::Login(ctx.store, ctx.clock, *username, *password, ctx.token_ttl_seconds,
                             ctx.password_workers);
  attempt.outcome = session.ok() ? Outcome::kSuccess
                    : session.status().code() == Code::kUnauthenticated ? Outcome::kFailure
                                                                        : Outcome::kNotChecked;
  if (session.status().code() == Code::kUnavailable) {
    return Refused(503, "unavailable", "password_workers", 1, session.status().message());
  }
  if (!session.ok()) return ErrorReply(session.status());
  Response res = JsonReply({{"token", session->token},
                            {"expires_at", FormatRfc3339(FromUnixSeconds(session->expires_at))},
                            {"user", UserJson(session->user)}});
  res.headers.emplace_back("Set-Cookie", SessionCookie(session->token, ctx.token_ttl_seconds));
  return res;
}

Response Logout(HandlerContext& ctx, Request& req) {
  if (auto st = auth::Logout(ctx.store, req.who()); !st.ok()) return ErrorReply(st);
  Response res = JsonReply(Json::object());
  res.headers.emplace_back("Set-Cookie", SessionCookie("", 0));
  return res;
}

Response Me(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(store::UserRecord user, store::GetUser(tx, req.who().username));
    QUADER_ASSIGN_OR_RETURN(auto projects, store::ListProjects(tx, user.id, /*members_only=*/true));
    Json list = Json::array();
    for (const auto& p : projects) list.push_back({{"name", p.project.name}, {"role", *p.role}});
    out = {{"user", UserJson(user)}, {"projects", std::move(list)}};
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

}  // namespace

void RegisterSessionRoutes(Router& router, HandlerContext& ctx) {
  router.Add("POST", "/api/v1/login", Access::kPublic,
             [&ctx](Request& req) { return Login(ctx, req); },
             {"Sign in with a password; returns a token (and sets the session cookie)", "session",
              "Login", "Session"});
  router.Add("POST", "/api/v1/logout", Access::kSignedIn,
             [&ctx](Request& req) { return Logout(ctx, req); },
             {"Revoke the token used for this call", "session", "", "Empty"});
  router.Add("GET", "/api/v1/me", Access::kSignedIn, [&ctx](Request& req) { return Me(ctx, req); },
             {"The signed-in user and their projects", "session", "", "Me"});
}

}  // namespace quader::api
