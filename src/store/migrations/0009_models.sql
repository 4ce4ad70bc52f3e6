-- The model registry (issue 19): a model of a project has versions; a version
-- records its files (each kept once, by content, in the data directory's
-- blob store: registry/blob_store.h), framework, metrics and parameters,
-- where it came from (a run's task and attempt) and a stage.
CREATE TABLE models (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (project_id, name)
);
CREATE TABLE model_versions (
  id {{id}},
  model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  framework TEXT NOT NULL,
  -- [{path, size, sha256}], the version's files; size_bytes their sum.
  files TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  metrics TEXT NOT NULL DEFAULT '{}',
  params TEXT NOT NULL DEFAULT '{}',
  -- Where it came from: {run, pipeline, task, attempt, path}.
  source TEXT NOT NULL DEFAULT '{}',
  stage TEXT NOT NULL DEFAULT 'none',
  description TEXT NOT NULL DEFAULT '',
  registered_by TEXT NOT NULL,
  registered_at BIGINT NOT NULL,
  UNIQUE (model_id, version)
);
-- Which versions hold a blob (its removal once none does).
CREATE TABLE model_blobs (
  version_id BIGINT NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (version_id, sha256)
);
CREATE INDEX model_blobs_sha256 ON model_blobs(sha256);
