-- Blocks are now a project's cases by number (1,024 numbers a block) rather than by id,
-- so that the cases of a project filed among those of many others still fill its blocks:
-- the blocks kept by id go, and are made again by number when first read. Nor does
-- anything read the index that counted each block's marks any more.
DELETE FROM figure_blocks;
DROP INDEX cases_figure_blocks;
-- Where each block of figures stands, kept as cases change rather than counted from every
-- case when a year's figures are read. Each change to a case appends what it adds to its
-- block's count, id sum and revision sum (and what it takes from the block it left); the
-- reader sums a block's rows and folds them into one now and then. Appending, rather than
-- updating one row per block, keeps concurrent writers from queueing on a block's row.
-- `first_received` and `last_received` bound the receipt times of the block's cases (a
-- bound that only widens, so a block it says lies within a period does). Not backed up:
-- the triggers make it again as a restore inserts the cases.
CREATE TABLE figure_marks (
    seq INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    block INTEGER NOT NULL,
    cases INTEGER NOT NULL,
    id_sum INTEGER NOT NULL,
    revisions INTEGER NOT NULL,
    first_received INTEGER NOT NULL,
    last_received INTEGER NOT NULL
);
CREATE INDEX figure_marks_block ON figure_marks (project_id, block);
INSERT INTO figure_marks (project_id, block, cases, id_sum, revisions, first_received, last_received)
SELECT project_id, number / 1024, COUNT(*), SUM(id), SUM(revision), MIN(received_at), MAX(received_at)
FROM cases GROUP BY project_id, number / 1024;
CREATE TRIGGER cases_marks_insert AFTER INSERT ON cases FOR EACH ROW
BEGIN
    INSERT INTO figure_marks (project_id, block, cases, id_sum, revisions, first_received, last_received)
    VALUES (NEW.project_id, NEW.number / 1024, 1, NEW.id, NEW.revision, NEW.received_at, NEW.received_at);
END;
CREATE TRIGGER cases_marks_delete AFTER DELETE ON cases FOR EACH ROW
BEGIN
    INSERT INTO figure_marks (project_id, block, cases, id_sum, revisions, first_received, last_received)
    VALUES (OLD.project_id, OLD.number / 1024, -1, -OLD.id, -OLD.revision, OLD.received_at, OLD.received_at);
END;
-- Every update that matters changes the revision (see 0044), the project, the id or the
-- receipt time. Within its block a case adds what its revision grew by; moved to another
-- project (or number) it leaves its old block and joins its new one.
CREATE TRIGGER cases_marks_update AFTER UPDATE ON cases FOR EACH ROW
WHEN (NEW.revision <> OLD.revision OR NEW.received_at <> OLD.received_at OR NEW.id <> OLD.id)
    AND NEW.project_id = OLD.project_id AND NEW.number / 1024 = OLD.number / 1024
BEGIN
    INSERT INTO figure_marks (project_id, block, cases, id_sum, revisions, first_received, last_received)
    VALUES (NEW.project_id, NEW.number / 1024, 0, NEW.id - OLD.id, NEW.revision - OLD.revision,
        NEW.received_at, NEW.received_at);
END;
CREATE TRIGGER cases_marks_move AFTER UPDATE ON cases FOR EACH ROW
WHEN NEW.project_id <> OLD.project_id OR NEW.number / 1024 <> OLD.number / 1024
BEGIN
    INSERT INTO figure_marks (project_id, block, cases, id_sum, revisions, first_received, last_received)
    VALUES (OLD.project_id, OLD.number / 1024, -1, -OLD.id, -OLD.revision, OLD.received_at, OLD.received_at),
           (NEW.project_id, NEW.number / 1024, 1, NEW.id, NEW.revision, NEW.received_at, NEW.received_at);
END;
