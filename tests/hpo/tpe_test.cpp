#include "hpo/tpe.h"
#include "hpo/objectives.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
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

std::unique_ptr<Tuner> NewTpe(const SearchSpace& space, uint64_t seed, OptimizeMode mode,
                              Json args = Json::object()) {
  TunerOptions options;
  options.seed = seed;
  options.mode = mode;
  options.args = std::move(args);
  Result<std::unique_ptr<Tuner>> tuner = NewTpeTuner(space, options);
  EXPECT_TRUE(tuner.ok()) << tuner.status().ToString();
  return std::move(tuner).value();
}

// A mixed space holding every type, nested choice included.
Json EveryTypeSpace() {
  return {
      {"c", {{"_type", "choice"}, {"_value", {1, "two", 3.5}}}},
      {"r", {{"_type", "randint"}, {"_value", {2, 9}}}},
      {"wide", {{"_type", "randint"}, {"_value", {0, 1000000000}}}},
      {"u", {{"_type", "uniform"}, {"_value", {-1, 2}}}},
      {"qu", {{"_type", "quniform"}, {"_value", {0, 10, 3}}}},
      {"lu", {{"_type", "loguniform"}, {"_value", {1e-5, 1e-1}}}},
      {"qlu", {{"_type", "qloguniform"}, {"_value", {1, 1000, 5}}}},
      {"n", {{"_type", "normal"}, {"_value", {0, 2}}}},
      {"qn", {{"_type", "qnormal"}, {"_value", {5, 3, 2}}}},
      {"ln", {{"_type", "lognormal"}, {"_value", {0, 1}}}},
      {"qln", {{"_type", "qlognormal"}, {"_value", {2, 1, 0.5}}}},
      {"opt",
       {{"_type", "choice"},
        {"_value",
         {{{"_name", "sgd"},
           {"lr", {{"_type", "loguniform"}, {"_value", {1e-4, 1}}}},
           {"momentum", {{"_type", "uniform"}, {"_value", {0, 1}}}}},
          {{"_name", "adam"}, {"beta", {{"_type", "quniform"}, {"_value", {0.5, 0.99, 0.01}}}}},
          {{"_name", "none"}},
          "plain"}}}},
  };
}

bool MultipleOf(double v, double q) { return std::abs(v / q - std::round(v / q)) < 1e-6; }

// Every value of `params` lies in `space` (NNI semantics for each type).
void ExpectInside(const SearchSpace& space, const Json& params, const std::string& path) {
  ASSERT_TRUE(params.is_object()) << path << params;
  ASSERT_EQ(params.size(), space.params.size() + (params.contains("_name") ? 1 : 0)) << path << params;
  for (const Param& p : space.params) {
    ASSERT_TRUE(params.contains(p.key)) << path << p.key;
    const Json& v = params[p.key];
    std::string at = path + p.key + "=" + v.dump();
    if (p.type == ParamType::kChoice) {
      bool found = false;
      for (size_t i = 0; i < p.options.size(); ++i) {
        const Json& o = p.options[i];
        if (o.is_object() && o.contains("_name")) {
          if (!v.is_object() || v.value("_name", Json()) != o["_name"]) continue;
          found = true;
          ExpectInside(p.nested[i], v, path + p.key + ".");
        } else if (o == v) {
          found = true;
        }
      }
      EXPECT_TRUE(found) << at;
      continue;
    }
    ASSERT_TRUE(v.is_number()) << at;
    double x = v.get<double>();
    ASSERT_TRUE(std::isfinite(x)) << at;
    switch (p.type) {
      case ParamType::kRandint:
        EXPECT_TRUE(v.is_number_integer()) << at;
        EXPECT_GE(x, p.low) << at;
        EXPECT_LT(x, p.high) << at;
        break;
      case ParamType::kUniform:
      case ParamType::kLoguniform:
        EXPECT_GE(x, p.low) << at;
        EXPECT_LE(x, p.high) << at;
        break;
      case ParamType::kQuniform:
      case ParamType::kQloguniform:
        EXPECT_GE(x, p.low) << at;
        EXPECT_LE(x, p.high) << at;
        EXPECT_TRUE(x == p.low || x == p.high || MultipleOf(x, p.q)) << at;
        break;
      case ParamType::kQnormal:
        EXPECT_TRUE(MultipleOf(x, p.q)) << at;
        break;
      case ParamType::kLognormal:
        EXPECT_GT(x, 0) << at;
        break;
      case ParamType::kQlognormal:
        EXPECT_GE(x, 0) << at;
        EXPECT_TRUE(MultipleOf(x, p.q)) << at;
        break;
      default:
        break;
    }
  }
}

// A synthetic objective over EveryTypeSpace rewarding some corners.
double Synthetic(const Json& p) {
  double s = std::pow(p["u"].get<double>() - 1.5, 2) + std::abs(p["n"].get<double>()) +
             std::log(p["lu"].get<double>()) * 0.1 + p["r"].get<double>() * 0.3;
  if (p["c"] == "two") s -= 1;
  const Json& opt = p["opt"];
  if (opt.is_object() && opt["_name"] == "sgd") s += std::pow(std::log10(opt["lr"].get<double>()) + 2, 2);
  return s;
}

TEST(TpeTest, SameSeedAndObservationsGiveTheSameSuggestions) {
  SearchSpace space = Parse(EveryTypeSpace());
  auto a = NewTpe(space, 7, OptimizeMode::kMinimize, {{"n_startup_jobs", 5}});
  auto b = NewTpe(space, 7, OptimizeMode::kMinimize, {{"n_startup_jobs", 5}});
  auto other = NewTpe(space, 8, OptimizeMode::kMinimize, {{"n_startup_jobs", 5}});
  bool differs = false;
  for (int64_t id = 0; id < 40; ++id) {
    Json pa = *a->Suggest(id);
    ASSERT_EQ(pa, *b->Suggest(id)) << id;
    if (pa != *other->Suggest(id)) differs = true;
    double v = Synthetic(pa);
    a->Observe(id, pa, v);
    b->Observe(id, pa, v);
    other->Observe(id, pa, v);
  }
  EXPECT_TRUE(differs);
}

TEST(TpeTest, ReplayingStoredTrialsRebuildsTheTuner) {
  SearchSpace space = Parse(BraninSpace());
  auto live = NewTpe(space, 3, OptimizeMode::kMinimize, {{"n_startup_jobs", 5}});
  std::vector<std::pair<Json, double>> stored;
  for (int64_t id = 0; id < 15; ++id) {
    Json p = *live->Suggest(id);
    live->Observe(id, p, Branin(p));
    stored.emplace_back(p, Branin(p));
  }
  auto rebuilt = NewTpe(space, 3, OptimizeMode::kMinimize, {{"n_startup_jobs", 5}});
  for (size_t i = 0; i < stored.size(); ++i) rebuilt->Observe(static_cast<int64_t>(i), stored[i].first, stored[i].second);
  for (int64_t id = 15; id < 25; ++id) {
    Json p = *live->Suggest(id);
    EXPECT_EQ(p, *rebuilt->Suggest(id)) << id;
    live->Observe(id, p, Branin(p));
    rebuilt->Observe(id, p, Branin(p));
  }
}

TEST(TpeTest, FailedTrialsAreIgnored) {
  SearchSpace space = Parse(BraninSpace());
  auto with_failures = NewTpe(space, 5, OptimizeMode::kMinimize, {{"n_startup_jobs", 4}});
  auto without = NewTpe(space, 5, OptimizeMode::kMinimize, {{"n_startup_jobs", 4}});
  for (int64_t id = 0; id < 20; ++id) {
    Json p = *with_failures->Suggest(id);
    if (id % 3 == 1) {
      with_failures->Observe(id, p, std::nullopt);
      continue;
    }
    ASSERT_EQ(p, *without->Suggest(id)) << id;
    with_failures->Observe(id, p, Branin(p));
    without->Observe(id, p, Branin(p));
  }
}

TEST(TpeTest, SuggestionsStayInsideTheSpace) {
  SearchSpace space = Parse(EveryTypeSpace());
  for (uint64_t seed : {1u, 2u}) {
    for (OptimizeMode mode : {OptimizeMode::kMinimize, OptimizeMode::kMaximize}) {
      auto tpe = NewTpe(space, seed, mode, {{"n_startup_jobs", 10}});
      for (int64_t id = 0; id < 150; ++id) {
        std::optional<Json> p = tpe->Suggest(id);
        ASSERT_TRUE(p.has_value());
        ExpectInside(space, *p, "");
        if (HasFatalFailure() || HasNonfatalFailure()) return;
        tpe->Observe(id, *p, id % 7 == 3 ? std::nullopt : std::optional<double>(Synthetic(*p)));
      }
    }
  }
}

double BestOfTpe(uint64_t seed, OptimizeMode mode, int trials) {
  SearchSpace space = Parse(BraninSpace());
  auto tpe = NewTpe(space, seed, mode);
  double best = INFINITY;
  for (int64_t id = 0; id < trials; ++id) {
    Json p = *tpe->Suggest(id);
    double f = Branin(p);
    best = std::min(best, f);
    tpe->Observe(id, p, mode == OptimizeMode::kMinimize ? f : -f);
  }
  return best;
}

double BestOfRandom(uint64_t seed, int trials) {
  SearchSpace space = Parse(BraninSpace());
  Rng rng(seed);
  double best = INFINITY;
  for (int i = 0; i < trials; ++i) best = std::min(best, Branin(SampleSpace(space, rng)));
  return best;
}

TEST(TpeTest, BeatsRandomOnBraninInBothModes) {
  constexpr int kTrials = 60;
  std::vector<double> tpe_min, tpe_max, random;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    tpe_min.push_back(BestOfTpe(seed, OptimizeMode::kMinimize, kTrials));
    tpe_max.push_back(BestOfTpe(seed, OptimizeMode::kMaximize, kTrials));
    random.push_back(BestOfRandom(seed, kTrials));
  }
  double m_min = Median(tpe_min), m_max = Median(tpe_max), m_random = Median(random);
  RecordProperty("tpe_median", std::to_string(m_min));
  RecordProperty("random_median", std::to_string(m_random));
  // Branin's global minimum is 0.397887.
  EXPECT_GE(m_min, 0.3978);
  EXPECT_LT(m_min, 0.75 * m_random) << "tpe " << m_min << " random " << m_random;
  // Maximizing -branin is the same problem: same suggestions, same quality.
  EXPECT_EQ(tpe_min, tpe_max);
  EXPECT_LT(m_max, 0.75 * m_random) << "tpe " << m_max << " random " << m_random;
}

// A choice that moves the optimum of a continuous parameter: the joint
// estimator has to learn which x goes with which option.
TEST(TpeTest, LearnsHowAChoiceShiftsAContinuousOptimum) {
  SearchSpace space = Parse({{"kind", {{"_type", "choice"}, {"_value", {"a", "b", "c"}}}},
                             {"x", {{"_type", "uniform"}, {"_value", {-5, 5}}}},
                             {"y", {{"_type", "loguniform"}, {"_value", {0.001, 10.0}}}}});
  auto f = [](const Json& p) {
    std::string c = p["kind"];
    double offset = c == "a" ? 1.0 : c == "b" ? -2.0 : 3.0;
    double bias = c == "a" ? 0.0 : c == "b" ? 0.5 : 1.0;
    double x = p["x"], y = p["y"];
    return (x - offset) * (x - offset) + std::pow(std::log10(y) + 1, 2) + bias;
  };
  constexpr int kTrials = 100;
  std::vector<double> tpe, random;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto tuner = NewTpe(space, seed, OptimizeMode::kMinimize);
    double best = INFINITY;
    for (int64_t id = 0; id < kTrials; ++id) {
      Json p = *tuner->Suggest(id);
      best = std::min(best, f(p));
      tuner->Observe(id, p, f(p));
    }
    tpe.push_back(best);
    Rng rng(seed);
    double best_random = INFINITY;
    for (int i = 0; i < kTrials; ++i) best_random = std::min(best_random, f(SampleSpace(space, rng)));
    random.push_back(best_random);
  }
  RecordProperty("tpe_median", std::to_string(Median(tpe)));
  RecordProperty("random_median", std::to_string(Median(random)));
  EXPECT_LT(Median(tpe), 0.25 * Median(random)) << "tpe " << Median(tpe) << " random " << Median(random);
}

TEST(TpeTest, RefusesBadArgs) {
  SearchSpace space = Parse(BraninSpace());
  for (Json args : {Json{{"gamma", 0}}, Json{{"gamma", 1.5}}, Json{{"n_startup_jobs", -1}},
                    Json{{"n_ei_candidates", 0}}, Json{{"n_ei_candidates", "24"}}}) {
    TunerOptions options;
    options.args = args;
    Result<std::unique_ptr<Tuner>> tuner = NewTpeTuner(space, options);
    ASSERT_FALSE(tuner.ok()) << args;
    EXPECT_EQ(tuner.status().code(), Code::kInvalidArgument) << args;
  }
  TunerOptions options;
  options.args = {{"n_startup_jobs", 0}, {"n_ei_candidates", 8}, {"gamma", 0.5}, {"optimize_mode", "minimize"}};
  Result<std::unique_ptr<Tuner>> tuner = NewTpeTuner(space, options);
  ASSERT_TRUE(tuner.ok()) << tuner.status().ToString();
  EXPECT_EQ((*tuner)->name(), "TPE");
  // With no startup jobs and no observations the model still suggests.
  ExpectInside(space, *(*tuner)->Suggest(0), "");
}

}  // namespace
}  // namespace quader::hpo
