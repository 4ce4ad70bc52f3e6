#pragma once
// The objective functions of bench/hpo_quality (all minimized), shared in
// meaning with bench/hpo_optuna.py: same domains, same formulas.

#include <cmath>
#include <string>

#include "core/documents.h"

namespace quader::bench {

struct Objective {
  std::string name;
  Json space;  // NNI search space
  double (*f)(const Json& p);
};

inline double Branin(const Json& p) {
  double x1 = p["x1"], x2 = p["x2"];
  const double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10, t = 1 / (8 * M_PI);
  return a * std::pow(x2 - b * x1 * x1 + c * x1 - r, 2) + s * (1 - t) * std::cos(x1) + s;
}

inline double Hartmann6(const Json& p) {
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) {
      double x = p["x" + std::to_string(j)];
      inner += A[i][j] * (x - P[i][j]) * (x - P[i][j]);
    }
    sum += alpha[i] * std::exp(-inner);
  }
  return -sum;
}

inline double Rosenbrock4(const Json& p) {
  double sum = 0;
  for (int i = 0; i < 3; ++i) {
    double x = p["x" + std::to_string(i)], y = p["x" + std::to_string(i + 1)];
    sum += 100 * (y - x * x) * (y - x * x) + (1 - x) * (1 - x);
  }
  return sum;
}

// A categorical choice shifts a continuous optimum; a log-scale parameter too.
inline double Mixed(const Json& p) {
  std::string c = p["kind"];
  double offset = c == "a" ? 1.0 : c == "b" ? -2.0 : 3.0;
  double bias = c == "a" ? 0.0 : c == "b" ? 0.5 : 1.0;
  double x = p["x"], y = p["y"];
  return (x - offset) * (x - offset) + std::pow(std::log10(y) + 1, 2) + bias;
}

inline std::vector<Objective> Objectives() {
  auto u = [](double lo, double hi) { return Json{{"_type", "uniform"}, {"_value", {lo, hi}}}; };
  Json hartmann = Json::object(), rosen = Json::object();
  for (int j = 0; j < 6; ++j) hartmann["x" + std::to_string(j)] = u(0, 1);
  for (int j = 0; j < 4; ++j) rosen["x" + std::to_string(j)] = u(-2, 2);
  return {
      {"branin", {{"x1", u(-5, 10)}, {"x2", u(0, 15)}}, Branin},
      {"hartmann6", hartmann, Hartmann6},
      {"rosenbrock4", rosen, Rosenbrock4},
      {"mixed",
       {{"kind", {{"_type", "choice"}, {"_value", {"a", "b", "c"}}}},
        {"x", u(-5, 5)},
        {"y", {{"_type", "loguniform"}, {"_value", {0.001, 10.0}}}}},
       Mixed},
  };
}

}  // namespace quader::bench
