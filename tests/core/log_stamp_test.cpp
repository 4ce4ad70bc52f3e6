// Log lines timestamped on capture (core/log_stamp.h): the fixed form, a
// log stamped in pieces, and the filters that strip the stamps for readers
// and rewrite the engines' own timestamps, fed in every possible cut.

#include "core/log_stamp.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace quader {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

// 2026-12-07T17:01:13.214Z
const system_clock::time_point kAt = system_clock::time_point(milliseconds(1796662873214));

TEST(LogStampTest, TheFixedFormIsUtcWithMilliseconds) {
  EXPECT_EQ(LogStamp(kAt), "2026-12-07T17:01:13.214Z ");
  EXPECT_EQ(LogStamp(kAt).size(), kLogStampSize);
  EXPECT_EQ(LogStamp(system_clock::time_point(milliseconds(5))), "1970-01-01T00:00:00.005Z ");
  EXPECT_TRUE(StartsWithLogStamp(LogStamp(kAt) + "x"));
  EXPECT_FALSE(StartsWithLogStamp("2026-12-07T17:01:13.214Z"));  // no space
  EXPECT_FALSE(StartsWithLogStamp("2026-12-07 17:01:13.214Z x"));
}

TEST(LogStampTest, EachLineIsStampedOnceEvenWhenCutBetweenPieces) {
  LineStamper s;
  std::string out = s.Feed("one\ntw", kAt);
  out += s.Feed("o\n", kAt + milliseconds(1));
  out += s.Feed("", kAt + milliseconds(2));
  out += s.Feed("\nlast", kAt + milliseconds(3));
  EXPECT_EQ(out,
            "2026-12-07T17:01:13.214Z one\n"
            "2026-12-07T17:01:13.214Z two\n"
            "2026-12-07T17:01:13.217Z \n"
            "2026-12-07T17:01:13.217Z last");
  EXPECT_EQ(StampLines("", kAt), "");
  EXPECT_EQ(StampLines("== done\n", kAt), "2026-12-07T17:01:13.214Z == done\n");
}

// Feeds `text` to a filter cut at every pair of places.
std::vector<std::string> EveryCut(LogStampFilter::Mode mode, const std::string& text) {
  std::vector<std::string> outs;
  for (size_t a = 0; a <= text.size(); ++a) {
    for (size_t b = a; b <= text.size(); ++b) {
      LogStampFilter f(mode);
      std::string out = f.Feed(text.substr(0, a));
      out += f.Feed(text.substr(a, b - a));
      out += f.Feed(text.substr(b));
      out += f.Finish();
      outs.push_back(out);
    }
  }
  return outs;
}

TEST(LogStampTest, StrippingGivesTheLinesAsWrittenWhereverThePiecesAreCut) {
  const std::string stamped = StampLines("epoch 1: loss 0.5\n\n2026-01-01 is a date\npartial", kAt);
  for (const std::string& out : EveryCut(LogStampFilter::Mode::kStrip, stamped)) {
    ASSERT_EQ(out, "epoch 1: loss 0.5\n\n2026-01-01 is a date\npartial");
  }
  // Lines without a stamp (a log kept before stamps) pass as they are; only
  // one stamp per line goes.
  const std::string mixed = "plain\n" + LogStamp(kAt) + LogStamp(kAt) + "twice\n2026-12-07T17:01:13.21";
  for (const std::string& out : EveryCut(LogStampFilter::Mode::kStrip, mixed)) {
    ASSERT_EQ(out, "plain\n" + LogStamp(kAt) + "twice\n2026-12-07T17:01:13.21");
  }
}

TEST(LogStampTest, StrippingHoldsBackOnlyWhatStillLooksLikeAStamp) {
  LogStampFilter f(LogStampFilter::Mode::kStrip);
  EXPECT_EQ(f.Feed("Password:"), "Password:");  // a prompt is not held back
  EXPECT_EQ(f.Feed("\n2026-12-07T"), "\n");     // this could be a stamp: held
  EXPECT_EQ(f.Feed("17:01:13.214Z hi"), "hi");
  EXPECT_EQ(f.Finish(), "");
}

TEST(LogStampTest, EnginesTimestampsAreRewrittenIntoTheFixedForm) {
  const std::string engine =
      "2026-12-07T17:01:13.214123456Z one\n"  // Docker, the kubelet: nanoseconds
      "2026-12-07T17:01:13.2Z two\n"          // Go trims trailing zeros
      "2026-12-07T17:01:13Z three\n"
      "2026-12-07T18:01:13.214+01:00 four\n"  // an offset
      "not a stamp five\n"
      "\n"
      "2026-12-07T17:01:13.214Zsix\n";
  const std::string want =
      "2026-12-07T17:01:13.214Z one\n"
      "2026-12-07T17:01:13.200Z two\n"
      "2026-12-07T17:01:13.000Z three\n"
      "2026-12-07T17:01:13.214Z four\n"
      "not a stamp five\n"
      "\n"
      "2026-12-07T17:01:13.214Zsix\n";
  for (const std::string& out : EveryCut(LogStampFilter::Mode::kNormalize, engine)) {
    ASSERT_EQ(out, want);
  }
}

}  // namespace
}  // namespace quader
