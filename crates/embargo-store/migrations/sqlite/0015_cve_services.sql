-- The organisation's CVE Services credentials (sealed JSON: API URL, org, user, key).
ALTER TABLE organisations ADD COLUMN cve_services_sealed BLOB;
-- The state of the case's CVE ID at CVE Services (sealed JSON: state, when).
ALTER TABLE cases ADD COLUMN cve_state_sealed BLOB;
