#include "store/experiments.h"

#include "store/sql_util.h"

namespace quader::store {
namespace {

using internal::Map;
using internal::Nullable;
using internal::OptInt;
using internal::ProjectFilter;

constexpr const char* kExperimentCols =
    "e.id, e.project_id, p.name, e.name, e.exp_key, e.spec, e.state, e.reason, e.stop_requested, e.created_by, "
    "e.created_at, e.updated_at, e.started_at, e.finished_at FROM experiments e JOIN projects p ON p.id = e.project_id";

constexpr const char* kTrialCols =
    "id, experiment_id, sequence, trial_key, token_hash, params, state, reason, final_value, workload, argv, "
    "exit_code, created_at, started_at, finished_at FROM trials";

ExperimentRecord ExperimentFromRow(const Row& r) {
  ExperimentRecord e;
  e.id = r.Int(0);
  e.project_id = r.Int(1);
  e.project = r.Str(2);
  e.name = r.Str(3);
  e.key = r.Str(4);
  e.spec = r.Str(5);
  e.state = r.Str(6);
  e.reason = r.Str(7);
  e.stop_requested = r.Int(8) != 0;
  e.created_by = r.Str(9);
  e.created_at = r.Int(10);
  e.updated_at = r.Int(11);
  e.started_at = OptInt(r, 12);
  e.finished_at = OptInt(r, 13);
  return e;
}

TrialRecord TrialFromRow(const Row& r) {
  TrialRecord t;
  t.id = r.Int(0);
  t.experiment_id = r.Int(1);
  t.sequence = static_cast<int>(r.Int(2));
  t.key = r.Str(3);
  t.token_hash = r.Str(4);
  t.params = r.Str(5);
  t.state = r.Str(6);
  t.reason = r.Str(7);
  if (!r.IsNull(8)) t.final_value = r.Double(8);
  t.workload = r.Str(9);
  t.argv = r.Str(10);
  if (!r.IsNull(11)) t.exit_code = static_cast<int>(r.Int(11));
  t.created_at = r.Int(12);
  t.started_at = OptInt(r, 13);
  t.finished_at = OptInt(r, 14);
  return t;
}

MetricRecord MetricFromRow(const Row& r) {
  return {r.Int(0), static_cast<int>(r.Int(1)), r.Double(2), r.Int(3)};
}

}  // namespace

Result<ExperimentRecord> InsertExperiment(Tx& tx, ExperimentRecord e) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query("INSERT INTO experiments (project_id, name, exp_key, spec, state, reason, stop_requested, created_by, "
               "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?) RETURNING id",
               {e.project_id, e.name, e.key, e.spec, e.state, e.reason, e.created_by, e.created_at, e.updated_at}));
  return GetExperiment(tx, rows.at(0).Int(0));
}

Result<ExperimentRecord> GetExperiment(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kExperimentCols + " WHERE e.id = ?", {id}));
  if (rows.empty()) return errors::NotFound("experiment", std::to_string(id));
  return ExperimentFromRow(rows[0]);
}

Result<std::optional<ExperimentRecord>> FindExperiment(Tx& tx, int64_t project_id, const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query(std::string("SELECT ") + kExperimentCols + " WHERE e.project_id = ? AND e.name = ?", {project_id, name}));
  if (rows.empty()) return std::optional<ExperimentRecord>();
  return std::optional<ExperimentRecord>(ExperimentFromRow(rows[0]));
}

Result<std::vector<ExperimentRecord>> ListExperiments(Tx& tx, const std::vector<int64_t>& project_ids, bool all) {
  Params params;
  std::string sql = std::string("SELECT ") + kExperimentCols + ProjectFilter("e", project_ids, all, &params) +
                    " ORDER BY e.id DESC";
  return Map<ExperimentRecord>(tx.Query(sql, params), ExperimentFromRow);
}

Result<std::vector<ExperimentRecord>> ListActiveExperiments(Tx& tx) {
  return Map<ExperimentRecord>(
      tx.Query(std::string("SELECT ") + kExperimentCols + " WHERE e.state IN ('pending', 'running') ORDER BY e.id"),
      ExperimentFromRow);
}

Status SetExperimentState(Tx& tx, int64_t id, const std::string& state, const std::string& reason,
                          std::optional<int64_t> started_at, std::optional<int64_t> finished_at) {
  return tx.Exec("UPDATE experiments SET state = ?, reason = ?, started_at = ?, finished_at = ? WHERE id = ?",
                 {state, reason, Nullable(started_at), Nullable(finished_at), id});
}

Status RequestExperimentStop(Tx& tx, int64_t id) {
  return tx.Exec("UPDATE experiments SET stop_requested = 1 WHERE id = ?", {id});
}

Status DeleteExperiment(Tx& tx, int64_t id) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM experiments WHERE id = ?", {id}));
  if (tx.changes() == 0) return errors::NotFound("experiment", std::to_string(id));
  return Status::Ok();
}

Result<TrialRecord> InsertTrial(Tx& tx, TrialRecord t) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query("INSERT INTO trials (experiment_id, sequence, trial_key, token_hash, params, state, reason, workload, "
               "argv, created_at, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
               {t.experiment_id, static_cast<int64_t>(t.sequence), t.key, t.token_hash, t.params, t.state, t.reason,
                t.workload, t.argv, t.created_at, Nullable(t.started_at)}));
  t.id = rows.at(0).Int(0);
  return t;
}

Status UpdateTrial(Tx& tx, const TrialRecord& t) {
  Value exit_code = t.exit_code ? Value(static_cast<int64_t>(*t.exit_code)) : Value(nullptr);
  return tx.Exec(
      "UPDATE trials SET state = ?, reason = ?, workload = ?, argv = ?, exit_code = ?, "
      "started_at = ?, finished_at = ? WHERE id = ?",
      {t.state, t.reason, t.workload, t.argv, exit_code, Nullable(t.started_at), Nullable(t.finished_at), t.id});
}

Result<std::vector<TrialRecord>> ListTrials(Tx& tx, int64_t experiment_id) {
  return Map<TrialRecord>(
      tx.Query(std::string("SELECT ") + kTrialCols + " WHERE experiment_id = ? ORDER BY sequence", {experiment_id}),
      TrialFromRow);
}

Result<std::optional<TrialRecord>> FindTrial(Tx& tx, int64_t experiment_id, int sequence) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kTrialCols +
                                                  " WHERE experiment_id = ? AND sequence = ?",
                                              {experiment_id, static_cast<int64_t>(sequence)}));
  if (rows.empty()) return std::optional<TrialRecord>();
  return std::optional<TrialRecord>(TrialFromRow(rows[0]));
}

Result<std::optional<TrialRecord>> FindTrialByTokenHash(Tx& tx, const std::string& token_hash) {
  QUADER_ASSIGN_OR_RETURN(Rows rows,
                          tx.Query(std::string("SELECT ") + kTrialCols + " WHERE token_hash = ?", {token_hash}));
  if (rows.empty()) return std::optional<TrialRecord>();
  return std::optional<TrialRecord>(TrialFromRow(rows[0]));
}

Status SetTrialFinalValue(Tx& tx, int64_t trial_id, double value) {
  return tx.Exec("UPDATE trials SET final_value = ? WHERE id = ?", {value, trial_id});
}

Result<int> AppendMetric(Tx& tx, int64_t trial_id, double value, int64_t at_ms) {
  QUADER_ASSIGN_OR_RETURN(Rows rows,
                          tx.Query("SELECT COALESCE(MAX(step) + 1, 0) FROM trial_metrics WHERE trial_id = ?", {trial_id}));
  int64_t step = rows.at(0).Int(0);
  QUADER_RETURN_IF_ERROR(
      tx.Exec("INSERT INTO trial_metrics (trial_id, step, value, at) VALUES (?, ?, ?, ?)", {trial_id, step, value, at_ms}));
  return static_cast<int>(step);
}

Result<std::vector<MetricRecord>> ListMetrics(Tx& tx, int64_t trial_id) {
  return Map<MetricRecord>(
      tx.Query("SELECT trial_id, step, value, at FROM trial_metrics WHERE trial_id = ? ORDER BY step", {trial_id}),
      MetricFromRow);
}

Result<std::vector<MetricRecord>> ListExperimentMetrics(Tx& tx, int64_t experiment_id) {
  return Map<MetricRecord>(tx.Query("SELECT m.trial_id, m.step, m.value, m.at FROM trial_metrics m "
                                    "JOIN trials t ON t.id = m.trial_id WHERE t.experiment_id = ? "
                                    "ORDER BY m.trial_id, m.step",
                                    {experiment_id}),
                           MetricFromRow);
}

}  // namespace quader::store
