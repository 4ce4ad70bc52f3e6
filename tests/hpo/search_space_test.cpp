#include "hpo/search_space.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

namespace quader::hpo {
namespace {

SearchSpace MustParse(const Json& j) {
  auto r = ParseSearchSpace(j);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r.value() : SearchSpace{};
}

std::string ParseError(const Json& j) {
  auto r = ParseSearchSpace(j);
  EXPECT_FALSE(r.ok()) << j.dump();
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  return r.status().message();
}

Param One(const char* type, Json value) {
  SearchSpace s = MustParse({{"x", {{"_type", type}, {"_value", value}}}});
  EXPECT_EQ(s.params.size(), 1u);
  return s.params.empty() ? Param{} : s.params[0];
}

TEST(SearchSpaceTest, ParsesEveryType) {
  Json j = Json::parse(R"({
    "c": {"_type": "choice", "_value": [0.0001, 0.001, "adam", 3]},
    "ri": {"_type": "randint", "_value": [2, 7]},
    "u": {"_type": "uniform", "_value": [0, 1]},
    "qu": {"_type": "quniform", "_value": [1, 10, 2]},
    "lu": {"_type": "loguniform", "_value": [0.0001, 0.1]},
    "qlu": {"_type": "qloguniform", "_value": [1, 1000, 5]},
    "n": {"_type": "normal", "_value": [3, 2]},
    "qn": {"_type": "qnormal", "_value": [3, 2, 0.5]},
    "ln": {"_type": "lognormal", "_value": [0, 1]},
    "qln": {"_type": "qlognormal", "_value": [1, 0.5, 1]}
  })");
  SearchSpace s = MustParse(j);
  ASSERT_EQ(s.params.size(), 10u);
  // Sorted by key.
  EXPECT_EQ(s.params[0].key, "c");
  EXPECT_EQ(s.params[0].type, ParamType::kChoice);
  EXPECT_EQ(s.params[0].options.size(), 4u);
  EXPECT_FALSE(s.params[0].is_nested());
  const Param& qu = s.params[7];  // c ln lu n qln qlu qn qu ri u
  EXPECT_EQ(qu.key, "qu");
  EXPECT_EQ(qu.type, ParamType::kQuniform);
  EXPECT_EQ(qu.low, 1);
  EXPECT_EQ(qu.high, 10);
  EXPECT_EQ(qu.q, 2);
  const Param& qn = s.params[6];
  EXPECT_EQ(qn.key, "qn");
  EXPECT_EQ(qn.mu, 3);
  EXPECT_EQ(qn.sigma, 2);
  EXPECT_EQ(qn.q, 0.5);
  EXPECT_EQ(s.types().size(), 10u);
  EXPECT_FALSE(s.has_nested_choice());
  for (const Param& p : s.params) EXPECT_STRNE(ParamTypeName(p.type), "");
  EXPECT_STREQ(ParamTypeName(ParamType::kQlognormal), "qlognormal");
  EXPECT_STREQ(ParamTypeName(ParamType::kRandint), "randint");
}

TEST(SearchSpaceTest, NestedChoice) {
  Json j = Json::parse(R"({
    "optimizer": {"_type": "choice", "_value": [
      {"_name": "sgd", "lr": {"_type": "loguniform", "_value": [0.001, 0.1]},
                       "momentum": {"_type": "uniform", "_value": [0, 1]}},
      {"_name": "adam", "lr": {"_type": "qnormal", "_value": [0.01, 0.001, 0.0005]}},
      {"_name": "plain"}
    ]},
    "layers": {"_type": "randint", "_value": [1, 4]}
  })");
  SearchSpace s = MustParse(j);
  ASSERT_EQ(s.params.size(), 2u);
  const Param& opt = s.params[1];
  EXPECT_EQ(opt.key, "optimizer");
  EXPECT_TRUE(opt.is_nested());
  ASSERT_EQ(opt.nested.size(), 3u);
  EXPECT_EQ(opt.nested[0].params.size(), 2u);
  EXPECT_EQ(opt.nested[2].params.size(), 0u);
  EXPECT_TRUE(s.has_nested_choice());
  auto types = s.types();
  EXPECT_EQ(types.size(), 5u);  // randint, choice, loguniform, uniform, qnormal
  for (ParamType t : {ParamType::kQnormal, ParamType::kLoguniform, ParamType::kUniform})
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << ParamTypeName(t);

  Rng rng(7);
  bool seen[3] = {false, false, false};
  for (int i = 0; i < 300; ++i) {
    Json v = SampleSpace(s, rng);
    const Json& o = v["optimizer"];
    ASSERT_TRUE(o.is_object());
    std::string name = o["_name"];
    if (name == "sgd") {
      seen[0] = true;
      EXPECT_EQ(o.size(), 3u);
      EXPECT_GE(o["lr"].get<double>(), 0.001);
      EXPECT_LE(o["lr"].get<double>(), 0.1);
    } else if (name == "adam") {
      seen[1] = true;
      EXPECT_EQ(o.size(), 2u);
    } else {
      EXPECT_EQ(name, "plain");
      seen[2] = true;
      EXPECT_EQ(o.size(), 1u);
    }
  }
  EXPECT_TRUE(seen[0] && seen[1] && seen[2]);
}

TEST(SearchSpaceTest, ErrorsNameKeyAndReason) {
  auto spec = [](const char* type, Json value) { return Json{{"lr", {{"_type", type}, {"_value", value}}}}; };
  EXPECT_EQ(ParseError(spec("uniformm", {0, 1})), "lr: unknown _type \"uniformm\"");
  EXPECT_EQ(ParseError(spec("uniform", {1, 1})), "lr: uniform needs [low, high] with low < high");
  EXPECT_EQ(ParseError(spec("randint", {5, 2})), "lr: randint needs [low, high] with low < high");
  EXPECT_EQ(ParseError(spec("randint", {0, 1.5e85})), "lr: randint bounds must be within ±2^53 (9007199254740992)");
  EXPECT_EQ(ParseError(spec("quniform", {0, 1})), "lr: quniform needs [low, high, q], got 2 values");
  EXPECT_EQ(ParseError(spec("normal", {0, 1, 2})), "lr: normal needs [mu, sigma], got 3 values");
  EXPECT_EQ(ParseError(spec("quniform", {0, 1, 0})), "lr: quniform needs q > 0");
  EXPECT_EQ(ParseError(spec("qnormal", {0, 1, -1})), "lr: qnormal needs q > 0");
  EXPECT_EQ(ParseError(spec("loguniform", {0, 1})), "lr: loguniform needs low > 0");
  EXPECT_EQ(ParseError(spec("qloguniform", {-1, 1, 1})), "lr: qloguniform needs low > 0");
  EXPECT_EQ(ParseError(spec("normal", {0, 0})), "lr: normal needs sigma > 0");
  EXPECT_EQ(ParseError(spec("lognormal", {0, -1})), "lr: lognormal needs sigma > 0");
  EXPECT_EQ(ParseError(spec("choice", Json::array())), "lr: choice needs at least one option");
  EXPECT_EQ(ParseError(spec("uniform", {0, "1"})), "lr: uniform needs numbers in [low, high]");
  EXPECT_EQ(ParseError(spec("randint", {0.5, 3})), "lr: randint needs integer low and high");
  EXPECT_EQ(ParseError(Json{{"lr", {{"_value", {0, 1}}}}}), "lr: missing _type");
  EXPECT_EQ(ParseError(Json{{"lr", {{"_type", "uniform"}}}}), "lr: uniform needs _value [low, high]");
  EXPECT_EQ(ParseError(Json{{"lr", 3}}), "lr: must be an object with _type and _value");
  EXPECT_EQ(ParseError(Json::array()), "search space: must be an object");

  Json nested = Json::parse(R"({"optimizer": {"_type": "choice", "_value": [
      {"_name": "sgd"},
      {"_name": "adam", "momentum": {"_type": "uniformm", "_value": [0, 1]}}]}})");
  EXPECT_EQ(ParseError(nested), "optimizer[1].momentum: unknown _type \"uniformm\"");
  Json no_name = Json::parse(R"({"optimizer": {"_type": "choice", "_value": ["sgd", {"lr": 1}]}})");
  EXPECT_EQ(ParseError(no_name), "optimizer[1]: nested option needs a _name");
  Json deep = Json::parse(R"({"a": {"_type": "choice", "_value": [{"_name": "x",
      "b": {"_type": "choice", "_value": [{"_name": "y", "c": {"_type": "uniform", "_value": [2, 1]}}]}}]}})");
  EXPECT_EQ(ParseError(deep), "a[0].b[0].c: uniform needs [low, high] with low < high");
}

TEST(SearchSpaceTest, QuantizeFollowsNni) {
  Param qu = One("quniform", {1, 10, 2});
  EXPECT_EQ(Quantize(qu, 0.2), 1);    // round(0.1)*2 = 0, clipped to low
  EXPECT_EQ(Quantize(qu, 3.1), 4);    // round(1.55)*2
  EXPECT_EQ(Quantize(qu, 5.0), 4);    // round(2.5) = 2, half to even like numpy
  EXPECT_EQ(Quantize(qu, 9.9), 10);
  Param qn = One("qnormal", {0, 1, 0.5});
  EXPECT_EQ(Quantize(qn, 1.3), 1.5);
  EXPECT_EQ(Quantize(qn, -7.1), -7.0);  // no clipping for the normal family
  Param ri = One("randint", {2, 7});
  EXPECT_EQ(Quantize(ri, 6.999), 6);
  Param u = One("uniform", {0, 1});
  EXPECT_EQ(Quantize(u, 0.123), 0.123);
}

TEST(SearchSpaceTest, DrawsStayOnGridAndInBounds) {
  constexpr int kDraws = 10000;
  Rng rng(42);
  Param qu = One("quniform", {0.5, 3.7, 0.25});
  Param ri = One("randint", {-3, 4});
  Param lu = One("loguniform", {1e-4, 1e-1});
  Param qlu = One("qloguniform", {2, 500, 3});
  Param u = One("uniform", {-2, 5});
  Param n = One("normal", {3, 2});
  Param qn = One("qnormal", {3, 2, 0.5});
  Param ln = One("lognormal", {0, 0.5});
  Param qln = One("qlognormal", {1, 0.5, 2});
  Param c = One("choice", {"a", 2, 3.5});
  std::set<int64_t> ints;
  std::set<std::string> choices;
  double sum_n = 0, sum_log_ln = 0;
  bool qu_hit_low = false, qu_hit_high = false;
  for (int i = 0; i < kDraws; ++i) {
    double v = SampleParam(qu, rng).get<double>();
    ASSERT_GE(v, 0.5);
    ASSERT_LE(v, 3.7);
    if (v == 0.5) qu_hit_low = true;
    if (v == 3.7) qu_hit_high = true;
    if (v != 0.5 && v != 3.7) {
      ASSERT_NEAR(std::remainder(v, 0.25), 0, 1e-9) << v;
    }

    Json r = SampleParam(ri, rng);
    ASSERT_TRUE(r.is_number_integer());
    ASSERT_GE(r.get<int64_t>(), -3);
    ASSERT_LT(r.get<int64_t>(), 4);
    ints.insert(r.get<int64_t>());

    v = SampleParam(lu, rng).get<double>();
    ASSERT_GE(v, 1e-4);
    ASSERT_LE(v, 1e-1);
    v = SampleParam(qlu, rng).get<double>();
    ASSERT_GE(v, 2);
    ASSERT_LE(v, 500);
    if (v != 2 && v != 500) {
      ASSERT_NEAR(std::remainder(v, 3), 0, 1e-9) << v;
    }
    v = SampleParam(u, rng).get<double>();
    ASSERT_GE(v, -2);
    ASSERT_LT(v, 5);

    sum_n += SampleParam(n, rng).get<double>();
    v = SampleParam(qn, rng).get<double>();
    ASSERT_NEAR(std::remainder(v, 0.5), 0, 1e-9);
    v = SampleParam(ln, rng).get<double>();
    ASSERT_GT(v, 0);
    sum_log_ln += std::log(v);
    v = SampleParam(qln, rng).get<double>();
    ASSERT_NEAR(std::remainder(v, 2), 0, 1e-9);
    ASSERT_GE(v, 0);
    choices.insert(SampleParam(c, rng).dump());
  }
  EXPECT_TRUE(qu_hit_low);   // NNI's clip makes the bounds themselves reachable
  EXPECT_TRUE(qu_hit_high);
  EXPECT_EQ(ints.size(), 7u);  // -3..3, never 4
  EXPECT_EQ(choices.size(), 3u);
  EXPECT_NEAR(sum_n / kDraws, 3.0, 0.1);
  EXPECT_NEAR(sum_log_ln / kDraws, 0.0, 0.03);
}

TEST(SearchSpaceTest, SamplingIsDeterministicPerSeed) {
  SearchSpace s = MustParse(Json::parse(R"({
    "a": {"_type": "uniform", "_value": [0, 1]},
    "b": {"_type": "choice", "_value": [1, 2, 3, 4, 5, 6, 7, 8]},
    "c": {"_type": "normal", "_value": [0, 1]}})"));
  Rng r1(5), r2(5), r3(6);
  Json a, b, c;
  for (int i = 0; i < 20; ++i) {
    a.push_back(SampleSpace(s, r1));
    b.push_back(SampleSpace(s, r2));
    c.push_back(SampleSpace(s, r3));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

}  // namespace
}  // namespace quader::hpo
