-- What triage concluded a report is (valid, hardening, information, invalid, duplicate),
-- kept when the case leaves triage, for the process-review figures. One word, like state.
ALTER TABLE cases ADD COLUMN disposition TEXT;
