#include "hpo/assessor.h"
#include "hpo/random.h"
#include "hpo/random_tuners.h"

// Hyperband (NNI's "Hyperband"; classArgs R, eta, optimize_mode), run
// asynchronously over steps. A trial's budget is the number of intermediate
// results it has reported; its parameters hold no budget key. With
// s_max = floor(log_eta(R)), bracket s (s = s_max down to 0) takes
// n_s = ceil((s_max + 1) * eta^s / (s + 1)) trials per Hyperband iteration and
// has rungs at steps floor(R / eta^s), floor(R / eta^(s-1)), ...,
// floor(R / eta) (bracket 0 has none). Trials are dealt to brackets by their
// sequence number in Hyperband's order: the first n_{s_max} trials to bracket
// s_max, the next n_{s_max-1} to bracket s_max - 1, and so on to bracket 0,
// then again from s_max. Every suggestion is a random configuration (every
// type but nested choice) drawn from a generator seeded from the seed and the
// trial's sequence number. The tuner's assessor (used instead of a
// configured one) records a trial's result at each rung of its bracket when
// it reaches that step, and stops the trial there unless it is within the top
// 1/eta of all results recorded at that rung of that bracket so far, its own
// included: it is stopped when at least m/eta of those m results are strictly
// better. Nothing waits for a rung to fill (ASHA-like): early arrivals at a
// rung are judged against fewer results, and the first always goes on.
// Results from every Hyperband iteration share their bracket's rungs. A trial
// runs past its last rung to its own end (R is not enforced). Defaults
// R = 60, eta = 3: brackets of 27, 12, 6 and 4 trials, with rungs at steps
// 2, 6, 20 / 6, 20 / 20 / none.
//
// Deterministic; rebuilt after a restart by replaying TrialEnded for ended
// trials (any order). A running trial's rungs passed before a restart are
// recorded and judged at its next report. A non-finite result ranks below
// every finite one.

#include <cmath>
#include <limits>
#include <map>
#include <utility>
#include <vector>

namespace quader::hpo {
namespace {

struct Bracket {
  int64_t trials;               // per Hyperband iteration
  std::vector<int64_t> rungs;   // steps, ascending
  std::vector<std::vector<double>> seen;  // per rung: scores recorded (higher is better)
};

class HyperbandAssessor final : public Assessor {
 public:
  HyperbandAssessor(int64_t r, int64_t eta, bool maximize) : eta_(eta), maximize_(maximize) {
    int s_max = 0;
    for (int64_t p = eta; p <= r; p *= eta) ++s_max;
    for (int s = s_max; s >= 0; --s) {
      int64_t eta_s = 1;
      for (int i = 0; i < s; ++i) eta_s *= eta;
      Bracket b;
      b.trials = ((s_max + 1) * eta_s + s) / (s + 1);  // ceil
      for (int64_t div = eta_s; div > 1; div /= eta) b.rungs.push_back(r / div);
      b.seen.resize(b.rungs.size());
      cycle_ += b.trials;
      brackets_.push_back(std::move(b));
    }
  }

  std::string name() const override { return "Hyperband"; }

  // The bracket (index into brackets_, 0 for s_max) of trial `sequence`.
  size_t BracketOf(int64_t sequence) const {
    int64_t slot = sequence % cycle_;
    if (slot < 0) slot += cycle_;
    size_t b = 0;
    while (slot >= brackets_[b].trials) slot -= brackets_[b++].trials;
    return b;
  }

  bool ShouldStop(int64_t trial_id, const std::vector<double>& intermediate) override {
    return Record(trial_id, intermediate, /*judge=*/true);
  }

  void TrialEnded(int64_t trial_id, const std::vector<double>& intermediate, bool /*completed*/) override {
    Record(trial_id, intermediate, /*judge=*/false);
  }

 private:
  struct TrialState {
    size_t recorded = 0;   // rungs of its bracket already recorded
    bool stopped = false;  // ShouldStop said so (and keeps saying so)
  };

  double Score(double v) const {
    if (!std::isfinite(v)) return -std::numeric_limits<double>::infinity();
    return maximize_ ? v : -v;
  }

  // Records the trial's results at the rungs it has newly reached; true when
  // `judge` and it is not within the top 1/eta at one of them.
  bool Record(int64_t trial_id, const std::vector<double>& intermediate, bool judge) {
    Bracket& b = brackets_[BracketOf(trial_id)];
    TrialState& t = trials_[trial_id];
    bool stop = false;
    while (t.recorded < b.rungs.size() && b.rungs[t.recorded] <= static_cast<int64_t>(intermediate.size())) {
      std::vector<double>& seen = b.seen[t.recorded];
      double score = Score(intermediate[static_cast<size_t>(b.rungs[t.recorded] - 1)]);
      seen.push_back(score);
      int64_t better = 0;
      for (double s : seen) better += s > score;
      if (judge && better * eta_ >= static_cast<int64_t>(seen.size())) stop = true;
      ++t.recorded;
    }
    if (stop) t.stopped = true;
    return judge && t.stopped;
  }

  int64_t eta_;
  bool maximize_;
  std::vector<Bracket> brackets_;  // s_max first
  int64_t cycle_ = 0;              // trials per Hyperband iteration
  std::map<int64_t, TrialState> trials_;
};

class HyperbandTuner final : public Tuner {
 public:
  HyperbandTuner(SearchSpace space, const TunerOptions& options, int64_t r, int64_t eta)
      : space_(std::move(space)), seed_(options.seed),
        assessor_(r, eta, options.mode == OptimizeMode::kMaximize) {}

  std::string name() const override { return "Hyperband"; }

  std::optional<Json> Suggest(int64_t trial_id) override {
    Rng rng(SplitMix64(seed_ ^ SplitMix64(static_cast<uint64_t>(trial_id))));
    return SampleSpace(space_, rng);
  }
  // Final values teach Hyperband nothing: its suggestions are random.
  void Observe(int64_t, const Json&, std::optional<double>) override {}
  Assessor* assessor() override { return &assessor_; }

 private:
  SearchSpace space_;
  uint64_t seed_;
  HyperbandAssessor assessor_;
};

Status ReadInt(const Json& args, const char* key, int64_t min, int64_t max, int64_t* out) {
  auto it = args.find(key);
  if (it == args.end()) return Status::Ok();
  if (!it->is_number_integer() || it->get<int64_t>() < min || it->get<int64_t>() > max) {
    std::string why = "must be an integer from ";
    why += std::to_string(min);
    why += " to ";
    why += std::to_string(max);
    return errors::Invalid(std::string("args.") + key, why);
  }
  *out = it->get<int64_t>();
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Tuner>> NewHyperbandTuner(const SearchSpace& space, const TunerOptions& options) {
  if (space.has_nested_choice())
    return errors::Invalid("search space", "tuner Hyperband does not support nested choice");
  const Json& args = options.args.is_null() ? Json::object() : options.args;
  if (!args.is_object()) return errors::Invalid("args", "must be an object");
  int64_t r = 60, eta = 3;
  QUADER_RETURN_IF_ERROR(ReadInt(args, "R", 1, 1000000, &r));
  QUADER_RETURN_IF_ERROR(ReadInt(args, "eta", 2, 1000000, &eta));
  return std::unique_ptr<Tuner>(std::make_unique<HyperbandTuner>(space, options, r, eta));
}

}  // namespace quader::hpo
