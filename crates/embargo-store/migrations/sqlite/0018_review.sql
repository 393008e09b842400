-- The structured retrospective of a closed case (sealed JSON).
ALTER TABLE cases ADD COLUMN retrospective_sealed BLOB;
