-- How the reporter wishes to be credited (their name, a handle, or not at all), sealed
-- like the reporter's identity.
ALTER TABLE cases ADD COLUMN credit_sealed BYTEA;
