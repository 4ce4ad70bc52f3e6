#include "hpo/tuner.h"
#include "hpo/objectives.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "hpo/random_tuners.h"

namespace quader::hpo {
namespace {

using testing::Branin;
using testing::BraninSpace;
using testing::Median;

SearchSpace Space(const char* text) {
  auto r = ParseSearchSpace(Json::parse(text));
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r.value() : SearchSpace{};
}

std::unique_ptr<Tuner> Make(const std::string& name, const SearchSpace& s, uint64_t seed = 1,
                            OptimizeMode mode = OptimizeMode::kMaximize, Json args = Json::object()) {
  TunerOptions o;
  o.seed = seed;
  o.mode = mode;
  o.args = std::move(args);
  auto r = MakeTuner(name, s, o);
  EXPECT_TRUE(r.ok()) << name << ": " << r.status().message();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::string Refusal(const std::string& name, const SearchSpace& s, Json args = Json::object()) {
  TunerOptions o;
  o.args = std::move(args);
  auto r = MakeTuner(name, s, o);
  EXPECT_FALSE(r.ok()) << name;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  return r.status().message();
}

constexpr const char* kQuadSpace = R"({
  "x": {"_type": "uniform", "_value": [-5, 5]},
  "y": {"_type": "uniform", "_value": [-5, 5]}})";

double Quad(const Json& p) {
  double x = p["x"].get<double>() - 1.3, y = p["y"].get<double>() + 0.7;
  return x * x + y * y;
}

// Best (lowest) value of the quadratic after `n` trials, minimizing.
double BestAfter(const std::string& tuner, uint64_t seed, int n, double* first = nullptr) {
  auto t = Make(tuner, Space(kQuadSpace), seed, OptimizeMode::kMinimize);
  double best = 1e300;
  for (int i = 0; i < n; ++i) {
    auto p = t->Suggest(i);
    if (!p) {
      ADD_FAILURE() << tuner << " ran out";
      break;
    }
    double v = Quad(*p);
    if (i == 0 && first) *first = v;
    best = std::min(best, v);
    t->Observe(i, *p, v);
  }
  return best;
}

TEST(MakeTunerTest, SupportTableRefusals) {
  SearchSpace lr = Space(R"({"lr": {"_type": "uniform", "_value": [0, 1]}})");
  EXPECT_EQ(Refusal("GridSearch", lr),
            "tuner GridSearch does not support uniform (key \"lr\"); it supports choice, randint, quniform");
  EXPECT_EQ(Refusal("BatchTuner", lr), "tuner BatchTuner does not support uniform (key \"lr\"); it supports choice");
  SearchSpace qlu = Space(R"({"a": {"_type": "choice", "_value": [1]}, "q": {"_type": "qloguniform", "_value": [1, 9, 1]}})");
  EXPECT_EQ(Refusal("SMAC", qlu),
            "tuner SMAC does not support qloguniform (key \"q\"); it supports choice, randint, uniform, quniform, "
            "loguniform");
  EXPECT_EQ(Refusal("MetisTuner", qlu),
            "tuner MetisTuner does not support qloguniform (key \"q\"); it supports choice, randint, uniform, "
            "quniform");
  SearchSpace normal = Space(R"({"n": {"_type": "normal", "_value": [0, 1]}})");
  EXPECT_EQ(Refusal("GPTuner", normal),
            "tuner GPTuner does not support normal (key \"n\"); it supports choice, randint, uniform, quniform, "
            "loguniform, qloguniform");

  SearchSpace nested = Space(R"({"opt": {"_type": "choice", "_value": [{"_name": "sgd"}, "adam"]}})");
  EXPECT_EQ(Refusal("Hyperband", nested),
            "tuner Hyperband does not support nested choice (key \"opt\"); it supports every type but nested choice");
  EXPECT_EQ(Refusal("GridSearch", nested),
            "tuner GridSearch does not support nested choice (key \"opt\"); it supports choice, randint, quniform");
  for (const char* ok : {"Random", "Anneal", "Evolution"}) EXPECT_NE(Make(ok, nested), nullptr) << ok;

  EXPECT_NE(Make("Hyperband", normal), nullptr);
  for (const char* ok : {"SMAC", "GPTuner", "MetisTuner"}) EXPECT_NE(Make(ok, lr), nullptr) << ok;

  EXPECT_EQ(Refusal("Bayes", lr),
            "tuner: unknown tuner \"Bayes\"; known tuners: TPE, Random, Anneal, Evolution, SMAC, BatchTuner, "
            "GridSearch, Hyperband, MetisTuner, GPTuner");
}

TEST(MakeTunerTest, ArgsAreValidated) {
  SearchSpace lr = Space(R"({"lr": {"_type": "uniform", "_value": [0, 1]}})");
  EXPECT_EQ(Refusal("Random", lr, {{"population_size", 3}}), "args.population_size: unknown classArg for tuner Random");
  EXPECT_EQ(Refusal("Evolution", lr, {{"population_size", 0}}), "args.population_size: must be a positive integer");
  EXPECT_EQ(Refusal("Anneal", lr, {{"optimize_mode", "max"}}),
            "args.optimize_mode: must be \"maximize\" or \"minimize\"");
  EXPECT_NE(Make("Evolution", lr, 1, OptimizeMode::kMaximize, {{"population_size", 8}, {"optimize_mode", "maximize"}}),
            nullptr);
}

TEST(GridSearchTest, EnumeratesTheProductThenEnds) {
  SearchSpace s = Space(R"({
    "c": {"_type": "choice", "_value": ["a", "b"]},
    "n": {"_type": "randint", "_value": [1, 4]},
    "q": {"_type": "quniform", "_value": [0, 1, 0.5]}})");
  auto t = Make("GridSearch", s);
  std::vector<Json> got;
  for (int i = 0; i < 100; ++i) {
    auto p = t->Suggest(i);
    if (!p) break;
    got.push_back(*p);
  }
  ASSERT_EQ(got.size(), 2u * 3u * 3u);
  std::set<std::string> distinct;
  for (const Json& p : got) distinct.insert(p.dump());
  EXPECT_EQ(distinct.size(), got.size());
  // Deterministic order, last key fastest.
  EXPECT_EQ(got[0], Json::parse(R"({"c": "a", "n": 1, "q": 0.0})"));
  EXPECT_EQ(got[1], Json::parse(R"({"c": "a", "n": 1, "q": 0.5})"));
  EXPECT_EQ(got[2], Json::parse(R"({"c": "a", "n": 1, "q": 1.0})"));
  EXPECT_EQ(got[3], Json::parse(R"({"c": "a", "n": 2, "q": 0.0})"));
  EXPECT_EQ(got.back(), Json::parse(R"({"c": "b", "n": 3, "q": 1.0})"));
  EXPECT_FALSE(t->Suggest(1000).has_value());
  EXPECT_FALSE(t->Suggest(1001).has_value());
}

TEST(GridSearchTest, QuniformGridIsEveryValueADrawCanTake) {
  SearchSpace s = Space(R"({"q": {"_type": "quniform", "_value": [0.1, 1, 0.3]}})");
  auto t = Make("GridSearch", s);
  std::vector<double> grid;
  while (auto p = t->Suggest(0)) grid.push_back((*p)["q"].get<double>());
  ASSERT_EQ(grid.size(), 4u);  // clip(k*0.3): 0.1 (k=0, clipped), 0.3, 0.6, 0.9
  EXPECT_DOUBLE_EQ(grid[0], 0.1);
  EXPECT_DOUBLE_EQ(grid[3], 0.9);
  Rng rng(3);
  for (int i = 0; i < 2000; ++i) {
    double v = SampleParam(s.params[0], rng).get<double>();
    EXPECT_TRUE(std::any_of(grid.begin(), grid.end(), [&](double g) { return g == v; })) << v;
  }
}

TEST(GridSearchTest, ReplayedTrialsAreNotRepeated) {
  SearchSpace s = Space(R"({"c": {"_type": "choice", "_value": [1, 2, 3]}})");
  auto t = Make("GridSearch", s);
  t->Observe(0, Json{{"c", 1}}, 0.5);
  t->Observe(1, Json{{"c", 3}}, std::nullopt);
  auto p = t->Suggest(2);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, Json({{"c", 2}}));
  EXPECT_FALSE(t->Suggest(3).has_value());
}

TEST(BatchTunerTest, EachOptionOnceInOrder) {
  SearchSpace s = Space(R"({"combine_params": {"_type": "choice", "_value": [[1, 2], "x", 3.5]}})");
  auto t = Make("BatchTuner", s);
  EXPECT_EQ(t->name(), "BatchTuner");
  EXPECT_EQ(*t->Suggest(0), Json::parse(R"({"combine_params": [1, 2]})"));
  EXPECT_EQ(*t->Suggest(1), Json::parse(R"({"combine_params": "x"})"));
  EXPECT_EQ(*t->Suggest(2), Json::parse(R"({"combine_params": 3.5})"));
  EXPECT_FALSE(t->Suggest(3).has_value());

  SearchSpace two = Space(R"({"a": {"_type": "choice", "_value": [1]}, "b": {"_type": "choice", "_value": [2]}})");
  EXPECT_EQ(Refusal("BatchTuner", two),
            "search space: BatchTuner needs exactly one key, of type choice (NNI: combine_params)");
}

TEST(TunersTest, DeterministicPerSeedAndObservations) {
  SearchSpace s = Space(R"({
    "x": {"_type": "uniform", "_value": [-5, 5]},
    "k": {"_type": "randint", "_value": [0, 10]},
    "opt": {"_type": "choice", "_value": [{"_name": "sgd", "lr": {"_type": "loguniform", "_value": [0.001, 1]}}, "adam"]},
    "n": {"_type": "qnormal", "_value": [0, 3, 1]}})");
  auto run = [&](const std::string& name, uint64_t seed) {
    auto t = Make(name, s, seed, OptimizeMode::kMinimize, name == "Evolution" ? Json{{"population_size", 5}} : Json::object());
    Json out = Json::array();
    for (int i = 0; i < 40; ++i) {
      auto p = t->Suggest(i);
      EXPECT_TRUE(p.has_value());
      if (!p) break;
      out.push_back(*p);
      double x = (*p)["x"].get<double>();
      t->Observe(i, *p, i % 7 == 3 ? std::nullopt : std::optional<double>(x * x));
    }
    return out;
  };
  for (const char* name : {"Random", "Anneal", "Evolution"}) {
    Json a = run(name, 11), b = run(name, 11), c = run(name, 12);
    EXPECT_EQ(a, b) << name;
    EXPECT_NE(a, c) << name;
    for (const Json& p : a) {
      EXPECT_TRUE(p["k"].is_number_integer()) << name;
      EXPECT_GE(p["k"].get<int64_t>(), 0);
      EXPECT_LT(p["k"].get<int64_t>(), 10);
      EXPECT_GE(p["x"].get<double>(), -5);
      EXPECT_LE(p["x"].get<double>(), 5);
      if (p["opt"].is_object()) {
        EXPECT_EQ(p["opt"]["_name"], "sgd");
        EXPECT_GE(p["opt"]["lr"].get<double>(), 0.001);
        EXPECT_LE(p["opt"]["lr"].get<double>(), 1);
      } else {
        EXPECT_EQ(p["opt"], "adam");
      }
    }
  }
}

TEST(TunersTest, ImproveOnAQuadratic) {
  std::vector<double> random_best, anneal_best, evo_best;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    double first = 0;
    for (const char* name : {"Random", "Anneal", "Evolution"}) {
      double best = BestAfter(name, seed, 100, &first);
      EXPECT_LE(best, first) << name;
      std::string n = name;
      (n == "Random" ? random_best : n == "Anneal" ? anneal_best : evo_best).push_back(best);
    }
  }
  double r = Median(random_best), a = Median(anneal_best), e = Median(evo_best);
  // A random best over 100 draws on [-5, 5]^2 is ~0.3; both must do better.
  EXPECT_LT(r, 2.0);
  EXPECT_LT(a, r) << "anneal " << a << " random " << r;
  EXPECT_LT(e, r) << "evolution " << e << " random " << r;
}

TEST(TunersTest, OptimizeModeMaximizeClimbs) {
  // Maximizing -quad must find the same optimum as minimizing quad.
  for (const char* name : {"Anneal", "Evolution"}) {
    auto t = Make(name, Space(kQuadSpace), 3, OptimizeMode::kMaximize);
    double best = 1e300;
    for (int i = 0; i < 100; ++i) {
      Json p = *t->Suggest(i);
      best = std::min(best, Quad(p));
      t->Observe(i, p, -Quad(p));
    }
    EXPECT_LT(best, 0.5) << name;
  }
}

}  // namespace
}  // namespace quader::hpo
