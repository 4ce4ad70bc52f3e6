#pragma once
// The TPE tuner (Bergstra et al. 2011, as in NNI's hyperopt-based "TPE"):
// every search-space type, nested choice included. Created through
// MakeTuner("TPE", …); declared here so tuner.cpp can construct it.

#include <memory>

#include "hpo/tuner.h"

namespace quader::hpo {

// NNI classArgs honoured: optimize_mode (already in options.mode),
// n_startup_jobs (default 20: random suggestions before the model is used),
// n_ei_candidates (24), gamma (0.25).
Result<std::unique_ptr<Tuner>> NewTpeTuner(const SearchSpace& space, const TunerOptions& options);

}  // namespace quader::hpo
