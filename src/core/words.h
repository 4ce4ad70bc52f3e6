#pragma once
// An enum's one mapping to the words the store, the API and the CLI use for
// it (task, run and trial states): both ways, unknown words refused.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace quader {

template <class E, std::size_t N>
class WordMap {
 public:
  constexpr explicit WordMap(std::array<std::pair<E, std::string_view>, N> words) : words_(words) {}

  // The word of `e`; "unknown" for a value outside the table.
  constexpr std::string_view Name(E e) const {
    for (const auto& [value, word] : words_) {
      if (value == e) return word;
    }
    return "unknown";
  }

  // The value of `word`; nullopt for any other word.
  constexpr std::optional<E> Parse(std::string_view word) const {
    for (const auto& [value, w] : words_) {
      if (w == word) return value;
    }
    return std::nullopt;
  }

 private:
  std::array<std::pair<E, std::string_view>, N> words_;
};

}  // namespace quader
