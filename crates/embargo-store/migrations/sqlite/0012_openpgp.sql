-- Each project's OpenPGP team key: the public half in clear (it is published for
-- reporters), the secret half sealed.
CREATE TABLE team_keys (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id),
    fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL,
    secret_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
-- The reporter's OpenPGP public key, sealed (it names the reporter): mail to them is
-- encrypted to it.
ALTER TABLE cases ADD COLUMN reporter_key_sealed BLOB;
