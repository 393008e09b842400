-- How far intake has read each polled mailbox (reset when its UIDVALIDITY changes).
CREATE TABLE imap_state (
    account TEXT PRIMARY KEY,
    uid_validity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL
);
