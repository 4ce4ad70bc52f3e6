#include "store/users.h"

namespace quader::store {
namespace {

constexpr const char* kUserCols =
    "id, username, password_hash, email, is_admin, active, created_at, updated_at";

UserRecord UserFromRow(const Row& r, size_t o = 0) {
  UserRecord u;
  u.id = r.Int(o + 0);
  u.username = r.Str(o + 1);
  u.password_hash = r.Str(o + 2);
  u.email = r.Str(o + 3);
  u.is_admin = r.Int(o + 4) != 0;
  u.active = r.Int(o + 5) != 0;
  u.created_at = r.Int(o + 6);
  u.updated_at = r.Int(o + 7);
  return u;
}

Result<UserRecord> OneUser(Tx& tx, const std::string& where, const Value& key,
                           const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query(std::string("SELECT ") + kUserCols + " FROM users WHERE " + where, {key}));
  if (rows.empty()) return errors::NotFound("user", name);
  return UserFromRow(rows[0]);
}

}  // namespace

Result<UserRecord> InsertUser(Tx& tx, UserRecord user, int64_t now) {
  user.created_at = user.updated_at = now;
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query("INSERT INTO users (username, password_hash, email, is_admin, active, created_at, "
               "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
               {user.username, user.password_hash, user.email, int64_t{user.is_admin},
                int64_t{user.active}, now, now}));
  user.id = rows.at(0).Int(0);
  return user;
}

Result<UserRecord> GetUser(Tx& tx, const std::string& username) {
  return OneUser(tx, "username = ?", username, username);
}

Result<UserRecord> GetUserById(Tx& tx, int64_t id) {
  return OneUser(tx, "id = ?", id, "#" + std::to_string(id));
}

Result<std::vector<UserRecord>> ListUsers(Tx& tx) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query(std::string("SELECT ") + kUserCols + " FROM users ORDER BY username"));
  std::vector<UserRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(UserFromRow(r));
  return out;
}

Status UpdateUser(Tx& tx, const UserRecord& user, int64_t now) {
  QUADER_RETURN_IF_ERROR(
      tx.Exec("UPDATE users SET email = ?, password_hash = ?, is_admin = ?, active = ?, "
              "updated_at = ? WHERE id = ?",
              {user.email, user.password_hash, int64_t{user.is_admin}, int64_t{user.active}, now,
               user.id}));
  if (tx.changes() == 0) return errors::NotFound("user", user.username);
  return Status::Ok();
}

Status DeleteUser(Tx& tx, const std::string& username) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM users WHERE username = ?", {username}));
  if (tx.changes() == 0) return errors::NotFound("user", username);
  return Status::Ok();
}

Status InsertToken(Tx& tx, const TokenRecord& t) {
  return tx.Exec(
      "INSERT INTO tokens (user_id, token_hash, description, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?)",
      {t.user_id, t.token_hash, t.description, t.created_at, t.expires_at});
}

Result<std::optional<TokenOwner>> FindLiveToken(Tx& tx, const std::string& token_hash,
                                                int64_t now) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query("SELECT t.id, t.user_id, t.token_hash, t.description, t.created_at, t.expires_at, "
               "u.id, u.username, u.password_hash, u.email, u.is_admin, u.active, u.created_at, "
               "u.updated_at FROM tokens t JOIN users u ON u.id = t.user_id "
               "WHERE t.token_hash = ? AND t.expires_at > ?",
               {token_hash, now}));
  if (rows.empty()) return std::optional<TokenOwner>();
  const Row& r = rows[0];
  TokenOwner owner;
  owner.token.id = r.Int(0);
  owner.token.user_id = r.Int(1);
  owner.token.token_hash = r.Str(2);
  owner.token.description = r.Str(3);
  owner.token.created_at = r.Int(4);
  owner.token.expires_at = r.Int(5);
  owner.user = UserFromRow(r, 6);
  return std::optional<TokenOwner>(std::move(owner));
}

Status DeleteToken(Tx& tx, const std::string& token_hash) {
  return tx.Exec("DELETE FROM tokens WHERE token_hash = ?", {token_hash});
}

Result<int64_t> DeleteUserTokens(Tx& tx, int64_t user_id, const std::string& keep_hash) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM tokens WHERE user_id = ? AND token_hash <> ?", {user_id, keep_hash}));
  return tx.changes();
}

Result<int64_t> DeleteExpiredTokens(Tx& tx, int64_t now) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM tokens WHERE expires_at <= ?", {now}));
  return tx.changes();
}

}  // namespace quader::store
