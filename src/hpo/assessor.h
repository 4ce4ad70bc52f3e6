#pragma once
// Early stopping (SPEC §6, issue 5): an assessor watches the intermediate
// results a running trial reports (nni.report_intermediate_result) and says
// when it should stop; the experiment controller then stops its workload and
// marks the trial `early_stopped`.
//
// Deterministic, and rebuilt after a restart by replaying ended trials
// (TrialEnded in the order they ended). Not thread-safe: the experiment
// controller owns one per experiment.

#include <memory>
#include <string>
#include <vector>

#include "hpo/tuner.h"

namespace quader::hpo {

class Assessor {
 public:
  virtual ~Assessor() = default;
  virtual std::string name() const = 0;
  // Called after each new intermediate result of a running trial, with all
  // of its results so far (oldest first). True: stop the trial now.
  virtual bool ShouldStop(int64_t trial_id, const std::vector<double>& intermediate) = 0;
  // A trial ended (succeeded, failed, stopped or early-stopped) with these
  // intermediate results. `completed`: it ran to its end (succeeded).
  virtual void TrialEnded(int64_t trial_id, const std::vector<double>& intermediate, bool completed) = 0;
};

struct AssessorOptions {
  OptimizeMode mode = OptimizeMode::kMaximize;
  Json args = Json::object();  // classArgs (NNI names), validated by MakeAssessor
};

// "Medianstop" (NNI's name; classArgs optimize_mode, start_step): stops a
// trial at step s >= start_step when its best intermediate result so far is
// worse than the median of the running averages, up to step s, of the
// trials that completed. kInvalidArgument naming the assessor or the arg for
// an unknown name or bad classArgs.
Result<std::unique_ptr<Assessor>> MakeAssessor(const std::string& name, const AssessorOptions& options);

}  // namespace quader::hpo
