-- Pre-notifications: each distributor's copy carries an invisible mark (a leaked copy
-- names its recipient) and an acknowledgement link (its secret sealed, found by hash),
-- with the deadline and when it was acknowledged.
CREATE TABLE prenotifications (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    mark INTEGER NOT NULL UNIQUE,
    ack_hash BLOB NOT NULL UNIQUE,
    ack_sealed BLOB NOT NULL,
    sent_at INTEGER,
    ack_deadline INTEGER,
    acknowledged_at INTEGER,
    UNIQUE (case_id, user_id)
);
