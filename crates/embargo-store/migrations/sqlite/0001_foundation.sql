-- Times are Unix milliseconds (UTC). Columns named *_sealed hold AEAD ciphertext only.
CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    branches TEXT NOT NULL,
    clock_settings TEXT NOT NULL,
    next_case_number INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE committee_members (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    email TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, email)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_active_at INTEGER
);

-- kind 'foundation': scope_id is an organisation; kind 'project': scope_id is a project.
CREATE TABLE team_members (
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    scope_id INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, scope_id)
);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE data_keys (
    id INTEGER PRIMARY KEY,
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    channel TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    confirmed_at INTEGER,
    fix_ready_at INTEGER,
    announced_at INTEGER,
    public_at INTEGER,
    closed_at INTEGER,
    embargo_at INTEGER,
    last_activity_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    duplicate_of INTEGER REFERENCES cases(id),
    title_sealed BLOB NOT NULL,
    description_sealed BLOB NOT NULL,
    reporter_sealed BLOB NOT NULL,
    cvss_sealed BLOB,
    cve_sealed BLOB,
    versions_sealed BLOB,
    advisory_sealed BLOB,
    override_sealed BLOB,
    UNIQUE (project_id, number)
);
CREATE INDEX cases_project_state ON cases (project_id, state);

CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    at INTEGER NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    detail_sealed BLOB
);
CREATE INDEX case_events_case ON case_events (case_id, id);

CREATE TABLE checklist_marks (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    item TEXT NOT NULL,
    status TEXT NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    at INTEGER NOT NULL,
    note_sealed BLOB
);
CREATE INDEX checklist_marks_case ON checklist_marks (case_id, id);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    locked_by TEXT,
    locked_until INTEGER,
    done_at INTEGER,
    failed_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL AND failed_at IS NULL;

CREATE TABLE job_probes (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL,
    runner TEXT NOT NULL,
    at INTEGER NOT NULL
);
