#include "api/response_cache.h"

#include <gtest/gtest.h>

namespace quader::api {
namespace {

TEST(ResponseCacheTest, HitsOnlyAtTheSameGeneration) {
  ResponseCache cache;
  EXPECT_EQ(cache.Get("k", 1), nullptr);
  cache.Put("k", 1, "body-1");
  ASSERT_NE(cache.Get("k", 1), nullptr);
  EXPECT_EQ(*cache.Get("k", 1), "body-1");
  EXPECT_EQ(cache.Get("k", 2), nullptr);  // a write happened since
  EXPECT_EQ(cache.Get("other", 1), nullptr);
  cache.Put("k", 2, "body-2");
  EXPECT_EQ(*cache.Get("k", 2), "body-2");
}

TEST(ResponseCacheTest, StaysBounded) {
  ResponseCache cache(2);
  cache.Put("a", 1, "a");
  cache.Put("b", 1, "b");
  cache.Put("c", 1, "c");  // over the bound: the old entries go
  EXPECT_EQ(cache.Get("a", 1), nullptr);
  EXPECT_EQ(*cache.Get("c", 1), "c");
}

}  // namespace
}  // namespace quader::api
