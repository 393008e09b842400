-- The Message-ID itself, sealed, so replies can carry In-Reply-To and References.
ALTER TABLE messages ADD COLUMN message_id_sealed BYTEA;
