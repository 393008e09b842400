-- The audit log of reads of confidential content: a keyed hash chain. Each row's mac
-- covers the previous row's mac and its own fields; audit_head holds the last link so
-- that deleting rows from the end is detected too.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    case_id INTEGER NOT NULL,
    what TEXT NOT NULL,
    via TEXT NOT NULL,
    mac BLOB NOT NULL
);
CREATE INDEX audit_log_case ON audit_log (case_id, seq);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    mac BLOB NOT NULL
);
INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, X'');
