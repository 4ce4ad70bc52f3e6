#pragma once
// Tuners (SPEC §6): each suggests parameter sets for trials and learns from
// their final values. Seeded and deterministic: the same seed and the same
// observations give the same suggestions, so an experiment's tuner can be
// rebuilt after a restart by replaying its stored trials (Observe in trial
// order) before asking for more.
//
// Not thread-safe; the experiment controller owns one tuner per experiment.

#include <memory>
#include <optional>
#include <string>

#include "hpo/search_space.h"

namespace quader::hpo {

enum class OptimizeMode { kMaximize, kMinimize };

class Assessor;

struct TunerOptions {
  uint64_t seed = 0;
  OptimizeMode mode = OptimizeMode::kMaximize;
  Json args = Json::object();  // tuner-specific classArgs (NNI names), validated by MakeTuner
};

class Tuner {
 public:
  virtual ~Tuner() = default;
  virtual std::string name() const = 0;
  // Parameters for trial `trial_id`, or nullopt when the tuner has nothing
  // more to try (Grid Search and Batch run out).
  virtual std::optional<Json> Suggest(int64_t trial_id) = 0;
  // The final value of a trial this tuner suggested (or a replayed one).
  // nullopt: the trial failed or was stopped without a value.
  virtual void Observe(int64_t trial_id, const Json& params, std::optional<double> value) = 0;
  // A trial suggested before a restart that is still running: its params
  // must not be suggested again (Grid, Batch). Its value comes later through
  // Observe. Default: nothing to remember.
  virtual void Resumed(int64_t trial_id, const Json& params) {}
  // A tuner that also stops trials early from their intermediate results
  // (Hyperband) hands out its assessor here; the experiment then uses it
  // instead of a configured one. Owned by the tuner.
  virtual Assessor* assessor() { return nullptr; }
};

// Tuner names as NNI spells them: "TPE", "Random", "Anneal", "Evolution",
// "SMAC", "BatchTuner", "GridSearch", "Hyperband", "MetisTuner", "GPTuner".
// Refuses a space holding a type the tuner does not support (SPEC §6 table),
// naming the type, the key and the tuner; kInvalidArgument for an unknown name
// or bad args. Tuners not built yet are refused (kInvalidArgument) naming themselves.
Result<std::unique_ptr<Tuner>> MakeTuner(const std::string& name, const SearchSpace& space, const TunerOptions& options);

}  // namespace quader::hpo
