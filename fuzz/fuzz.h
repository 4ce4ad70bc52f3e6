#pragma once
// Shared by the harnesses (fuzz/README.md). Each harness defines
// LLVMFuzzerTestOneInput; the same file links into a libFuzzer binary
// (make fuzz) and into a replay driver (replay_main.cpp) run by ctest.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace quader::fuzz {

inline std::string_view Bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// `text` cut at each '\n' into at most `n` parts; the last part keeps the
// rest (its newlines included). Missing parts are empty.
inline std::vector<std::string> Lines(std::string_view text, size_t n) {
  std::vector<std::string> out;
  while (out.size() + 1 < n) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    out.emplace_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  out.emplace_back(text);
  out.resize(n);
  return out;
}

}  // namespace quader::fuzz
