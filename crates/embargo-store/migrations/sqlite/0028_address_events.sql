-- Events per client address within a window (failed sign-ins, public reports), shared
-- by every server on the database so that a client spreading its attempts over several
-- servers meets the same limit as on one. The address is kept as a keyed tag only.
CREATE TABLE address_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    address_tag TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX address_events_by_address ON address_events (scope, address_tag, at);
CREATE INDEX address_events_by_time ON address_events (at);
