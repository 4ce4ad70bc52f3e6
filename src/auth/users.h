#pragma once
// Accounts and sessions: creating users (who join `public` at once), the
// first admin, logging in and out, and turning a token into a Principal.
// Thread-safe: all state is in the Store.

#include <string>

#include "auth/access.h"
#include "auth/password_workers.h"
#include "core/clock.h"
#include "store/store.h"

namespace quader::auth {

struct NewUser {
  std::string username;
  std::string password;
  std::string email;
  bool is_admin = false;
};

// Validates and inserts the user and makes them a `dev` of `public`, in the
// caller's transaction. kAlreadyExists when the name is taken. A non-empty
// `password_hash` (of user.password, made with HashPasswordOn before the
// transaction) is stored instead of hashing inside it.
Result<store::UserRecord> CreateUser(store::Tx& tx, const NewUser& user, int64_t now,
                                     const std::string& password_hash = "");

// At first start: creates the `public` project and the `admin` user when they
// do not exist. The password is `admin_password` or, when empty, a generated
// one returned in `generated_password` (empty when the admin already existed).
Status Bootstrap(store::Store& store, const Clock& clock, const std::string& admin_password,
                 std::string* generated_password);

struct Session {
  std::string token;  // shown once, never stored
  int64_t expires_at = 0;
  store::UserRecord user;
};

// Checks the password and issues a token valid for `ttl_seconds`.
// kUnauthenticated for an unknown user, a wrong password or an inactive user
// (one message for all three, after the same work: an unknown name is
// checked against a dummy hash). With `workers` the password is checked on
// them (kUnavailable when they are busy); without, on the calling thread.
Result<Session> Login(store::Store& store, const Clock& clock, const std::string& username,
                      const std::string& password, int64_t ttl_seconds,
                      PasswordWorkers* workers = nullptr);

// HashPassword, on `workers` when given (kUnavailable when they are busy).
Result<std::string> HashPasswordOn(PasswordWorkers* workers, const std::string& password);

// Revokes every session (login token) of the user except the one whose hash
// is `keep_token_hash` ("" keeps none), in the caller's transaction: on a
// password change (keeping the caller's own session when they change their
// own), on deactivation and before deletion. Call NoteTokensRevoked() once
// the transaction has committed. Returns how many were revoked.
Result<int64_t> RevokeSessions(store::Tx& tx, int64_t user_id, const std::string& keep_token_hash);

// The caller behind `token`. kUnauthenticated when unknown or expired.
Result<Principal> Authenticate(store::Store& store, const Clock& clock, const std::string& token);

// Revokes the token of `who`.
Status Logout(store::Store& store, const Principal& who);

}  // namespace quader::auth
