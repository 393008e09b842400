-- Who on the team owns a case: shown on the case and in the queue, and filtered by.
ALTER TABLE cases ADD COLUMN owner_id INTEGER REFERENCES users(id);
