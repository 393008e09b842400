-- The audit log of reads of confidential content: a keyed hash chain. Each row's mac
-- covers the previous row's mac and its own fields; audit_head holds the last link so
-- that deleting rows from the end is detected too.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    what TEXT NOT NULL,
    via TEXT NOT NULL,
    mac BYTEA NOT NULL
);
CREATE INDEX audit_log_case ON audit_log (case_id, seq);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    mac BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, '\x');
