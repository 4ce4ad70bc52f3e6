#include "auth/users.h"

#include <spdlog/spdlog.h>

#include "auth/passwords.h"
#include "auth/session_cache.h"
#include "core/names.h"
#include "store/projects.h"
#include "store/users.h"

namespace quader::auth {

Result<store::UserRecord> CreateUser(store::Tx& tx, const NewUser& user, int64_t now,
                                     const std::string& password_hash) {
  QUADER_RETURN_IF_ERROR(ValidateUsername("username", user.username));
  QUADER_RETURN_IF_ERROR(ValidatePassword("password", user.password));
  if (user.email.size() > 254) return errors::Invalid("email", "is too long");
  if (store::GetUser(tx, user.username).ok()) return errors::AlreadyExists("user", user.username);
  std::string hash = password_hash;
  if (hash.empty()) {
    QUADER_ASSIGN_OR_RETURN(hash, HashPassword(user.password));
  }
  store::UserRecord rec;
  rec.username = user.username;
  rec.password_hash = std::move(hash);
  rec.email = user.email;
  rec.is_admin = user.is_admin;
  QUADER_ASSIGN_OR_RETURN(rec, store::InsertUser(tx, std::move(rec), now));
  QUADER_ASSIGN_OR_RETURN(store::ProjectRecord pub, store::GetProject(tx, kPublicProject));
  QUADER_RETURN_IF_ERROR(store::PutMember(tx, pub.id, rec.id, kRoleDev, now));
  return rec;
}

Status Bootstrap(store::Store& store, const Clock& clock, const std::string& admin_password,
                 std::string* generated_password) {
  generated_password->clear();
  int64_t now = ToUnixSeconds(clock.Now());
  return store.Write([&](store::Tx& tx) -> Status {
    if (!store::GetProject(tx, kPublicProject).ok()) {
      store::ProjectRecord pub;
      pub.name = kPublicProject;
      pub.description = "Every user's project group";
      pub.created_by = "admin";
      QUADER_RETURN_IF_ERROR(store::InsertProject(tx, std::move(pub), now).status());
    }
    if (store::GetUser(tx, "admin").ok()) return Status::Ok();
    NewUser admin{"admin", admin_password, "", true};
    if (admin.password.empty()) {
      admin.password = NewPassword();
      *generated_password = admin.password;
    }
    QUADER_RETURN_IF_ERROR(CreateUser(tx, admin, now).status());
    spdlog::info("[auth] created the admin user");
    return Status::Ok();
  });
}

Result<std::string> HashPasswordOn(PasswordWorkers* workers, const std::string& password) {
  if (!workers) return HashPassword(password);
  Result<std::string> hash = errors::Internal("password hashing did not run");
  QUADER_RETURN_IF_ERROR(workers->Run([&] { hash = HashPassword(password); }));
  return hash;
}

Result<int64_t> RevokeSessions(store::Tx& tx, int64_t user_id, const std::string& keep_token_hash) {
  return store::DeleteUserTokens(tx, user_id, keep_token_hash);
}

Result<Session> Login(store::Store& store, const Clock& clock, const std::string& username,
                      const std::string& password, int64_t ttl_seconds, PasswordWorkers* workers) {
  const Status kBad = errors::Unauthenticated("wrong username or password");
  store::UserRecord user;
  Status st = store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(user, store::GetUser(tx, username));
    return Status::Ok();
  });
  if (st.code() != Code::kNotFound) QUADER_RETURN_IF_ERROR(st);
  // An unknown name is checked against a dummy hash: the same time and the
  // same answer as a wrong password, so neither reveals which names exist.
  static const std::string* kDummyHash = new std::string(HashPassword("quader-timing-equaliser").value());
  const std::string& hash = st.ok() ? user.password_hash : *kDummyHash;
  bool matches = false;
  auto check = [&] { matches = VerifyPassword(hash, password); };
  if (workers) {
    QUADER_RETURN_IF_ERROR(workers->Run(check));
  } else {
    check();
  }
  if (!st.ok() || !user.active || !matches) return kBad;

  Session s;
  s.token = NewToken();
  int64_t now = ToUnixSeconds(clock.Now());
  s.expires_at = now + ttl_seconds;
  s.user = user;
  store::TokenRecord t;
  t.user_id = user.id;
  t.token_hash = HashToken(s.token);
  t.description = "login";
  t.created_at = now;
  t.expires_at = s.expires_at;
  QUADER_RETURN_IF_ERROR(store.Write([&](store::Tx& tx) { return store::InsertToken(tx, t); }));
  return s;
}

Result<Principal> Authenticate(store::Store& store, const Clock& clock, const std::string& token) {
  if (token.empty()) return errors::Unauthenticated("sign in first: no token given");
  std::string hash = HashToken(token);
  std::optional<store::TokenOwner> owner;
  QUADER_RETURN_IF_ERROR(store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(owner, store::FindLiveToken(tx, hash, ToUnixSeconds(clock.Now())));
    return Status::Ok();
  }));
  if (!owner || !owner->user.active) {
    return errors::Unauthenticated("the token is invalid or has expired: sign in again");
  }
  return Principal{owner->user.id, owner->user.username, owner->user.is_admin, hash};
}

Status Logout(store::Store& store, const Principal& who) {
  QUADER_RETURN_IF_ERROR(store.Write([&](store::Tx& tx) { return store::DeleteToken(tx, who.token_hash); }));
  NoteTokensRevoked();
  return Status::Ok();
}

}  // namespace quader::auth
