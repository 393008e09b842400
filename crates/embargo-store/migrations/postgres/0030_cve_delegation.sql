-- The foundation team is the CNA and reserves CVE IDs; an organisation may delegate
-- reservation to a project's team. Each change is recorded in the audit chain.
ALTER TABLE projects ADD COLUMN cve_delegated INTEGER NOT NULL DEFAULT 0;
