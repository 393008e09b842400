-- The audit head's own MAC: only the server's keys can set it.
ALTER TABLE audit_head ADD COLUMN auth BLOB;
