#include "hpo/gp_model.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quader::hpo::gp {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLengthScales[] = {0.03, 0.06, 0.1, 0.15, 0.22, 0.33, 0.5, 0.75, 1.1, 1.6, 2.5};

}  // namespace

std::optional<double> Encode(const Param& p, const Json& v) {
  switch (p.type) {
    case ParamType::kChoice:
      for (size_t i = 0; i < p.options.size(); ++i) {
        if (p.options[i] == v) return (static_cast<double>(i) + 0.5) / static_cast<double>(p.options.size());
      }
      return std::nullopt;
    case ParamType::kRandint:
      if (!v.is_number()) return std::nullopt;
      return std::clamp((v.get<double>() - p.low + 0.5) / (p.high - p.low), 0.0, 1.0);
    case ParamType::kUniform:
    case ParamType::kQuniform:
      if (!v.is_number()) return std::nullopt;
      return std::clamp((v.get<double>() - p.low) / (p.high - p.low), 0.0, 1.0);
    case ParamType::kLoguniform:
    case ParamType::kQloguniform: {
      if (!v.is_number() || !(v.get<double>() > 0)) return std::nullopt;
      double lo = std::log(p.low), hi = std::log(p.high);
      return std::clamp((std::log(v.get<double>()) - lo) / (hi - lo), 0.0, 1.0);
    }
    default:
      return std::nullopt;
  }
}

Json Decode(const Param& p, double x) {
  x = std::clamp(x, 0.0, 1.0);
  switch (p.type) {
    case ParamType::kChoice: {
      size_t n = p.options.size();
      return p.options[std::min(static_cast<size_t>(x * static_cast<double>(n)), n - 1)];
    }
    case ParamType::kRandint:
      return static_cast<int64_t>(Quantize(p, p.low + x * (p.high - p.low)));
    case ParamType::kUniform:
    case ParamType::kQuniform:
      return Quantize(p, std::clamp(p.low + x * (p.high - p.low), p.low, p.high));
    case ParamType::kLoguniform:
    case ParamType::kQloguniform: {
      double lo = std::log(p.low), hi = std::log(p.high);
      return Quantize(p, std::clamp(std::exp(lo + x * (hi - lo)), p.low, p.high));
    }
    default:
      return nullptr;
  }
}

double Matern(double nu, double d) {
  if (nu == 0.5) return std::exp(-d);
  if (nu == 1.5) {
    double s = std::sqrt(3.0) * d;
    return (1 + s) * std::exp(-s);
  }
  double s = std::sqrt(5.0) * d;
  return (1 + s + s * s / 3) * std::exp(-s);
}

bool Model::Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double nu, double alpha) {
  x_ = x;
  nu_ = nu;
  const Eigen::Index n = x.rows();
  y_mean_ = y.mean();
  double var = (y.array() - y_mean_).square().sum() / static_cast<double>(n);
  y_std_ = var > 1e-24 ? std::sqrt(var) : 1.0;
  yn_ = (y.array() - y_mean_) / y_std_;
  y_best_ = yn_.maxCoeff();

  Eigen::MatrixXd dist(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) dist(i, j) = (x.row(i) - x.row(j)).norm();

  double best_lml = -kInf;
  for (double jitter = alpha; jitter <= 1e-1 && best_lml == -kInf; jitter *= 100) {
    for (double ls : kLengthScales) {
      Eigen::MatrixXd k = dist.unaryExpr([&](double r) { return Matern(nu, r / ls); });
      k.diagonal().array() += jitter;
      Eigen::LLT<Eigen::MatrixXd> llt(k);
      if (llt.info() != Eigen::Success) continue;
      Eigen::VectorXd a = llt.solve(yn_);
      double quad = yn_.dot(a);
      if (!(quad > 0) || !std::isfinite(quad)) continue;
      // The amplitude in closed form: s2 = y' K^-1 y / n.
      double s2 = quad / static_cast<double>(n);
      double log_det = 2 * llt.matrixLLT().diagonal().array().log().sum();
      double lml = -0.5 * static_cast<double>(n) * std::log(s2) - 0.5 * log_det;
      if (lml > best_lml) {
        best_lml = lml;
        ls_ = ls;
        amp_ = s2;
        llt_ = std::move(llt);
        alpha_vec_ = std::move(a);
      }
    }
  }
  return best_lml > -kInf;
}

std::pair<double, double> Model::Predict(const Eigen::VectorXd& u) const {
  Eigen::VectorXd k(x_.rows());
  for (Eigen::Index i = 0; i < x_.rows(); ++i) k(i) = Matern(nu_, (x_.row(i).transpose() - u).norm() / ls_);
  double mean = k.dot(alpha_vec_);
  Eigen::VectorXd v = llt_.matrixL().solve(k);
  double var = amp_ * std::max(0.0, 1.0 - v.squaredNorm());
  return {mean, std::sqrt(var)};
}

double Model::PredictMean(const Eigen::VectorXd& u) const {
  double mean = 0;
  for (Eigen::Index i = 0; i < x_.rows(); ++i)
    mean += Matern(nu_, (x_.row(i).transpose() - u).norm() / ls_) * alpha_vec_(i);
  return mean;
}

// With K the kernel matrix (jitter included) and a = K^-1 y, the prediction
// at x_i without point i is y_i - a_i / [K^-1]_ii, with variance
// amplitude / [K^-1]_ii (the noise term included).
std::vector<std::pair<double, double>> Model::LeaveOneOut() const {
  const Eigen::Index n = x_.rows();
  Eigen::MatrixXd inv = llt_.solve(Eigen::MatrixXd::Identity(n, n));
  std::vector<std::pair<double, double>> out;
  out.reserve(static_cast<size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    double d = inv(i, i);
    if (!(d > 0)) {
      out.emplace_back(yn_(i), 0.0);
      continue;
    }
    out.emplace_back(yn_(i) - alpha_vec_(i) / d, std::sqrt(amp_ / d));
  }
  return out;
}

}  // namespace quader::hpo::gp
