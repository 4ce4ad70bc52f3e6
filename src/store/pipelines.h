#pragma once
// The job_templates, pipelines, runs, run_tasks, task_attempts and
// schedule_records tables. Every function runs on a caller's Tx. Specs are
// JSON text validated by pipeline/spec.h before they get here.

#include <map>
#include <optional>
#include <vector>

#include "store/store.h"

namespace quader::store {

struct TemplateRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string project;  // filled by reads (join)
  std::string name;
  std::string spec;     // pipeline::TemplateSpec::ToJson() text
  std::string created_by;
  int64_t created_at = 0;  // seconds
  int64_t updated_at = 0;
};

struct PipelineRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string project;
  std::string name;
  std::string spec;  // pipeline::PipelineSpec::ToJson() text
  std::string created_by;
  int64_t created_at = 0;  // seconds
  int64_t updated_at = 0;
  std::optional<int64_t> schedule_since;  // seconds
};

struct RunRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string project;
  std::optional<int64_t> pipeline_id;  // null once the pipeline is deleted
  std::string pipeline_name;
  std::string run_key;   // KFJ_RUN_ID
  std::string snapshot;  // {"pipeline": spec, "templates": {task: template spec}}
  std::string state;     // pending, running, succeeded, failed, stopped
  std::string reason;
  std::string trigger;   // manual, schedule, debug
  std::string runner;
  std::string creator;
  int64_t execution_date = 0;  // seconds
  std::string timezone = "UTC";  // of execution_date as shown and rendered
  std::optional<int64_t> schedule_id;
  bool stop_requested = false;
  int64_t created_at = 0;  // milliseconds from here on
  std::optional<int64_t> started_at;
  std::optional<int64_t> finished_at;
};

struct RunTaskRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string name;
  int position = 0;  // order in the pipeline document
  std::string state;
  int attempt = 0;   // 0: never started
  int max_attempts = 1;
  std::string reason;
  std::string workload;  // name of the current attempt's workload
  std::string node;
  std::string runtime;
  std::string image;
  std::string argv = "[]";  // JSON array
  std::optional<int> exit_code;
  bool oom_killed = false;
  int64_t peak_memory = 0;
  std::string outputs = "{}";  // JSON object
  std::optional<int64_t> ready_at;    // ms
  std::optional<int64_t> not_before;  // ms: retry backoff
  std::optional<int64_t> started_at;  // ms
  std::optional<int64_t> finished_at; // ms
};

struct AttemptRecord {
  int64_t id = 0;
  int64_t run_task_id = 0;
  int attempt = 0;
  std::string state;
  std::optional<int> exit_code;
  bool oom_killed = false;
  std::string reason;
  std::string workload;
  std::string node;
  int64_t peak_memory = 0;
  std::optional<int64_t> started_at;   // ms
  std::optional<int64_t> finished_at;  // ms
};

struct ScheduleRecord {
  int64_t id = 0;
  int64_t pipeline_id = 0;
  int64_t project_id = 0;
  std::string project;
  std::string pipeline;
  int64_t execution_date = 0;  // seconds
  std::string timezone;
  std::string state;  // comed, created, "skipped: why"
  std::optional<int64_t> run_id;
  std::string run_state;  // filled by reads (join); "" without a run
  int64_t fired_at = 0;   // ms: when the record was produced
  int64_t updated_at = 0; // ms
};

// --- templates
Result<TemplateRecord> InsertTemplate(Tx& tx, TemplateRecord t, int64_t now);
Status UpdateTemplateSpec(Tx& tx, int64_t id, const std::string& spec, int64_t now);
Result<TemplateRecord> GetTemplate(Tx& tx, int64_t id);
Result<std::optional<TemplateRecord>> FindTemplate(Tx& tx, int64_t project_id, const std::string& name);
Result<std::vector<TemplateRecord>> ListTemplates(Tx& tx, const std::vector<int64_t>& project_ids, bool all);
Status DeleteTemplate(Tx& tx, int64_t id);

// --- pipelines
Result<PipelineRecord> InsertPipeline(Tx& tx, PipelineRecord p, int64_t now);
Status UpdatePipeline(Tx& tx, int64_t id, const std::string& spec, std::optional<int64_t> schedule_since, int64_t now);
Result<PipelineRecord> GetPipeline(Tx& tx, int64_t id);
Result<std::optional<PipelineRecord>> FindPipeline(Tx& tx, int64_t project_id, const std::string& name);
Result<std::vector<PipelineRecord>> ListPipelines(Tx& tx, const std::vector<int64_t>& project_ids, bool all);
Status DeletePipeline(Tx& tx, int64_t id);

// --- runs
// Inserts the run and its tasks (ids filled in); returns the run's id.
Result<int64_t> InsertRun(Tx& tx, const RunRecord& run, std::vector<RunTaskRecord>* tasks);
Result<RunRecord> GetRun(Tx& tx, int64_t id);
struct RunFilter {
  std::vector<int64_t> project_ids;  // empty + all: every project
  bool all = false;
  std::optional<int64_t> pipeline_id;
  std::string state;
  int limit = 100;
};
Result<std::vector<RunRecord>> ListRuns(Tx& tx, const RunFilter& filter);
// Runs in pending or running, oldest first.
Result<std::vector<RunRecord>> ListActiveRuns(Tx& tx);
// Active runs of one pipeline.
Result<int64_t> CountActiveRuns(Tx& tx, int64_t pipeline_id);
// The newest run of a pipeline, if any.
Result<std::optional<RunRecord>> LastRun(Tx& tx, int64_t pipeline_id);
Status SetRunState(Tx& tx, int64_t id, const std::string& state, const std::string& reason,
                   std::optional<int64_t> started_at, std::optional<int64_t> finished_at);
Status RequestRunStop(Tx& tx, int64_t id);
Status DeleteRun(Tx& tx, int64_t id);

// --- run tasks and attempts
Result<std::vector<RunTaskRecord>> ListRunTasks(Tx& tx, int64_t run_id);
// The tasks at positions [offset, offset + limit) in run order.
Result<std::vector<RunTaskRecord>> ListRunTasks(Tx& tx, int64_t run_id, int64_t offset, int64_t limit);
// How many tasks of the run are in each state.
Result<std::map<std::string, int64_t>> CountRunTaskStates(Tx& tx, int64_t run_id);
Result<std::optional<RunTaskRecord>> FindRunTask(Tx& tx, int64_t run_id, const std::string& name);
// Writes every mutable column of the task.
Status UpdateRunTask(Tx& tx, const RunTaskRecord& t);
// Inserts or replaces the attempt (run_task_id, attempt).
Status PutAttempt(Tx& tx, const AttemptRecord& a);
Result<std::vector<AttemptRecord>> ListAttempts(Tx& tx, int64_t run_id);
// The attempts of the tasks at positions [offset, offset + limit).
Result<std::vector<AttemptRecord>> ListAttempts(Tx& tx, int64_t run_id, int64_t offset, int64_t limit);

// --- schedule records
// Inserts; kAlreadyExists when (pipeline, execution_date) has a record.
Result<ScheduleRecord> InsertScheduleRecord(Tx& tx, ScheduleRecord r);
Status UpdateScheduleRecord(Tx& tx, int64_t id, const std::string& state, std::optional<int64_t> run_id, int64_t now_ms);
Result<std::vector<ScheduleRecord>> ListScheduleRecords(Tx& tx, const std::vector<int64_t>& project_ids, bool all,
                                                        std::optional<int64_t> pipeline_id, int limit);
// Records of one pipeline in `state`, oldest first.
Result<std::vector<ScheduleRecord>> ListPipelineScheduleRecords(Tx& tx, int64_t pipeline_id, const std::string& state);
// The newest record of a pipeline, if any.
Result<std::optional<ScheduleRecord>> LastScheduleRecord(Tx& tx, int64_t pipeline_id);
// Pipelines that have records in `comed` (waiting to be decided).
Result<std::vector<int64_t>> PipelinesWithComedRecords(Tx& tx);
// The newest record before `execution_date` that launched a run.
Result<std::optional<ScheduleRecord>> PreviousLaunchedRecord(Tx& tx, int64_t pipeline_id, int64_t execution_date);

}  // namespace quader::store
