-- The private fix, per branch (SPEC 2.5-2.6): each stage a row, the latest per branch
-- counting. The branch and stage are the project's vocabulary; the commit, version,
-- review link and note are sealed together in detail_sealed.
CREATE TABLE case_files (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    purpose TEXT NOT NULL,
    size BIGINT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    at BIGINT NOT NULL,
    meta_sealed BYTEA NOT NULL,
    data_sealed BYTEA NOT NULL
);
CREATE INDEX case_files_case ON case_files (case_id, id);
CREATE TABLE fix_stages (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    branch TEXT NOT NULL,
    stage TEXT NOT NULL,
    file_id BIGINT REFERENCES case_files(id),
    actor_id BIGINT REFERENCES users(id),
    at BIGINT NOT NULL,
    detail_sealed BYTEA NOT NULL
);
CREATE INDEX fix_stages_case ON fix_stages (case_id, branch, id);
