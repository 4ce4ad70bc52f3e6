#include "store/pipelines.h"

#include "store/sql_util.h"

namespace quader::store {
namespace {

using internal::Map;
using internal::Nullable;
using internal::OptInt;
using internal::ProjectFilter;

constexpr const char* kTemplateCols =
    "t.id, t.project_id, p.name, t.name, t.spec, t.created_by, t.created_at, t.updated_at "
    "FROM job_templates t JOIN projects p ON p.id = t.project_id";

constexpr const char* kPipelineCols =
    "l.id, l.project_id, p.name, l.name, l.spec, l.created_by, l.created_at, l.updated_at, l.schedule_since "
    "FROM pipelines l JOIN projects p ON p.id = l.project_id";

constexpr const char* kRunCols =
    "r.id, r.project_id, p.name, r.pipeline_id, r.pipeline_name, r.run_key, r.snapshot, r.state, r.reason, "
    "r.run_trigger, r.runner, r.creator, r.execution_date, r.schedule_id, r.stop_requested, r.created_at, "
    "r.started_at, r.finished_at, r.timezone FROM runs r JOIN projects p ON p.id = r.project_id";

// Without the snapshot (lists): the same columns, '' in its place.
constexpr const char* kRunListCols =
    "r.id, r.project_id, p.name, r.pipeline_id, r.pipeline_name, r.run_key, '', r.state, r.reason, "
    "r.run_trigger, r.runner, r.creator, r.execution_date, r.schedule_id, r.stop_requested, r.created_at, "
    "r.started_at, r.finished_at, r.timezone FROM runs r JOIN projects p ON p.id = r.project_id";

constexpr const char* kTaskCols =
    "id, run_id, name, position, state, attempt, max_attempts, reason, workload, node, runtime, image, argv, "
    "exit_code, oom_killed, peak_memory, outputs, ready_at, not_before, started_at, finished_at FROM run_tasks";

constexpr const char* kScheduleCols =
    "s.id, s.pipeline_id, s.project_id, p.name, l.name, s.execution_date, s.timezone, s.state, s.run_id, "
    "COALESCE(r.state, ''), s.fired_at, s.updated_at FROM schedule_records s "
    "JOIN projects p ON p.id = s.project_id JOIN pipelines l ON l.id = s.pipeline_id "
    "LEFT JOIN runs r ON r.id = s.run_id";

TemplateRecord TemplateFromRow(const Row& r) {
  TemplateRecord t;
  t.id = r.Int(0);
  t.project_id = r.Int(1);
  t.project = r.Str(2);
  t.name = r.Str(3);
  t.spec = r.Str(4);
  t.created_by = r.Str(5);
  t.created_at = r.Int(6);
  t.updated_at = r.Int(7);
  return t;
}

PipelineRecord PipelineFromRow(const Row& r) {
  PipelineRecord p;
  p.id = r.Int(0);
  p.project_id = r.Int(1);
  p.project = r.Str(2);
  p.name = r.Str(3);
  p.spec = r.Str(4);
  p.created_by = r.Str(5);
  p.created_at = r.Int(6);
  p.updated_at = r.Int(7);
  p.schedule_since = OptInt(r, 8);
  return p;
}

RunRecord RunFromRow(const Row& r) {
  RunRecord x;
  x.id = r.Int(0);
  x.project_id = r.Int(1);
  x.project = r.Str(2);
  x.pipeline_id = OptInt(r, 3);
  x.pipeline_name = r.Str(4);
  x.run_key = r.Str(5);
  x.snapshot = r.Str(6);
  x.state = r.Str(7);
  x.reason = r.Str(8);
  x.trigger = r.Str(9);
  x.runner = r.Str(10);
  x.creator = r.Str(11);
  x.execution_date = r.Int(12);
  x.schedule_id = OptInt(r, 13);
  x.stop_requested = r.Int(14) != 0;
  x.created_at = r.Int(15);
  x.started_at = OptInt(r, 16);
  x.finished_at = OptInt(r, 17);
  x.timezone = r.Str(18);
  return x;
}

RunTaskRecord TaskFromRow(const Row& r) {
  RunTaskRecord t;
  t.id = r.Int(0);
  t.run_id = r.Int(1);
  t.name = r.Str(2);
  t.position = static_cast<int>(r.Int(3));
  t.state = r.Str(4);
  t.attempt = static_cast<int>(r.Int(5));
  t.max_attempts = static_cast<int>(r.Int(6));
  t.reason = r.Str(7);
  t.workload = r.Str(8);
  t.node = r.Str(9);
  t.runtime = r.Str(10);
  t.image = r.Str(11);
  t.argv = r.Str(12);
  if (!r.IsNull(13)) t.exit_code = static_cast<int>(r.Int(13));
  t.oom_killed = r.Int(14) != 0;
  t.peak_memory = r.Int(15);
  t.outputs = r.Str(16);
  t.ready_at = OptInt(r, 17);
  t.not_before = OptInt(r, 18);
  t.started_at = OptInt(r, 19);
  t.finished_at = OptInt(r, 20);
  return t;
}

AttemptRecord AttemptFromRow(const Row& r) {
  AttemptRecord a;
  a.id = r.Int(0);
  a.run_task_id = r.Int(1);
  a.attempt = static_cast<int>(r.Int(2));
  a.state = r.Str(3);
  if (!r.IsNull(4)) a.exit_code = static_cast<int>(r.Int(4));
  a.oom_killed = r.Int(5) != 0;
  a.reason = r.Str(6);
  a.workload = r.Str(7);
  a.node = r.Str(8);
  a.peak_memory = r.Int(9);
  a.started_at = OptInt(r, 10);
  a.finished_at = OptInt(r, 11);
  return a;
}

ScheduleRecord ScheduleFromRow(const Row& r) {
  ScheduleRecord s;
  s.id = r.Int(0);
  s.pipeline_id = r.Int(1);
  s.project_id = r.Int(2);
  s.project = r.Str(3);
  s.pipeline = r.Str(4);
  s.execution_date = r.Int(5);
  s.timezone = r.Str(6);
  s.state = r.Str(7);
  s.run_id = OptInt(r, 8);
  s.run_state = r.Str(9);
  s.fired_at = r.Int(10);
  s.updated_at = r.Int(11);
  return s;
}

Value OptIntValue(const std::optional<int>& v) { return v ? Value(static_cast<int64_t>(*v)) : Value(nullptr); }

Status RequireChange(Tx& tx, const char* kind, int64_t id) {
  if (tx.changes() == 0) return errors::NotFound(kind, std::to_string(id));
  return Status::Ok();
}

}  // namespace

// --- templates

Result<TemplateRecord> InsertTemplate(Tx& tx, TemplateRecord t, int64_t now) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query("INSERT INTO job_templates (project_id, name, spec, created_by, created_at, updated_at) "
                          "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                          {t.project_id, t.name, t.spec, t.created_by, now, now}));
  return GetTemplate(tx, rows.at(0).Int(0));
}

Status UpdateTemplateSpec(Tx& tx, int64_t id, const std::string& spec, int64_t now) {
  QUADER_RETURN_IF_ERROR(tx.Exec("UPDATE job_templates SET spec = ?, updated_at = ? WHERE id = ?", {spec, now, id}));
  return RequireChange(tx, "job template", id);
}

Result<TemplateRecord> GetTemplate(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kTemplateCols + " WHERE t.id = ?", {id}));
  if (rows.empty()) return errors::NotFound("job template", std::to_string(id));
  return TemplateFromRow(rows[0]);
}

Result<std::optional<TemplateRecord>> FindTemplate(Tx& tx, int64_t project_id, const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kTemplateCols +
                                                   " WHERE t.project_id = ? AND t.name = ?",
                                               {project_id, name}));
  if (rows.empty()) return std::optional<TemplateRecord>();
  return std::optional<TemplateRecord>(TemplateFromRow(rows[0]));
}

Result<std::vector<TemplateRecord>> ListTemplates(Tx& tx, const std::vector<int64_t>& project_ids, bool all) {
  Params params;
  std::string sql = std::string("SELECT ") + kTemplateCols + ProjectFilter("t", project_ids, all, &params) +
                    " ORDER BY t.name, p.name";
  return Map<TemplateRecord>(tx.Query(sql, params), TemplateFromRow);
}

Status DeleteTemplate(Tx& tx, int64_t id) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM job_templates WHERE id = ?", {id}));
  return RequireChange(tx, "job template", id);
}

// --- pipelines

Result<PipelineRecord> InsertPipeline(Tx& tx, PipelineRecord p, int64_t now) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query("INSERT INTO pipelines (project_id, name, spec, created_by, created_at, updated_at, schedule_since) "
               "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
               {p.project_id, p.name, p.spec, p.created_by, now, now, Nullable(p.schedule_since)}));
  return GetPipeline(tx, rows.at(0).Int(0));
}

Status UpdatePipeline(Tx& tx, int64_t id, const std::string& spec, std::optional<int64_t> schedule_since,
                      int64_t now) {
  QUADER_RETURN_IF_ERROR(tx.Exec("UPDATE pipelines SET spec = ?, schedule_since = ?, updated_at = ? WHERE id = ?",
                                 {spec, Nullable(schedule_since), now, id}));
  return RequireChange(tx, "pipeline", id);
}

Result<PipelineRecord> GetPipeline(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kPipelineCols + " WHERE l.id = ?", {id}));
  if (rows.empty()) return errors::NotFound("pipeline", std::to_string(id));
  return PipelineFromRow(rows[0]);
}

Result<std::optional<PipelineRecord>> FindPipeline(Tx& tx, int64_t project_id, const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kPipelineCols +
                                                   " WHERE l.project_id = ? AND l.name = ?",
                                               {project_id, name}));
  if (rows.empty()) return std::optional<PipelineRecord>();
  return std::optional<PipelineRecord>(PipelineFromRow(rows[0]));
}

Result<std::vector<PipelineRecord>> ListPipelines(Tx& tx, const std::vector<int64_t>& project_ids, bool all) {
  Params params;
  std::string sql = std::string("SELECT ") + kPipelineCols + ProjectFilter("l", project_ids, all, &params) +
                    " ORDER BY l.name, p.name";
  return Map<PipelineRecord>(tx.Query(sql, params), PipelineFromRow);
}

Status DeletePipeline(Tx& tx, int64_t id) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM pipelines WHERE id = ?", {id}));
  return RequireChange(tx, "pipeline", id);
}

// --- runs

Result<int64_t> InsertRun(Tx& tx, const RunRecord& run, std::vector<RunTaskRecord>* tasks) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query("INSERT INTO runs (project_id, pipeline_id, pipeline_name, run_key, snapshot, state, reason, "
               "run_trigger, runner, creator, execution_date, schedule_id, stop_requested, created_at, timezone) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id",
               {run.project_id, Nullable(run.pipeline_id), run.pipeline_name, run.run_key, run.snapshot, run.state,
                run.reason, run.trigger, run.runner, run.creator, run.execution_date, Nullable(run.schedule_id),
                run.created_at, run.timezone}));
  int64_t id = rows.at(0).Int(0);
  for (RunTaskRecord& t : *tasks) {
    t.run_id = id;
    QUADER_ASSIGN_OR_RETURN(
        Rows ids, tx.Query("INSERT INTO run_tasks (run_id, name, position, state, attempt, max_attempts, reason, "
                           "image, argv, ready_at, runtime, exit_code, outputs, started_at, finished_at) "
                           "VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                           {id, t.name, static_cast<int64_t>(t.position), t.state,
                            static_cast<int64_t>(t.max_attempts), t.reason, t.image, t.argv, Nullable(t.ready_at),
                            t.runtime, OptIntValue(t.exit_code), t.outputs, Nullable(t.started_at),
                            Nullable(t.finished_at)}));
    t.id = ids.at(0).Int(0);
  }
  return id;
}

Result<RunRecord> GetRun(Tx& tx, int64_t id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kRunCols + " WHERE r.id = ?", {id}));
  if (rows.empty()) return errors::NotFound("run", std::to_string(id));
  return RunFromRow(rows[0]);
}

Result<std::vector<RunRecord>> ListRuns(Tx& tx, const RunFilter& f) {
  Params params;
  std::string sql = std::string("SELECT ") + kRunListCols + ProjectFilter("r", f.project_ids, f.all, &params);
  const char* glue = sql.find(" WHERE ") == std::string::npos ? " WHERE " : " AND ";
  if (f.pipeline_id) {
    sql += std::string(glue) + "r.pipeline_id = ?";
    params.push_back(*f.pipeline_id);
    glue = " AND ";
  }
  if (!f.state.empty()) {
    sql += std::string(glue) + "r.state = ?";
    params.push_back(f.state);
  }
  sql += " ORDER BY r.id DESC LIMIT ?";
  params.push_back(static_cast<int64_t>(f.limit));
  return Map<RunRecord>(tx.Query(sql, params), RunFromRow);
}

Result<std::vector<RunRecord>> ListActiveRuns(Tx& tx) {
  return Map<RunRecord>(
      tx.Query(std::string("SELECT ") + kRunCols + " WHERE r.state IN ('pending', 'running') ORDER BY r.id"),
      RunFromRow);
}

Result<int64_t> CountActiveRuns(Tx& tx, int64_t pipeline_id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT COUNT(*) FROM runs WHERE pipeline_id = ? AND state IN "
                                               "('pending', 'running') AND run_trigger <> 'debug'",
                                               {pipeline_id}));
  return rows.at(0).Int(0);
}

Result<std::optional<RunRecord>> LastRun(Tx& tx, int64_t pipeline_id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kRunListCols +
                                                   " WHERE r.pipeline_id = ? ORDER BY r.id DESC LIMIT 1",
                                               {pipeline_id}));
  if (rows.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(RunFromRow(rows[0]));
}

Status SetRunState(Tx& tx, int64_t id, const std::string& state, const std::string& reason,
                   std::optional<int64_t> started_at, std::optional<int64_t> finished_at) {
  QUADER_RETURN_IF_ERROR(tx.Exec(
      "UPDATE runs SET state = ?, reason = ?, started_at = COALESCE(started_at, ?), finished_at = ? WHERE id = ?",
      {state, reason, Nullable(started_at), Nullable(finished_at), id}));
  return RequireChange(tx, "run", id);
}

Status RequestRunStop(Tx& tx, int64_t id) {
  QUADER_RETURN_IF_ERROR(tx.Exec("UPDATE runs SET stop_requested = 1 WHERE id = ?", {id}));
  return RequireChange(tx, "run", id);
}

Status DeleteRun(Tx& tx, int64_t id) {
  QUADER_RETURN_IF_ERROR(tx.Exec("DELETE FROM runs WHERE id = ?", {id}));
  return RequireChange(tx, "run", id);
}

// --- run tasks and attempts

Result<std::vector<RunTaskRecord>> ListRunTasks(Tx& tx, int64_t run_id) {
  return Map<RunTaskRecord>(
      tx.Query(std::string("SELECT ") + kTaskCols + " WHERE run_id = ? ORDER BY position", {run_id}), TaskFromRow);
}

Result<std::vector<RunTaskRecord>> ListRunTasks(Tx& tx, int64_t run_id, int64_t offset, int64_t limit) {
  return Map<RunTaskRecord>(
      tx.Query(std::string("SELECT ") + kTaskCols + " WHERE run_id = ? AND position >= ? AND position < ? ORDER BY position",
               {run_id, offset, offset + limit}),
      TaskFromRow);
}

Result<std::map<std::string, int64_t>> CountRunTaskStates(Tx& tx, int64_t run_id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows,
                          tx.Query("SELECT state, COUNT(*) FROM run_tasks WHERE run_id = ? GROUP BY state", {run_id}));
  std::map<std::string, int64_t> out;
  for (const auto& row : rows) out[row.Str(0)] = row.Int(1);
  return out;
}

Result<std::optional<RunTaskRecord>> FindRunTask(Tx& tx, int64_t run_id, const std::string& name) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query(std::string("SELECT ") + kTaskCols + " WHERE run_id = ? AND name = ?", {run_id, name}));
  if (rows.empty()) return std::optional<RunTaskRecord>();
  return std::optional<RunTaskRecord>(TaskFromRow(rows[0]));
}

Status UpdateRunTask(Tx& tx, const RunTaskRecord& t) {
  QUADER_RETURN_IF_ERROR(tx.Exec(
      "UPDATE run_tasks SET state = ?, attempt = ?, reason = ?, workload = ?, node = ?, runtime = ?, image = ?, "
      "argv = ?, exit_code = ?, oom_killed = ?, peak_memory = ?, outputs = ?, ready_at = ?, not_before = ?, "
      "started_at = ?, finished_at = ? WHERE id = ?",
      {t.state, static_cast<int64_t>(t.attempt), t.reason, t.workload, t.node, t.runtime, t.image, t.argv,
       OptIntValue(t.exit_code), static_cast<int64_t>(t.oom_killed), t.peak_memory, t.outputs, Nullable(t.ready_at),
       Nullable(t.not_before), Nullable(t.started_at), Nullable(t.finished_at), t.id}));
  return RequireChange(tx, "run task", t.id);
}

Status PutAttempt(Tx& tx, const AttemptRecord& a) {
  return tx.Exec(
      "INSERT INTO task_attempts (run_task_id, attempt, state, exit_code, oom_killed, reason, workload, node, "
      "peak_memory, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (run_task_id, attempt) DO UPDATE SET state = excluded.state, exit_code = excluded.exit_code, "
      "oom_killed = excluded.oom_killed, reason = excluded.reason, workload = excluded.workload, "
      "node = excluded.node, peak_memory = excluded.peak_memory, started_at = excluded.started_at, "
      "finished_at = excluded.finished_at",
      {a.run_task_id, static_cast<int64_t>(a.attempt), a.state, OptIntValue(a.exit_code),
       static_cast<int64_t>(a.oom_killed), a.reason, a.workload, a.node, a.peak_memory, Nullable(a.started_at),
       Nullable(a.finished_at)});
}

Result<std::vector<AttemptRecord>> ListAttempts(Tx& tx, int64_t run_id) {
  return Map<AttemptRecord>(
      tx.Query("SELECT a.id, a.run_task_id, a.attempt, a.state, a.exit_code, a.oom_killed, a.reason, a.workload, "
               "a.node, a.peak_memory, a.started_at, a.finished_at FROM task_attempts a "
               "JOIN run_tasks t ON t.id = a.run_task_id WHERE t.run_id = ? ORDER BY t.position, a.attempt",
               {run_id}),
      AttemptFromRow);
}

Result<std::vector<AttemptRecord>> ListAttempts(Tx& tx, int64_t run_id, int64_t offset, int64_t limit) {
  return Map<AttemptRecord>(
      tx.Query("SELECT a.id, a.run_task_id, a.attempt, a.state, a.exit_code, a.oom_killed, a.reason, a.workload, "
               "a.node, a.peak_memory, a.started_at, a.finished_at FROM task_attempts a "
               "JOIN run_tasks t ON t.id = a.run_task_id WHERE t.run_id = ? AND t.position >= ? AND t.position < ? "
               "ORDER BY t.position, a.attempt",
               {run_id, offset, offset + limit}),
      AttemptFromRow);
}

// --- schedule records

Result<ScheduleRecord> InsertScheduleRecord(Tx& tx, ScheduleRecord r) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query("INSERT INTO schedule_records (pipeline_id, project_id, execution_date, timezone, state, "
                          "run_id, fired_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                          {r.pipeline_id, r.project_id, r.execution_date, r.timezone, r.state, Nullable(r.run_id),
                           r.fired_at, r.fired_at}));
  r.id = rows.at(0).Int(0);
  r.updated_at = r.fired_at;
  return r;
}

Status UpdateScheduleRecord(Tx& tx, int64_t id, const std::string& state, std::optional<int64_t> run_id,
                            int64_t now_ms) {
  QUADER_RETURN_IF_ERROR(tx.Exec("UPDATE schedule_records SET state = ?, run_id = ?, updated_at = ? WHERE id = ?",
                                 {state, Nullable(run_id), now_ms, id}));
  return RequireChange(tx, "schedule record", id);
}

Result<std::vector<ScheduleRecord>> ListScheduleRecords(Tx& tx, const std::vector<int64_t>& project_ids, bool all,
                                                        std::optional<int64_t> pipeline_id, int limit) {
  Params params;
  std::string sql = std::string("SELECT ") + kScheduleCols + ProjectFilter("s", project_ids, all, &params);
  if (pipeline_id) {
    sql += sql.find(" WHERE ") == std::string::npos ? " WHERE " : " AND ";
    sql += "s.pipeline_id = ?";
    params.push_back(*pipeline_id);
  }
  sql += " ORDER BY s.execution_date DESC, s.id DESC LIMIT ?";
  params.push_back(static_cast<int64_t>(limit));
  return Map<ScheduleRecord>(tx.Query(sql, params), ScheduleFromRow);
}

Result<std::vector<ScheduleRecord>> ListPipelineScheduleRecords(Tx& tx, int64_t pipeline_id,
                                                                const std::string& state) {
  return Map<ScheduleRecord>(tx.Query(std::string("SELECT ") + kScheduleCols +
                                          " WHERE s.pipeline_id = ? AND s.state = ? ORDER BY s.execution_date",
                                      {pipeline_id, state}),
                             ScheduleFromRow);
}

Result<std::optional<ScheduleRecord>> LastScheduleRecord(Tx& tx, int64_t pipeline_id) {
  QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kScheduleCols +
                                                   " WHERE s.pipeline_id = ? ORDER BY s.execution_date DESC LIMIT 1",
                                               {pipeline_id}));
  if (rows.empty()) return std::optional<ScheduleRecord>();
  return std::optional<ScheduleRecord>(ScheduleFromRow(rows[0]));
}

Result<std::vector<int64_t>> PipelinesWithComedRecords(Tx& tx) {
  return Map<int64_t>(tx.Query("SELECT DISTINCT pipeline_id FROM schedule_records WHERE state = 'comed'"),
                      [](const Row& r) { return r.Int(0); });
}

Result<std::optional<ScheduleRecord>> PreviousLaunchedRecord(Tx& tx, int64_t pipeline_id, int64_t execution_date) {
  QUADER_ASSIGN_OR_RETURN(
      Rows rows, tx.Query(std::string("SELECT ") + kScheduleCols +
                              " WHERE s.pipeline_id = ? AND s.execution_date < ? AND s.run_id IS NOT NULL "
                              "ORDER BY s.execution_date DESC LIMIT 1",
                          {pipeline_id, execution_date}));
  if (rows.empty()) return std::optional<ScheduleRecord>();
  return std::optional<ScheduleRecord>(ScheduleFromRow(rows[0]));
}

}  // namespace quader::store
