-- Hyperparameter-search experiments, their trials and the intermediate
-- results trials report (SPEC §6). Specs are normalised JSON text; times are
-- Unix milliseconds except the experiment's created_at/updated_at (seconds,
-- like other documents).

CREATE TABLE experiments (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  exp_key TEXT NOT NULL,
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  stop_requested INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  UNIQUE (project_id, name)
);
CREATE INDEX experiments_state ON experiments(state);

CREATE TABLE trials (
  id {{id}},
  experiment_id BIGINT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  sequence INTEGER NOT NULL,
  trial_key TEXT NOT NULL,
  -- sha256 of the trial's API token (hex); the token itself is only given to the trial
  token_hash TEXT NOT NULL,
  params TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  final_value DOUBLE PRECISION,
  workload TEXT NOT NULL DEFAULT '',
  argv TEXT NOT NULL DEFAULT '[]',
  exit_code INTEGER,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  UNIQUE (experiment_id, sequence)
);
CREATE INDEX trials_token ON trials(token_hash);

CREATE TABLE trial_metrics (
  trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (trial_id, step)
);
