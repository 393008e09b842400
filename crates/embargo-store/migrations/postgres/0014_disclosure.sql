-- How each project discloses (JSON: announcement lists, oss-security, pre-notification
-- lead, signing, CHANGES format, security.txt); NULL: the defaults.
ALTER TABLE projects ADD COLUMN disclosure TEXT;
-- Each organisation's CNA identity, OSV prefix and publisher name (JSON); NULL: defaults.
ALTER TABLE organisations ADD COLUMN settings TEXT;
-- The archived public announcement, recorded after the announcement (sealed like the
-- rest of the case; the advisory reference of the CVE record).
ALTER TABLE cases ADD COLUMN advisory_url_sealed BYTEA;
