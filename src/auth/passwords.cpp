#include "auth/passwords.h"

#include <sodium.h>

#include <cstring>

namespace quader::auth {
namespace {

std::string RandomBase64(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

}  // namespace

Status InitCrypto() {
  if (sodium_init() < 0) return errors::Internal("libsodium failed to initialise");
  return Status::Ok();
}

Result<std::string> HashPassword(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return errors::Internal("password hashing ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Status ValidatePassword(const std::string& field, const std::string& password) {
  if (password.size() < 8) return errors::Invalid(field, "must be at least 8 characters");
  if (password.size() > 1024) return errors::Invalid(field, "must be at most 1024 characters");
  return Status::Ok();
}

std::string NewToken() { return "qdr_" + RandomBase64(32); }

bool SecretsEqual(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string NewPassword() { return RandomBase64(15); }

std::string HashToken(const std::string& token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return hex;
}

}  // namespace quader::auth
