#include "hpo/model_tuners.h"
#include "hpo/gp_model.h"
#include "hpo/random.h"

// GPTuner, following NNI's gp_tuner (a Gaussian process with a Matern kernel
// and normalized targets, and an acquisition function maximized over the
// unit cube): the first cold_start_num suggestions are random; after that
// every parameter is encoded into [0, 1] (log scale for log types, a choice
// as the centre of its index's slot), a GP is fitted to the finished trials
// and the point maximizing the utility (default expected improvement, xi = 0)
// is decoded back into the space, rounded and clipped like a random draw.
//
// Differences from NNI, for speed and determinism: the kernel's length scale
// is the best of a fixed grid by log marginal likelihood (its amplitude in
// closed form) instead of restarted L-BFGS, and the acquisition is maximized
// over selection_num_warm_up random points (default 2000, NNI's 100000)
// followed by a shrinking random local search from the best
// selection_num_starting_points of them (default 5, NNI's 250 L-BFGS starts).
//
// Each suggestion draws from its own generator seeded from the tuner's seed
// and the trial id, so a suggestion depends only on (seed, trial id, the
// observations so far), as with TPE.
//
// The GP and the unit-cube encoding live in gp_model.h (shared with MetisTuner).

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

namespace quader::hpo {
namespace {

using gp::Decode;
using gp::Encode;

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }
double NormalPdf(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi); }

enum class Utility { kEi, kUcb, kPoi };

struct GpArgs {
  Utility utility = Utility::kEi;
  double kappa = 5, xi = 0, nu = 2.5, alpha = 1e-6;
  int64_t cold_start = 10, warm_up = 2000, starting_points = 5;
};

double Acquisition(const gp::Model& gp, const Eigen::VectorXd& u, const GpArgs& args) {
  auto [mean, sd] = gp.Predict(u);
  switch (args.utility) {
    case Utility::kUcb:
      return mean + args.kappa * sd;
    case Utility::kPoi:
      if (sd < 1e-12) return 0;
      return NormalCdf((mean - gp.y_best() - args.xi) / sd);
    case Utility::kEi:
      break;
  }
  double diff = mean - gp.y_best() - args.xi;
  if (sd < 1e-12) return std::max(diff, 0.0);
  double z = diff / sd;
  return diff * NormalCdf(z) + sd * NormalPdf(z);
}

class GpTuner final : public Tuner {
 public:
  GpTuner(SearchSpace space, const TunerOptions& options, GpArgs args)
      : space_(std::move(space)), seed_(options.seed), maximize_(options.mode == OptimizeMode::kMaximize),
        args_(args) {}

  std::string name() const override { return "GPTuner"; }

  std::optional<Json> Suggest(int64_t trial_id) override {
    Rng rng(SplitMix64(seed_ ^ SplitMix64(static_cast<uint64_t>(trial_id))));
    const size_t d = space_.params.size();
    if (static_cast<int64_t>(ys_.size()) < args_.cold_start || ys_.empty() || d == 0) return SampleSpace(space_, rng);

    const auto n = static_cast<Eigen::Index>(ys_.size());
    Eigen::MatrixXd x(n, static_cast<Eigen::Index>(d));
    Eigen::VectorXd y(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      for (size_t j = 0; j < d; ++j) x(i, static_cast<Eigen::Index>(j)) = xs_[static_cast<size_t>(i)][j];
      y(i) = ys_[static_cast<size_t>(i)];
    }
    gp::Model gp;
    if (!gp.Fit(x, y, args_.nu, args_.alpha)) return SampleSpace(space_, rng);

    // Random candidates, then a shrinking local search from the best few.
    struct Candidate {
      Eigen::VectorXd u;
      double score;
    };
    std::vector<Candidate> cands;
    cands.reserve(static_cast<size_t>(args_.warm_up));
    for (int64_t c = 0; c < args_.warm_up; ++c) {
      Eigen::VectorXd u(static_cast<Eigen::Index>(d));
      for (size_t j = 0; j < d; ++j) u(static_cast<Eigen::Index>(j)) = Unit(rng);
      double s = Acquisition(gp, u, args_);
      cands.push_back({std::move(u), s});
    }
    size_t starts = std::min(cands.size(), static_cast<size_t>(args_.starting_points));
    std::partial_sort(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(starts), cands.end(),
                      [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    Candidate best = cands.front();
    for (size_t s = 0; s < starts; ++s) {
      Candidate cur = cands[s];
      double step = 0.1;
      for (int it = 0; it < 40; ++it, step *= 0.9) {
        Eigen::VectorXd u = cur.u;
        for (Eigen::Index j = 0; j < u.size(); ++j) u(j) = std::clamp(u(j) + step * StdNormal(rng), 0.0, 1.0);
        double score = Acquisition(gp, u, args_);
        if (score > cur.score) cur = {std::move(u), score};
      }
      if (cur.score > best.score) best = cur;
    }

    Json out = Json::object();
    for (size_t j = 0; j < d; ++j) out[space_.params[j].key] = Decode(space_.params[j], best.u(static_cast<Eigen::Index>(j)));
    return out;
  }

  void Observe(int64_t /*trial_id*/, const Json& params, std::optional<double> value) override {
    if (!value || !std::isfinite(*value) || !params.is_object()) return;  // failed trials teach nothing
    std::vector<double> u;
    for (const Param& p : space_.params) {
      auto it = params.find(p.key);
      if (it == params.end()) return;
      std::optional<double> x = Encode(p, *it);
      if (!x) return;  // not a point of this space
      u.push_back(*x);
    }
    xs_.push_back(std::move(u));
    ys_.push_back(maximize_ ? *value : -*value);
  }

 private:
  SearchSpace space_;
  uint64_t seed_;
  bool maximize_;
  GpArgs args_;
  std::vector<std::vector<double>> xs_;  // encoded points
  std::vector<double> ys_;               // higher is better
};

Status ReadInt(const Json& args, const char* key, int64_t min, int64_t* out) {
  auto it = args.find(key);
  if (it == args.end()) return Status::Ok();
  if (!it->is_number_integer() || it->get<int64_t>() < min) {
    return errors::Invalid(std::string("classArgs.") + key,
                           min == 0 ? "must be a non-negative integer" : "must be a positive integer");
  }
  *out = it->get<int64_t>();
  return Status::Ok();
}

Status ReadNumber(const Json& args, const char* key, bool positive, double* out) {
  auto it = args.find(key);
  if (it == args.end()) return Status::Ok();
  if (!it->is_number() || !std::isfinite(it->get<double>()) ||
      (positive ? !(it->get<double>() > 0) : it->get<double>() < 0)) {
    return errors::Invalid(std::string("classArgs.") + key,
                           positive ? "must be a positive number" : "must be a non-negative number");
  }
  *out = it->get<double>();
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Tuner>> NewGpTuner(const SearchSpace& space, const TunerOptions& options) {
  const Json& args = options.args.is_null() ? Json::object() : options.args;
  if (!args.is_object()) return errors::Invalid("classArgs", "must be an object");
  static const char* const kKnown[] = {"optimize_mode", "utility", "kappa", "xi", "nu", "alpha",
                                       "cold_start_num", "selection_num_warm_up",
                                       "selection_num_starting_points"};
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (std::find_if(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return it.key() == k; }) ==
        std::end(kKnown)) {
      return errors::Invalid("classArgs." + it.key(), "unknown classArg for tuner GPTuner");
    }
  }
  GpArgs a;
  if (auto it = args.find("utility"); it != args.end()) {
    if (*it == "ei") a.utility = Utility::kEi;
    else if (*it == "ucb") a.utility = Utility::kUcb;
    else if (*it == "poi") a.utility = Utility::kPoi;
    else return errors::Invalid("classArgs.utility", "must be \"ei\", \"ucb\" or \"poi\"");
  }
  QUADER_RETURN_IF_ERROR(ReadNumber(args, "kappa", false, &a.kappa));
  QUADER_RETURN_IF_ERROR(ReadNumber(args, "xi", false, &a.xi));
  QUADER_RETURN_IF_ERROR(ReadNumber(args, "alpha", true, &a.alpha));
  if (auto it = args.find("nu"); it != args.end()) {
    if (!it->is_number() || (*it != 0.5 && *it != 1.5 && *it != 2.5))
      return errors::Invalid("classArgs.nu", "must be 0.5, 1.5 or 2.5");
    a.nu = it->get<double>();
  }
  QUADER_RETURN_IF_ERROR(ReadInt(args, "cold_start_num", 0, &a.cold_start));
  QUADER_RETURN_IF_ERROR(ReadInt(args, "selection_num_warm_up", 1, &a.warm_up));
  QUADER_RETURN_IF_ERROR(ReadInt(args, "selection_num_starting_points", 0, &a.starting_points));
  return std::unique_ptr<Tuner>(std::make_unique<GpTuner>(space, options, a));
}

}  // namespace quader::hpo
