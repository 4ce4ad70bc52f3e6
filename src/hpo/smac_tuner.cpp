#include "hpo/model_tuners.h"
#include "hpo/random.h"

// SMAC (NNI's "SMAC" tuner, which wraps SMAC3), simplified faithfully:
//  - an initial design of kInitialDesign random configurations;
//  - then a random-forest surrogate of the loss (kTrees regression trees on
//    bootstrap samples, a random subset of the features tried at each node,
//    at least kMinSamplesLeaf samples per leaf, depth at most kMaxDepth),
//    whose prediction is the mean across trees and whose uncertainty is
//    their variance;
//  - expected improvement over the best loss seen, maximized over
//    kRandomCandidates random configurations plus a local search (one
//    parameter moved at a time) from the best observed configurations and
//    the best random candidates;
//  - like SMAC3's random design, a fraction kRandomInterleave of the
//    model-based suggestions are random configurations instead.
//
// Parameters are encoded as one number each: numeric types on [0, 1] (log
// scale for loguniform), choices as their option index (the trees split a
// choice by equality). Each suggestion draws from its own generator seeded
// from the seed and the trial id, so a suggestion depends only on (seed,
// trial id, the observations so far): replaying stored trials rebuilds the
// tuner. Failed trials are ignored; minimize is the loss as given, maximize
// its negation.

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <utility>
#include <vector>

namespace quader::hpo {
namespace {

constexpr size_t kInitialDesign = 10;
constexpr size_t kTrees = 10;
constexpr size_t kMinSamplesLeaf = 3;
constexpr size_t kMinSamplesSplit = 3;
constexpr int kMaxDepth = 20;
constexpr double kFeatureRatio = 5.0 / 6.0;  // SMAC3's ratio_features
constexpr size_t kRandomCandidates = 1000;
constexpr size_t kLocalSearchStarts = 10;    // half from the best observed, half from random candidates
constexpr int kLocalSearchSteps = 50;
constexpr int kNumericNeighbours = 4;
constexpr double kNeighbourSd = 0.2;         // in the [0, 1] encoding
constexpr double kRandomInterleave = 0.2;    // SMAC3's ProbabilityRandomDesign
constexpr double kVarianceFloor = 1e-12;

size_t Index(Rng& rng, size_t n) { return std::min(static_cast<size_t>(Unit(rng) * static_cast<double>(n)), n - 1); }

using Point = std::vector<double>;

// --- Encoding: one number per parameter.

bool IsCategorical(const Param& p) { return p.type == ParamType::kChoice; }

// nullopt when `value` is not a value of `p` (then the observation is skipped).
std::optional<double> Encode(const Param& p, const Json& value) {
  if (p.type == ParamType::kChoice) {
    for (size_t i = 0; i < p.options.size(); ++i)
      if (p.options[i] == value) return static_cast<double>(i);
    return std::nullopt;
  }
  if (!value.is_number()) return std::nullopt;
  double v = value.get<double>();
  switch (p.type) {
    case ParamType::kRandint:
      return std::clamp((v - p.low + 0.5) / (p.high - p.low), 0.0, 1.0);
    case ParamType::kLoguniform:
      if (v <= 0) return std::nullopt;
      return std::clamp((std::log(v) - std::log(p.low)) / (std::log(p.high) - std::log(p.low)), 0.0, 1.0);
    default:  // uniform, quniform
      return std::clamp((v - p.low) / (p.high - p.low), 0.0, 1.0);
  }
}

Json Decode(const Param& p, double x) {
  switch (p.type) {
    case ParamType::kChoice:
      return p.options[std::min(static_cast<size_t>(std::max(x, 0.0)), p.options.size() - 1)];
    case ParamType::kRandint:
      return static_cast<int64_t>(Quantize(p, p.low + x * (p.high - p.low)));
    case ParamType::kLoguniform: {
      double lo = std::log(p.low), hi = std::log(p.high);
      return std::clamp(std::exp(lo + x * (hi - lo)), p.low, p.high);
    }
    default:  // uniform, quniform
      return Quantize(p, p.low + x * (p.high - p.low));
  }
}

// The encoding of the value `x` decodes to (snaps randint and quniform).
double Snap(const Param& p, double x) {
  if (p.type != ParamType::kRandint && p.type != ParamType::kQuniform) return x;
  return Encode(p, Decode(p, x)).value_or(x);
}

Point RandomPoint(const SearchSpace& space, Rng& rng) {
  Point x(space.params.size());
  for (size_t j = 0; j < x.size(); ++j) {
    const Param& p = space.params[j];
    x[j] = IsCategorical(p) ? static_cast<double>(Index(rng, p.options.size())) : Snap(p, Unit(rng));
  }
  return x;
}

// --- The random forest.

class RegressionTree {
 public:
  // Fits on rows `rows` of (xs, ys) (a bootstrap sample, repeats allowed).
  void Fit(const std::vector<Point>& xs, const std::vector<double>& ys, const std::vector<bool>& categorical,
           std::vector<size_t> rows, Rng& rng) {
    nodes_.clear();
    Build(xs, ys, categorical, rows, 0, rng);
  }

  double Predict(const Point& x) const {
    size_t i = 0;
    while (nodes_[i].feature >= 0) {
      const Node& n = nodes_[i];
      double v = x[static_cast<size_t>(n.feature)];
      bool left = n.categorical ? v == n.threshold : v <= n.threshold;
      i = left ? n.left : n.right;
    }
    return nodes_[i].value;
  }

 private:
  struct Node {
    int feature = -1;  // -1: a leaf
    bool categorical = false;
    double threshold = 0;  // numeric: go left when x <= threshold; categorical: when x == threshold
    size_t left = 0, right = 0;
    double value = 0;  // leaf: mean of its samples
  };

  size_t Build(const std::vector<Point>& xs, const std::vector<double>& ys, const std::vector<bool>& categorical,
               std::vector<size_t>& rows, int depth, Rng& rng) {
    size_t id = nodes_.size();
    nodes_.emplace_back();
    double mean = 0;
    for (size_t r : rows) mean += ys[r];
    mean /= static_cast<double>(rows.size());
    nodes_[id].value = mean;
    if (depth >= kMaxDepth || rows.size() < std::max(kMinSamplesSplit, 2 * kMinSamplesLeaf)) return id;

    // Random feature subset.
    size_t d = categorical.size();
    std::vector<size_t> features(d);
    std::iota(features.begin(), features.end(), 0);
    for (size_t i = d; i > 1; --i) std::swap(features[i - 1], features[Index(rng, i)]);
    size_t tried = std::max<size_t>(1, static_cast<size_t>(std::floor(kFeatureRatio * static_cast<double>(d))));
    features.resize(tried);

    double best_sse = std::numeric_limits<double>::infinity();
    int best_feature = -1;
    double best_threshold = 0;
    bool best_categorical = false;
    for (size_t f : features) {
      if (categorical[f]) {
        std::vector<double> cats;
        for (size_t r : rows) cats.push_back(xs[r][f]);
        std::sort(cats.begin(), cats.end());
        cats.erase(std::unique(cats.begin(), cats.end()), cats.end());
        if (cats.size() < 2) continue;
        for (double c : cats) {
          double sl = 0, sl2 = 0, sr = 0, sr2 = 0;
          size_t nl = 0, nr = 0;
          for (size_t r : rows) {
            double y = ys[r];
            if (xs[r][f] == c) { sl += y; sl2 += y * y; ++nl; } else { sr += y; sr2 += y * y; ++nr; }
          }
          if (nl < kMinSamplesLeaf || nr < kMinSamplesLeaf) continue;
          double sse = sl2 - sl * sl / static_cast<double>(nl) + sr2 - sr * sr / static_cast<double>(nr);
          if (sse < best_sse) { best_sse = sse; best_feature = static_cast<int>(f); best_threshold = c; best_categorical = true; }
        }
        continue;
      }
      std::vector<std::pair<double, double>> vals;  // (x, y)
      vals.reserve(rows.size());
      for (size_t r : rows) vals.emplace_back(xs[r][f], ys[r]);
      std::sort(vals.begin(), vals.end());
      double total = 0, total2 = 0;
      for (auto& [x, y] : vals) { total += y; total2 += y * y; }
      double sl = 0, sl2 = 0;
      size_t n = vals.size();
      for (size_t i = 0; i + 1 < n; ++i) {
        sl += vals[i].second;
        sl2 += vals[i].second * vals[i].second;
        size_t nl = i + 1, nr = n - nl;
        if (vals[i].first == vals[i + 1].first) continue;
        if (nl < kMinSamplesLeaf || nr < kMinSamplesLeaf) continue;
        double sr = total - sl, sr2 = total2 - sl2;
        double sse = sl2 - sl * sl / static_cast<double>(nl) + sr2 - sr * sr / static_cast<double>(nr);
        if (sse < best_sse) {
          best_sse = sse;
          best_feature = static_cast<int>(f);
          best_threshold = 0.5 * (vals[i].first + vals[i + 1].first);
          best_categorical = false;
        }
      }
    }
    if (best_feature < 0) return id;

    std::vector<size_t> left_rows, right_rows;
    for (size_t r : rows) {
      double v = xs[r][static_cast<size_t>(best_feature)];
      (best_categorical ? v == best_threshold : v <= best_threshold) ? left_rows.push_back(r) : right_rows.push_back(r);
    }
    rows.clear();
    rows.shrink_to_fit();
    nodes_[id].feature = best_feature;
    nodes_[id].categorical = best_categorical;
    nodes_[id].threshold = best_threshold;
    size_t left = Build(xs, ys, categorical, left_rows, depth + 1, rng);
    size_t right = Build(xs, ys, categorical, right_rows, depth + 1, rng);
    nodes_[id].left = left;
    nodes_[id].right = right;
    return id;
  }

  std::vector<Node> nodes_;
};

class RandomForest {
 public:
  void Fit(const std::vector<Point>& xs, const std::vector<double>& ys, const std::vector<bool>& categorical, Rng& rng) {
    trees_.assign(kTrees, RegressionTree());
    size_t n = xs.size();
    for (RegressionTree& tree : trees_) {
      std::vector<size_t> rows(n);
      for (size_t& r : rows) r = Index(rng, n);
      tree.Fit(xs, ys, categorical, std::move(rows), rng);
    }
  }

  // Mean and variance of the trees' predictions.
  std::pair<double, double> Predict(const Point& x) const {
    double s = 0, s2 = 0;
    for (const RegressionTree& t : trees_) {
      double y = t.Predict(x);
      s += y;
      s2 += y * y;
    }
    double n = static_cast<double>(trees_.size());
    double mean = s / n;
    return {mean, std::max(s2 / n - mean * mean, 0.0)};
  }

 private:
  std::vector<RegressionTree> trees_;
};

// Expected improvement (minimizing) below `best`.
double ExpectedImprovement(double mean, double var, double best) {
  if (var < kVarianceFloor) return std::max(best - mean, 0.0);
  double sd = std::sqrt(var);
  double z = (best - mean) / sd;
  double cdf = 0.5 * std::erfc(-z / std::numbers::sqrt2);
  double pdf = std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
  return (best - mean) * cdf + sd * pdf;
}

class SmacTuner final : public Tuner {
 public:
  SmacTuner(SearchSpace space, const TunerOptions& options)
      : space_(std::move(space)), seed_(options.seed), maximize_(options.mode == OptimizeMode::kMaximize) {
    for (const Param& p : space_.params) categorical_.push_back(IsCategorical(p));
  }

  std::string name() const override { return "SMAC"; }

  std::optional<Json> Suggest(int64_t trial_id) override {
    Rng rng(SplitMix64(seed_ ^ SplitMix64(static_cast<uint64_t>(trial_id))));
    if (xs_.size() < kInitialDesign || space_.params.empty()) return SampleSpace(space_, rng);
    if (Unit(rng) < kRandomInterleave) return SampleSpace(space_, rng);

    RandomForest forest;
    forest.Fit(xs_, ys_, categorical_, rng);
    double best = *std::min_element(ys_.begin(), ys_.end());
    auto acquisition = [&](const Point& x) {
      auto [mean, var] = forest.Predict(x);
      return ExpectedImprovement(mean, var, best);
    };

    // Random candidates.
    std::vector<std::pair<double, Point>> candidates;
    candidates.reserve(kRandomCandidates + kLocalSearchStarts);
    for (size_t i = 0; i < kRandomCandidates; ++i) {
      Point x = RandomPoint(space_, rng);
      double a = acquisition(x);
      candidates.emplace_back(a, std::move(x));
    }

    // Local search from the best observed configurations and the best random candidates.
    std::vector<Point> starts;
    std::vector<size_t> order(ys_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ys_[a] < ys_[b]; });
    for (size_t i = 0; i < std::min(kLocalSearchStarts / 2, order.size()); ++i) starts.push_back(xs_[order[i]]);
    std::vector<size_t> by_acq(candidates.size());
    std::iota(by_acq.begin(), by_acq.end(), 0);
    std::stable_sort(by_acq.begin(), by_acq.end(),
                     [&](size_t a, size_t b) { return candidates[a].first > candidates[b].first; });
    for (size_t i = 0; starts.size() < kLocalSearchStarts && i < by_acq.size(); ++i) starts.push_back(candidates[by_acq[i]].second);
    for (const Point& start : starts) {
      Point x = start;
      double a = acquisition(x);
      for (int step = 0; step < kLocalSearchSteps; ++step) {
        auto [na, nx] = BestNeighbour(x, acquisition, rng);
        if (!(na > a)) break;
        a = na;
        x = std::move(nx);
      }
      candidates.emplace_back(a, std::move(x));
    }

    // The best by acquisition; ties go to the earliest candidate.
    size_t pick = 0;
    for (size_t i = 1; i < candidates.size(); ++i)
      if (candidates[i].first > candidates[pick].first) pick = i;
    Json out = Json::object();
    for (size_t j = 0; j < space_.params.size(); ++j) out[space_.params[j].key] = Decode(space_.params[j], candidates[pick].second[j]);
    return out;
  }

  void Observe(int64_t /*trial_id*/, const Json& params, std::optional<double> value) override {
    if (!value || !std::isfinite(*value) || !params.is_object()) return;  // failed trials teach the model nothing
    Point x(space_.params.size());
    for (size_t j = 0; j < x.size(); ++j) {
      const Param& p = space_.params[j];
      auto it = params.find(p.key);
      if (it == params.end()) return;
      std::optional<double> e = Encode(p, *it);
      if (!e) return;
      x[j] = *e;
    }
    xs_.push_back(std::move(x));
    ys_.push_back(maximize_ ? -*value : *value);
  }

 private:
  // The neighbour of `x` (one parameter moved) with the highest acquisition.
  template <typename Acq>
  std::pair<double, Point> BestNeighbour(const Point& x, const Acq& acquisition, Rng& rng) const {
    double best_a = -std::numeric_limits<double>::infinity();
    Point best_x = x;
    auto consider = [&](size_t j, double v) {
      if (v == x[j]) return;
      Point y = x;
      y[j] = v;
      double a = acquisition(y);
      if (a > best_a) { best_a = a; best_x = std::move(y); }
    };
    for (size_t j = 0; j < x.size(); ++j) {
      const Param& p = space_.params[j];
      if (IsCategorical(p)) {
        for (size_t k = 0; k < p.options.size(); ++k) consider(j, static_cast<double>(k));
        continue;
      }
      for (int k = 0; k < kNumericNeighbours; ++k)
        consider(j, Snap(p, std::clamp(x[j] + kNeighbourSd * StdNormal(rng), 0.0, 1.0)));
      if (p.type == ParamType::kRandint && p.high - p.low > 1) {  // the adjacent integers
        double step = 1.0 / (p.high - p.low);
        consider(j, Snap(p, std::clamp(x[j] + step, 0.0, 1.0)));
        consider(j, Snap(p, std::clamp(x[j] - step, 0.0, 1.0)));
      }
    }
    return {best_a, std::move(best_x)};
  }

  SearchSpace space_;
  uint64_t seed_;
  bool maximize_;
  std::vector<bool> categorical_;
  std::vector<Point> xs_;   // encoded observations
  std::vector<double> ys_;  // their losses (lower is better)
};

}  // namespace

Result<std::unique_ptr<Tuner>> NewSmacTuner(const SearchSpace& space, const TunerOptions& options) {
  return std::unique_ptr<Tuner>(std::make_unique<SmacTuner>(space, options));
}

}  // namespace quader::hpo
