-- The queue and the case list pick a page of the newest cases first: this index holds
-- what that choice reads, so it never touches the wide case rows it does not return.
CREATE INDEX cases_project_received ON cases (project_id, received_at DESC, id DESC);
