-- Where a project's product lives, for the advisories scanners read: its name and vendor
-- in advisories, package URLs, CPE names and the source repository (JSON, public data).
ALTER TABLE projects ADD COLUMN product TEXT;
