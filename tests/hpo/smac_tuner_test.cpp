#include "hpo/model_tuners.h"
#include "hpo/objectives.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
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

std::unique_ptr<Tuner> NewSmac(const SearchSpace& space, uint64_t seed, OptimizeMode mode) {
  TunerOptions options;
  options.seed = seed;
  options.mode = mode;
  Result<std::unique_ptr<Tuner>> tuner = MakeTuner("SMAC", space, options);
  EXPECT_TRUE(tuner.ok()) << tuner.status().ToString();
  return tuner.ok() ? std::move(tuner).value() : nullptr;
}

// Every type SMAC supports.
Json SupportedSpace() {
  return {
      {"c", {{"_type", "choice"}, {"_value", {1, "two", 3.5}}}},
      {"r", {{"_type", "randint"}, {"_value", {2, 9}}}},
      {"u", {{"_type", "uniform"}, {"_value", {-1, 2}}}},
      {"qu", {{"_type", "quniform"}, {"_value", {0, 10, 3}}}},
      {"lu", {{"_type", "loguniform"}, {"_value", {1e-5, 1e-1}}}},
  };
}

// A score over SupportedSpace with a clear optimum, so the model drives suggestions.
double MixedObjective(const Json& p) {
  double s = p["c"] == "two" ? 0 : 1;
  s += std::abs(p["r"].get<double>() - 6) * 0.3;
  s += std::pow(p["u"].get<double>() - 0.5, 2);
  s += std::abs(p["qu"].get<double>() - 6) * 0.1;
  s += std::pow(std::log10(p["lu"].get<double>()) + 3, 2) * 0.2;
  return s;
}

void ExpectInside(const SearchSpace& space, const Json& params) {
  ASSERT_TRUE(params.is_object()) << params;
  ASSERT_EQ(params.size(), space.params.size()) << params;
  for (const Param& p : space.params) {
    ASSERT_TRUE(params.contains(p.key)) << p.key;
    const Json& v = params[p.key];
    std::string at = p.key + "=" + v.dump();
    if (p.type == ParamType::kChoice) {
      EXPECT_NE(std::find(p.options.begin(), p.options.end(), v), p.options.end()) << at;
      continue;
    }
    ASSERT_TRUE(v.is_number()) << at;
    double x = v.get<double>();
    EXPECT_GE(x, p.low) << at;
    if (p.type == ParamType::kRandint) {
      EXPECT_TRUE(v.is_number_integer()) << at;
      EXPECT_LT(x, p.high) << at;
    } else {
      EXPECT_LE(x, p.high) << at;
    }
    if (p.type == ParamType::kQuniform) {
      EXPECT_TRUE(x == p.low || x == p.high || std::abs(x / p.q - std::round(x / p.q)) < 1e-9) << at;
    }
  }
}

TEST(SmacTuner, RefusesUnsupportedTypes) {
  SearchSpace space = Parse({{"n", {{"_type", "normal"}, {"_value", {0, 1}}}}});
  Result<std::unique_ptr<Tuner>> tuner = MakeTuner("SMAC", space, TunerOptions{});
  ASSERT_FALSE(tuner.ok());
  EXPECT_NE(tuner.status().ToString().find("tuner SMAC does not support normal (key \"n\")"), std::string::npos)
      << tuner.status().ToString();
}

TEST(SmacTuner, SuggestionsInsideSpaceForEverySupportedType) {
  SearchSpace space = Parse(SupportedSpace());
  auto tuner = NewSmac(space, 7, OptimizeMode::kMinimize);
  ASSERT_NE(tuner, nullptr);
  EXPECT_EQ(tuner->name(), "SMAC");
  for (int64_t id = 0; id < 30; ++id) {
    std::optional<Json> p = tuner->Suggest(id);
    ASSERT_TRUE(p.has_value());
    ExpectInside(space, *p);
    // Every fifth trial fails; failures are ignored.
    tuner->Observe(id, *p, id % 5 == 4 ? std::nullopt : std::optional<double>(MixedObjective(*p)));
  }
}

TEST(SmacTuner, DeterministicForSeedAndObservations) {
  SearchSpace space = Parse(SupportedSpace());
  auto a = NewSmac(space, 11, OptimizeMode::kMinimize);
  auto b = NewSmac(space, 11, OptimizeMode::kMinimize);
  std::vector<std::pair<Json, double>> stored;
  for (int64_t id = 0; id < 20; ++id) {
    Json pa = *a->Suggest(id), pb = *b->Suggest(id);
    ASSERT_EQ(pa, pb) << id;
    a->Observe(id, pa, MixedObjective(pa));
    b->Observe(id, pb, MixedObjective(pb));
    stored.emplace_back(pa, MixedObjective(pa));
  }
  // A tuner rebuilt by replaying the stored trials suggests the same.
  auto rebuilt = NewSmac(space, 11, OptimizeMode::kMinimize);
  for (size_t i = 0; i < stored.size(); ++i)
    rebuilt->Observe(static_cast<int64_t>(i), stored[i].first, stored[i].second);
  for (int64_t id = 20; id < 25; ++id) {
    Json p = *a->Suggest(id);
    EXPECT_EQ(p, *rebuilt->Suggest(id)) << id;
    a->Observe(id, p, MixedObjective(p));
    rebuilt->Observe(id, p, MixedObjective(p));
  }
  // Another seed suggests differently.
  auto other = NewSmac(space, 12, OptimizeMode::kMinimize);
  EXPECT_NE(*other->Suggest(0), *NewSmac(space, 11, OptimizeMode::kMinimize)->Suggest(0));
}

double BestOf(Tuner& tuner, int trials, OptimizeMode mode, const std::function<double(const Json&)>& f) {
  double best = mode == OptimizeMode::kMinimize ? std::numeric_limits<double>::infinity()
                                                : -std::numeric_limits<double>::infinity();
  for (int64_t id = 0; id < trials; ++id) {
    Json p = *tuner.Suggest(id);
    double v = f(p);
    best = mode == OptimizeMode::kMinimize ? std::min(best, v) : std::max(best, v);
    tuner.Observe(id, p, v);
  }
  return best;
}

TEST(SmacTuner, BeatsRandomSamplingOnBranin) {
  SearchSpace space = Parse(BraninSpace());
  constexpr int kTrials = 40;
  std::vector<double> smac, random;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    auto tuner = NewSmac(space, seed, OptimizeMode::kMinimize);
    smac.push_back(BestOf(*tuner, kTrials, OptimizeMode::kMinimize, Branin));
    Rng rng(seed);
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < kTrials; ++i) best = std::min(best, Branin(SampleSpace(space, rng)));
    random.push_back(best);
  }
  // Branin's minimum is 0.398.
  EXPECT_LT(Median(smac), Median(random)) << "smac " << Median(smac) << " random " << Median(random);
  EXPECT_LT(Median(smac), 1.5) << Median(smac);
}

// The same search as minimizing Branin, asked as maximizing its negation.
TEST(SmacTuner, MaximizeMode) {
  SearchSpace space = Parse(BraninSpace());
  auto neg = [](const Json& p) { return -Branin(p); };
  std::vector<double> smac, random;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    auto tuner = NewSmac(space, seed, OptimizeMode::kMaximize);
    smac.push_back(BestOf(*tuner, 40, OptimizeMode::kMaximize, neg));
    Rng rng(seed);
    double best = -std::numeric_limits<double>::infinity();
    for (int i = 0; i < 40; ++i) best = std::max(best, neg(SampleSpace(space, rng)));
    random.push_back(best);
  }
  EXPECT_GT(Median(smac), Median(random)) << "smac " << Median(smac) << " random " << Median(random);
  EXPECT_GT(Median(smac), -1.5) << Median(smac);
}

// On a mixed space (every supported type) the model finds better values than random sampling.
TEST(SmacTuner, BeatsRandomSamplingOnMixedSpace) {
  SearchSpace space = Parse(SupportedSpace());
  std::vector<double> smac, random;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    auto tuner = NewSmac(space, seed, OptimizeMode::kMinimize);
    smac.push_back(BestOf(*tuner, 60, OptimizeMode::kMinimize, MixedObjective));
    Rng rng(seed);
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < 60; ++i) best = std::min(best, MixedObjective(SampleSpace(space, rng)));
    random.push_back(best);
  }
  EXPECT_LT(Median(smac), Median(random)) << "smac " << Median(smac) << " random " << Median(random);
}

}  // namespace
}  // namespace quader::hpo
