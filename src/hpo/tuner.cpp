#include "hpo/tuner.h"

#include <algorithm>
#include <vector>

#include "hpo/model_tuners.h"
#include "hpo/random_tuners.h"
#include "hpo/tpe.h"

namespace quader::hpo {
namespace {

using T = ParamType;

struct TunerSupport {
  const char* name;
  bool all_types;     // every type
  bool nested;        // nested choice allowed
  std::vector<ParamType> types;  // when !all_types
  bool available;     // built yet
};

const std::vector<TunerSupport>& SupportTable() {
  static const std::vector<TunerSupport> kTable = {
      {"TPE", true, true, {}, true},
      {"Random", true, true, {}, true},
      {"Anneal", true, true, {}, true},
      {"Evolution", true, true, {}, true},
      {"SMAC", false, false, {T::kChoice, T::kRandint, T::kUniform, T::kQuniform, T::kLoguniform}, true},
      {"BatchTuner", false, false, {T::kChoice}, true},
      {"GridSearch", false, false, {T::kChoice, T::kRandint, T::kQuniform}, true},
      {"Hyperband", true, false, {}, true},
      {"MetisTuner", false, false, {T::kChoice, T::kRandint, T::kUniform, T::kQuniform}, true},
      {"GPTuner", false, false,
       {T::kChoice, T::kRandint, T::kUniform, T::kQuniform, T::kLoguniform, T::kQloguniform}, true},
  };
  return kTable;
}

std::string SupportedList(const TunerSupport& s) {
  if (s.all_types) return s.nested ? "every type" : "every type but nested choice";
  std::string out;
  for (ParamType t : s.types) {
    if (!out.empty()) out += ", ";
    out += ParamTypeName(t);
  }
  return out;
}

Status CheckSupport(const TunerSupport& s, const SearchSpace& space, const std::string& prefix) {
  for (const Param& p : space.params) {
    const std::string key = prefix + p.key;
    std::string bad;
    if (!s.all_types && std::find(s.types.begin(), s.types.end(), p.type) == s.types.end()) {
      bad = ParamTypeName(p.type);
    } else if (p.is_nested() && !s.nested) {
      bad = "nested choice";
    }
    if (!bad.empty()) {
      return {Code::kInvalidArgument, std::string("tuner ") + s.name + " does not support " + bad +
                                          " (key \"" + key + "\"); it supports " + SupportedList(s)};
    }
    for (size_t i = 0; i < p.nested.size(); ++i)
      QUADER_RETURN_IF_ERROR(CheckSupport(s, p.nested[i], key + "[" + std::to_string(i) + "]."));
  }
  return Status::Ok();
}

// classArgs every tuner takes here; tuner-specific ones are checked below or
// by the tuner's own constructor (TPE, GPTuner; the values of Evolution's,
// Hyperband's and MetisTuner's by their New* functions).
Status CheckArgs(const std::string& name, const Json& args) {
  if (!args.is_object()) return errors::Invalid("args", "must be an object");
  if (auto it = args.find("optimize_mode"); it != args.end()) {
    if (!it->is_string() || (*it != "maximize" && *it != "minimize"))
      return errors::Invalid("args.optimize_mode", "must be \"maximize\" or \"minimize\"");
  }
  if (name == "TPE") return Status::Ok();
  if (name == "GPTuner") return Status::Ok();  // NewGpTuner checks its classArgs
  std::vector<std::string> allowed = {"optimize_mode"};
  if (name == "Evolution") allowed.push_back("population_size");
  if (name == "Hyperband") allowed.insert(allowed.end(), {"R", "eta"});
  if (name == "MetisTuner") {
    allowed.insert(allowed.end(), {"no_resampling", "no_candidates", "selection_num_starting_points",
                                   "cold_start_num", "exploration_probability"});
  }
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
      return errors::Invalid("args." + it.key(), "unknown classArg for tuner " + name);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Tuner>> MakeTuner(const std::string& name, const SearchSpace& space,
                                         const TunerOptions& options) {
  const TunerSupport* support = nullptr;
  for (const TunerSupport& s : SupportTable())
    if (name == s.name) support = &s;
  if (support == nullptr) {
    std::string known;
    for (const TunerSupport& s : SupportTable()) known += std::string(known.empty() ? "" : ", ") + s.name;
    return errors::Invalid("tuner", "unknown tuner \"" + name + "\"; known tuners: " + known);
  }
  QUADER_RETURN_IF_ERROR(CheckSupport(*support, space, ""));
  if (!support->available)
    return Status(Code::kInvalidArgument, "tuner " + name + " is not available yet");
  QUADER_RETURN_IF_ERROR(CheckArgs(name, options.args));
  if (name == "TPE") return NewTpeTuner(space, options);
  if (name == "Random") return NewRandomTuner(space, options);
  if (name == "Anneal") return NewAnnealTuner(space, options);
  if (name == "Evolution") return NewEvolutionTuner(space, options);
  if (name == "BatchTuner") return NewBatchTuner(space, options);
  if (name == "SMAC") return NewSmacTuner(space, options);
  if (name == "GPTuner") return NewGpTuner(space, options);
  if (name == "Hyperband") return NewHyperbandTuner(space, options);
  if (name == "MetisTuner") return NewMetisTuner(space, options);
  return NewGridSearchTuner(space, options);
}

}  // namespace quader::hpo
