-- Job templates, pipelines, runs with their tasks and attempts, and schedule
-- records (SPEC §1, §5). Specs are stored as normalised JSON text; times of
-- runs, tasks and schedule records are Unix milliseconds.

CREATE TABLE job_templates (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE pipelines (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  -- Fire times at or before this (Unix seconds) are never produced: set when
  -- a schedule is first saved or its cron, zone or start time change.
  schedule_since BIGINT,
  UNIQUE (project_id, name)
);

CREATE TABLE runs (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  pipeline_id BIGINT REFERENCES pipelines(id) ON DELETE SET NULL,
  pipeline_name TEXT NOT NULL,
  run_key TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  run_trigger TEXT NOT NULL,
  runner TEXT NOT NULL,
  creator TEXT NOT NULL,
  execution_date BIGINT NOT NULL,
  timezone TEXT NOT NULL DEFAULT 'UTC',
  schedule_id BIGINT,
  stop_requested INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT
);
CREATE INDEX runs_pipeline ON runs(pipeline_id, id);
CREATE INDEX runs_state ON runs(state);

CREATE TABLE run_tasks (
  id {{id}},
  run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  position INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  workload TEXT NOT NULL DEFAULT '',
  node TEXT NOT NULL DEFAULT '',
  runtime TEXT NOT NULL DEFAULT '',
  image TEXT NOT NULL DEFAULT '',
  argv TEXT NOT NULL DEFAULT '[]',
  exit_code INTEGER,
  oom_killed INTEGER NOT NULL DEFAULT 0,
  peak_memory BIGINT NOT NULL DEFAULT 0,
  outputs TEXT NOT NULL DEFAULT '{}',
  ready_at BIGINT,
  not_before BIGINT,
  started_at BIGINT,
  finished_at BIGINT,
  UNIQUE (run_id, name)
);

CREATE TABLE task_attempts (
  id {{id}},
  run_task_id BIGINT NOT NULL REFERENCES run_tasks(id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL,
  exit_code INTEGER,
  oom_killed INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  workload TEXT NOT NULL DEFAULT '',
  node TEXT NOT NULL DEFAULT '',
  peak_memory BIGINT NOT NULL DEFAULT 0,
  started_at BIGINT,
  finished_at BIGINT,
  UNIQUE (run_task_id, attempt)
);

CREATE TABLE schedule_records (
  id {{id}},
  pipeline_id BIGINT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  execution_date BIGINT NOT NULL,
  timezone TEXT NOT NULL,
  state TEXT NOT NULL,
  run_id BIGINT REFERENCES runs(id) ON DELETE SET NULL,
  fired_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (pipeline_id, execution_date)
);
CREATE INDEX schedule_records_state ON schedule_records(state);
