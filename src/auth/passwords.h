#pragma once
// Password hashing with libsodium's argon2id (crypto_pwhash_str), and random
// login tokens. Thread-safe; call InitCrypto() once before use.

#include <string>

#include "core/status.h"

namespace quader::auth {

// Initialises libsodium. kInternal if it cannot.
Status InitCrypto();

// An argon2id hash in libsodium's self-describing string format.
Result<std::string> HashPassword(const std::string& password);
// True when `password` matches `hash`. Constant-time.
bool VerifyPassword(const std::string& hash, const std::string& password);
// Passwords must be 8 to 1024 bytes.
Status ValidatePassword(const std::string& field, const std::string& password);

// A fresh login token: "qdr_" + 43 characters of URL-safe base64 (256 bits).
std::string NewToken();
// Hex SHA-256 of a token: the only form tokens are stored in.
std::string HashToken(const std::string& token);
// Whether two secrets are equal, in time that depends only on their lengths.
bool SecretsEqual(const std::string& a, const std::string& b);
// A random password for the first admin: 20 URL-safe characters.
std::string NewPassword();

}  // namespace quader::auth
