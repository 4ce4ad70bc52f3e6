#pragma once
// The Gaussian-process surrogate shared by GPTuner and MetisTuner: the
// unit-cube encoding of a flat search space and a GP with a Matern kernel.
//
// Encoding: every parameter maps to [0, 1] (log scale for log types, a
// choice as the centre of its index's slot, randint as the centre of its
// integer's slot); decoding rounds and clips like a random draw.
//
// The GP normalizes its targets (zero mean, unit variance); its length scale
// is the best of a fixed grid by log marginal likelihood and its amplitude is
// in closed form. Predictions are in normalized units (see y_mean, y_std).

#include <Eigen/Cholesky>
#include <Eigen/Dense>

#include <optional>
#include <utility>
#include <vector>

#include "hpo/search_space.h"

namespace quader::hpo::gp {

// x in [0, 1] for the value `v` of `p`, or nullopt when the value does not
// fit (or `p` has a type the encoding does not cover: normal family).
std::optional<double> Encode(const Param& p, const Json& v);
// The value of `p` at x (clamped to [0, 1]).
Json Decode(const Param& p, double x);

// Matern kernel of smoothness nu (0.5, 1.5 or 2.5) at distance d (already
// divided by the length scale).
double Matern(double nu, double d);

class Model {
 public:
  // Fits to rows of `x` (n × d) and targets `y`; false when no length scale
  // gives a positive definite kernel matrix (the jitter `alpha` is raised
  // up to 0.1 before giving up).
  bool Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double nu, double alpha);

  // Mean and standard deviation (normalized units) at u.
  std::pair<double, double> Predict(const Eigen::VectorXd& u) const;
  // Only the mean (normalized units): cheaper, no triangular solve.
  double PredictMean(const Eigen::VectorXd& u) const;

  // Leave-one-out predictions at each training point (normalized units):
  // the mean and standard deviation the model would give at x_i had it been
  // fitted without point i (same kernel hyperparameters).
  std::vector<std::pair<double, double>> LeaveOneOut() const;

  double y_mean() const { return y_mean_; }
  double y_std() const { return y_std_; }
  double y_best() const { return y_best_; }  // the highest normalized target

 private:
  Eigen::MatrixXd x_;
  Eigen::VectorXd yn_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::VectorXd alpha_vec_;
  double nu_ = 2.5, ls_ = 1, amp_ = 1;
  double y_mean_ = 0, y_std_ = 1, y_best_ = 0;
};

}  // namespace quader::hpo::gp
