// Tuner quality and suggest latency (issue 5's figures), in process, no
// containers: each tuner minimizes each objective for TRIALS trials with
// SEEDS seeds; the median best value per (tuner, function) is printed as
// TSV for bench/hpo_quality.sh to set beside Optuna's. A tuner that refuses
// a function's space (MetisTuner: loguniform) has no row for it.
//
//   hpo_quality_bench [TRIALS=100] [SEEDS=20] [TUNERS=TPE,Random,Anneal,Evolution]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "bench/hpo_functions.h"
#include "hpo/tuner.h"

using namespace quader;

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Whether MakeTuner builds `name` at all (on a one-uniform space), to tell a
// tuner that refuses a space's types (MetisTuner and loguniform) from an
// unknown or unavailable one.
bool TunerExists(const std::string& name) {
  auto space = hpo::ParseSearchSpace({{"x", {{"_type", "uniform"}, {"_value", {0, 1}}}}});
  return space.ok() && hpo::MakeTuner(name, *space, hpo::TunerOptions{}).ok();
}

}  // namespace

int main(int argc, char** argv) {
  int trials = argc > 1 ? std::atoi(argv[1]) : 100;
  int seeds = argc > 2 ? std::atoi(argv[2]) : 20;
  std::string tuner_list = argc > 3 ? argv[3] : "TPE,Random,Anneal,Evolution";
  std::vector<std::string> tuners;
  std::stringstream ss(tuner_list);
  for (std::string t; std::getline(ss, t, ',');) tuners.push_back(t);

  std::printf("kind\ttuner\tfunction\tmedian_best\n");
  for (const auto& obj : bench::Objectives()) {
    auto space = hpo::ParseSearchSpace(obj.space);
    if (!space.ok()) {
      std::fprintf(stderr, "%s: %s\n", obj.name.c_str(), space.status().message().c_str());
      return 1;
    }
    for (const auto& name : tuners) {
      std::vector<double> bests;
      for (int seed = 0; seed < seeds; ++seed) {
        hpo::TunerOptions opts;
        opts.seed = static_cast<uint64_t>(seed);
        opts.mode = hpo::OptimizeMode::kMinimize;
        auto tuner = hpo::MakeTuner(name, *space, opts);
        if (!tuner.ok() && TunerExists(name)) {  // it refuses this space's types: no row
          std::fprintf(stderr, "%s skips %s: %s\n", name.c_str(), obj.name.c_str(), tuner.status().message().c_str());
          break;
        }
        if (!tuner.ok()) {
          std::fprintf(stderr, "%s: %s\n", name.c_str(), tuner.status().message().c_str());
          return 1;
        }
        double best = 1e300;
        for (int t = 0; t < trials; ++t) {
          auto p = (*tuner)->Suggest(t);
          if (!p) break;
          double v = obj.f(*p);
          best = std::min(best, v);
          (*tuner)->Observe(t, *p, v);
        }
        bests.push_back(best);
      }
      if (bests.empty()) continue;
      std::printf("quality\t%s\t%s\t%.6g\n", name.c_str(), obj.name.c_str(), Median(bests));
      std::fflush(stdout);
    }
  }

  // Suggest latency with 1,000 finished trials (TPE on Branin).
  auto space = hpo::ParseSearchSpace(bench::Objectives()[0].space);
  hpo::TunerOptions opts;
  opts.mode = hpo::OptimizeMode::kMinimize;
  auto tuner = hpo::MakeTuner("TPE", *space, opts);
  hpo::Rng rng(7);
  for (int t = 0; t < 1000; ++t) {
    Json p = hpo::SampleSpace(*space, rng);
    (*tuner)->Observe(t, p, bench::Branin(p));
  }
  const int calls = 20;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < calls; ++t) (void)(*tuner)->Suggest(1000 + t);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / calls;
  std::printf("latency\tTPE\tbranin-1000-trials\t%.4f\n", ms);
  return 0;
}
