-- The guard: sensitive terms per case (sealed) and giveaway words per project (NULL: the defaults).
ALTER TABLE cases ADD COLUMN terms_sealed BLOB;
ALTER TABLE projects ADD COLUMN giveaways TEXT;
