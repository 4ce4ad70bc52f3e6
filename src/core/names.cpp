#include "core/names.h"

#include <regex>

namespace quader {

Status ValidateUsername(const std::string& field, const std::string& name) {
  static const std::regex kRe("^[a-z][a-z0-9-]*[a-z0-9]$");
  if (name.size() < 2 || name.size() > 63 || !std::regex_match(name, kRe)) {
    return errors::Invalid(field, "\"" + name +
                                      "\" is not a valid username (2-63 characters: lower-case "
                                      "letters, digits and '-', starting with a letter)");
  }
  return Status::Ok();
}

Status ValidateObjectName(const std::string& field, const std::string& name) {
  static const std::regex kRe("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$");
  if (name.empty() || name.size() > 63 || !std::regex_match(name, kRe)) {
    return errors::Invalid(field, "\"" + name +
                                      "\" is not a valid name (1-63 characters: lower-case "
                                      "letters, digits and '-', not starting or ending with '-')");
  }
  return Status::Ok();
}

}  // namespace quader
