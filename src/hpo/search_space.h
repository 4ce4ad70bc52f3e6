#pragma once
// NNI search spaces (SPEC §6): parsing with NNI's exact semantics, and the
// primitive draws every tuner builds on. Pure C++, no I/O.
//
// A space is a JSON object {"key": {"_type": T, "_value": [...]}}. Types:
// choice (options are scalars, or objects with "_name" holding a nested
// space: nested choice), randint [low, high) integers, uniform, quniform
// (clip(round(uniform(low, high) / q) * q, low, high)), loguniform,
// qloguniform, normal [mu, sigma], qnormal [mu, sigma, q], lognormal,
// qlognormal. Parameters come out as a JSON object; a nested choice yields
// the chosen option object itself with its own nested values filled in:
// {"optimizer": {"_name": "sgd", "lr": 0.01}}.

#include <random>
#include <string>
#include <vector>

#include "core/documents.h"
#include "core/status.h"

namespace quader::hpo {

enum class ParamType {
  kChoice, kRandint, kUniform, kQuniform, kLoguniform, kQloguniform,
  kNormal, kQnormal, kLognormal, kQlognormal,
};
// "choice", "randint", ...
const char* ParamTypeName(ParamType t);

struct SearchSpace;

struct Param {
  std::string key;
  ParamType type = ParamType::kChoice;
  // choice: the options as given; options that are objects with "_name" are
  // nested spaces (in `nested`, same index; others have an empty space).
  std::vector<Json> options;
  std::vector<SearchSpace> nested;
  double low = 0, high = 0;  // randint, uniform, quniform, loguniform, qloguniform
  double mu = 0, sigma = 1;  // normal family
  double q = 0;              // q* types
  bool is_nested() const;    // a choice with at least one nested option
};

struct SearchSpace {
  std::vector<Param> params;  // sorted by key
  // Every type used, nested spaces included (for tuner support checks).
  std::vector<ParamType> types() const;
  bool has_nested_choice() const;
};

// Parses and validates; errors are kInvalidArgument naming the key path and
// the reason, e.g. `lr: uniform needs [low, high] with low < high`,
// `optimizer[1].momentum: unknown _type "uniformm"`.
Result<SearchSpace> ParseSearchSpace(const Json& space);

// NNI's rounding/clipping of a raw draw for the q* types, and the value of
// a draw in the type's own units (ints for randint, choice options as given).
double Quantize(const Param& p, double raw);

using Rng = std::mt19937_64;
// One random value of `p` (NNI's random tuner semantics).
Json SampleParam(const Param& p, Rng& rng);
// A full random parameter set.
Json SampleSpace(const SearchSpace& space, Rng& rng);

}  // namespace quader::hpo
