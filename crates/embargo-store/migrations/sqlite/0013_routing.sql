-- An organisation's foundation address lands in its inbox: a project without a team of
-- its own, worked by the foundation team, which routes each report to a project.
ALTER TABLE projects ADD COLUMN inbox INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX projects_one_inbox ON projects (org_id) WHERE inbox = 1;
-- The project's wider private list (its management committee), told of stalled cases.
ALTER TABLE projects ADD COLUMN private_list TEXT;
-- Cases moved from one project to another: mail that names the old reference, or answers
-- mail sent under it, still finds the case.
CREATE TABLE case_moves (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    from_project_id INTEGER NOT NULL REFERENCES projects(id),
    from_number INTEGER NOT NULL,
    to_project_id INTEGER NOT NULL REFERENCES projects(id),
    to_number INTEGER NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    at INTEGER NOT NULL
);
CREATE INDEX case_moves_from ON case_moves (from_project_id, from_number);
-- When a stalled case was last escalated; escalated again only after new activity.
ALTER TABLE cases ADD COLUMN escalated_at INTEGER;
