// NNI search spaces (hpo/search_space.h) and every tuner over them: parse,
// draw, then a few suggestions and observations per tuner that accepts the
// space. Input: a JSON search space, or [space, tuner classArgs].
#include "fuzz/fuzz.h"
#include "hpo/search_space.h"
#include "hpo/tuner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using quader::Json;
  Json input = Json::parse(quader::fuzz::Bytes(data, size), nullptr, /*allow_exceptions=*/false);
  if (input.is_discarded()) return 0;
  Json space_doc = input.is_array() && !input.empty() ? input[0] : input;
  Json args = input.is_array() && input.size() > 1 ? input[1] : Json::object();
  auto space = quader::hpo::ParseSearchSpace(space_doc);
  if (!space.ok()) return 0;
  (void)space->types();
  quader::hpo::Rng rng(size);
  for (int i = 0; i < 3; ++i) (void)quader::hpo::SampleSpace(*space, rng).dump();
  for (const char* name : {"TPE", "Random", "Anneal", "Evolution", "SMAC", "BatchTuner", "GridSearch", "Hyperband",
                           "MetisTuner", "GPTuner"}) {
    quader::hpo::TunerOptions options;
    options.seed = size;
    options.args = args;
    auto tuner = quader::hpo::MakeTuner(name, *space, options);
    if (!tuner.ok()) continue;
    for (int64_t trial = 1; trial <= 4; ++trial) {
      auto params = (*tuner)->Suggest(trial);
      if (!params) break;
      (*tuner)->Observe(trial, *params, static_cast<double>(trial % 3));
    }
  }
  return 0;
}
