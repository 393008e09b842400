-- Who may speak for a case's reporter besides them: co-reporters the team accepted.
CREATE TABLE co_reporters (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    email_sealed BLOB NOT NULL,
    added_by INTEGER REFERENCES users(id),
    added_at INTEGER NOT NULL
);
CREATE INDEX co_reporters_case ON co_reporters (case_id);

-- The message a timeline entry came from (a reporter's or a third party's mail).
ALTER TABLE case_events ADD COLUMN message_id INTEGER;

-- Every message intake took in, with what became of it; no content.
CREATE TABLE intake_log (
    id INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id),
    received_at INTEGER NOT NULL,
    classification TEXT NOT NULL,
    case_id INTEGER REFERENCES cases(id),
    message_id INTEGER REFERENCES messages(id)
);
CREATE INDEX intake_log_project ON intake_log (project_id, id);

-- Leases that let one server of many do a thing at a time (polling a mailbox).
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_at INTEGER NOT NULL
);
