-- Notebooks (SPEC §3): Jupyter or VS Code servers, one per row, each a
-- workload labelled kind=notebook. `desired` is what the owner asked for
-- (running or stopped); `generation` is bumped by a reset (the workload is
-- replaced); `state` is what the controller last saw. `server_token` is the
-- secret the gateway gives the notebook server on each request: the server
-- answers nobody who does not come through the gateway's access check.
CREATE TABLE notebooks (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  desired TEXT NOT NULL DEFAULT 'running',
  generation INTEGER NOT NULL DEFAULT 1,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  server_token TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  -- Unix ms: when it last became running, and the last activity seen.
  started_at BIGINT,
  last_activity BIGINT,
  UNIQUE (project_id, name)
);
CREATE INDEX notebooks_owner ON notebooks(created_by);
