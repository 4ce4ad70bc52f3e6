#pragma once
// A string `command` (JobTemplate, task, experiment trial) split into argv
// words the way a POSIX shell's word splitting treats quotes, and nothing
// more:
//   - blanks (space, tab, newline, carriage return) outside quotes separate
//     words; runs of them count once;
//   - '...' keeps everything up to the next ' literally (no escapes inside);
//   - "..." keeps its text, where a backslash escapes only $ ` " \ and a
//     newline (a backslash-newline disappears); before any other character
//     the backslash stays;
//   - outside quotes a backslash makes the next character literal (a
//     backslash-newline disappears);
//   - quotes join with what touches them (a'b c'"d" is one word, "ab cd");
//     '' and "" make an empty word.
// No expansion of any kind: $VAR, `...`, globs, ~ and # stay as written (the
// runtime execs argv directly; use ["sh", "-c", "..."] for a shell).
//
// Pure and thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace quader::pipeline {

// The words of `text`. kInvalidArgument naming `field` for an unclosed
// quote (`command: unclosed double quote opened at character 12`) or a
// backslash that ends the text.
Result<std::vector<std::string>> SplitCommandWords(const std::string& field, std::string_view text);

}  // namespace quader::pipeline
