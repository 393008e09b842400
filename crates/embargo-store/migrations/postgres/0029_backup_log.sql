-- Backups taken, by time and the schema they were taken at: a server of the next release
-- migrates on start only after a fresh one (or when told to with --migrate).
CREATE TABLE backup_log (
    id BIGSERIAL PRIMARY KEY,
    taken_at BIGINT NOT NULL,
    schema_version BIGINT NOT NULL
);
