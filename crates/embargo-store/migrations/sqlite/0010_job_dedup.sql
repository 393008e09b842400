-- Jobs that must exist once (the daily digest of a given day), whichever server enqueues.
ALTER TABLE jobs ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX jobs_dedup ON jobs (dedup_key);
