-- The search index over sealed text: keyed tokens of the words of titles, descriptions,
-- notes and CVE IDs (never the words), so that SQL finds candidate cases without the
-- plaintext reaching the database. `key_id` is the data key the token was made under;
-- `scope` 0 is readable by everyone with the case, 1 by its team only (internal notes);
-- `source` says which field gave it, so that a changed title replaces its own tokens.
CREATE TABLE search_terms (
    token BIGINT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    source TEXT NOT NULL,
    scope BIGINT NOT NULL,
    key_id BIGINT NOT NULL,
    PRIMARY KEY (token, case_id, source, scope, key_id)
);
CREATE INDEX search_terms_case ON search_terms (case_id);
-- Which cases are indexed, under which data key: a case with no row here is indexed when
-- the store opens (after an upgrade or a restore), one under an older key by `keys reseal`.
CREATE TABLE search_indexed (
    case_id BIGINT PRIMARY KEY REFERENCES cases(id),
    key_id BIGINT NOT NULL
);
-- The queue across every project, newest first, page by page.
CREATE INDEX cases_received ON cases (received_at DESC, id DESC);
