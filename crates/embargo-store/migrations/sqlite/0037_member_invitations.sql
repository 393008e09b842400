-- Invitations to a project's security team: the newcomer chooses their own password
-- through a single-use link mailed to them. Only the link's digest is kept.
CREATE TABLE member_invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    invited_by INTEGER REFERENCES users(id),
    invited_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    invite_hash BLOB NOT NULL UNIQUE,
    accepted_at INTEGER
);
