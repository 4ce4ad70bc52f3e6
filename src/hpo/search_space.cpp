#include "hpo/search_space.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace quader::hpo {
namespace {

struct TypeInfo {
  const char* name;
  ParamType type;
  const char* shape;  // how _value must look, for error messages
  size_t arity;       // 0: any non-empty list (choice)
};

constexpr TypeInfo kTypes[] = {
    {"choice", ParamType::kChoice, "[option, ...]", 0},
    {"randint", ParamType::kRandint, "[low, high]", 2},
    {"uniform", ParamType::kUniform, "[low, high]", 2},
    {"quniform", ParamType::kQuniform, "[low, high, q]", 3},
    {"loguniform", ParamType::kLoguniform, "[low, high]", 2},
    {"qloguniform", ParamType::kQloguniform, "[low, high, q]", 3},
    {"normal", ParamType::kNormal, "[mu, sigma]", 2},
    {"qnormal", ParamType::kQnormal, "[mu, sigma, q]", 3},
    {"lognormal", ParamType::kLognormal, "[mu, sigma]", 2},
    {"qlognormal", ParamType::kQlognormal, "[mu, sigma, q]", 3},
};

const TypeInfo& InfoOf(ParamType t) {
  for (const TypeInfo& i : kTypes)
    if (i.type == t) return i;
  return kTypes[0];
}

bool IsLowHigh(ParamType t) {
  return t == ParamType::kRandint || t == ParamType::kUniform || t == ParamType::kQuniform ||
         t == ParamType::kLoguniform || t == ParamType::kQloguniform;
}
bool IsLog(ParamType t) { return t == ParamType::kLoguniform || t == ParamType::kQloguniform; }

// Uniform double in [0, 1) from 53 random bits: the same on every platform,
// unlike std::uniform_real_distribution.
double Unit(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double StdNormal(Rng& rng) {  // Box-Muller, one value per call.
  double u1 = Unit(rng);
  double u2 = Unit(rng);
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

Result<SearchSpace> ParseSpace(const Json& space, const std::string& prefix);

Result<Param> ParseParam(const std::string& key, const Json& spec, const std::string& path) {
  if (!spec.is_object()) return errors::Invalid(path, "must be an object with _type and _value");
  auto type_it = spec.find("_type");
  if (type_it == spec.end() || !type_it->is_string()) return errors::Invalid(path, "missing _type");
  const std::string type_name = type_it->get<std::string>();
  const TypeInfo* info = nullptr;
  for (const TypeInfo& i : kTypes)
    if (type_name == i.name) info = &i;
  if (info == nullptr) return errors::Invalid(path, "unknown _type \"" + type_name + "\"");
  auto value_it = spec.find("_value");
  if (value_it == spec.end() || !value_it->is_array())
    return errors::Invalid(path, std::string(info->name) + " needs _value " + info->shape);
  const Json& v = *value_it;

  Param p;
  p.key = key;
  p.type = info->type;
  if (p.type == ParamType::kChoice) {
    if (v.empty()) return errors::Invalid(path, "choice needs at least one option");
    for (size_t i = 0; i < v.size(); ++i) {
      const Json& opt = v[i];
      SearchSpace nested;
      if (opt.is_object()) {
        std::string opt_path = path + "[" + std::to_string(i) + "]";
        auto name_it = opt.find("_name");
        if (name_it == opt.end()) return errors::Invalid(opt_path, "nested option needs a _name");
        Json rest = opt;
        rest.erase("_name");
        QUADER_ASSIGN_OR_RETURN(nested, ParseSpace(rest, opt_path + "."));
      }
      p.options.push_back(opt);
      p.nested.push_back(std::move(nested));
    }
    return p;
  }

  if (v.size() != info->arity)
    return errors::Invalid(path, std::string(info->name) + " needs " + info->shape + ", got " +
                                     std::to_string(v.size()) + " values");
  for (const Json& x : v)
    if (!x.is_number()) return errors::Invalid(path, std::string(info->name) + " needs numbers in " + info->shape);
  if (IsLowHigh(p.type)) {
    p.low = v[0].get<double>();
    p.high = v[1].get<double>();
    if (!(p.low < p.high))
      return errors::Invalid(path, std::string(info->name) + " needs [low, high] with low < high");
    if (p.type == ParamType::kRandint && (p.low != std::floor(p.low) || p.high != std::floor(p.high)))
      return errors::Invalid(path, "randint needs integer low and high");
    // Values are integers (int64): bounds past 2^53 are not exact as doubles
    // and past 2^63 not integers of any kind (found by fuzz/search_space).
    constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53
    if (p.type == ParamType::kRandint && (std::fabs(p.low) > kMaxExactInteger || std::fabs(p.high) > kMaxExactInteger))
      return errors::Invalid(path, "randint bounds must be within ±2^53 (9007199254740992)");
    if (IsLog(p.type) && p.low <= 0)
      return errors::Invalid(path, std::string(info->name) + " needs low > 0");
  } else {
    p.mu = v[0].get<double>();
    p.sigma = v[1].get<double>();
    if (!(p.sigma > 0)) return errors::Invalid(path, std::string(info->name) + " needs sigma > 0");
  }
  if (info->arity == 3) {
    p.q = v[2].get<double>();
    if (!(p.q > 0)) return errors::Invalid(path, std::string(info->name) + " needs q > 0");
  }
  return p;
}

Result<SearchSpace> ParseSpace(const Json& space, const std::string& prefix) {
  if (!space.is_object()) {
    std::string where = prefix.empty() ? "search space" : prefix.substr(0, prefix.size() - 1);
    return errors::Invalid(where, "must be an object");
  }
  SearchSpace out;
  for (auto it = space.begin(); it != space.end(); ++it) {
    QUADER_ASSIGN_OR_RETURN(Param p, ParseParam(it.key(), it.value(), prefix + it.key()));
    out.params.push_back(std::move(p));
  }
  std::sort(out.params.begin(), out.params.end(),
            [](const Param& a, const Param& b) { return a.key < b.key; });
  return out;
}

void CollectTypes(const SearchSpace& s, std::vector<ParamType>* out) {
  for (const Param& p : s.params) {
    if (std::find(out->begin(), out->end(), p.type) == out->end()) out->push_back(p.type);
    for (const SearchSpace& n : p.nested) CollectTypes(n, out);
  }
}

}  // namespace

const char* ParamTypeName(ParamType t) { return InfoOf(t).name; }

bool Param::is_nested() const {
  if (type != ParamType::kChoice) return false;
  for (const Json& o : options)
    if (o.is_object()) return true;
  return false;
}

std::vector<ParamType> SearchSpace::types() const {
  std::vector<ParamType> out;
  CollectTypes(*this, &out);
  return out;
}

bool SearchSpace::has_nested_choice() const {
  for (const Param& p : params) {
    if (p.is_nested()) return true;
  }
  return false;
}

Result<SearchSpace> ParseSearchSpace(const Json& space) { return ParseSpace(space, ""); }

double Quantize(const Param& p, double raw) {
  switch (p.type) {
    case ParamType::kRandint:
      return std::clamp(std::floor(raw), p.low, p.high - 1);
    case ParamType::kQuniform:
    case ParamType::kQloguniform:
      // numpy's round is half-to-even, as is nearbyint in the default mode.
      return std::clamp(std::nearbyint(raw / p.q) * p.q, p.low, p.high);
    case ParamType::kQnormal:
    case ParamType::kQlognormal:
      return std::nearbyint(raw / p.q) * p.q;
    default:
      return raw;
  }
}

Json SampleParam(const Param& p, Rng& rng) {
  switch (p.type) {
    case ParamType::kChoice: {
      size_t i = static_cast<size_t>(Unit(rng) * static_cast<double>(p.options.size()));
      i = std::min(i, p.options.size() - 1);
      if (!p.options[i].is_object()) return p.options[i];
      Json out = SampleSpace(p.nested[i], rng);
      out["_name"] = p.options[i]["_name"];
      return out;
    }
    case ParamType::kRandint:
      return static_cast<int64_t>(Quantize(p, p.low + Unit(rng) * (p.high - p.low)));
    case ParamType::kUniform:
    case ParamType::kQuniform:
      return Quantize(p, p.low + Unit(rng) * (p.high - p.low));
    case ParamType::kLoguniform:
    case ParamType::kQloguniform: {
      double lo = std::log(p.low), hi = std::log(p.high);
      // exp(log(x)) can land a hair outside [low, high]; clip like NNI's clip.
      return Quantize(p, std::clamp(std::exp(lo + Unit(rng) * (hi - lo)), p.low, p.high));
    }
    case ParamType::kNormal:
    case ParamType::kQnormal:
      return Quantize(p, p.mu + p.sigma * StdNormal(rng));
    case ParamType::kLognormal:
    case ParamType::kQlognormal:
      return Quantize(p, std::exp(p.mu + p.sigma * StdNormal(rng)));
  }
  return nullptr;
}

Json SampleSpace(const SearchSpace& space, Rng& rng) {
  Json out = Json::object();
  for (const Param& p : space.params) out[p.key] = SampleParam(p, rng);
  return out;
}

}  // namespace quader::hpo
