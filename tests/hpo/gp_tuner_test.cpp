#include "hpo/model_tuners.h"
#include "hpo/objectives.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

std::unique_ptr<Tuner> NewGp(const SearchSpace& space, uint64_t seed, OptimizeMode mode,
                             Json args = Json::object()) {
  TunerOptions options;
  options.seed = seed;
  options.mode = mode;
  options.args = std::move(args);
  Result<std::unique_ptr<Tuner>> tuner = MakeTuner("GPTuner", space, options);
  EXPECT_TRUE(tuner.ok()) << tuner.status().ToString();
  return tuner.ok() ? std::move(tuner).value() : nullptr;
}

// Every type GPTuner supports.
Json SupportedSpace() {
  return {
      {"c", {{"_type", "choice"}, {"_value", {1, "two", 3.5}}}},
      {"r", {{"_type", "randint"}, {"_value", {2, 9}}}},
      {"u", {{"_type", "uniform"}, {"_value", {-1, 2}}}},
      {"qu", {{"_type", "quniform"}, {"_value", {0, 10, 3}}}},
      {"lu", {{"_type", "loguniform"}, {"_value", {1e-5, 1e-1}}}},
      {"qlu", {{"_type", "qloguniform"}, {"_value", {1, 1000, 5}}}},
  };
}

// A made-up objective over SupportedSpace, to drive the model.
double Mixed(const Json& p) {
  double v = p["u"].get<double>() + 0.1 * p["r"].get<double>() + 0.05 * p["qu"].get<double>();
  v += std::log10(p["lu"].get<double>()) * 0.2 + std::log(p["qlu"].get<double>()) * 0.1;
  if (p["c"] == "two") v += 1;
  return v;
}

std::vector<Json> RunMixed(const SearchSpace& space, uint64_t seed, int trials, Json args = Json::object()) {
  std::unique_ptr<Tuner> tuner = NewGp(space, seed, OptimizeMode::kMaximize, std::move(args));
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

TEST(GpTunerTest, SameSeedAndObservationsGiveSameSuggestions) {
  SearchSpace space = Parse(SupportedSpace());
  Json args = {{"cold_start_num", 4}};
  EXPECT_EQ(RunMixed(space, 7, 14, args), RunMixed(space, 7, 14, args));
  EXPECT_NE(RunMixed(space, 7, 14, args), RunMixed(space, 8, 14, args));
}

TEST(GpTunerTest, ReplayingObservationsRebuildsTheTuner) {
  SearchSpace space = Parse(SupportedSpace());
  Json args = {{"cold_start_num", 3}};
  std::vector<Json> history = RunMixed(space, 11, 10, args);
  std::unique_ptr<Tuner> a = NewGp(space, 11, OptimizeMode::kMaximize, args);
  std::unique_ptr<Tuner> b = NewGp(space, 11, OptimizeMode::kMaximize, args);
  for (int t = 0; t < 10; ++t) {
    std::optional<double> v = t % 5 == 4 ? std::nullopt : std::optional<double>(Mixed(history[t]));
    a->Observe(t, history[t], v);
    b->Observe(t, history[t], v);
  }
  EXPECT_EQ(a->Suggest(10), b->Suggest(10));
}

TEST(GpTunerTest, SuggestionsStayInsideTheSpace) {
  SearchSpace space = Parse(SupportedSpace());
  for (const Json& p : RunMixed(space, 3, 30, {{"cold_start_num", 5}})) {
    ASSERT_TRUE(p.is_object());
    EXPECT_EQ(p.size(), 6u);
    EXPECT_TRUE(p["c"] == 1 || p["c"] == "two" || p["c"] == 3.5) << p;
    ASSERT_TRUE(p["r"].is_number_integer()) << p;
    EXPECT_GE(p["r"].get<int64_t>(), 2);
    EXPECT_LT(p["r"].get<int64_t>(), 9);
    EXPECT_GE(p["u"].get<double>(), -1);
    EXPECT_LE(p["u"].get<double>(), 2);
    double qu = p["qu"].get<double>();
    EXPECT_TRUE(qu == 0 || qu == 3 || qu == 6 || qu == 9 || qu == 10) << p;
    EXPECT_GE(p["lu"].get<double>(), 1e-5);
    EXPECT_LE(p["lu"].get<double>(), 1e-1);
    double qlu = p["qlu"].get<double>();
    EXPECT_GE(qlu, 1);
    EXPECT_LE(qlu, 1000);
    EXPECT_TRUE(qlu == 1 || std::fmod(qlu, 5) == 0) << p;
  }
}

TEST(GpTunerTest, LearnsToPreferTheBetterRegion) {
  // After the cold start, suggestions on the mixed objective pick "two" far
  // more often than a third of the time.
  SearchSpace space = Parse(SupportedSpace());
  int two = 0;
  for (uint64_t seed = 5; seed < 8; ++seed) {
    std::vector<Json> trials = RunMixed(space, seed, 30, {{"cold_start_num", 10}});
    for (size_t t = 10; t < trials.size(); ++t) two += trials[t]["c"] == "two";
  }
  EXPECT_GE(two, 30) << "of 60";  // random: 20
}

TEST(GpTunerTest, BeatsRandomSamplingOnBranin) {
  SearchSpace space = Parse(BraninSpace());
  constexpr int kTrials = 40;
  std::vector<double> gp_best, random_best;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    std::unique_ptr<Tuner> tuner = NewGp(space, seed, OptimizeMode::kMinimize);
    double best = INFINITY;
    for (int t = 0; t < kTrials; ++t) {
      Json p = *tuner->Suggest(t);
      double v = Branin(p);
      best = std::min(best, v);
      tuner->Observe(t, p, v);
    }
    gp_best.push_back(best);

    Rng rng(seed);
    double rbest = INFINITY;
    for (int t = 0; t < kTrials; ++t) rbest = std::min(rbest, Branin(SampleSpace(space, rng)));
    random_best.push_back(rbest);
  }
  // The global minimum is 0.398; random sampling's 40-trial median is ~1.5.
  double gp = Median(gp_best), random = Median(random_best);
  EXPECT_LT(gp, 0.6) << "random " << random;
  EXPECT_LT(gp, random * 0.7) << "random " << random;
}

TEST(GpTunerTest, ValidatesClassArgs) {
  SearchSpace space = Parse(BraninSpace());
  auto refusal = [&](Json args) {
    TunerOptions options;
    options.args = std::move(args);
    Result<std::unique_ptr<Tuner>> tuner = MakeTuner("GPTuner", space, options);
    return tuner.ok() ? std::string("ok") : tuner.status().ToString();
  };
  EXPECT_EQ(refusal({{"cold_start_num", 3}, {"utility", "ucb"}, {"kappa", 2}, {"nu", 1.5},
                     {"optimize_mode", "minimize"}, {"selection_num_warm_up", 500}}),
            "ok");
  EXPECT_NE(refusal({{"cold_start_num", -1}}).find("cold_start_num"), std::string::npos);
  EXPECT_NE(refusal({{"cold_start_num", "ten"}}).find("cold_start_num"), std::string::npos);
  EXPECT_NE(refusal({{"cold_start_num", 2.5}}).find("cold_start_num"), std::string::npos);
  EXPECT_NE(refusal({{"utility", "best"}}).find("utility"), std::string::npos);
  EXPECT_NE(refusal({{"nu", 3}}).find("nu"), std::string::npos);
  EXPECT_NE(refusal({{"alpha", 0}}).find("alpha"), std::string::npos);
  EXPECT_NE(refusal({{"selection_num_warm_up", 0}}).find("selection_num_warm_up"), std::string::npos);
  EXPECT_NE(refusal({{"population_size", 10}}).find("unknown classArg"), std::string::npos);
  EXPECT_NE(refusal({{"optimize_mode", "up"}}).find("optimize_mode"), std::string::npos);
}

TEST(GpTunerTest, RefusesUnsupportedTypes) {
  SearchSpace space = Parse({{"n", {{"_type", "normal"}, {"_value", {0, 1}}}}});
  Result<std::unique_ptr<Tuner>> tuner = MakeTuner("GPTuner", space, TunerOptions{});
  ASSERT_FALSE(tuner.ok());
  EXPECT_NE(tuner.status().ToString().find("GPTuner does not support normal"), std::string::npos);
}

}  // namespace
}  // namespace quader::hpo
