-- Each project's OpenPGP team key: the public half in clear (it is published for
-- reporters), the secret half sealed.
CREATE TABLE team_keys (
    project_id BIGINT PRIMARY KEY REFERENCES projects(id),
    fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
-- The reporter's OpenPGP public key, sealed (it names the reporter): mail to them is
-- encrypted to it.
ALTER TABLE cases ADD COLUMN reporter_key_sealed BYTEA;
