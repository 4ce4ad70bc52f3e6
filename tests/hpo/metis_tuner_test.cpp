#include "hpo/model_tuners.h"
#include "hpo/objectives.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace quader::hpo {
namespace {

using testing::Branin;
using testing::BraninSpace;
using testing::Median;

SearchSpace Parse(const Json& j) {
  Result<SearchSpace> space = ParseSearchSpace(j);
  EXPECT_TRUE(space.ok()) << space.status().ToString();
  return space.ok() ? *space : SearchSpace{};
}

std::unique_ptr<Tuner> NewMetis(const SearchSpace& space, uint64_t seed, OptimizeMode mode,
                                Json args = Json::object()) {
  TunerOptions options;
  options.seed = seed;
  options.mode = mode;
  options.args = std::move(args);
  Result<std::unique_ptr<Tuner>> tuner = MakeTuner("MetisTuner", space, options);
  EXPECT_TRUE(tuner.ok()) << tuner.status().ToString();
  return tuner.ok() ? std::move(tuner).value() : nullptr;
}

// Every type MetisTuner supports.
Json SupportedSpace() {
  return {
      {"c", {{"_type", "choice"}, {"_value", {1, "two", 3.5}}}},
      {"r", {{"_type", "randint"}, {"_value", {2, 9}}}},
      {"u", {{"_type", "uniform"}, {"_value", {-1, 2}}}},
      {"qu", {{"_type", "quniform"}, {"_value", {0, 10, 3}}}},
  };
}

double Mixed(const Json& p) {
  double v = p["u"].get<double>() + 0.1 * p["r"].get<double>() + 0.05 * p["qu"].get<double>();
  if (p["c"] == "two") v += 1;
  return v;
}

std::vector<Json> RunMixed(const SearchSpace& space, uint64_t seed, int trials, Json args = Json::object()) {
  std::unique_ptr<Tuner> tuner = NewMetis(space, seed, OptimizeMode::kMaximize, std::move(args));
  std::vector<Json> out;
  for (int t = 0; t < trials; ++t) {
    std::optional<Json> p = tuner->Suggest(t);
    EXPECT_TRUE(p.has_value());
    out.push_back(*p);
    // Every fifth trial fails: ignored by the model.
    tuner->Observe(t, *p, t % 5 == 4 ? std::nullopt : std::optional<double>(Mixed(*p)));
  }
  return out;
}

// Best value of `f` (minimized) after `trials` trials.
template <typename F>
double BestOf(Tuner& tuner, int trials, F f) {
  double best = INFINITY;
  for (int t = 0; t < trials; ++t) {
    std::optional<Json> p = tuner.Suggest(t);
    EXPECT_TRUE(p.has_value());
    if (!p) break;
    double v = f(*p);
    best = std::min(best, v);
    tuner.Observe(t, *p, v);
  }
  return best;
}

double Quad(const Json& p) {
  double x = p["x"].get<double>() - 1.3, y = p["y"].get<double>() + 0.7;
  return x * x + y * y;
}

TEST(MetisTunerTest, SameSeedAndObservationsGiveSameSuggestions) {
  SearchSpace space = Parse(SupportedSpace());
  Json args = {{"cold_start_num", 4}, {"selection_num_starting_points", 200}};
  std::vector<Json> a = RunMixed(space, 7, 16, args);
  EXPECT_EQ(a, RunMixed(space, 7, 16, args));
  EXPECT_NE(a, RunMixed(space, 8, 16, args));
  // After the cold start the model decides: not what random draws give.
  std::vector<Json> cold = RunMixed(space, 7, 16, {{"cold_start_num", 100}});
  EXPECT_EQ(std::vector<Json>(a.begin(), a.begin() + 4), std::vector<Json>(cold.begin(), cold.begin() + 4));
  EXPECT_NE(std::vector<Json>(a.begin() + 4, a.end()), std::vector<Json>(cold.begin() + 4, cold.end()));
}

TEST(MetisTunerTest, ReplayingObservationsRebuildsTheTuner) {
  SearchSpace space = Parse(SupportedSpace());
  Json args = {{"cold_start_num", 3}, {"exploration_probability", 0.5}};
  std::vector<Json> history = RunMixed(space, 11, 10, args);
  std::unique_ptr<Tuner> a = NewMetis(space, 11, OptimizeMode::kMaximize, args);
  std::unique_ptr<Tuner> b = NewMetis(space, 11, OptimizeMode::kMaximize, args);
  for (int t = 0; t < 10; ++t) {
    std::optional<double> v = t % 5 == 4 ? std::nullopt : std::optional<double>(Mixed(history[t]));
    a->Observe(t, history[t], v);
    b->Observe(t, history[t], v);
  }
  for (int t = 10; t < 14; ++t) {
    std::optional<Json> pa = a->Suggest(t), pb = b->Suggest(t);
    ASSERT_TRUE(pa.has_value());
    EXPECT_EQ(pa, pb);
    a->Observe(t, *pa, Mixed(*pa));
    b->Observe(t, *pb, Mixed(*pb));
  }
}

TEST(MetisTunerTest, SuggestionsStayInsideTheSpace) {
  SearchSpace space = Parse(SupportedSpace());
  for (const Json& p : RunMixed(space, 3, 30, {{"cold_start_num", 5}, {"exploration_probability", 0.5}})) {
    ASSERT_TRUE(p.is_object());
    EXPECT_EQ(p.size(), 4u);
    EXPECT_TRUE(p["c"] == 1 || p["c"] == "two" || p["c"] == 3.5) << p;
    ASSERT_TRUE(p["r"].is_number_integer()) << p;
    EXPECT_GE(p["r"].get<int64_t>(), 2);
    EXPECT_LT(p["r"].get<int64_t>(), 9);
    EXPECT_GE(p["u"].get<double>(), -1);
    EXPECT_LE(p["u"].get<double>(), 2);
    double qu = p["qu"].get<double>();
    EXPECT_TRUE(qu == 0 || qu == 3 || qu == 6 || qu == 9 || qu == 10) << p;
  }
}

TEST(MetisTunerTest, BeatsRandomSamplingOnAQuadratic) {
  SearchSpace space = Parse({{"x", {{"_type", "uniform"}, {"_value", {-5, 5}}}},
                             {"y", {{"_type", "uniform"}, {"_value", {-5, 5}}}}});
  constexpr int kTrials = 30;
  std::vector<double> metis, random;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    std::unique_ptr<Tuner> tuner = NewMetis(space, seed, OptimizeMode::kMinimize);
    metis.push_back(BestOf(*tuner, kTrials, Quad));
    Rng rng(seed);
    double best = INFINITY;
    for (int t = 0; t < kTrials; ++t) best = std::min(best, Quad(SampleSpace(space, rng)));
    random.push_back(best);
  }
  double m = Median(metis), r = Median(random);
  EXPECT_LT(m, r * 0.3) << "random " << r;
}

TEST(MetisTunerTest, BeatsRandomSamplingOnBraninMaximizingItsNegation) {
  SearchSpace space = Parse(BraninSpace());
  constexpr int kTrials = 40;
  std::vector<double> metis, random;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    std::unique_ptr<Tuner> tuner = NewMetis(space, seed, OptimizeMode::kMaximize);
    metis.push_back(-BestOf(*tuner, kTrials, [](const Json& p) { return -Branin(p); }));
    Rng rng(seed);
    double best = INFINITY;
    for (int t = 0; t < kTrials; ++t) best = std::min(best, Branin(SampleSpace(space, rng)));
    random.push_back(best);
  }
  // Maximizing -Branin: the best is the highest negation, so the lowest Branin.
  double m = -Median(metis), r = Median(random);
  EXPECT_LT(m, r * 0.7) << "random " << r;
}

TEST(MetisTunerTest, ExplorationProbabilityTradesExploitationForExploration) {
  // Always exploiting finds the quadratic's minimum; always taking the
  // candidate with no candidates allowed is random sampling.
  SearchSpace space = Parse({{"x", {{"_type", "uniform"}, {"_value", {-5, 5}}}},
                             {"y", {{"_type", "uniform"}, {"_value", {-5, 5}}}}});
  std::vector<double> exploit, random;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    auto a = NewMetis(space, seed, OptimizeMode::kMinimize, {{"exploration_probability", 0}});
    exploit.push_back(BestOf(*a, 20, Quad));
    auto b = NewMetis(space, seed, OptimizeMode::kMinimize, {{"exploration_probability", 1}, {"no_candidates", true}});
    random.push_back(BestOf(*b, 20, Quad));
  }
  EXPECT_LT(Median(exploit), 0.01);
  EXPECT_GT(Median(random), 0.05);
}

TEST(MetisTunerTest, ResamplesAnOutlierWhenAsked) {
  // 60 options on a smooth bowl, the value at its bottom (30) measured badly.
  Json options = Json::array();
  for (int i = 0; i < 60; ++i) options.push_back(i);
  SearchSpace space = Parse({{"k", {{"_type", "choice"}, {"_value", options}}}});
  auto bowl = [](int k) { return ((k - 30) / 30.0) * ((k - 30) / 30.0); };
  auto first_suggestions = [&](Json args) {
    auto tuner = NewMetis(space, 3, OptimizeMode::kMinimize, std::move(args));
    for (int k = 0; k < 60; ++k) tuner->Observe(k, {{"k", k}}, k == 30 ? 10.0 : bowl(k));
    std::vector<int> out;
    for (int t = 60; t < 64; ++t) {
      Json p = *tuner->Suggest(t);
      out.push_back(p["k"].get<int>());
      tuner->Observe(t, p, bowl(out.back()));
    }
    return out;
  };
  std::vector<int> resampled = first_suggestions({{"no_resampling", false}});
  // Re-sampled until observed 3 times, then not again.
  EXPECT_EQ(resampled[0], 30);
  EXPECT_EQ(resampled[1], 30);
  EXPECT_NE(resampled[2], 30);
  EXPECT_NE(resampled[3], 30);
  std::vector<int> by_default = first_suggestions(Json::object());  // NNI: no_resampling true
  EXPECT_EQ(std::count(by_default.begin(), by_default.end(), 30), 0);
  std::vector<int> no_candidates = first_suggestions({{"no_resampling", false}, {"no_candidates", true}});
  EXPECT_EQ(std::count(no_candidates.begin(), no_candidates.end(), 30), 0);
}

TEST(MetisTunerTest, ValidatesClassArgs) {
  SearchSpace space = Parse(SupportedSpace());
  auto refusal = [&](Json args) {
    TunerOptions options;
    options.args = std::move(args);
    Result<std::unique_ptr<Tuner>> tuner = MakeTuner("MetisTuner", space, options);
    return tuner.ok() ? std::string("ok") : tuner.status().ToString();
  };
  EXPECT_EQ(refusal({{"optimize_mode", "minimize"}, {"no_resampling", false}, {"no_candidates", true},
                     {"selection_num_starting_points", 100}, {"cold_start_num", 0},
                     {"exploration_probability", 0.2}}),
            "ok");
  EXPECT_NE(refusal({{"no_resampling", 1}}).find("args.no_resampling: must be true or false"), std::string::npos);
  EXPECT_NE(refusal({{"no_candidates", "yes"}}).find("args.no_candidates: must be true or false"),
            std::string::npos);
  EXPECT_NE(refusal({{"selection_num_starting_points", 0}}).find("args.selection_num_starting_points"),
            std::string::npos);
  EXPECT_NE(refusal({{"cold_start_num", -1}}).find("args.cold_start_num"), std::string::npos);
  EXPECT_NE(refusal({{"cold_start_num", 2.5}}).find("args.cold_start_num"), std::string::npos);
  EXPECT_NE(refusal({{"exploration_probability", 1.5}}).find("args.exploration_probability"), std::string::npos);
  EXPECT_NE(refusal({{"exploration_probability", "high"}}).find("args.exploration_probability"),
            std::string::npos);
  EXPECT_NE(refusal({{"utility", "ei"}}).find("args.utility: unknown classArg for tuner MetisTuner"),
            std::string::npos);
  EXPECT_NE(refusal({{"optimize_mode", "up"}}).find("optimize_mode"), std::string::npos);
}

TEST(MetisTunerTest, RefusesUnsupportedTypes) {
  SearchSpace space = Parse({{"lr", {{"_type", "loguniform"}, {"_value", {1e-4, 1e-1}}}}});
  Result<std::unique_ptr<Tuner>> tuner = MakeTuner("MetisTuner", space, TunerOptions{});
  ASSERT_FALSE(tuner.ok());
  EXPECT_EQ(tuner.status().message(),
            "tuner MetisTuner does not support loguniform (key \"lr\"); it supports choice, randint, uniform, "
            "quniform");
}

}  // namespace
}  // namespace quader::hpo
