-- The private fix, per branch (SPEC 2.5-2.6): each stage a row, the latest per branch
-- counting. The branch and stage are the project's vocabulary; the commit, version,
-- review link and note are sealed together in detail_sealed.
CREATE TABLE case_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    purpose TEXT NOT NULL,
    size INTEGER NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    at INTEGER NOT NULL,
    meta_sealed BLOB NOT NULL,
    data_sealed BLOB NOT NULL
);
CREATE INDEX case_files_case ON case_files (case_id, id);
CREATE TABLE fix_stages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    branch TEXT NOT NULL,
    stage TEXT NOT NULL,
    file_id INTEGER REFERENCES case_files(id),
    actor_id INTEGER REFERENCES users(id),
    at INTEGER NOT NULL,
    detail_sealed BLOB NOT NULL
);
CREATE INDEX fix_stages_case ON fix_stages (case_id, branch, id);
