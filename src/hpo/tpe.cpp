#include "hpo/tpe.h"
#include "hpo/random.h"

// The Tree-structured Parzen Estimator (Bergstra et al. 2011) with a joint
// (multivariate) kernel at each level of the search space, in the manner of
// Optuna's TPESampler(multivariate=True), but with bandwidths that follow
// the observations' spread:
//
//  * The first n_startup_jobs suggestions (default 10) are random.
//  * After that the n finished trials are ranked by loss (ties in
//    observation order) and split into the best n_below ("below") and the
//    rest ("above"); n_below = min(ceil(0.15 n), 25) by default, or
//    ceil(gamma n) when classArgs give gamma (at least 1 either way).
//  * Each side becomes a Parzen estimator over all the parameters of one
//    level of the space at once: one product-kernel component per trial
//    plus one prior component (weight 1). Below-side components weigh the
//    same; above-side components fade linearly for the oldest trials once
//    there are more than 25 of them.
//    - Numeric parameters live in a model space (log(x) for the log types),
//      with a Gaussian per component at the trial's value, truncated to the
//      bounds. One bandwidth per side and parameter: 0.8 × Scott's rule,
//      0.8 · std · n^(-1/(d+4)) (std: the side's values' standard
//      deviation, n: its trials, d: the level's parameters), clipped to
//      [range / min(100, n + 2), range] (range = high - low in model space,
//      or the prior's sigma for the normal family). The prior component is
//      centred, with sigma = range (the normal family: its own mu, sigma).
//      q* types and wide randints are scored by the mass of their
//      quantization bin, the others by density.
//    - choice and randint (up to 100,000 values) are categorical: a
//      component puts 1 + w on its trial's category and w on every other
//      one, w = 1 / (n + 1), normalized (the prior component is uniform).
//    A trial lacking a parameter contributes that dimension's prior.
//  * n_ei_candidates (24) joint draws are taken from the below estimator
//    l(x); the one maximizing log l(x) - log g(x) is suggested.
//  * A nested choice is one categorical dimension of its level; the chosen
//    option's own space is then suggested the same way from only the trials
//    that chose it.
//
// Each suggestion draws from its own generator, seeded from the tuner's seed
// and the trial id, so a suggestion depends only on (seed, trial id, the
// observations so far): replaying stored trials rebuilds the same tuner.

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

namespace quader::hpo {
namespace {

constexpr double kPriorWeight = 1.0;                // weight of the prior component
constexpr size_t kFullWeightTrials = 25;            // newest trials that keep full weight
constexpr double kBandwidthScale = 0.8;             // times Scott's rule
constexpr double kDefaultGamma = 0.15;              // below = the best ceil(0.15 n) trials...
constexpr size_t kMaxBelow = 25;                    // ...at most 25
constexpr int64_t kMaxCategoricalRandint = 100000;  // wider randints are modelled as numbers
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLogSqrt2Pi = 0.91893853320467274178;

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

// log(Phi(b) - Phi(a)) for a < b, accurate in both tails.
double LogGaussMass(double a, double b) {
  if (!(b > a)) return -kInf;
  double mass;
  if (a > 0) {
    mass = NormalCdf(-a) - NormalCdf(-b);  // upper tail: use symmetry
  } else {
    mass = NormalCdf(b) - NormalCdf(a);
  }
  if (mass > 1e-300) return std::log(mass);
  // Both ends deep in one tail: density at the nearer end × width, roughly.
  double z = a > 0 ? a : -b;
  if (!std::isfinite(z)) return -kInf;
  return -0.5 * z * z - kLogSqrt2Pi + std::log(std::min(b - a, 1.0 / std::max(z, 1e-300)));
}

// Weights of n trials in observation order: the newest kFullWeightTrials
// weigh 1, older ones ramp linearly from 1/n up to 1.
std::vector<double> RampWeights(size_t n) {
  std::vector<double> w(n, 1.0);
  if (n <= kFullWeightTrials) return w;
  size_t ramp = n - kFullWeightTrials;
  double start = 1.0 / static_cast<double>(n);
  for (size_t i = 0; i < ramp; ++i) {
    w[i] = ramp == 1 ? start : start + (1.0 - start) * static_cast<double>(i) / static_cast<double>(ramp - 1);
  }
  return w;
}

// How a numeric parameter maps into the space its estimator lives in.
struct NumericModel {
  bool log = false;                 // model space is log(x)
  double low = -kInf, high = kInf;  // truncation, model space
  double prior_mu = 0, prior_sigma = 1;
  bool bounded = false;             // clip the result to [orig_low, orig_high]
  double orig_low = 0, orig_high = 0;
  bool quantized = false;           // a q* type: pass the draw through Quantize
  bool wide_randint = false;        // randint too wide to be categorical
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

// --- The tree walk.

// One trial at one level of nesting: its params object there, and for the
// top level its values pre-extracted (one per dimension, see Extract).
struct Row {
  const Json* params = nullptr;
  const double* flat = nullptr;  // nullptr below the top level
};
using Group = std::vector<Row>;

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

// One parameter of a level, as a dimension of the joint kernel.
struct Dim {
  const Param* param = nullptr;
  bool categorical = false;
  size_t n_categories = 0;  // categorical
  NumericModel model;       // numeric
  double width = 0;         // numeric: >0 scores by bin mass (q* types, wide randint)
};

std::vector<Dim> DescribeLevel(const SearchSpace& space) {
  std::vector<Dim> dims;
  for (const Param& p : space.params) {
    Dim d;
    d.param = &p;
    if (p.type == ParamType::kChoice) {
      d.categorical = true;
      d.n_categories = p.options.size();
    } else if (p.type == ParamType::kRandint && p.high - p.low <= kMaxCategoricalRandint) {
      d.categorical = true;
      d.n_categories = static_cast<size_t>(std::max<double>(1, p.high - p.low));
    } else {
      d.model = DescribeNumeric(p);
      d.width = d.model.wide_randint ? 1.0 : (d.model.quantized ? p.q : 0.0);
    }
    dims.push_back(std::move(d));
  }
  return dims;
}

// The category index of an observed value, or -1.
int64_t CategoryOf(const Dim& d, const Json& v) {
  const Param& p = *d.param;
  if (p.type == ParamType::kChoice) return OptionIndex(p, v);
  if (!v.is_number()) return -1;
  double x = v.get<double>() - p.low;
  if (x < 0 || x >= static_cast<double>(d.n_categories) || x != std::floor(x)) return -1;
  return static_cast<int64_t>(x);
}

// The value of dimension `d` in a params object: the category index (-1
// where missing or unknown), or the model-space value (NaN where missing or
// unusable).
double Extract(const Dim& d, const Json* params) {
  const Json* v = ValueOf(params, d.param->key);
  if (d.categorical) return v ? static_cast<double>(CategoryOf(d, *v)) : -1.0;
  std::optional<double> x = v ? ToModelSpace(d.model, *v) : std::nullopt;
  return x ? *x : std::numeric_limits<double>::quiet_NaN();
}

double ValueAt(const Dim& d, size_t j, const Row& row) { return row.flat ? row.flat[j] : Extract(d, row.params); }

// A Parzen estimator over all dimensions of a level: component c has weight
// weight[c]; per dimension, a truncated Gaussian (numeric) or a category
// kernel (categorical; cat = -1 is uniform). The prior's component is last.
struct Kernel {
  size_t n = 0;  // components
  std::vector<double> weight;  // normalized
  std::vector<double> log_weight;
  // log_weight plus the log_norm of every unquantized numeric dimension.
  std::vector<double> base;
  // An upper bound of every component's log term at any point, for LogSumExp.
  double ceiling = 0;
  // Per dimension, per component. log_norm = -log(sigma √2π) - log_accept,
  // log_accept = log of the component's mass inside the bounds.
  std::vector<std::vector<double>> mu, sigma, inv_sigma, log_norm, log_accept;
  std::vector<std::vector<int64_t>> cat;
  std::vector<double> cat_hit, cat_log_hit, cat_log_miss, cat_log_uniform;  // per dimension
};

// log_accept of a Gaussian (mu, sigma) truncated to [low, high].
double LogAccept(const NumericModel& m, double mu, double sigma) {
  if (!m.bounded) return 0.0;
  double a = (m.low - mu) / sigma, b = (m.high - mu) / sigma;
  // The mass outside, one tail at a time; a tail beyond 9 sigmas holds < 1e-18.
  double outside = (a > -9 ? NormalCdf(a) : 0.0) + (b < 9 ? NormalCdf(-b) : 0.0);
  if (outside < 0.5) return std::log1p(-outside);
  return LogGaussMass(a, b);
}

// `trial_weights` has one entry per trial of `group`.
Kernel FitKernel(const std::vector<Dim>& dims, const Group& group, const std::vector<double>& trial_weights) {
  Kernel k;
  size_t n_obs = group.size();
  k.n = n_obs + 1;
  k.weight.assign(k.n, 0.0);
  double total = 0;
  for (size_t i = 0; i < n_obs; ++i) total += k.weight[i] = trial_weights[i];
  total += k.weight[n_obs] = kPriorWeight;
  k.log_weight.resize(k.n);
  for (size_t c = 0; c < k.n; ++c) {
    k.weight[c] /= total;
    k.log_weight[c] = std::log(std::max(k.weight[c], 1e-300));
  }
  size_t nd = dims.size();
  k.mu.resize(nd);
  k.sigma.resize(nd);
  k.inv_sigma.resize(nd);
  k.log_norm.resize(nd);
  k.log_accept.resize(nd);
  k.cat.resize(nd);
  k.cat_hit.assign(nd, 0);
  k.cat_log_hit.assign(nd, 0);
  k.cat_log_miss.assign(nd, 0);
  k.cat_log_uniform.assign(nd, 0);
  double n_eff = static_cast<double>(std::max<size_t>(n_obs, 1));
  // Scott's rule for a d-dimensional product kernel, scaled down.
  double scott = kBandwidthScale * std::pow(n_eff, -1.0 / (static_cast<double>(nd) + 4.0));
  std::vector<double> values(n_obs);
  std::vector<char> has(n_obs);
  for (size_t j = 0; j < nd; ++j) {
    const Dim& d = dims[j];
    if (d.categorical) {
      auto& cat = k.cat[j];
      cat.assign(k.n, -1);
      for (size_t i = 0; i < n_obs; ++i) {
        cat[i] = static_cast<int64_t>(ValueAt(d, j, group[i]));
      }
      double kc = static_cast<double>(d.n_categories);
      double w = kPriorWeight / (static_cast<double>(n_obs) + 1.0);
      k.cat_hit[j] = (1.0 + w) / (1.0 + kc * w);
      k.cat_log_hit[j] = std::log(k.cat_hit[j]);
      k.cat_log_miss[j] = std::log(w / (1.0 + kc * w));
      k.cat_log_uniform[j] = -std::log(kc);
      continue;
    }
    const NumericModel& m = d.model;
    double s1 = 0, s2 = 0, count = 0;
    for (size_t i = 0; i < n_obs; ++i) {
      double x = ValueAt(d, j, group[i]);
      has[i] = !std::isnan(x);
      if (!has[i]) continue;
      values[i] = std::clamp(x, m.low, m.high);
      s1 += values[i];
      s2 += values[i] * values[i];
      count += 1;
    }
    // The bandwidth: Scott's rule on the observations' spread, between
    // range / min(100, n + 2) and range.
    double range = m.bounded ? m.high - m.low : m.prior_sigma;
    double spread = range;
    if (count >= 2) {
      double mean = s1 / count;
      spread = std::min(range, std::sqrt(std::max(0.0, s2 / count - mean * mean)));
    }
    double min_sigma = range / std::min(100.0, static_cast<double>(n_obs) + 2.0);
    double bandwidth = std::clamp(scott * spread, min_sigma, range);
    double log_bandwidth = std::log(bandwidth);

    auto& mu = k.mu[j];
    auto& sigma = k.sigma[j];
    auto& inv_sigma = k.inv_sigma[j];
    auto& log_norm = k.log_norm[j];
    auto& log_accept = k.log_accept[j];
    mu.assign(k.n, m.prior_mu);
    sigma.assign(k.n, m.prior_sigma);
    inv_sigma.resize(k.n);
    log_norm.resize(k.n);
    log_accept.resize(k.n);
    // A trial lacking the parameter keeps the prior in this dimension.
    for (size_t c = 0; c < k.n; ++c) {
      bool observed = c < n_obs && has[c];
      if (observed) {
        mu[c] = values[c];
        sigma[c] = bandwidth;
      }
      inv_sigma[c] = 1.0 / sigma[c];
      log_accept[c] = LogAccept(m, mu[c], sigma[c]);
      log_norm[c] = -(observed ? log_bandwidth : std::log(sigma[c])) - kLogSqrt2Pi - log_accept[c];
    }
  }
  k.base = k.log_weight;
  std::vector<double> bound = k.log_weight;  // a bin's term is at most -log_accept
  for (size_t j = 0; j < nd; ++j) {
    if (dims[j].categorical) continue;
    for (size_t c = 0; c < k.n; ++c) {
      if (dims[j].width > 0) bound[c] -= k.log_accept[j][c];
      else k.base[c] += k.log_norm[j][c], bound[c] += k.log_norm[j][c];
    }
  }
  k.ceiling = -kInf;
  for (double b : bound) k.ceiling = std::max(k.ceiling, b);
  return k;
}

// exp(x) for -700 <= x <= 0: Cody-Waite reduction and a degree-10
// Taylor polynomial, branch-free so the loops using it vectorize; relative
// error below 1e-12.
inline double ExpNonPositive(double x) {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kShift = 0x1.8p52;  // adding it rounds to an integer kept in the low bits
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  double t = x * kLog2e + kShift;
  double kf = t - kShift;
  double r = (x - kf * kLn2Hi) - kf * kLn2Lo;  // |r| <= ln2 / 2
  double p = 1.0 / 3628800;
  p = p * r + 1.0 / 362880;
  p = p * r + 1.0 / 40320;
  p = p * r + 1.0 / 5040;
  p = p * r + 1.0 / 720;
  p = p * r + 1.0 / 120;
  p = p * r + 1.0 / 24;
  p = p * r + 1.0 / 6;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  uint64_t k = std::bit_cast<uint64_t>(t) - std::bit_cast<uint64_t>(kShift);  // two's complement of the integer
  return p * std::bit_cast<double>((k + 1023) << 52);
}

// The hot loops, also compiled for AVX2 where the CPU has it (chosen at
// load time; no FMA, so every CPU computes the same numbers).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define TPE_HOT_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define TPE_HOT_LOOP
#endif

// acc[c] -= ((x - mu[c]) inv_sigma[c])² / 2
TPE_HOT_LOOP void SubtractHalfSquares(double* acc, const double* mu, const double* inv_sigma, double x, size_t n) {
  for (size_t c = 0; c < n; ++c) {
    double z = (x - mu[c]) * inv_sigma[c];
    acc[c] -= 0.5 * z * z;
  }
}

// out[c] = exp(max(in[c] - shift, -700)), for in[c] <= shift.
TPE_HOT_LOOP void ShiftedExp(const double* in, double* out, double shift, size_t n) {
  // Two passes: a clamp in the same loop as the polynomial stops GCC vectorizing it.
  for (size_t i = 0; i < n; ++i) {
    double d = in[i] - shift;
    out[i] = d < -700.0 ? -700.0 : d;
  }
  for (size_t i = 0; i < n; ++i) out[i] = ExpNonPositive(out[i]);
}

// log Σ exp(terms), given an upper bound of the terms; `scratch` is reused.
double LogSumExp(const std::vector<double>& terms, double ceiling, std::vector<double>& scratch) {
  size_t n = terms.size();
  scratch.resize(n);
  double shift = ceiling;
  for (int pass = 0; pass < 2; ++pass) {
    ShiftedExp(terms.data(), scratch.data(), shift, n);
    double sum = 0;
    for (double t : scratch) sum += t;
    if (sum > 1e-250) return shift + std::log(sum);
    // Every term far below the bound: shift by the largest instead.
    shift = -kInf;
    for (double t : terms) shift = std::max(shift, t);
    if (!std::isfinite(shift)) return shift;
  }
  return -kInf;
}

// A candidate: per dimension, the model-space value (numeric) or category.
struct Point {
  std::vector<double> x;        // numeric: the finished value in model space
  std::vector<double> lb, ub;   // numeric with width: the bin, model space
  std::vector<int64_t> cat;     // categorical
  std::vector<double> value;    // numeric: the finished value in the parameter's units
};

// log of the estimator's density (or bin mass) at a point.
double LogDensity(const Kernel& k, const std::vector<Dim>& dims, const Point& pt, std::vector<double>& acc,
                  std::vector<double>& scratch) {
  acc = k.base;
  for (size_t j = 0; j < dims.size(); ++j) {
    const Dim& d = dims[j];
    if (d.categorical) {
      int64_t x = pt.cat[j];
      const auto& cat = k.cat[j];
      double hit = k.cat_log_hit[j], miss = k.cat_log_miss[j], uni = k.cat_log_uniform[j];
      for (size_t c = 0; c < k.n; ++c) acc[c] += cat[c] < 0 ? uni : (cat[c] == x ? hit : miss);
      continue;
    }
    const auto& mu = k.mu[j];
    const auto& inv_sigma = k.inv_sigma[j];
    if (d.width <= 0) {
      SubtractHalfSquares(acc.data(), mu.data(), inv_sigma.data(), pt.x[j], k.n);  // log_norm is in base
    } else {
      const auto& log_accept = k.log_accept[j];
      double lb = pt.lb[j], ub = pt.ub[j];
      for (size_t c = 0; c < k.n; ++c) {
        double mass = LogGaussMass((lb - mu[c]) * inv_sigma[c], (ub - mu[c]) * inv_sigma[c]);
        acc[c] += mass - log_accept[c];
      }
    }
  }
  return LogSumExp(acc, k.ceiling, scratch);
}

class TpeTuner final : public Tuner {
 public:
  TpeTuner(SearchSpace space, const TunerOptions& options, int64_t startup, int64_t candidates,
           std::optional<double> gamma)
      : space_(std::move(space)), seed_(options.seed), maximize_(options.mode == OptimizeMode::kMaximize),
        startup_(startup), candidates_(candidates), gamma_(gamma), top_dims_(DescribeLevel(space_)) {}
  TpeTuner(const TpeTuner&) = delete;  // top_dims_ points into space_
  TpeTuner& operator=(const TpeTuner&) = delete;

  std::string name() const override { return "TPE"; }

  std::optional<Json> Suggest(int64_t trial_id) override {
    Rng rng(SplitMix64(seed_ ^ SplitMix64(static_cast<uint64_t>(trial_id))));
    if (static_cast<int64_t>(history_.size()) < startup_ || history_.empty()) return SampleSpace(space_, rng);

    // Split by loss (ties in observation order); each side keeps observation
    // order, which the above side's weights depend on.
    size_t n = history_.size();
    size_t n_below;
    double nd = static_cast<double>(n);
    if (gamma_) {
      n_below = static_cast<size_t>(std::ceil(*gamma_ * nd));
    } else {
      n_below = std::min(static_cast<size_t>(std::ceil(kDefaultGamma * nd)), kMaxBelow);
    }
    n_below = std::clamp<size_t>(n_below, 1, n);
    std::vector<bool> is_below(n, false);
    for (size_t i = 0; i < n_below; ++i) is_below[ranked_[i]] = true;
    Group below, above;
    for (size_t i = 0; i < n; ++i) {
      (is_below[i] ? below : above).push_back({&history_[i].params, history_[i].flat.data()});
    }
    return SuggestSpace(top_dims_, below, above, rng);
  }

  void Observe(int64_t /*trial_id*/, const Json& params, std::optional<double> value) override {
    if (!value || !std::isfinite(*value)) return;  // failed trials teach the model nothing
    double loss = maximize_ ? -*value : *value;
    // Keep ranked_ sorted by loss, a tie after the trials observed before it.
    auto at = std::upper_bound(ranked_.begin(), ranked_.end(), loss,
                               [&](double l, size_t i) { return l < history_[i].loss; });
    ranked_.insert(at, history_.size());
    std::vector<double> flat(top_dims_.size());
    for (size_t j = 0; j < top_dims_.size(); ++j) flat[j] = Extract(top_dims_[j], &params);
    history_.push_back({params, loss, std::move(flat)});
  }

 private:
  struct Trial {
    Json params;
    double loss;                // lower is better
    std::vector<double> flat;   // the top level's values (Extract)
  };

  // Suggests every parameter of one level (`dims`) jointly; `below` and
  // `above` are the trials at this level, in observation order.
  Json SuggestSpace(const std::vector<Dim>& dims, const Group& below, const Group& above, Rng& rng) const {
    size_t nd = dims.size();
    Kernel l = FitKernel(dims, below, std::vector<double>(below.size(), 1.0));
    Kernel g = FitKernel(dims, above, RampWeights(above.size()));

    Point best, pt;
    double best_score = -kInf;
    pt.x.assign(nd, 0);
    pt.lb.assign(nd, 0);
    pt.ub.assign(nd, 0);
    pt.cat.assign(nd, -1);
    pt.value.assign(nd, 0);
    std::vector<double> acc, scratch;
    for (int64_t c = 0; c < candidates_; ++c) {
      size_t comp = PickWeighted(l.weight, rng);
      for (size_t j = 0; j < nd; ++j) Draw(dims[j], l, j, comp, pt, rng);
      double score = LogDensity(l, dims, pt, acc, scratch) - LogDensity(g, dims, pt, acc, scratch);
      if (c == 0 || score > best_score) {
        best_score = score;
        best = pt;
      }
    }

    Json out = Json::object();
    for (size_t j = 0; j < nd; ++j) {
      const Dim& d = dims[j];
      const Param& p = *d.param;
      if (!d.categorical) {
        if (d.model.wide_randint) out[p.key] = static_cast<int64_t>(best.value[j]);
        else out[p.key] = best.value[j];
        continue;
      }
      size_t i = static_cast<size_t>(best.cat[j]);
      if (p.type == ParamType::kRandint) {
        out[p.key] = static_cast<int64_t>(p.low) + static_cast<int64_t>(i);
        continue;
      }
      const Json& option = p.options[i];
      if (!IsNamedOption(option) || i >= p.nested.size() || p.nested[i].params.empty()) {
        out[p.key] = option;
        continue;
      }
      // Recurse with only the trials that chose this option.
      auto chose = [&](const Group& group) {
        Group sub;
        for (const Row& row : group) {
          const Json* v = ValueOf(row.params, p.key);
          if (v != nullptr && OptionIndex(p, *v) == static_cast<int64_t>(i)) sub.push_back({v, nullptr});
        }
        return sub;
      };
      Json nested = SuggestSpace(DescribeLevel(p.nested[i]), chose(below), chose(above), rng);
      nested["_name"] = option["_name"];
      out[p.key] = std::move(nested);
    }
    return out;
  }

  // Draws dimension j of component `comp` of `k` into `pt`.
  static void Draw(const Dim& d, const Kernel& k, size_t j, size_t comp, Point& pt, Rng& rng) {
    if (d.categorical) {
      int64_t obs = k.cat[j][comp];
      size_t n = d.n_categories;
      if (obs < 0 || n == 1) {
        pt.cat[j] = static_cast<int64_t>(std::min<size_t>(static_cast<size_t>(Uniform01(rng) * static_cast<double>(n)), n - 1));
        return;
      }
      // The observed category with probability hit, else one of the others.
      if (Uniform01(rng) < k.cat_hit[j]) {
        pt.cat[j] = obs;
      } else {
        auto other = std::min<size_t>(static_cast<size_t>(Uniform01(rng) * static_cast<double>(n - 1)), n - 2);
        pt.cat[j] = static_cast<int64_t>(other >= static_cast<size_t>(obs) ? other + 1 : other);
      }
      return;
    }
    const NumericModel& m = d.model;
    double mu = k.mu[j][comp], sigma = k.sigma[j][comp];
    double x = mu;
    bool inside = false;
    for (int attempt = 0; attempt < 1000 && !inside; ++attempt) {
      x = mu + sigma * StdNormal(rng);
      inside = x >= m.low && x <= m.high;
    }
    if (!inside) x = std::clamp(x, m.low, m.high);
    double v = Finish(*d.param, m, m.log ? std::exp(x) : x);
    pt.value[j] = v;
    if (d.width <= 0) {
      pt.x[j] = m.log ? std::log(v) : v;
      return;
    }
    // The bin of v, in model space.
    const Param& p = *d.param;
    double lb = m.wide_randint ? v : v - d.width / 2;
    double ub = m.wide_randint ? v + 1 : v + d.width / 2;
    if (m.bounded) {
      lb = std::max(lb, m.orig_low);
      ub = std::min(ub, m.wide_randint ? p.high : m.orig_high);
    }
    if (m.log) {
      lb = lb > 0 ? std::log(lb) : -kInf;
      ub = ub > 0 ? std::log(ub) : -kInf;
    }
    pt.lb[j] = lb;
    pt.ub[j] = ub;
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
  std::optional<double> gamma_;  // nullopt: min(ceil(0.15 n), 25)
  std::vector<Dim> top_dims_;    // the top level of space_
  std::vector<Trial> history_;  // finished trials, in observation order
  std::vector<size_t> ranked_;  // indices into history_, best loss first
};

}  // namespace

Result<std::unique_ptr<Tuner>> NewTpeTuner(const SearchSpace& space, const TunerOptions& options) {
  const Json& args = options.args.is_null() ? Json::object() : options.args;
  if (!args.is_object()) return errors::Invalid("classArgs", "must be an object");
  // NNI 2.x nests these under tpe_args; the legacy tuner took them at the top.
  const Json& tpe_args = args.contains("tpe_args") ? args["tpe_args"] : args;
  if (!tpe_args.is_object()) return errors::Invalid("classArgs.tpe_args", "must be an object");

  int64_t startup = 10, candidates = 24;
  std::optional<double> gamma;
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
