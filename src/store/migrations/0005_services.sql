-- Services and inference services (SPEC §7, §8): the documents, and the
-- events their controller records (replicas started and stopped, rollouts,
-- autoscaler decisions). Replicas themselves are workloads: the runtime,
-- asked by label, is their record.

CREATE TABLE services (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  -- Bumped on every change of the spec: replicas of older generations are
  -- replaced one by one (a rolling update).
  generation INTEGER NOT NULL DEFAULT 1,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE service_events (
  id {{id}},
  service_id BIGINT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX service_events_service ON service_events(service_id, id);
