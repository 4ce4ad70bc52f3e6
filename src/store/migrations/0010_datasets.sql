-- Data sets (issue 19): a data set of a project has versions; a version
-- records its files (kept once each, by content, in the same blob store as
-- the model registry's: registry/blob_store.h), where it came from (an
-- upload, a run's task, a project volume's path) and who made it.
CREATE TABLE datasets (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (project_id, name)
);
CREATE TABLE dataset_versions (
  id {{id}},
  dataset_id BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  -- [{path, size, sha256}], the version's files; size_bytes their sum.
  files TEXT NOT NULL,
  file_count INTEGER NOT NULL,
  size_bytes BIGINT NOT NULL,
  -- Where it came from: {kind: upload|task|volume, run, pipeline, task, attempt, volume, path}.
  source TEXT NOT NULL DEFAULT '{}',
  description TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (dataset_id, version)
);
CREATE TABLE dataset_blobs (
  version_id BIGINT NOT NULL REFERENCES dataset_versions(id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (version_id, sha256)
);
CREATE INDEX dataset_blobs_sha256 ON dataset_blobs(sha256);
-- Files uploaded for a version not made yet (POST .../uploads); a version
-- made of them takes them (POST .../versions {"uploads": [...]}).
CREATE TABLE dataset_uploads (
  id {{id}},
  dataset_id BIGINT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  uploaded_by TEXT NOT NULL,
  uploaded_at BIGINT NOT NULL
);
CREATE INDEX dataset_uploads_sha256 ON dataset_uploads(sha256);
-- Lineage: what read a version (a run's task, an experiment's trial, a
-- notebook that named it in `datasets:`). What wrote one is its source.
CREATE TABLE dataset_reads (
  version_id BIGINT NOT NULL REFERENCES dataset_versions(id) ON DELETE CASCADE,
  reader_kind TEXT NOT NULL,
  reader_id BIGINT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  read_at BIGINT NOT NULL,
  PRIMARY KEY (version_id, reader_kind, reader_id, detail)
);
-- Every hold on a blob of the registry's store, models' and data sets'
-- alike: a blob none holds is removed.
CREATE VIEW registry_blob_holds AS
  SELECT sha256 FROM model_blobs
  UNION ALL SELECT sha256 FROM dataset_blobs
  UNION ALL SELECT sha256 FROM dataset_uploads;
