#pragma once
// Plain records, one per table row. No behaviour; validation lives with the
// code that accepts input (auth/, api/).

#include <cstdint>
#include <string>

namespace quader::store {

struct UserRecord {
  int64_t id = 0;
  std::string username;
  std::string password_hash;  // argon2id, libsodium's crypto_pwhash_str format
  std::string email;
  bool is_admin = false;
  bool active = true;
  int64_t created_at = 0;  // Unix seconds
  int64_t updated_at = 0;
};

struct TokenRecord {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string token_hash;  // hex SHA-256 of the token; the token itself is never stored
  std::string description;
  int64_t created_at = 0;
  int64_t expires_at = 0;
};

struct ProjectRecord {
  int64_t id = 0;
  std::string name;
  std::string description;
  std::string expand = "{}";  // validated JSON object text (auth/expand.h)
  std::string created_by;     // username
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct MemberRecord {
  int64_t project_id = 0;
  int64_t user_id = 0;
  std::string username;
  std::string role;  // creator, dev, ops
  int64_t created_at = 0;
};

}  // namespace quader::store
