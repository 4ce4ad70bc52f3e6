#include "pipeline/command_words.h"

#include <gtest/gtest.h>

namespace quader::pipeline {
namespace {

using Words = std::vector<std::string>;

TEST(SplitCommandWordsTest, SplitsLikeAShellWithoutExpanding) {
  struct Row {
    const char* text;
    Words words;
    const char* why;
  } rows[] = {
      {"python3 train.py", {"python3", "train.py"}, "blanks separate"},
      {"  a \t b\n\r c  ", {"a", "b", "c"}, "runs of blanks count once, ends trimmed"},
      {"", {}, "nothing"},
      {" \t\n", {}, "only blanks"},
      {"python3 -c 'print(1 + 2)'", {"python3", "-c", "print(1 + 2)"}, "single quotes keep blanks"},
      {R"(echo "a  b")", {"echo", "a  b"}, "double quotes keep blanks"},
      {R"(echo 'a\nb' 'it"s')", {"echo", R"(a\nb)", R"(it"s)"}, "no escapes inside single quotes"},
      {R"(echo "say \"hi\"" "c:\dir" "\\ \$ \`")", {"echo", R"(say "hi")", R"(c:\dir)", R"(\ $ `)"},
       "inside double quotes a backslash escapes only $ ` \" \\ (else it stays)"},
      {R"(a\ b c\'d \\ \")", {"a b", "c'd", "\\", "\""}, "outside quotes a backslash makes the next literal"},
      {"a\\\nb", {"ab"}, "backslash-newline disappears"},
      {"\"a\\\nb\"", {"ab"}, "also inside double quotes"},
      {R"(a'b c'"d e"f)", {"ab cd ef"}, "quotes join with what touches them"},
      {"'' \"\" x", {"", "", "x"}, "empty quotes make empty words"},
      {R"(echo $HOME ~ *.py `id` #x)", {"echo", "$HOME", "~", "*.py", "`id`", "#x"},
       "no variable, tilde, glob, command or comment handling"},
      {R"(sh -c "echo \"$X\" | wc -c")", {"sh", "-c", R"(echo "$X" | wc -c)"}, "a shell inside, by hand"},
  };
  for (const Row& row : rows) {
    auto words = SplitCommandWords("command", row.text);
    ASSERT_TRUE(words.ok()) << row.why << ": " << words.status().ToString();
    EXPECT_EQ(*words, row.words) << row.why << ": [" << row.text << "]";
  }
}

TEST(SplitCommandWordsTest, RefusesUnclosedQuotesNamingTheField) {
  struct Row {
    const char* text;
    const char* message;
    const char* why;
  } rows[] = {
      {"python3 -c 'print(1)", "tasks[0].command: unclosed single quote opened at character 12",
       "single quote never closed"},
      {R"(echo "abc)", "tasks[0].command: unclosed double quote opened at character 6", "double quote never closed"},
      {R"(echo "abc\")", "tasks[0].command: unclosed double quote opened at character 6",
       "the closing double quote is escaped"},
      {R"(echo "it's)", "tasks[0].command: unclosed double quote opened at character 6",
       "a single quote inside double quotes does not close them"},
      {"echo abc\\", "tasks[0].command: ends with a lone backslash at character 9", "nothing to escape"},
  };
  for (const Row& row : rows) {
    auto words = SplitCommandWords("tasks[0].command", row.text);
    ASSERT_FALSE(words.ok()) << row.why;
    EXPECT_EQ(words.status().code(), Code::kInvalidArgument) << row.why;
    EXPECT_EQ(words.status().message(), row.message) << row.why;
  }
}

}  // namespace
}  // namespace quader::pipeline
