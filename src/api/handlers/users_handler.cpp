// /api/v1/users: accounts. Admins create, change and delete users; a user
// may change their own email and password. A password change revokes every
// session of the user but the caller's own; deactivation and deletion revoke
// them all (a reactivated user signs in afresh).
#include "api/handlers/handlers.h"
#include "auth/passwords.h"
#include "auth/session_cache.h"
#include "auth/users.h"
#include "store/users.h"

namespace quader::api {
namespace {

Response List(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto users, store::ListUsers(tx));
    for (const auto& u : users) items.push_back(UserJson(u));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

Response Create(HandlerContext& ctx, Request& req) {
  if (auto st = auth::RequireAdmin(req.who(), "create users"); !st.ok()) return ErrorReply(st);
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  FieldReader r(*body, "");
  auth::NewUser nu;
  std::string hash;  // made before the transaction, on the password workers
  Status st = r.CheckKnownKeys({"username", "password", "email", "admin"});
  if (st.ok()) {
    auto username = r.String("username", true);
    auto password = r.String("password", true);
    auto email = r.String("email", false);
    auto admin = r.Bool("admin", false);
    for (const Status* s : {&username.status(), &password.status(), &email.status(), &admin.status()}) {
      if (st.ok() && !s->ok()) st = *s;
    }
    if (st.ok()) nu = {*username, *password, *email, *admin};
  }
  if (st.ok()) st = auth::ValidatePassword("password", nu.password);
  if (st.ok()) {
    auto hashed = auth::HashPasswordOn(ctx.password_workers, nu.password);
    if (hashed.ok()) hash = std::move(hashed).value();
    st = hashed.status();
  }
  if (!st.ok()) return ErrorReply(st);
  store::UserRecord created;
  st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(created, auth::CreateUser(tx, nu, ctx.now(), hash));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(UserJson(created), 201) : ErrorReply(st);
}

Response Get(HandlerContext& ctx, Request& req) {
  store::UserRecord user;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(user, store::GetUser(tx, req.Param("username")));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(UserJson(user)) : ErrorReply(st);
}

Response Update(HandlerContext& ctx, Request& req) {
  const auth::Principal& who = req.who();
  const std::string& name = req.Param("username");
  if (!who.is_admin && who.username != name) {
    return ErrorReply(errors::Denied("only admins may change other users"));
  }
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  FieldReader r(*body, "");
  if (auto st = r.CheckKnownKeys({"email", "password", "admin", "active"}); !st.ok()) return ErrorReply(st);
  if ((body->contains("admin") || body->contains("active")) && !who.is_admin) {
    return ErrorReply(errors::Denied("only admins may change admin or active"));
  }
  if (who.username == name && body->contains("admin") && (*body)["admin"] == false) {
    return ErrorReply(errors::Conflict("you cannot take away your own admin rights"));
  }
  std::string new_hash;  // hashed before the transaction, on the password workers
  if (body->contains("password")) {
    auto pw = r.String("password", true);
    Status st = pw.status();
    if (st.ok()) st = auth::ValidatePassword("password", *pw);
    if (!st.ok()) return ErrorReply(st);
    auto hash = auth::HashPasswordOn(ctx.password_workers, *pw);
    if (!hash.ok()) return ErrorReply(hash.status());
    new_hash = std::move(hash).value();
  }
  store::UserRecord user;
  int64_t revoked = 0;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(user, store::GetUser(tx, name));
    QUADER_ASSIGN_OR_RETURN(user.email, r.String("email", false, user.email));
    QUADER_ASSIGN_OR_RETURN(user.is_admin, r.Bool("admin", user.is_admin));
    QUADER_ASSIGN_OR_RETURN(user.active, r.Bool("active", user.active));
    if (!new_hash.empty()) user.password_hash = new_hash;
    QUADER_RETURN_IF_ERROR(store::UpdateUser(tx, user, ctx.now()));
    if (!user.active) {
      QUADER_ASSIGN_OR_RETURN(revoked, auth::RevokeSessions(tx, user.id, ""));
    } else if (!new_hash.empty()) {
      // A self-change keeps the session making it; an admin's change keeps none.
      const std::string keep = who.username == name ? who.token_hash : "";
      QUADER_ASSIGN_OR_RETURN(revoked, auth::RevokeSessions(tx, user.id, keep));
    }
    return Status::Ok();
  });
  if (st.ok() && (revoked > 0 || !user.active)) auth::NoteTokensRevoked();
  return st.ok() ? JsonReply(UserJson(user)) : ErrorReply(st);
}

Response Delete(HandlerContext& ctx, Request& req) {
  if (auto st = auth::RequireAdmin(req.who(), "delete users"); !st.ok()) return ErrorReply(st);
  const std::string& name = req.Param("username");
  if (name == req.who().username) return ErrorReply(errors::Conflict("you cannot delete yourself"));
  Status st = ctx.store.Write([&](store::Tx& tx) { return store::DeleteUser(tx, name); });
  if (st.ok()) auth::NoteTokensRevoked();  // the user's tokens went with them
  return st.ok() ? JsonReply(Json::object()) : ErrorReply(st);
}

}  // namespace

void RegisterUserRoutes(Router& router, HandlerContext& ctx) {
  auto bind = [&ctx](Response (*fn)(HandlerContext&, Request&)) {
    return [&ctx, fn](Request& req) { return fn(ctx, req); };
  };
  router.Add("GET", "/api/v1/users", Access::kSignedIn, bind(List),
             {"List users", "users", "", "List:User"});
  router.Add("POST", "/api/v1/users", Access::kSignedIn, bind(Create),
             {"Create a user (admins); they join project public", "users", "NewUser", "User", 201});
  router.Add("GET", "/api/v1/users/{username}", Access::kSignedIn, bind(Get),
             {"Get a user", "users", "", "User"});
  router.Add("PUT", "/api/v1/users/{username}", Access::kSignedIn, bind(Update),
             {"Change a user (admins; users may change their own email and password)", "users",
              "UserUpdate", "User"});
  router.Add("DELETE", "/api/v1/users/{username}", Access::kSignedIn, bind(Delete),
             {"Delete a user (admins)", "users", "", "Empty"});
}

}  // namespace quader::api
