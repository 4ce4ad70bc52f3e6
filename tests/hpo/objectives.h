#pragma once
// Shared by the tuner tests: the Branin function and its space, and medians.

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/documents.h"

namespace quader::hpo::testing {

inline Json BraninSpace() {
  return {{"x1", {{"_type", "uniform"}, {"_value", {-5, 10}}}},
          {"x2", {{"_type", "uniform"}, {"_value", {0, 15}}}}};
}

// Minimum 0.397887 at (-pi, 12.275), (pi, 2.275), (9.42478, 2.475).
inline double Branin(const Json& p) {
  double x1 = p["x1"].get<double>(), x2 = p["x2"].get<double>();
  constexpr double kPi = std::numbers::pi;
  double b = 5.1 / (4 * kPi * kPi), c = 5 / kPi, t = 1 / (8 * kPi);
  return std::pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * std::cos(x1) + 10;
}

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace quader::hpo::testing
