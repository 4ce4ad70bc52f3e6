#include "images/image_ref.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace quader::images {

Result<ImageRef> ParseImageRef(const std::string& field, const std::string& text) {
  // Path components are lower-case; the first may be a registry host[:port].
  static const std::regex kName(
      R"(^([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$)");
  static const std::regex kTag(R"(^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$)");
  auto bad = [&](const std::string& why) {
    return errors::Invalid(field, "\"" + text + "\" is not an image reference: " + why);
  };
  if (text.empty()) return bad("it is empty");
  if (text.size() > 255) return bad("it is longer than 255 characters");
  ImageRef ref;
  size_t slash = text.rfind('/');
  size_t colon = text.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    ref.name = text.substr(0, colon);
    ref.tag = text.substr(colon + 1);
  } else {
    ref.name = text;
    ref.tag = "latest";
  }
  if (!std::regex_match(ref.name, kName)) {
    return bad("use lower-case letters, digits, '.', '_', '-' and '/' (e.g. team/sklearn:1.0)");
  }
  // As engines do: a first component is a registry host only when it looks
  // like one ('.', ':' or localhost); otherwise it is a lower-case path.
  size_t first = ref.name.find('/');
  if (first != std::string::npos) {
    std::string host = ref.name.substr(0, first);
    bool is_host = host.find_first_of(".:") != std::string::npos || host == "localhost";
    bool lower = std::all_of(host.begin(), host.end(), [](char c) { return !std::isupper(static_cast<unsigned char>(c)); });
    if (!is_host && !lower) return bad("use lower-case letters, digits, '.', '_', '-' and '/' (e.g. team/sklearn:1.0)");
  }
  if (!std::regex_match(ref.tag, kTag)) return bad("the tag \"" + ref.tag + "\" is not valid");
  return ref;
}

}  // namespace quader::images
