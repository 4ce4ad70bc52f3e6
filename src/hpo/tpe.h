#pragma once
// The TPE tuner (Bergstra et al. 2011): every search-space type, nested
// choice included. The Parzen estimators are joint over the parameters of
// each level of the space (as Optuna's multivariate TPE), with Scott's-rule
// bandwidths; see tpe.cpp. Created through MakeTuner("TPE", …); declared
// here so tuner.cpp can construct it.

#include <memory>

#include "hpo/tuner.h"

namespace quader::hpo {

// NNI classArgs honoured (at the top level or under tpe_args): optimize_mode
// (already in options.mode), n_startup_jobs (default 10: random suggestions
// before the model is used), n_ei_candidates (24: draws from the good-trials
// estimator per suggestion), gamma (the fraction of trials that count as
// good: ceil(gamma n) of n; default min(ceil(0.15 n), 25)).
Result<std::unique_ptr<Tuner>> NewTpeTuner(const SearchSpace& space, const TunerOptions& options);

}  // namespace quader::hpo
