#pragma once
// The users and tokens tables. Every function runs on a caller's Tx.

#include <optional>
#include <vector>

#include "store/records.h"
#include "store/store.h"

namespace quader::store {

// Inserts `user` (id and times are filled in). kAlreadyExists on a taken name.
Result<UserRecord> InsertUser(Tx& tx, UserRecord user, int64_t now);
// kNotFound when no such user.
Result<UserRecord> GetUser(Tx& tx, const std::string& username);
Result<UserRecord> GetUserById(Tx& tx, int64_t id);
Result<std::vector<UserRecord>> ListUsers(Tx& tx);
// Overwrites email, password_hash, is_admin, active of the user with user.id.
Status UpdateUser(Tx& tx, const UserRecord& user, int64_t now);
// Deletes the user, their tokens and memberships. kNotFound when missing.
Status DeleteUser(Tx& tx, const std::string& username);

Status InsertToken(Tx& tx, const TokenRecord& token);
// The token with this hash and its user, if it exists and has not expired.
struct TokenOwner {
  TokenRecord token;
  UserRecord user;
};
Result<std::optional<TokenOwner>> FindLiveToken(Tx& tx, const std::string& token_hash, int64_t now);
Status DeleteToken(Tx& tx, const std::string& token_hash);
// Deletes every token of the user except the one whose hash is `keep_hash`
// ("" keeps none); returns how many were deleted.
Result<int64_t> DeleteUserTokens(Tx& tx, int64_t user_id, const std::string& keep_hash);
// Removes expired tokens; returns how many.
Result<int64_t> DeleteExpiredTokens(Tx& tx, int64_t now);

}  // namespace quader::store
