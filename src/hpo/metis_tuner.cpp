#include "hpo/gp_model.h"
#include "hpo/model_tuners.h"
#include "hpo/random.h"

// MetisTuner, following NNI's metis_tuner (classArgs optimize_mode,
// no_resampling, no_candidates, selection_num_starting_points,
// cold_start_num, exploration_probability; NNI's defaults). Parameters are
// encoded into [0, 1] as for GPTuner (gp_model.h); repeated observations of
// one configuration are aggregated by their median. While fewer than
// cold_start_num distinct configurations have values, suggestions are
// random. After that a GP is fitted to the losses and each suggestion:
//  1. finds the configuration minimizing the GP mean (exploitation): the best
//     of selection_num_starting_points random points, refined by a shrinking
//     random local search from the best few;
//  2. unless no_candidates, picks a candidate: with resampling on
//     (no_resampling false) and at least 50 distinct configurations
//     observed, the most extreme outlier, a past configuration observed
//     fewer than 3 times whose value lies outside the 95% interval of its
//     leave-one-out GP prediction; otherwise the configuration of largest
//     GP standard deviation, found the same way as in 1 (exploration), if it
//     was never observed and adding it with the optimistic or the
//     pessimistic end of its prediction (mean ± 1.96 sd) would lower the
//     lowest GP mean over the starting points (NNI's information gain); if
//     it was observed, the first starting point;
//  3. returns the exploitation configuration, except with probability
//     exploration_probability or when it was already suggested or observed,
//     when it returns the candidate (a random configuration if none).
//
// Differences from NNI: an outlier is re-sampled whenever there is one
// (NNI weighs it against exploration by the same information gain, which
// seldom favours it); no Gaussian-mixture exploitation candidate; the
// kernel's hyperparameters are chosen on a grid (gp_model.h) instead of by
// scikit-learn's optimizer; local search instead of L-BFGS; choices need not
// be numbers (they are encoded by index).
//
// Each suggestion draws from its own generator seeded from the tuner's seed
// and the trial id, so a suggestion depends only on (seed, trial id, the
// configurations suggested, resumed or observed before); replaying stored
// trials (Observe in the order they ended, Resumed for running ones)
// rebuilds the tuner. Failed trials are ignored.

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace quader::hpo {
namespace {

constexpr double kNu = 2.5;
constexpr double kAlpha = 1e-6;
constexpr size_t kLocalSearchStarts = 5;
constexpr int kLocalSearchSteps = 40;
constexpr size_t kResamplingThreshold = 50;  // distinct configurations (NNI's threshold_samplessize_resampling)
constexpr size_t kMaxSamplesPerConfig = 3;   // NNI's max_resampling_per_x
constexpr double kZ95 = 1.96;

using Point = std::vector<double>;  // encoded configuration

struct MetisArgs {
  bool no_resampling = true;
  bool no_candidates = false;
  int64_t starting_points = 600;
  int64_t cold_start = 10;
  double exploration_probability = 0.9;
};

double MedianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Eigen::VectorXd ToVector(const Point& p) {
  Eigen::VectorXd u(static_cast<Eigen::Index>(p.size()));
  for (size_t j = 0; j < p.size(); ++j) u(static_cast<Eigen::Index>(j)) = p[j];
  return u;
}

// A GP fitted to losses; nullopt when it cannot be fitted.
std::optional<gp::Model> FitLosses(const std::vector<Point>& xs, const std::vector<double>& losses) {
  const auto n = static_cast<Eigen::Index>(xs.size());
  const auto d = static_cast<Eigen::Index>(xs.front().size());
  Eigen::MatrixXd x(n, d);
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) x(i, j) = xs[static_cast<size_t>(i)][static_cast<size_t>(j)];
    y(i) = losses[static_cast<size_t>(i)];
  }
  gp::Model model;
  if (!model.Fit(x, y, kNu, kAlpha)) return std::nullopt;
  return model;
}

class MetisTuner final : public Tuner {
 public:
  MetisTuner(SearchSpace space, const TunerOptions& options, MetisArgs args)
      : space_(std::move(space)), seed_(options.seed), maximize_(options.mode == OptimizeMode::kMaximize),
        args_(args) {}

  std::string name() const override { return "MetisTuner"; }

  std::optional<Json> Suggest(int64_t trial_id) override {
    Rng rng(SplitMix64(seed_ ^ SplitMix64(static_cast<uint64_t>(trial_id))));
    Json out = Choose(rng);
    if (std::optional<Point> p = EncodeParams(out)) tried_.insert(std::move(*p));
    return out;
  }

  void Observe(int64_t /*trial_id*/, const Json& params, std::optional<double> value) override {
    std::optional<Point> p = EncodeParams(params);
    if (!p) return;  // not a point of this space
    tried_.insert(*p);
    if (!value || !std::isfinite(*value)) return;  // failed trials teach nothing
    auto [it, fresh] = index_.emplace(*p, xs_.size());
    if (fresh) {
      xs_.push_back(std::move(*p));
      ys_.emplace_back();
    }
    ys_[it->second].push_back(maximize_ ? -*value : *value);
  }

  void Resumed(int64_t /*trial_id*/, const Json& params) override {
    if (std::optional<Point> p = EncodeParams(params)) tried_.insert(std::move(*p));
  }

 private:
  std::optional<Point> EncodeParams(const Json& params) const {
    if (!params.is_object()) return std::nullopt;
    Point u;
    for (const Param& p : space_.params) {
      auto it = params.find(p.key);
      if (it == params.end()) return std::nullopt;
      std::optional<double> x = gp::Encode(p, *it);
      if (!x) return std::nullopt;
      u.push_back(*x);
    }
    return u;
  }

  Json DecodePoint(const Point& u) const {
    Json out = Json::object();
    for (size_t j = 0; j < space_.params.size(); ++j) out[space_.params[j].key] = gp::Decode(space_.params[j], u[j]);
    return out;
  }

  // The encoding of the configuration `u` decodes to (discrete values on
  // their slot centres), so the model is asked about what would be tried.
  Point Snap(const Point& u) const {
    Point s(u.size());
    for (size_t j = 0; j < u.size(); ++j) {
      const Param& p = space_.params[j];
      s[j] = gp::Encode(p, gp::Decode(p, u[j])).value_or(u[j]);
    }
    return s;
  }

  // Minimizes f over the starting points, then refines the best few by a
  // shrinking random local search. Returns the point and f there.
  template <typename F>
  std::pair<Point, double> Minimize(const std::vector<Point>& starts, F f, Rng& rng) const {
    std::vector<std::pair<double, size_t>> scored;
    scored.reserve(starts.size());
    for (size_t i = 0; i < starts.size(); ++i) scored.emplace_back(f(starts[i]), i);
    size_t k = std::min(kLocalSearchStarts, scored.size());
    std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(k), scored.end());
    std::pair<Point, double> best = {starts[scored[0].second], scored[0].first};
    for (size_t s = 0; s < k; ++s) {
      Point cur = starts[scored[s].second];
      double cur_f = scored[s].first;
      double step = 0.1;
      for (int it = 0; it < kLocalSearchSteps; ++it, step *= 0.9) {
        Point u = cur;
        for (double& v : u) v = std::clamp(v + step * StdNormal(rng), 0.0, 1.0);
        u = Snap(u);
        double fu = f(u);
        if (fu < cur_f) {
          cur = std::move(u);
          cur_f = fu;
        }
      }
      if (cur_f < best.second) best = {std::move(cur), cur_f};
    }
    return best;
  }

  // The lowest GP mean (loss units) over `points` for a model fitted to the
  // observations plus the new configuration `x` with loss `y`; +inf when the
  // model cannot be fitted.
  double LowestMeanWith(const Point& x, double y, const std::vector<Point>& points) const {
    std::vector<Point> xs = xs_;
    std::vector<double> losses;
    losses.reserve(xs_.size() + 1);
    for (const std::vector<double>& v : ys_) losses.push_back(MedianOf(v));
    xs.push_back(x);
    losses.push_back(y);
    std::optional<gp::Model> model = FitLosses(xs, losses);
    if (!model) return std::numeric_limits<double>::infinity();
    double lowest = std::numeric_limits<double>::infinity();
    for (const Point& p : points) lowest = std::min(lowest, model->PredictMean(ToVector(p)));
    return model->y_mean() + model->y_std() * lowest;
  }

  // The most extreme outlier among the configurations observed fewer than
  // kMaxSamplesPerConfig times: its value lies outside the 95% interval of
  // the leave-one-out prediction.
  std::optional<Point> Outlier(const gp::Model& model, const std::vector<double>& losses) const {
    std::vector<std::pair<double, double>> loo = model.LeaveOneOut();
    std::optional<Point> out;
    double worst_z = kZ95;
    for (size_t i = 0; i < xs_.size(); ++i) {
      if (ys_[i].size() >= kMaxSamplesPerConfig || !(loo[i].second > 0)) continue;
      double z = std::abs((losses[i] - model.y_mean()) / model.y_std() - loo[i].first) / loo[i].second;
      if (z > worst_z) {
        worst_z = z;
        out = xs_[i];
      }
    }
    return out;
  }

  Json Choose(Rng& rng) {
    const size_t d = space_.params.size();
    if (xs_.size() < static_cast<size_t>(std::max<int64_t>(args_.cold_start, 1)) || d == 0)
      return SampleSpace(space_, rng);

    std::vector<double> losses;
    losses.reserve(ys_.size());
    for (const std::vector<double>& v : ys_) losses.push_back(MedianOf(v));
    std::optional<gp::Model> model = FitLosses(xs_, losses);
    if (!model) return SampleSpace(space_, rng);
    const double y_mean = model->y_mean(), y_std = model->y_std();

    std::vector<Point> starts;
    starts.reserve(static_cast<size_t>(args_.starting_points));
    for (int64_t i = 0; i < args_.starting_points; ++i) {
      Point u(d);
      for (double& v : u) v = Unit(rng);
      starts.push_back(Snap(u));
    }

    // 1. Exploitation: the lowest GP mean.
    auto mean_at = [&](const Point& u) { return model->PredictMean(ToVector(u)); };
    Point x_lm = Minimize(starts, mean_at, rng).first;

    // 2. The candidate: an outlier to re-sample, else the most uncertain
    //    configuration if observing it could lower the lowest mean.
    std::optional<Point> next;
    if (!args_.no_candidates && !args_.no_resampling && xs_.size() >= kResamplingThreshold)
      next = Outlier(*model, losses);
    if (!args_.no_candidates && !next) {
      auto neg_sd_at = [&](const Point& u) { return -model->Predict(ToVector(u)).second; };
      Point x_ex = Minimize(starts, neg_sd_at, rng).first;
      if (index_.contains(x_ex)) {
        next = starts.front();  // nothing new to explore: NNI's fallback
      } else {
        // Its value at the optimistic or the pessimistic end of its
        // prediction; kept if either lowers the lowest mean.
        auto [mu_n, sd_n] = model->Predict(ToVector(x_ex));
        const double mu = y_mean + y_std * mu_n, sd = y_std * sd_n;
        std::vector<Point> points = starts;
        points.push_back(x_lm);
        double base = std::numeric_limits<double>::infinity();
        for (const Point& p : points) base = std::min(base, y_mean + y_std * model->PredictMean(ToVector(p)));
        points.push_back(x_ex);
        double lowest = std::min(LowestMeanWith(x_ex, mu + kZ95 * sd, points),
                                 LowestMeanWith(x_ex, mu - kZ95 * sd, points));
        if (lowest < base) next = x_ex;
      }
    }

    // 3. Exploit, or take the candidate.
    if (tried_.contains(x_lm) || Unit(rng) <= args_.exploration_probability) {
      return next ? DecodePoint(*next) : SampleSpace(space_, rng);
    }
    return DecodePoint(x_lm);
  }

  SearchSpace space_;
  uint64_t seed_;
  bool maximize_;
  MetisArgs args_;
  std::vector<Point> xs_;                // distinct observed configurations
  std::vector<std::vector<double>> ys_;  // their losses (lower is better)
  std::map<Point, size_t> index_;        // configuration -> index in xs_
  std::set<Point> tried_;                // suggested, resumed or observed
};

Status ReadBool(const Json& args, const char* key, bool* out) {
  auto it = args.find(key);
  if (it == args.end()) return Status::Ok();
  if (!it->is_boolean()) return errors::Invalid(std::string("args.") + key, "must be true or false");
  *out = it->get<bool>();
  return Status::Ok();
}

Status ReadInt(const Json& args, const char* key, int64_t min, int64_t* out) {
  auto it = args.find(key);
  if (it == args.end()) return Status::Ok();
  if (!it->is_number_integer() || it->get<int64_t>() < min || it->get<int64_t>() > 1000000) {
    std::string why = "must be an integer from ";
    why += std::to_string(min);
    why += " to 1000000";
    return errors::Invalid(std::string("args.") + key, why);
  }
  *out = it->get<int64_t>();
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Tuner>> NewMetisTuner(const SearchSpace& space, const TunerOptions& options) {
  for (const Param& p : space.params) {
    if (p.is_nested() || (p.type != ParamType::kChoice && p.type != ParamType::kRandint &&
                          p.type != ParamType::kUniform && p.type != ParamType::kQuniform)) {
      return errors::Invalid(p.key, "MetisTuner supports choice, randint, uniform and quniform only");
    }
  }
  const Json& args = options.args.is_null() ? Json::object() : options.args;
  if (!args.is_object()) return errors::Invalid("args", "must be an object");
  MetisArgs a;
  QUADER_RETURN_IF_ERROR(ReadBool(args, "no_resampling", &a.no_resampling));
  QUADER_RETURN_IF_ERROR(ReadBool(args, "no_candidates", &a.no_candidates));
  QUADER_RETURN_IF_ERROR(ReadInt(args, "selection_num_starting_points", 1, &a.starting_points));
  QUADER_RETURN_IF_ERROR(ReadInt(args, "cold_start_num", 0, &a.cold_start));
  if (auto it = args.find("exploration_probability"); it != args.end()) {
    if (!it->is_number() || !(it->get<double>() >= 0 && it->get<double>() <= 1))
      return errors::Invalid("args.exploration_probability", "must be a number from 0 to 1");
    a.exploration_probability = it->get<double>();
  }
  return std::unique_ptr<Tuner>(std::make_unique<MetisTuner>(space, options, a));
}

}  // namespace quader::hpo
