-- Mail: every message in (and later out) is kept whole and sealed; quarantined ones
-- carry their reason. Message-IDs are kept only as hashes, for threading and duplicates.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id),
    case_id INTEGER REFERENCES cases(id),
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    message_id_hash BLOB,
    received_at INTEGER NOT NULL,
    sent_at INTEGER,
    quarantine_reason TEXT,
    raw_sealed BLOB NOT NULL
);
CREATE UNIQUE INDEX messages_message_id ON messages (direction, message_id_hash);
CREATE INDEX messages_case ON messages (case_id, id);
CREATE INDEX messages_quarantine ON messages (project_id, kind);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    case_id INTEGER REFERENCES cases(id),
    size INTEGER NOT NULL,
    held_back INTEGER NOT NULL,
    meta_sealed BLOB NOT NULL,
    data_sealed BLOB NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id, id);
