-- A delivery is a duplicate only of the same message to the same desk: the same
-- Message-ID and text (or the same bytes, without a Message-ID) for the same project.
-- A Message-ID alone let a report sent to two projects reach one, and let whoever learnt
-- a report's Message-ID first make the real report a "duplicate".
DROP INDEX messages_message_id;
CREATE INDEX messages_message_id ON messages (direction, message_id_hash);
ALTER TABLE messages ADD COLUMN dedup_hash BLOB;
CREATE UNIQUE INDEX messages_dedup ON messages (direction, dedup_hash);
