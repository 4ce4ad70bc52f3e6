#pragma once
// Random numbers for the model-based tuners: one generator per suggestion,
// seeded from the tuner's seed and the trial id, so a suggestion depends only
// on those and the observations (replay after a restart gives the same).

#include <cmath>
#include <cstdint>
#include <numbers>

#include "hpo/search_space.h"

namespace quader::hpo {

// A well-mixed 64-bit value of `x` (SplitMix64's finaliser).
inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from the top 53 bits.
inline double Unit(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// A standard normal draw (Box-Muller, one value per call).
inline double StdNormal(Rng& rng) {
  double u1 = 1.0 - Unit(rng);  // (0, 1]
  double u2 = Unit(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace quader::hpo
