-- Reporters of duplicates merged into a case, kept for credit (sealed JSON list).
ALTER TABLE cases ADD COLUMN merged_sealed BYTEA;
