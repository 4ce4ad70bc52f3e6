#include "core/names.h"

#include <gtest/gtest.h>

namespace quader {
namespace {

TEST(NamesTest, Usernames) {
  for (const char* ok : {"admin", "bob-2", "ab"}) EXPECT_TRUE(ValidateUsername("u", ok).ok()) << ok;
  for (const char* bad : {"", "a", "Bob", "2bob", "bob-", "bo_b", "bob.x"}) {
    Status st = ValidateUsername("username", bad);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(st.message().rfind("username: ", 0), 0u) << st.message();
  }
}

TEST(NamesTest, ObjectNames) {
  for (const char* ok : {"a", "team-a", "0x1"}) EXPECT_TRUE(ValidateObjectName("n", ok).ok()) << ok;
  std::string too_long(64, 'a');
  for (std::string bad : {std::string(""), std::string("-a"), std::string("a-"), std::string("A"),
                          std::string("a_b"), too_long}) {
    EXPECT_FALSE(ValidateObjectName("name", bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace quader
