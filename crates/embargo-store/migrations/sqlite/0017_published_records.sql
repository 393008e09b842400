-- Advisories published elsewhere (OSV, CVE JSON 5), imported for history and duplicate
-- detection. They are public documents, so they are kept in clear.
CREATE TABLE published_records (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    record_id TEXT NOT NULL UNIQUE,
    cve_id TEXT,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    document TEXT NOT NULL,
    imported_at INTEGER NOT NULL
);
CREATE INDEX published_records_cve ON published_records (cve_id);
