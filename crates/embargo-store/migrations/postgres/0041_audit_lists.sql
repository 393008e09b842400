-- A list page is one audit row naming every case it showed (",12,13,14,"), not one row
-- per case; the row's MAC covers the list. NULL on a row about one case.
ALTER TABLE audit_log ADD COLUMN cases TEXT;
