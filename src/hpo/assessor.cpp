#include "hpo/assessor.h"

// Medianstop, as NNI's MedianstopAssessor: when a trial reports its s-th
// intermediate result (s >= start_step), its best result so far is compared
// with the median of the running averages at step s (mean of the first s
// results) of the trials that completed with at least s results. It is
// stopped when strictly worse. With an even number of averages the median is
// the more lenient middle one (NNI: the lower for maximize, the upper for
// minimize). With no such completed trial nothing is stopped.
//
// Non-finite results: ignored when taking a trial's best (a trial with no
// finite result counts as worst), and a completed trial whose running average
// is not finite at step s is left out of that step's median.
//
// optimize_mode in the classArgs, when given, overrides AssessorOptions::mode.

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

namespace quader::hpo {
namespace {

class MedianstopAssessor final : public Assessor {
 public:
  MedianstopAssessor(bool maximize, int64_t start_step) : maximize_(maximize), start_step_(start_step) {}

  std::string name() const override { return "Medianstop"; }

  bool ShouldStop(int64_t /*trial_id*/, const std::vector<double>& intermediate) override {
    const size_t step = intermediate.size();
    if (step == 0 || static_cast<int64_t>(step) < start_step_) return false;
    std::vector<double> averages;
    for (const auto& [id, avg] : completed_) {
      if (avg.size() >= step && std::isfinite(avg[step - 1])) averages.push_back(avg[step - 1]);
    }
    if (averages.empty()) return false;
    std::sort(averages.begin(), averages.end());
    const size_t n = averages.size();
    const double median = maximize_ ? averages[(n - 1) / 2] : averages[n / 2];

    const double worst = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    double best = worst;
    for (double v : intermediate) {
      if (!std::isfinite(v)) continue;
      best = maximize_ ? std::max(best, v) : std::min(best, v);
    }
    return maximize_ ? best < median : best > median;
  }

  void TrialEnded(int64_t trial_id, const std::vector<double>& intermediate, bool completed) override {
    if (!completed) return;
    std::vector<double> avg;
    avg.reserve(intermediate.size());
    double sum = 0;
    for (size_t i = 0; i < intermediate.size(); ++i) {
      sum += intermediate[i];
      avg.push_back(sum / static_cast<double>(i + 1));
    }
    completed_[trial_id] = std::move(avg);
  }

 private:
  bool maximize_;
  int64_t start_step_;
  std::map<int64_t, std::vector<double>> completed_;  // running averages of completed trials
};

}  // namespace

Result<std::unique_ptr<Assessor>> MakeAssessor(const std::string& name, const AssessorOptions& options) {
  if (name != "Medianstop")
    return errors::Invalid("assessor", "unknown assessor \"" + name + "\"; known assessors: Medianstop");
  const Json& args = options.args.is_null() ? Json::object() : options.args;
  if (!args.is_object()) return errors::Invalid("assessor_args", "must be an object");
  bool maximize = options.mode == OptimizeMode::kMaximize;
  int64_t start_step = 0;
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (it.key() == "optimize_mode") {
      if (!it->is_string() || (*it != "maximize" && *it != "minimize"))
        return errors::Invalid("assessor_args.optimize_mode", "must be \"maximize\" or \"minimize\"");
      maximize = *it == "maximize";
    } else if (it.key() == "start_step") {
      if (!it->is_number_integer() || it->get<int64_t>() < 0)
        return errors::Invalid("assessor_args.start_step", "must be a non-negative integer");
      start_step = it->get<int64_t>();
    } else {
      return errors::Invalid("assessor_args." + it.key(), "unknown classArg for assessor Medianstop");
    }
  }
  return std::unique_ptr<Assessor>(std::make_unique<MedianstopAssessor>(maximize, start_step));
}

}  // namespace quader::hpo
