-- How each member hears of outside messages and new reports on each project's cases:
-- immediately (no row), in the daily digest, or never.
CREATE TABLE notification_modes (
    user_id INTEGER NOT NULL REFERENCES users(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    mode TEXT NOT NULL,
    PRIMARY KEY (user_id, project_id)
);
