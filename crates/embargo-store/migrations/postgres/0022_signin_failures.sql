-- Failed sign-ins per account name tried and client address, kept in the database so
-- that every server sees the same counts. The name is a keyed tag, never the address in
-- clear, and unknown names are counted exactly like real ones, so the counts reveal
-- nothing. A lock holds one address out of one account, never the account's owner
-- elsewhere.
CREATE TABLE signin_failures (
    name_tag TEXT NOT NULL,
    client TEXT NOT NULL,
    failures BIGINT NOT NULL,
    locked_until BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (name_tag, client)
);
