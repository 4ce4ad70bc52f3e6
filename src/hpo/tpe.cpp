#include "hpo/tpe.h"
#include "hpo/random.h"

// The Tree-structured Parzen Estimator, following hyperopt's tpe.py (the
// engine behind NNI's "TPE"): the first n_startup_jobs suggestions are
// random; after that the finished trials are split into the best `gamma`
// fraction ("below") and the rest ("above"), and each parameter is drawn
// independently from the "below" estimator l(x), keeping the one of
// n_ei_candidates draws that maximizes l(x)/g(x). Numeric parameters use
// hyperopt's adaptive Parzen estimator (a Gaussian at each observation plus
// a prior, bandwidths from neighbour distances, truncated to the bounds);
// choice and randint use counts plus a prior of one. A nested choice recurses
// into the chosen option's space with only the trials that chose it.
//
// Each suggestion draws from its own generator, seeded from the tuner's seed
// and the trial id, so a suggestion depends only on (seed, trial id, the
// observations so far): replaying stored trials rebuilds the same tuner.

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

namespace quader::hpo {
namespace {

constexpr double kPriorWeight = 1.0;           // hyperopt's _default_prior_weight
constexpr size_t kLinearForgetting = 25;       // hyperopt's DEFAULT_LF
constexpr int64_t kMaxCategoricalRandint = 100000;  // wider randints are modelled as numbers
constexpr double kInf = std::numeric_limits<double>::infinity();

// --- Draws independent of the standard library's distribution algorithms.

double Uniform01(Rng& rng) { return Unit(rng); }

// An index drawn with probability proportional to `weights` (all >= 0, sum > 0).
size_t PickWeighted(const std::vector<double>& weights, Rng& rng) {
  double total = 0;
  for (double w : weights) total += w;
  double r = Uniform01(rng) * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (r < weights[i]) return i;
    r -= weights[i];
  }
  for (size_t i = weights.size(); i-- > 0;) {
    if (weights[i] > 0) return i;
  }
  return 0;
}

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

// hyperopt's linear_forgetting_weights: older observations fade once there
// are more than kLinearForgetting of them.
std::vector<double> ForgettingWeights(size_t n) {
  std::vector<double> w(n, 1.0);
  if (n < kLinearForgetting) return w;
  size_t ramp = n - kLinearForgetting;
  for (size_t i = 0; i < ramp; ++i) {
    double start = 1.0 / static_cast<double>(n);
    w[i] = ramp == 1 ? start : start + (1.0 - start) * static_cast<double>(i) / static_cast<double>(ramp - 1);
  }
  return w;
}

// --- Numeric parameters: a truncated Gaussian mixture in the model space.

struct Mixture {
  std::vector<double> weight, mu, sigma;  // weights sum to 1
  double low = -kInf, high = kInf;        // truncation, model space
  double log_accept = 0;                  // log of the mass inside [low, high]
};

// hyperopt's adaptive_parzen_normal, truncated to [low, high].
Mixture FitParzen(const std::vector<double>& obs, double prior_mu, double prior_sigma,
                  double low, double high) {
  size_t n = obs.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return obs[a] < obs[b]; });
  size_t prior_pos = 0;
  while (prior_pos < n && obs[order[prior_pos]] < prior_mu) ++prior_pos;

  std::vector<double> forget = ForgettingWeights(n);
  Mixture m;
  m.low = low;
  m.high = high;
  for (size_t i = 0; i <= n; ++i) {
    if (i == prior_pos) {
      m.mu.push_back(prior_mu);
      m.weight.push_back(kPriorWeight);
    }
    if (i < n) {
      m.mu.push_back(obs[order[i]]);
      m.weight.push_back(forget[order[i]]);
    }
  }
  size_t k = m.mu.size();
  m.sigma.assign(k, prior_sigma);
  if (k == 2) {
    m.sigma[1 - prior_pos] = prior_sigma * 0.5;
  } else if (k > 2) {
    for (size_t i = 0; i < k; ++i) {
      double left = i > 0 ? m.mu[i] - m.mu[i - 1] : -kInf;
      double right = i + 1 < k ? m.mu[i + 1] - m.mu[i] : -kInf;
      m.sigma[i] = std::max(left, right);
    }
  }
  double max_sigma = prior_sigma;
  double min_sigma = prior_sigma / std::min(100.0, 1.0 + static_cast<double>(k));
  for (double& s : m.sigma) s = std::clamp(s, min_sigma, max_sigma);
  m.sigma[prior_pos] = prior_sigma;

  double total = 0;
  for (double w : m.weight) total += w;
  for (double& w : m.weight) w /= total;

  double accept = 0;
  for (size_t i = 0; i < k; ++i) {
    accept += m.weight[i] * (NormalCdf((high - m.mu[i]) / m.sigma[i]) -
                             NormalCdf((low - m.mu[i]) / m.sigma[i]));
  }
  m.log_accept = std::log(std::max(accept, 1e-300));
  return m;
}

double SampleMixture(const Mixture& m, Rng& rng) {
  double x = 0;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    size_t i = PickWeighted(m.weight, rng);
    x = m.mu[i] + m.sigma[i] * StdNormal(rng);
    if (x >= m.low && x <= m.high) return x;
  }
  return std::clamp(x, m.low, m.high);
}

// Log density at x (model space), renormalized for the truncation.
double LogPdf(const Mixture& m, double x) {
  double best = -kInf;
  std::vector<double> terms(m.mu.size());
  for (size_t i = 0; i < m.mu.size(); ++i) {
    double z = (x - m.mu[i]) / m.sigma[i];
    terms[i] = std::log(m.weight[i]) - 0.5 * z * z - std::log(m.sigma[i] * std::sqrt(2.0 * std::numbers::pi));
    best = std::max(best, terms[i]);
  }
  if (best == -kInf) return -kInf;
  double sum = 0;
  for (double t : terms) sum += std::exp(t - best);
  return best + std::log(sum) - m.log_accept;
}

// Log of the mass in [lb, ub] (model space), renormalized for the truncation;
// falls back to density × width where the mass underflows.
double LogBinMass(const Mixture& m, double lb, double ub) {
  lb = std::max(lb, m.low);
  ub = std::min(ub, m.high);
  double mass = 0;
  for (size_t i = 0; i < m.mu.size(); ++i) {
    mass += m.weight[i] * (NormalCdf((ub - m.mu[i]) / m.sigma[i]) -
                           NormalCdf((lb - m.mu[i]) / m.sigma[i]));
  }
  if (mass > 1e-280) return std::log(mass) - m.log_accept;
  if (!(ub > lb) || !std::isfinite(lb) || !std::isfinite(ub)) return -kInf;
  return LogPdf(m, 0.5 * (lb + ub)) + std::log(ub - lb);
}

// How a numeric parameter maps into the space its estimator lives in.
struct NumericModel {
  bool log = false;              // model space is log(x)
  double low = -kInf, high = kInf;  // truncation, model space
  double prior_mu = 0, prior_sigma = 1;
  bool bounded = false;          // clip the result to [orig_low, orig_high]
  double orig_low = 0, orig_high = 0;
  bool quantized = false;        // a q* type: pass the draw through Quantize
  bool wide_randint = false;     // randint too wide to be categorical
};

NumericModel DescribeNumeric(const Param& p) {
  NumericModel d;
  switch (p.type) {
    case ParamType::kQuniform:
      d.quantized = true;
      [[fallthrough]];
    case ParamType::kUniform:
      d.low = p.low;
      d.high = p.high;
      d.prior_mu = 0.5 * (p.low + p.high);
      d.prior_sigma = p.high - p.low;
      d.bounded = true;
      break;
    case ParamType::kRandint:
      d.wide_randint = true;
      d.low = p.low;
      d.high = p.high;
      d.prior_mu = 0.5 * (p.low + p.high);
      d.prior_sigma = p.high - p.low;
      d.bounded = true;
      break;
    case ParamType::kQloguniform:
      d.quantized = true;
      [[fallthrough]];
    case ParamType::kLoguniform:
      d.log = true;
      d.low = std::log(p.low);
      d.high = std::log(p.high);
      d.prior_mu = 0.5 * (d.low + d.high);
      d.prior_sigma = d.high - d.low;
      d.bounded = true;
      break;
    case ParamType::kQnormal:
      d.quantized = true;
      [[fallthrough]];
    case ParamType::kNormal:
      d.prior_mu = p.mu;
      d.prior_sigma = p.sigma;
      break;
    case ParamType::kQlognormal:
      d.quantized = true;
      [[fallthrough]];
    case ParamType::kLognormal:
      d.log = true;
      d.prior_mu = p.mu;
      d.prior_sigma = p.sigma;
      break;
    case ParamType::kChoice:
      break;
  }
  if (!(d.prior_sigma > 0)) d.prior_sigma = 1.0;
  d.orig_low = p.low;
  d.orig_high = d.wide_randint ? p.high - 1 : p.high;
  return d;
}

// The observed value of a numeric parameter in model space, if usable.
std::optional<double> ToModelSpace(const NumericModel& d, const Json& v) {
  if (!v.is_number()) return std::nullopt;
  double x = v.get<double>();
  if (d.log) {
    if (!(x > 0)) return std::nullopt;
    x = std::log(x);
  }
  if (!std::isfinite(x)) return std::nullopt;
  return x;
}

// log l(v) or log g(v) for a candidate value in the parameter's own units.
double ScoreNumeric(const Param& p, const NumericModel& d, const Mixture& m, double v) {
  double width = d.wide_randint ? 1.0 : (d.quantized ? p.q : 0.0);
  if (width <= 0) return LogPdf(m, d.log ? std::log(v) : v);
  double lb = d.wide_randint ? v : v - width / 2;
  double ub = d.wide_randint ? v + 1 : v + width / 2;
  if (d.bounded) {
    lb = std::max(lb, d.orig_low);
    ub = std::min(ub, d.wide_randint ? p.high : d.orig_high);
  }
  if (d.log) {
    lb = lb > 0 ? std::log(lb) : -kInf;
    ub = ub > 0 ? std::log(ub) : -kInf;
  }
  return LogBinMass(m, lb, ub);
}

// --- The tree walk.

// The params object (at this level of nesting) of one trial.
using Group = std::vector<const Json*>;

const Json* ValueOf(const Json* params, const std::string& key) {
  if (params == nullptr || !params->is_object()) return nullptr;
  auto it = params->find(key);
  return it == params->end() ? nullptr : &*it;
}

bool IsNamedOption(const Json& option) { return option.is_object() && option.contains("_name"); }

// Which option of a choice an observed value is, or -1.
int64_t OptionIndex(const Param& p, const Json& v) {
  for (size_t i = 0; i < p.options.size(); ++i) {
    const Json& o = p.options[i];
    if (IsNamedOption(o)) {
      if (v.is_object() && v.contains("_name") && v["_name"] == o["_name"]) return static_cast<int64_t>(i);
    } else if (o == v) {
      return static_cast<int64_t>(i);
    }
  }
  return -1;
}

// Weighted counts plus a prior of one per category (hyperopt's
// ap_categorical_sampler), as probabilities.
std::vector<double> CategoricalProbs(const std::vector<int64_t>& obs, size_t n) {
  std::vector<double> forget = ForgettingWeights(obs.size());
  std::vector<double> p(n, kPriorWeight);
  for (size_t i = 0; i < obs.size(); ++i) p[static_cast<size_t>(obs[i])] += forget[i];
  double total = 0;
  for (double x : p) total += x;
  for (double& x : p) x /= total;
  return p;
}

class TpeTuner final : public Tuner {
 public:
  TpeTuner(SearchSpace space, const TunerOptions& options, int64_t startup, int64_t candidates, double gamma)
      : space_(std::move(space)), seed_(options.seed), maximize_(options.mode == OptimizeMode::kMaximize),
        startup_(startup), candidates_(candidates), gamma_(gamma) {}

  std::string name() const override { return "TPE"; }

  std::optional<Json> Suggest(int64_t trial_id) override {
    Rng rng(SplitMix64(seed_ ^ SplitMix64(static_cast<uint64_t>(trial_id))));
    if (static_cast<int64_t>(history_.size()) < startup_ || history_.empty()) return SampleSpace(space_, rng);

    // Split by loss (ties in observation order); each side keeps observation
    // order, which the forgetting weights depend on.
    size_t n = history_.size();
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return history_[a].loss < history_[b].loss; });
    size_t n_below = std::clamp<size_t>(static_cast<size_t>(std::ceil(gamma_ * static_cast<double>(n))), 1, n);
    std::vector<bool> is_below(n, false);
    for (size_t i = 0; i < n_below; ++i) is_below[order[i]] = true;
    Group below, above;
    for (size_t i = 0; i < n; ++i) (is_below[i] ? below : above).push_back(&history_[i].params);
    return SuggestSpace(space_, below, above, rng);
  }

  void Observe(int64_t /*trial_id*/, const Json& params, std::optional<double> value) override {
    if (!value || !std::isfinite(*value)) return;  // failed trials teach the model nothing
    history_.push_back({params, maximize_ ? -*value : *value});
  }

 private:
  struct Trial {
    Json params;
    double loss;  // lower is better
  };

  Json SuggestSpace(const SearchSpace& space, const Group& below, const Group& above, Rng& rng) const {
    Json out = Json::object();
    for (const Param& p : space.params) out[p.key] = SuggestParam(p, below, above, rng);
    return out;
  }

  Json SuggestParam(const Param& p, const Group& below, const Group& above, Rng& rng) const {
    if (p.type == ParamType::kChoice) return SuggestChoice(p, below, above, rng);
    if (p.type == ParamType::kRandint && p.high - p.low <= kMaxCategoricalRandint) {
      auto n = static_cast<size_t>(std::max<double>(1, p.high - p.low));
      auto index_of = [&](const Json& v) -> int64_t {
        if (!v.is_number()) return -1;
        double x = v.get<double>() - p.low;
        if (x < 0 || x >= static_cast<double>(n) || x != std::floor(x)) return -1;
        return static_cast<int64_t>(x);
      };
      size_t i = PickCategory(p.key, n, index_of, below, above, rng);
      return static_cast<int64_t>(p.low) + static_cast<int64_t>(i);
    }
    return SuggestNumeric(p, below, above, rng);
  }

  template <typename IndexOf>
  size_t PickCategory(const std::string& key, size_t n, IndexOf index_of, const Group& below,
                      const Group& above, Rng& rng) const {
    auto collect = [&](const Group& group) {
      std::vector<int64_t> obs;
      for (const Json* params : group) {
        const Json* v = ValueOf(params, key);
        if (v == nullptr) continue;
        int64_t i = index_of(*v);
        if (i >= 0) obs.push_back(i);
      }
      return obs;
    };
    std::vector<double> pb = CategoricalProbs(collect(below), n);
    std::vector<double> pa = CategoricalProbs(collect(above), n);
    size_t best = 0;
    double best_score = -kInf;
    for (int64_t c = 0; c < candidates_; ++c) {
      size_t i = PickWeighted(pb, rng);
      double score = std::log(pb[i]) - std::log(pa[i]);
      if (score > best_score) {
        best_score = score;
        best = i;
      }
    }
    return best;
  }

  Json SuggestChoice(const Param& p, const Group& below, const Group& above, Rng& rng) const {
    size_t i = PickCategory(p.key, p.options.size(), [&](const Json& v) { return OptionIndex(p, v); },
                            below, above, rng);
    const Json& option = p.options[i];
    if (!IsNamedOption(option) || i >= p.nested.size() || p.nested[i].params.empty()) return option;
    // Recurse with only the trials that chose this option.
    auto chose = [&](const Group& group) {
      Group out;
      for (const Json* params : group) {
        const Json* v = ValueOf(params, p.key);
        if (v != nullptr && OptionIndex(p, *v) == static_cast<int64_t>(i)) out.push_back(v);
      }
      return out;
    };
    Json out = SuggestSpace(p.nested[i], chose(below), chose(above), rng);
    out["_name"] = option["_name"];
    return out;
  }

  Json SuggestNumeric(const Param& p, const Group& below, const Group& above, Rng& rng) const {
    NumericModel d = DescribeNumeric(p);
    auto fit = [&](const Group& group) {
      std::vector<double> obs;
      for (const Json* params : group) {
        const Json* v = ValueOf(params, p.key);
        if (v == nullptr) continue;
        if (auto x = ToModelSpace(d, *v)) obs.push_back(*x);
      }
      return FitParzen(obs, d.prior_mu, d.prior_sigma, d.low, d.high);
    };
    Mixture l = fit(below);
    Mixture g = fit(above);
    double best = 0;
    double best_score = -kInf;
    for (int64_t c = 0; c < candidates_; ++c) {
      double raw = SampleMixture(l, rng);
      double v = Finish(p, d, d.log ? std::exp(raw) : raw);
      double score = ScoreNumeric(p, d, l, v) - ScoreNumeric(p, d, g, v);
      if (c == 0 || score > best_score) {
        best_score = score;
        best = v;
      }
    }
    if (d.wide_randint) return static_cast<int64_t>(best);
    return best;
  }

  // Quantization and bounds of a draw in the parameter's own units.
  static double Finish(const Param& p, const NumericModel& d, double x) {
    if (d.wide_randint) x = std::floor(x);
    else if (d.quantized) x = Quantize(p, x);
    if (d.bounded) x = std::clamp(x, d.orig_low, d.orig_high);
    return x;
  }

  SearchSpace space_;
  uint64_t seed_;
  bool maximize_;
  int64_t startup_;
  int64_t candidates_;
  double gamma_;
  std::vector<Trial> history_;
};

}  // namespace

Result<std::unique_ptr<Tuner>> NewTpeTuner(const SearchSpace& space, const TunerOptions& options) {
  const Json& args = options.args.is_null() ? Json::object() : options.args;
  if (!args.is_object()) return errors::Invalid("classArgs", "must be an object");
  // NNI 2.x nests these under tpe_args; the legacy tuner took them at the top.
  const Json& tpe_args = args.contains("tpe_args") ? args["tpe_args"] : args;
  if (!tpe_args.is_object()) return errors::Invalid("classArgs.tpe_args", "must be an object");

  int64_t startup = 20, candidates = 24;
  double gamma = 0.25;
  if (auto it = tpe_args.find("n_startup_jobs"); it != tpe_args.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return errors::Invalid("classArgs.n_startup_jobs", "must be a non-negative integer");
    }
    startup = it->get<int64_t>();
  }
  if (auto it = tpe_args.find("n_ei_candidates"); it != tpe_args.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1) {
      return errors::Invalid("classArgs.n_ei_candidates", "must be a positive integer");
    }
    candidates = it->get<int64_t>();
  }
  if (auto it = tpe_args.find("gamma"); it != tpe_args.end()) {
    if (!it->is_number() || !(it->get<double>() > 0) || it->get<double>() > 1) {
      return errors::Invalid("classArgs.gamma", "must be a number in (0, 1]");
    }
    gamma = it->get<double>();
  }
  return std::unique_ptr<Tuner>(std::make_unique<TpeTuner>(space, options, startup, candidates, gamma));
}

}  // namespace quader::hpo
