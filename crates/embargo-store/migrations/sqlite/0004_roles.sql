-- Per-case roles: collaborators (after accepting the confidentiality terms) and
-- distributor contacts (for pre-notified cases); the reporter's secret link.
CREATE TABLE case_grants (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    invited_by INTEGER REFERENCES users(id),
    invited_at INTEGER NOT NULL,
    invite_hash BLOB UNIQUE,
    accepted_at INTEGER,
    terms_version TEXT,
    revoked_at INTEGER,
    UNIQUE (case_id, user_id, kind)
);
CREATE INDEX case_grants_user ON case_grants (user_id, kind);

CREATE TABLE distributors (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
);

ALTER TABLE cases ADD COLUMN reporter_link_hash BLOB;
ALTER TABLE cases ADD COLUMN reporter_link_sealed BLOB;
CREATE UNIQUE INDEX cases_reporter_link ON cases (reporter_link_hash);
