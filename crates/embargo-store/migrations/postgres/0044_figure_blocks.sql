-- A case's revision grows with every change to its row, so that the sum of a block's
-- revisions (with its count of cases) tells whether anything in it changed since its
-- figures were kept. Nothing needs to remember to bump it: the trigger does.
ALTER TABLE cases ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
CREATE FUNCTION cases_revision() RETURNS trigger AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_revision BEFORE UPDATE ON cases FOR EACH ROW EXECUTE FUNCTION cases_revision();
-- A timeline entry changes what the figures say of who acted on the case (the update
-- is bumped again by the trigger above: revisions only grow, by how much does not matter).
CREATE FUNCTION case_events_revision() RETURNS trigger AS $$
BEGIN
    UPDATE cases SET revision = revision + 1 WHERE id = NEW.case_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER case_events_revision AFTER INSERT ON case_events FOR EACH ROW EXECUTE FUNCTION case_events_revision();
-- The blocks' counts, ids, revisions and receipt times read from the index alone.
CREATE INDEX cases_figure_blocks ON cases (project_id, id, revision, received_at);
-- The process review's figures of each block of 1,024 cases (by id) of a project, sealed
-- (a severity count in clear would tell whoever holds the database that a critical case
-- arrived): what the cases add up to, who acted on how many, and what each open case's
-- clocks need.
-- `cases`, `id_sum` and `revisions` are the count, id sum and revision sum of the cases
-- it was made from; a block that no longer matches is made again when next read. Not
-- backed up: a cache.
CREATE TABLE figure_blocks (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    block BIGINT NOT NULL,
    cases BIGINT NOT NULL,
    id_sum BIGINT NOT NULL,
    revisions BIGINT NOT NULL,
    body_sealed BYTEA NOT NULL,
    PRIMARY KEY (project_id, block)
);
