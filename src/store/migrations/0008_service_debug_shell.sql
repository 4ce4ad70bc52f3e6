-- An inference service deployed to debug "with a shell" (cube-studio's debug
-- stage): its replica starts idle, with the service's image, env and mounts,
-- for a terminal, instead of running its command. 1 only while the stage is
-- debug; every other deploy or clear sets it back to 0.
ALTER TABLE services ADD COLUMN debug_idle INTEGER NOT NULL DEFAULT 0;
