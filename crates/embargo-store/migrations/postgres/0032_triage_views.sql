-- Each team member's view of what a report is (SPEC 2.2). The reason is the detail of
-- the timeline entry named here, sealed like every entry; the disposition is one word.
CREATE TABLE triage_views (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    disposition TEXT NOT NULL,
    duplicate_of TEXT,
    event_id BIGINT REFERENCES case_events(id),
    at BIGINT NOT NULL
);
CREATE INDEX triage_views_case ON triage_views (case_id, user_id);
