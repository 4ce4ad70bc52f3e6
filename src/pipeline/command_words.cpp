#include "pipeline/command_words.h"

namespace quader::pipeline {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Characters a backslash escapes inside double quotes (POSIX 2.2.3).
bool EscapableInDoubleQuotes(char c) { return c == '$' || c == '`' || c == '"' || c == '\\' || c == '\n'; }

std::string Position(size_t i) { return "character " + std::to_string(i + 1); }

}  // namespace

Result<std::vector<std::string>> SplitCommandWords(const std::string& field, std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // a word has started (it may still be empty: '')
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (IsBlank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) {
        return errors::Invalid(field, "ends with a lone backslash at " + Position(i));
      }
      if (text[i + 1] != '\n') {
        word += text[i + 1];
        in_word = true;
      }
      i += 2;
    } else if (c == '\'') {
      const size_t close = text.find('\'', i + 1);
      if (close == std::string_view::npos) {
        return errors::Invalid(field, "unclosed single quote opened at " + Position(i));
      }
      word.append(text.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      const size_t open = i++;
      for (;; ++i) {
        if (i >= text.size()) {
          return errors::Invalid(field, "unclosed double quote opened at " + Position(open));
        }
        if (text[i] == '"') break;
        if (text[i] == '\\' && i + 1 < text.size() && EscapableInDoubleQuotes(text[i + 1])) {
          if (text[i + 1] != '\n') word += text[i + 1];
          ++i;
        } else {
          word += text[i];
        }
      }
      in_word = true;
      ++i;
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace quader::pipeline
