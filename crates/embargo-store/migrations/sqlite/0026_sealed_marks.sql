-- A copy's mark is kept sealed; the column mark holds a keyed tag of it, found by
-- tracing, so whoever holds the database cannot read a recipient's mark to frame them.
ALTER TABLE prenotifications ADD COLUMN mark_sealed BLOB;
