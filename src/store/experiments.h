#pragma once
// The experiments, trials and trial_metrics tables (SPEC §6). Every function
// runs on a caller's Tx. Specs are JSON text validated by
// experiment/experiment_spec.h before they get here.

#include <optional>
#include <vector>

#include "store/store.h"

namespace quader::store {

struct ExperimentRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string project;  // filled by reads (join)
  std::string name;
  std::string key;      // NNI's experiment id (8 characters)
  std::string spec;     // experiment::ExperimentSpec::ToJson() text
  std::string state;    // pending, running, succeeded, failed, stopped
  std::string reason;
  bool stop_requested = false;
  std::string created_by;
  int64_t created_at = 0;  // seconds
  int64_t updated_at = 0;  // seconds
  std::optional<int64_t> started_at;   // ms
  std::optional<int64_t> finished_at;  // ms
};

struct TrialRecord {
  int64_t id = 0;
  int64_t experiment_id = 0;
  int sequence = 0;        // 0, 1, ... in the order suggested
  std::string key;         // NNI's trial job id (5 characters)
  std::string token_hash;  // hex sha256 of the trial's API token
  std::string params = "{}";  // JSON object
  std::string state;       // pending, running, succeeded, failed, stopped, early_stopped
  std::string reason;
  std::optional<double> final_value;
  std::string workload;
  std::string argv = "[]";  // JSON array
  std::optional<int> exit_code;
  int64_t created_at = 0;  // ms
  std::optional<int64_t> started_at;
  std::optional<int64_t> finished_at;
};

struct MetricRecord {
  int64_t trial_id = 0;
  int step = 0;  // 0, 1, ... per trial
  double value = 0;
  int64_t at = 0;  // ms
};

// --- experiments
Result<ExperimentRecord> InsertExperiment(Tx& tx, ExperimentRecord e);
Result<ExperimentRecord> GetExperiment(Tx& tx, int64_t id);
Result<std::optional<ExperimentRecord>> FindExperiment(Tx& tx, int64_t project_id, const std::string& name);
Result<std::vector<ExperimentRecord>> ListExperiments(Tx& tx, const std::vector<int64_t>& project_ids, bool all);
// Experiments in pending or running, oldest first.
Result<std::vector<ExperimentRecord>> ListActiveExperiments(Tx& tx);
Status SetExperimentState(Tx& tx, int64_t id, const std::string& state, const std::string& reason,
                          std::optional<int64_t> started_at, std::optional<int64_t> finished_at);
Status RequestExperimentStop(Tx& tx, int64_t id);
Status DeleteExperiment(Tx& tx, int64_t id);

// --- trials
Result<TrialRecord> InsertTrial(Tx& tx, TrialRecord t);
// Writes the mutable columns (state, reason, workload, argv, exit code, times);
// the final value is written only by SetTrialFinalValue (the trial reports it).
Status UpdateTrial(Tx& tx, const TrialRecord& t);
Result<std::vector<TrialRecord>> ListTrials(Tx& tx, int64_t experiment_id);
Result<std::optional<TrialRecord>> FindTrial(Tx& tx, int64_t experiment_id, int sequence);
Result<std::optional<TrialRecord>> FindTrialByTokenHash(Tx& tx, const std::string& token_hash);
Status SetTrialFinalValue(Tx& tx, int64_t trial_id, double value);

// --- intermediate results
// Appends the next step's value; returns the step.
Result<int> AppendMetric(Tx& tx, int64_t trial_id, double value, int64_t at_ms);
Result<std::vector<MetricRecord>> ListMetrics(Tx& tx, int64_t trial_id);
// Every trial's metrics of an experiment, by trial id then step.
Result<std::vector<MetricRecord>> ListExperimentMetrics(Tx& tx, int64_t experiment_id);

}  // namespace quader::store
