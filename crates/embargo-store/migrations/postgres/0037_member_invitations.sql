-- Invitations to a project's security team: the newcomer chooses their own password
-- through a single-use link mailed to them. Only the link's digest is kept.
CREATE TABLE member_invitations (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    invited_by BIGINT REFERENCES users(id),
    invited_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    invite_hash BYTEA NOT NULL UNIQUE,
    accepted_at BIGINT
);
