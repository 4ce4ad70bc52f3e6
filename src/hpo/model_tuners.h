#pragma once
// The model-based tuners beyond TPE: GPTuner and MetisTuner (Gaussian-process
// surrogates, Eigen for the linear algebra) and SMAC (a random-forest
// surrogate). Created through MakeTuner; declared here for tuner.cpp.

#include <memory>

#include "hpo/tuner.h"

namespace quader::hpo {

Result<std::unique_ptr<Tuner>> NewGpTuner(const SearchSpace& space, const TunerOptions& options);
Result<std::unique_ptr<Tuner>> NewMetisTuner(const SearchSpace& space, const TunerOptions& options);
Result<std::unique_ptr<Tuner>> NewSmacTuner(const SearchSpace& space, const TunerOptions& options);

}  // namespace quader::hpo
