-- Each team member's view of what a report is (SPEC 2.2). The reason is the detail of
-- the timeline entry named here, sealed like every entry; the disposition is one word.
CREATE TABLE triage_views (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    disposition TEXT NOT NULL,
    duplicate_of TEXT,
    event_id INTEGER REFERENCES case_events(id),
    at INTEGER NOT NULL
);
CREATE INDEX triage_views_case ON triage_views (case_id, user_id);
