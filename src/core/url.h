#pragma once
// Percent-encoding for URL paths and queries (RFC 3986): everything but the
// unreserved characters A-Z a-z 0-9 - _ . ~ (and those in `keep`) becomes %XX.

#include <string>
#include <string_view>

namespace quader {

std::string PercentEncode(std::string_view value, std::string_view keep = "");

}  // namespace quader
