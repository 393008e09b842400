-- Each project's own canned responses (JSON list of {name, text}); NULL: the defaults.
ALTER TABLE projects ADD COLUMN canned_responses TEXT;
