// Early stopping: the Medianstop assessor and the Hyperband tuner's assessor.
#include "hpo/assessor.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace quader::hpo {
namespace {

std::unique_ptr<Assessor> Medianstop(OptimizeMode mode, Json args = Json::object()) {
  AssessorOptions options;
  options.mode = mode;
  options.args = std::move(args);
  Result<std::unique_ptr<Assessor>> a = MakeAssessor("Medianstop", options);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return a.ok() ? std::move(a).value() : nullptr;
}

std::string AssessorRefusal(const std::string& name, Json args) {
  AssessorOptions options;
  options.args = std::move(args);
  Result<std::unique_ptr<Assessor>> a = MakeAssessor(name, options);
  if (a.ok()) return "ok";
  EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
  return a.status().message();
}

// Reports `values` one at a time, as the experiment controller does; the
// step (1-based) at which the assessor stops the trial, or 0 if it never does.
int StopStep(Assessor& a, int64_t trial, const std::vector<double>& values) {
  std::vector<double> prefix;
  for (double v : values) {
    prefix.push_back(v);
    if (a.ShouldStop(trial, prefix)) return static_cast<int>(prefix.size());
  }
  return 0;
}

// Runs a trial to its end (or its stop) and tells the assessor; returns the
// step it was stopped at (0: completed).
int RunTrial(Assessor& a, int64_t trial, const std::vector<double>& values) {
  int stop = StopStep(a, trial, values);
  std::vector<double> seen(values.begin(), stop ? values.begin() + stop : values.end());
  a.TrialEnded(trial, seen, stop == 0);
  return stop;
}

// --- Medianstop

TEST(MedianstopTest, StopsAClearlyBadTrialAndNotAGoodOne) {
  auto a = Medianstop(OptimizeMode::kMaximize);
  a->TrialEnded(0, {0.5, 0.6, 0.7, 0.8}, true);
  a->TrialEnded(1, {0.4, 0.5, 0.6, 0.7}, true);
  a->TrialEnded(2, {0.6, 0.7, 0.8, 0.9}, true);
  // Step 1: median of the averages {0.4, 0.5, 0.6} is 0.5.
  EXPECT_TRUE(a->ShouldStop(10, {0.1}));
  EXPECT_FALSE(a->ShouldStop(11, {0.9}));
  EXPECT_FALSE(a->ShouldStop(12, {0.5}));  // not strictly worse
  // Step 3: averages 0.6, 0.5, 0.7; the trial's best so far counts.
  EXPECT_FALSE(a->ShouldStop(13, {0.1, 0.2, 0.65}));
  EXPECT_TRUE(a->ShouldStop(14, {0.3, 0.2, 0.4}));
  EXPECT_EQ(a->name(), "Medianstop");
}

TEST(MedianstopTest, OnlyCompletedTrialsWithEnoughStepsCount) {
  auto a = Medianstop(OptimizeMode::kMaximize);
  EXPECT_FALSE(a->ShouldStop(5, {-100}));  // nothing completed yet
  a->TrialEnded(0, {0.9, 0.9}, false);     // failed or stopped: ignored
  EXPECT_FALSE(a->ShouldStop(5, {-100}));
  a->TrialEnded(1, {0.9}, true);
  EXPECT_TRUE(a->ShouldStop(5, {-100}));
  // At step 2 no completed trial has two results.
  EXPECT_FALSE(a->ShouldStop(6, {-100, -100}));
}

TEST(MedianstopTest, RespectsStartStep) {
  auto a = Medianstop(OptimizeMode::kMaximize, {{"start_step", 3}});
  a->TrialEnded(0, {1, 1, 1, 1}, true);
  EXPECT_EQ(StopStep(*a, 1, {0, 0, 0, 0}), 3);
  auto b = Medianstop(OptimizeMode::kMaximize);
  b->TrialEnded(0, {1, 1, 1, 1}, true);
  EXPECT_EQ(StopStep(*b, 1, {0, 0, 0, 0}), 1);
}

TEST(MedianstopTest, Minimize) {
  auto a = Medianstop(OptimizeMode::kMinimize);
  a->TrialEnded(0, {1.0, 0.8}, true);
  a->TrialEnded(1, {0.9, 0.7}, true);
  a->TrialEnded(2, {0.8, 0.6}, true);
  EXPECT_TRUE(a->ShouldStop(10, {5.0}));
  EXPECT_FALSE(a->ShouldStop(11, {0.2}));
  // The same results under maximize: the other way round.
  auto m = Medianstop(OptimizeMode::kMaximize);
  for (int t = 0; t < 3; ++t) m->TrialEnded(t, {1.0 - 0.1 * t, 0.8 - 0.1 * t}, true);
  EXPECT_FALSE(m->ShouldStop(10, {5.0}));
  EXPECT_TRUE(m->ShouldStop(11, {0.2}));
  // optimize_mode in the classArgs overrides the options' mode.
  auto c = Medianstop(OptimizeMode::kMaximize, {{"optimize_mode", "minimize"}});
  for (int t = 0; t < 3; ++t) c->TrialEnded(t, {1.0 - 0.1 * t, 0.8 - 0.1 * t}, true);
  EXPECT_TRUE(c->ShouldStop(10, {5.0}));
  EXPECT_FALSE(c->ShouldStop(11, {0.2}));
}

TEST(MedianstopTest, EvenCountTakesTheLenientMiddle) {
  auto max = Medianstop(OptimizeMode::kMaximize);
  max->TrialEnded(0, {0.2}, true);
  max->TrialEnded(1, {0.8}, true);
  EXPECT_FALSE(max->ShouldStop(2, {0.5}));
  EXPECT_TRUE(max->ShouldStop(3, {0.1}));
  auto min = Medianstop(OptimizeMode::kMinimize);
  min->TrialEnded(0, {0.2}, true);
  min->TrialEnded(1, {0.8}, true);
  EXPECT_FALSE(min->ShouldStop(2, {0.5}));
  EXPECT_TRUE(min->ShouldStop(3, {0.9}));
}

TEST(MakeAssessorTest, ValidatesNameAndClassArgs) {
  EXPECT_EQ(AssessorRefusal("Curvefitting", Json::object()),
            "assessor: unknown assessor \"Curvefitting\"; known assessors: Medianstop");
  EXPECT_EQ(AssessorRefusal("Medianstop", {{"start_step", 2}, {"optimize_mode", "minimize"}}), "ok");
  EXPECT_EQ(AssessorRefusal("Medianstop", {{"threshold", 0.9}}),
            "assessor_args.threshold: unknown classArg for assessor Medianstop");
  EXPECT_EQ(AssessorRefusal("Medianstop", {{"start_step", -1}}),
            "assessor_args.start_step: must be a non-negative integer");
  EXPECT_EQ(AssessorRefusal("Medianstop", {{"start_step", "5"}}),
            "assessor_args.start_step: must be a non-negative integer");
  EXPECT_EQ(AssessorRefusal("Medianstop", {{"optimize_mode", "up"}}),
            "assessor_args.optimize_mode: must be \"maximize\" or \"minimize\"");
}

// --- Hyperband

std::unique_ptr<Tuner> Hyperband(uint64_t seed, OptimizeMode mode, Json args, const Json& space_json) {
  Result<SearchSpace> space = ParseSearchSpace(space_json);
  EXPECT_TRUE(space.ok()) << space.status().ToString();
  TunerOptions options;
  options.seed = seed;
  options.mode = mode;
  options.args = std::move(args);
  Result<std::unique_ptr<Tuner>> t = MakeTuner("Hyperband", *space, options);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

Json MixedSpace() {
  return {{"lr", {{"_type", "loguniform"}, {"_value", {1e-4, 1e-1}}}},
          {"layers", {{"_type", "randint"}, {"_value", {1, 5}}}},
          {"act", {{"_type", "choice"}, {"_value", {"relu", "tanh"}}}},
          {"wd", {{"_type", "normal"}, {"_value", {0, 1}}}}};
}

std::vector<double> Flat(double v, int steps) { return std::vector<double>(static_cast<size_t>(steps), v); }

TEST(HyperbandTest, StopsBottomTrialsAtRungsAndKeepsTopOnes) {
  // R = 9, eta = 3: brackets of 9 (rungs at steps 1, 3), 5 (rung at 3) and
  // 3 trials (no rung).
  auto tuner = Hyperband(1, OptimizeMode::kMaximize, {{"R", 9}, {"eta", 3}}, MixedSpace());
  Assessor* a = tuner->assessor();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name(), "Hyperband");
  EXPECT_EQ(RunTrial(*a, 0, Flat(0.5, 9)), 0);  // first at each rung
  EXPECT_EQ(RunTrial(*a, 1, Flat(0.9, 9)), 0);  // best so far
  EXPECT_EQ(RunTrial(*a, 2, Flat(0.1, 9)), 1);  // 2 of 3 better at step 1
  EXPECT_EQ(RunTrial(*a, 3, Flat(0.95, 9)), 0);
  EXPECT_EQ(RunTrial(*a, 4, Flat(0.4, 9)), 1);
  // Good at step 1, bad by step 3: stopped at the second rung.
  EXPECT_EQ(RunTrial(*a, 5, {0.99, 0.2, 0.2, 0.2}), 3);
  // Later trials of the bracket see the results of earlier ones.
  EXPECT_EQ(RunTrial(*a, 6, Flat(0.93, 9)), 0);
  EXPECT_EQ(RunTrial(*a, 7, Flat(0.6, 9)), 1);

  // Bracket s = 1 (trials 9..13): its only rung is at step 3.
  EXPECT_EQ(RunTrial(*a, 9, Flat(0.5, 9)), 0);
  EXPECT_EQ(RunTrial(*a, 10, {0.0, 0.0, 0.0}), 3);
  // Exactly a third better (1 of 3): not within the top third.
  EXPECT_EQ(RunTrial(*a, 11, {0.0, 0.0, 0.3}), 3);
  EXPECT_EQ(RunTrial(*a, 12, Flat(0.6, 9)), 0);
  // Bracket s = 0 (trials 14..16) never stops anything.
  EXPECT_EQ(RunTrial(*a, 14, Flat(0.9, 9)), 0);
  EXPECT_EQ(RunTrial(*a, 15, Flat(-5, 9)), 0);
  // Trial 17 starts the next iteration, in bracket s = 2 again, sharing its
  // rungs: at step 1 more than a third of the 8 results recorded are better.
  EXPECT_EQ(RunTrial(*a, 17, Flat(0.55, 9)), 1);
  EXPECT_EQ(RunTrial(*a, 18, Flat(0.97, 9)), 0);
}

TEST(HyperbandTest, DefaultBracketsAndMinimize) {
  // R = 60, eta = 3: brackets of 27 trials (rungs 2, 6, 20), 12 (6, 20),
  // 6 (20) and 4 (none); 49 trials per iteration.
  auto tuner = Hyperband(1, OptimizeMode::kMinimize, Json::object(), MixedSpace());
  Assessor* a = tuner->assessor();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(RunTrial(*a, 0, Flat(1.0, 30)), 0);
  EXPECT_EQ(RunTrial(*a, 1, Flat(2.0, 30)), 2);   // a loss: higher is worse
  EXPECT_EQ(RunTrial(*a, 2, {0.5, 0.5, 0.5, 0.5, 3, 3, 3}), 6);
  EXPECT_EQ(RunTrial(*a, 27, Flat(1.0, 30)), 0);  // bracket s = 2
  EXPECT_EQ(RunTrial(*a, 28, Flat(2.0, 30)), 6);
  EXPECT_EQ(RunTrial(*a, 39, Flat(1.0, 30)), 0);  // bracket s = 1
  EXPECT_EQ(RunTrial(*a, 40, Flat(2.0, 30)), 20);
  EXPECT_EQ(RunTrial(*a, 45, Flat(9.0, 30)), 0);  // bracket s = 0
  EXPECT_EQ(RunTrial(*a, 46, Flat(9.0, 30)), 0);
  EXPECT_EQ(RunTrial(*a, 49, Flat(1.5, 30)), 2);  // bracket s = 3 again
}

TEST(HyperbandTest, ReplayingEndedTrialsRebuildsTheAssessor) {
  Json args = {{"R", 9}};
  auto original = Hyperband(3, OptimizeMode::kMaximize, args, MixedSpace());
  std::vector<std::vector<double>> ended;
  for (int t = 0; t < 8; ++t) {
    std::vector<double> values = Flat(0.1 * ((t * 7) % 10), 5);
    int stop = RunTrial(*original->assessor(), t, values);
    ended.emplace_back(values.begin(), stop ? values.begin() + stop : values.end());
  }
  auto rebuilt = Hyperband(3, OptimizeMode::kMaximize, args, MixedSpace());
  for (int t = 7; t >= 0; --t) rebuilt->assessor()->TrialEnded(t, ended[static_cast<size_t>(t)], true);
  // Trials 8, 17, 18, 19 are in the same bracket (rungs at steps 1 and 3).
  const std::vector<int64_t> trials = {8, 17, 18, 19};
  const std::vector<double> firsts = {0.05, 0.35, 0.65, 0.95};
  std::vector<bool> got_original, got_rebuilt;
  for (size_t i = 0; i < trials.size(); ++i) {
    got_original.push_back(original->assessor()->ShouldStop(trials[i], {firsts[i]}));
    got_rebuilt.push_back(rebuilt->assessor()->ShouldStop(trials[i], {firsts[i]}));
  }
  EXPECT_EQ(got_original, (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(got_rebuilt, got_original);
  // A fresh assessor (nothing recorded) lets the first of them go on.
  auto fresh = Hyperband(3, OptimizeMode::kMaximize, args, MixedSpace());
  EXPECT_FALSE(fresh->assessor()->ShouldStop(8, {0.05}));
}

TEST(HyperbandTest, SuggestionsAreDeterministicPerSeed) {
  auto run = [](uint64_t seed) {
    auto t = Hyperband(seed, OptimizeMode::kMaximize, Json::object(), MixedSpace());
    std::vector<Json> out;
    for (int i = 0; i < 10; ++i) {
      std::optional<Json> p = t->Suggest(i);
      EXPECT_TRUE(p.has_value());
      out.push_back(*p);
      t->Observe(i, *p, 0.1 * i);
    }
    return out;
  };
  std::vector<Json> a = run(7);
  EXPECT_EQ(a, run(7));
  EXPECT_NE(a, run(8));
  for (const Json& p : a) {
    EXPECT_GE(p["lr"].get<double>(), 1e-4);
    EXPECT_LE(p["lr"].get<double>(), 1e-1);
    ASSERT_TRUE(p["layers"].is_number_integer()) << p;
    EXPECT_GE(p["layers"].get<int64_t>(), 1);
    EXPECT_LT(p["layers"].get<int64_t>(), 5);
    EXPECT_TRUE(p["act"] == "relu" || p["act"] == "tanh") << p;
    EXPECT_TRUE(p["wd"].is_number()) << p;
  }
  // A suggestion depends on the seed and the trial only.
  auto t = Hyperband(7, OptimizeMode::kMaximize, Json::object(), MixedSpace());
  EXPECT_EQ(t->Suggest(4), a[4]);
}

TEST(HyperbandTest, RefusesNestedChoiceAndBadClassArgs) {
  Result<SearchSpace> nested =
      ParseSearchSpace({{"opt", {{"_type", "choice"}, {"_value", {{{"_name", "sgd"}}, "adam"}}}}});
  ASSERT_TRUE(nested.ok());
  Result<std::unique_ptr<Tuner>> t = MakeTuner("Hyperband", *nested, TunerOptions{});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "tuner Hyperband does not support nested choice (key \"opt\"); it supports every type but nested choice");

  Result<SearchSpace> flat = ParseSearchSpace(MixedSpace());
  ASSERT_TRUE(flat.ok());
  auto refusal = [&](Json args) {
    TunerOptions options;
    options.args = std::move(args);
    Result<std::unique_ptr<Tuner>> r = MakeTuner("Hyperband", *flat, options);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(refusal({{"R", 81}, {"eta", 3}, {"optimize_mode", "minimize"}}), "ok");
  EXPECT_EQ(refusal({{"R", 0}}), "args.R: must be an integer from 1 to 1000000");
  EXPECT_EQ(refusal({{"R", 2.5}}), "args.R: must be an integer from 1 to 1000000");
  EXPECT_EQ(refusal({{"eta", 1}}), "args.eta: must be an integer from 2 to 1000000");
  EXPECT_EQ(refusal({{"exec_mode", "serial"}}), "args.exec_mode: unknown classArg for tuner Hyperband");
}

TEST(HyperbandTest, OtherTunersHaveNoAssessor) {
  Result<SearchSpace> flat = ParseSearchSpace(MixedSpace());
  ASSERT_TRUE(flat.ok());
  Result<std::unique_ptr<Tuner>> t = MakeTuner("Random", *flat, TunerOptions{});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->assessor(), nullptr);
}

}  // namespace
}  // namespace quader::hpo
