#include "hpo/random_tuners.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <limits>
#include <set>
#include <utility>
#include <vector>

namespace quader::hpo {
namespace {

double Unit(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double StdNormal(Rng& rng) {
  double u1 = std::max(Unit(rng), 1e-300);
  double u2 = Unit(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

size_t Index(Rng& rng, size_t n) { return std::min(static_cast<size_t>(Unit(rng) * static_cast<double>(n)), n - 1); }

// Higher is better inside every tuner.
double Score(OptimizeMode mode, double value) { return mode == OptimizeMode::kMinimize ? -value : value; }

// The option of `p` that `value` took: equal scalars, or the nested option
// with the same _name. -1 when none matches.
int FindOption(const Param& p, const Json& value) {
  for (size_t i = 0; i < p.options.size(); ++i) {
    const Json& o = p.options[i];
    if (o.is_object()) {
      if (value.is_object() && value.contains("_name") && value["_name"] == o["_name"]) return static_cast<int>(i);
    } else if (o == value) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

Json PerturbSpace(const SearchSpace& space, const Json& base, double shrink, Rng& rng);

// A draw near `value` (hyperopt's anneal): ranges narrowed to `shrink` of
// their width around the value, normal spreads scaled by `shrink`, and choices
// kept with probability 1 - shrink.
Json Perturb(const Param& p, const Json& value, double shrink, Rng& rng) {
  if (p.type == ParamType::kChoice) {
    int old = FindOption(p, value);
    if (old < 0) return SampleParam(p, rng);
    size_t pick = Unit(rng) < shrink ? Index(rng, p.options.size()) : static_cast<size_t>(old);
    if (!p.options[pick].is_object()) return p.options[pick];
    Json out = pick == static_cast<size_t>(old) ? PerturbSpace(p.nested[pick], value, shrink, rng)
                                                 : SampleSpace(p.nested[pick], rng);
    out["_name"] = p.options[pick]["_name"];
    return out;
  }
  if (!value.is_number()) return SampleParam(p, rng);
  double v = value.get<double>();
  switch (p.type) {
    case ParamType::kRandint: {
      double w = (p.high - p.low) * shrink, c = v + 0.5;
      double lo = std::max(p.low, c - w / 2), hi = std::min(p.high, c + w / 2);
      return static_cast<int64_t>(Quantize(p, lo + Unit(rng) * (hi - lo)));
    }
    case ParamType::kUniform:
    case ParamType::kQuniform: {
      double w = (p.high - p.low) * shrink;
      double lo = std::max(p.low, v - w / 2), hi = std::min(p.high, v + w / 2);
      return Quantize(p, lo + Unit(rng) * (hi - lo));
    }
    case ParamType::kLoguniform:
    case ParamType::kQloguniform: {
      double L = std::log(p.low), H = std::log(p.high);
      double c = std::log(std::clamp(v, p.low, p.high)), w = (H - L) * shrink;
      double lo = std::max(L, c - w / 2), hi = std::min(H, c + w / 2);
      return Quantize(p, std::clamp(std::exp(lo + Unit(rng) * (hi - lo)), p.low, p.high));
    }
    case ParamType::kNormal:
    case ParamType::kQnormal:
      return Quantize(p, v + p.sigma * shrink * StdNormal(rng));
    case ParamType::kLognormal:
    case ParamType::kQlognormal: {
      double c = v > 0 ? std::log(v) : p.mu;
      return Quantize(p, std::exp(c + p.sigma * shrink * StdNormal(rng)));
    }
    case ParamType::kChoice:
      break;
  }
  return SampleParam(p, rng);
}

Json PerturbSpace(const SearchSpace& space, const Json& base, double shrink, Rng& rng) {
  Json out = Json::object();
  for (const Param& p : space.params) {
    if (base.is_object() && base.contains(p.key)) {
      out[p.key] = Perturb(p, base[p.key], shrink, rng);
    } else {
      out[p.key] = SampleParam(p, rng);
    }
  }
  return out;
}

struct Observed {
  double score;  // higher is better
  Json params;
};

class RandomTuner : public Tuner {
 public:
  RandomTuner(SearchSpace space, uint64_t seed) : space_(std::move(space)), rng_(seed) {}
  std::string name() const override { return "Random"; }
  std::optional<Json> Suggest(int64_t) override { return SampleSpace(space_, rng_); }
  void Observe(int64_t, const Json&, std::optional<double>) override {}

 private:
  SearchSpace space_;
  Rng rng_;
};

// Walks an index space in order, skipping parameter sets already tried
// (suggested, or replayed through Observe after a restart).
class EnumeratingTuner : public Tuner {
 public:
  std::optional<Json> Suggest(int64_t) override {
    while (cursor_ < total_) {
      Json params = At(cursor_++);
      if (seen_.insert(params.dump()).second) return params;
    }
    return std::nullopt;
  }
  void Observe(int64_t, const Json& params, std::optional<double>) override { seen_.insert(params.dump()); }
  void Resumed(int64_t, const Json& params) override { seen_.insert(params.dump()); }

 protected:
  virtual Json At(uint64_t index) const = 0;
  uint64_t total_ = 0;

 private:
  uint64_t cursor_ = 0;
  std::set<std::string> seen_;
};

class GridSearchTuner : public EnumeratingTuner {
 public:
  // Each param's grid: choice options, randint low..high-1, and for quniform
  // every value its draw can take: clip(k * q, low, high) for
  // k = round(low / q) .. round(high / q).
  static Result<std::unique_ptr<Tuner>> New(const SearchSpace& space) {
    auto t = std::unique_ptr<GridSearchTuner>(new GridSearchTuner);
    t->space_ = space;
    t->total_ = 1;
    for (const Param& p : space.params) {
      std::vector<Json> values;
      uint64_t n = 0;
      if (p.type == ParamType::kChoice) {
        values = p.options;
        n = values.size();
      } else if (p.type == ParamType::kRandint) {
        n = static_cast<uint64_t>(p.high - p.low);
      } else {  // quniform (MakeTuner has checked the types)
        double kmin = std::nearbyint(p.low / p.q), kmax = std::nearbyint(p.high / p.q);
        if (kmax - kmin > 1e6) return errors::Invalid(p.key, "too many grid points for GridSearch");
        for (double k = kmin; k <= kmax; k += 1) {
          Json v = std::clamp(k * p.q, p.low, p.high);
          if (values.empty() || values.back() != v) values.push_back(v);
        }
        n = values.size();
      }
      t->values_.push_back(std::move(values));
      t->counts_.push_back(n);
      if (t->total_ > std::numeric_limits<uint64_t>::max() / n) {
        t->total_ = std::numeric_limits<uint64_t>::max();
      } else if (t->total_ != std::numeric_limits<uint64_t>::max()) {
        t->total_ *= n;
      }
    }
    return std::unique_ptr<Tuner>(std::move(t));
  }
  std::string name() const override { return "GridSearch"; }

 protected:
  // Mixed radix with the last key (in key order) varying fastest.
  Json At(uint64_t index) const override {
    Json out = Json::object();
    for (size_t i = space_.params.size(); i-- > 0;) {
      const Param& p = space_.params[i];
      uint64_t digit = index % counts_[i];
      index /= counts_[i];
      if (p.type == ParamType::kRandint) {
        out[p.key] = static_cast<int64_t>(p.low) + static_cast<int64_t>(digit);
      } else {
        out[p.key] = values_[i][digit];
      }
    }
    return out;
  }

 private:
  GridSearchTuner() = default;
  SearchSpace space_;
  std::vector<std::vector<Json>> values_;
  std::vector<uint64_t> counts_;
};

class BatchTuner : public EnumeratingTuner {
 public:
  explicit BatchTuner(const Param& p) : param_(p) { total_ = p.options.size(); }
  std::string name() const override { return "BatchTuner"; }

 protected:
  Json At(uint64_t index) const override { return Json{{param_.key, param_.options[index]}}; }

 private:
  Param param_;
};

class AnnealTuner : public Tuner {
 public:
  AnnealTuner(SearchSpace space, const TunerOptions& o) : space_(std::move(space)), rng_(o.seed), mode_(o.mode) {}
  std::string name() const override { return "Anneal"; }

  // hyperopt's anneal: start from a good past trial (rank drawn from a
  // geometric distribution with mean 2 over trials sorted best first) and
  // sample around it with spread 1 / (1 + 0.1 * observed trials).
  std::optional<Json> Suggest(int64_t) override {
    if (history_.empty()) return SampleSpace(space_, rng_);
    std::vector<size_t> order(history_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return history_[a].score > history_[b].score; });
    size_t rank = 0;
    while (rank + 1 < order.size() && Unit(rng_) >= 1.0 / kAvgBestIdx) ++rank;
    double shrink = 1.0 / (1.0 + kShrinkCoef * static_cast<double>(history_.size()));
    return PerturbSpace(space_, history_[order[rank]].params, shrink, rng_);
  }
  void Observe(int64_t, const Json& params, std::optional<double> value) override {
    if (!value || !std::isfinite(*value)) return;
    history_.push_back({Score(mode_, *value), params});
  }

 private:
  static constexpr double kAvgBestIdx = 2.0;
  static constexpr double kShrinkCoef = 0.1;
  SearchSpace space_;
  Rng rng_;
  OptimizeMode mode_;
  std::vector<Observed> history_;
};

class EvolutionTuner : public Tuner {
 public:
  EvolutionTuner(SearchSpace space, const TunerOptions& o, size_t population_size)
      : space_(std::move(space)), rng_(o.seed), mode_(o.mode), population_size_(population_size) {}
  std::string name() const override { return "Evolution"; }

  // NNI's evolution: a random initial population, then each new trial is a
  // mutation of the winner of a tournament drawn from the population; once
  // the population is over size, the tournament's loser dies.
  std::optional<Json> Suggest(int64_t trial_id) override {
    bool initial = trials_.size() < population_size_;
    trials_.insert(trial_id);
    if (initial || population_.size() < 2 || space_.params.empty()) return SampleSpace(space_, rng_);
    size_t k = std::min(population_.size(), std::max<size_t>(2, population_size_ / 8));
    std::vector<size_t> idx(population_.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    for (size_t i = 0; i < k; ++i) std::swap(idx[i], idx[i + Index(rng_, idx.size() - i)]);
    size_t best = idx[0], worst = idx[0];
    for (size_t i = 1; i < k; ++i) {
      if (population_[idx[i]].score > population_[best].score) best = idx[i];
      if (population_[idx[i]].score < population_[worst].score) worst = idx[i];
    }
    Json child = population_[best].params;
    const Param& p = space_.params[Index(rng_, space_.params.size())];
    // Mutate one parameter: half the time a fresh draw (NNI), otherwise a
    // local step around the parent's value.
    child[p.key] = Unit(rng_) < 0.5 || !child.contains(p.key) ? SampleParam(p, rng_)
                                                              : Perturb(p, child[p.key], kLocalSpread, rng_);
    if (population_.size() > population_size_) population_.erase(population_.begin() + static_cast<ptrdiff_t>(worst));
    return child;
  }
  void Observe(int64_t trial_id, const Json& params, std::optional<double> value) override {
    trials_.insert(trial_id);  // a replayed trial counts toward the initial population
    if (!value || !std::isfinite(*value)) return;
    population_.push_back({Score(mode_, *value), params});
  }

 private:
  static constexpr double kLocalSpread = 0.2;
  SearchSpace space_;
  Rng rng_;
  OptimizeMode mode_;
  size_t population_size_;
  std::set<int64_t> trials_;  // every trial suggested or replayed
  std::vector<Observed> population_;
};

}  // namespace

Result<std::unique_ptr<Tuner>> NewRandomTuner(const SearchSpace& space, const TunerOptions& options) {
  return std::unique_ptr<Tuner>(new RandomTuner(space, options.seed));
}

Result<std::unique_ptr<Tuner>> NewGridSearchTuner(const SearchSpace& space, const TunerOptions&) {
  for (const Param& p : space.params) {
    if (p.type != ParamType::kChoice && p.type != ParamType::kRandint && p.type != ParamType::kQuniform)
      return errors::Invalid(p.key, std::string("GridSearch does not support ") + ParamTypeName(p.type));
  }
  return GridSearchTuner::New(space);
}

Result<std::unique_ptr<Tuner>> NewBatchTuner(const SearchSpace& space, const TunerOptions&) {
  if (space.params.size() != 1 || space.params[0].type != ParamType::kChoice)
    return errors::Invalid("search space", "BatchTuner needs exactly one key, of type choice (NNI: combine_params)");
  return std::unique_ptr<Tuner>(new BatchTuner(space.params[0]));
}

Result<std::unique_ptr<Tuner>> NewAnnealTuner(const SearchSpace& space, const TunerOptions& options) {
  return std::unique_ptr<Tuner>(new AnnealTuner(space, options));
}

Result<std::unique_ptr<Tuner>> NewEvolutionTuner(const SearchSpace& space, const TunerOptions& options) {
  int64_t population_size = 32;
  if (auto it = options.args.find("population_size"); options.args.is_object() && it != options.args.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1)
      return errors::Invalid("args.population_size", "must be a positive integer");
    population_size = it->get<int64_t>();
  }
  return std::unique_ptr<Tuner>(new EvolutionTuner(space, options, static_cast<size_t>(population_size)));
}

}  // namespace quader::hpo
