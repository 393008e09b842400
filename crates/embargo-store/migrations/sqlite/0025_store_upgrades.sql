-- One-time upgrades of stored data done by Embargo itself (not SQL), by name.
CREATE TABLE store_upgrades (
    name TEXT PRIMARY KEY,
    done_at INTEGER NOT NULL
);
