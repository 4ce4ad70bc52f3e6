#pragma once
// The model-free tuners: Random, GridSearch, BatchTuner, Anneal, Evolution,
// and Hyperband (hyperband.cpp: random configurations, and an assessor that
// stops trials early).
// Created through MakeTuner; declared here so tuner.cpp can construct them.

#include <memory>

#include "hpo/tuner.h"

namespace quader::hpo {

Result<std::unique_ptr<Tuner>> NewRandomTuner(const SearchSpace& space, const TunerOptions& options);
Result<std::unique_ptr<Tuner>> NewGridSearchTuner(const SearchSpace& space, const TunerOptions& options);
Result<std::unique_ptr<Tuner>> NewBatchTuner(const SearchSpace& space, const TunerOptions& options);
Result<std::unique_ptr<Tuner>> NewAnnealTuner(const SearchSpace& space, const TunerOptions& options);
Result<std::unique_ptr<Tuner>> NewEvolutionTuner(const SearchSpace& space, const TunerOptions& options);
Result<std::unique_ptr<Tuner>> NewHyperbandTuner(const SearchSpace& space, const TunerOptions& options);

}  // namespace quader::hpo
