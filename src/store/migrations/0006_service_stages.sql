-- Inference services' deploy stages (SPEC §8, cube-studio's model_status):
-- offline, debug, test or online. Internal services are always online.
-- Deploys and clears are service_events of kind `deploy` and `clear` (the
-- deploy history).
ALTER TABLE services ADD COLUMN stage TEXT NOT NULL DEFAULT 'online';
-- The autoscaler's replica count (0: none decided yet, start at min_replicas);
-- kept so a restarted server resumes at the same size.
ALTER TABLE services ADD COLUMN scaled_replicas INTEGER NOT NULL DEFAULT 0;
