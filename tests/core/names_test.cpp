#include "core/names.h"
#include "core/url.h"

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

TEST(PercentEncodeTest, KeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(PercentEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(PercentEncode(R"({"label":["a=b c"]})"), "%7B%22label%22%3A%5B%22a%3Db%20c%22%5D%7D");
  EXPECT_EQ(PercentEncode("quader.managed=true,quader.kind=task"), "quader.managed%3Dtrue%2Cquader.kind%3Dtask");
  EXPECT_EQ(PercentEncode("/notebook/p/n/?x=1", "/"), "/notebook/p/n/%3Fx%3D1");
}

}  // namespace
}  // namespace quader
