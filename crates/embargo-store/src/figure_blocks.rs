//! The process review's figures, kept by block so that a year of a busy organisation is
//! counted without opening every case: each block of 1,024 cases of a project (by case
//! number, so that a project filed among many others still fills its blocks) keeps what
//! its cases add up to, and what each open case's clocks are judged from when read (they
//! run on). A block is kept sealed, bound to the count, the id sum and the revision sum
//! of the cases it was made from (its marks). Triggers keep every block's marks as cases
//! change (`figure_marks`), so a read looks at a row a block, not at every case; when a
//! kept block's marks no longer match (a case changed, arrived, or moved to another
//! project) it is made again when next read, and an old block put back does not open.
//! Blocks that straddle the period asked for are counted case by case.

use std::collections::HashMap;

use embargo_core::project::ClockSettings;
use embargo_core::review::Tally;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::OffsetDateTime;

use crate::case_row::{Clocked, FIGURE_COLUMNS, counted_from_row};
use crate::contexts::figure_block as ctx;
use crate::{Backend, Result, Store, StoreError};

/// Case numbers per block (the migrations that keep `figure_marks` say it too).
const BLOCK: i64 = 1024;

/// How many rows a project's changes may append to `figure_marks` before a read folds
/// them.
const FOLD_AFTER: i64 = 4096;

/// The release that made a block: another release's block is made again, since its
/// encoding or its rules may differ.
const MADE_BY: &str = env!("CARGO_PKG_VERSION");

/// What a block keeps.
#[derive(Serialize, Deserialize)]
struct Block {
    made_by: String,
    /// Every case it counts, for the audit of who read what.
    ids: Vec<i64>,
    /// What its cases add up to, their clocks left unjudged.
    tally: Tally,
    /// What each open case's clocks are judged from.
    open: Vec<Clocked>,
    /// For each user who acted on its cases, on how many.
    handled: HashMap<i64, i64>,
}

/// What a scope's cases received in a period add up to, and which cases were counted.
#[derive(Default)]
pub(crate) struct Count {
    pub(crate) tally: Tally,
    pub(crate) ids: Vec<i64>,
    /// For each user who acted on the cases, on how many.
    pub(crate) handled: HashMap<i64, i64>,
}

/// What identifies the cases of a block as they stand: every change to a case bumps its
/// revision, and a case leaving or joining changes the count or the id sum.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Marks {
    cases: i64,
    id_sum: i64,
    revisions: i64,
}

/// Where one block stands in the database.
struct Mark {
    block: i64,
    marks: Marks,
    first: i64,
    last: i64,
}

impl Store {
    /// Counts one project's cases received in [`lo`, `hi`) into `count`, their clocks
    /// judged at `now`.
    pub(crate) async fn count_project(
        &self,
        project_id: i64,
        lo: i64,
        hi: i64,
        now: OffsetDateTime,
        count: &mut Count,
    ) -> Result<()> {
        let settings: ClockSettings = {
            let text: String = sqlx::query("SELECT clock_settings FROM projects WHERE id = $1")
                .bind(project_id)
                .fetch_one(&self.pool)
                .await?
                .try_get("clock_settings")?;
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?
        };
        let marks = self.marks(project_id, lo, hi).await?;
        let (Some(first), Some(last)) = (
            marks.iter().map(|m| m.block).min(),
            marks.iter().map(|m| m.block).max(),
        ) else {
            return Ok(());
        };
        // Only the blocks of the period: a year's review of a store kept for ten reads a
        // tenth of them.
        let mut kept: HashMap<i64, (Marks, Vec<u8>)> = HashMap::new();
        for row in sqlx::query(
            "SELECT block, cases, id_sum, revisions, body_sealed FROM figure_blocks \
             WHERE project_id = $1 AND block >= $2 AND block <= $3",
        )
        .bind(project_id)
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await?
        {
            kept.insert(
                row.try_get("block")?,
                (
                    Marks {
                        cases: row.try_get("cases")?,
                        id_sum: row.try_get("id_sum")?,
                        revisions: row.try_get("revisions")?,
                    },
                    row.try_get("body_sealed")?,
                ),
            );
        }
        for mark in marks {
            if mark.first < lo || mark.last >= hi {
                self.count_cases(project_id, mark.block, (lo, hi), &settings, now, count)
                    .await?;
                continue;
            }
            let current = kept
                .remove(&mark.block)
                .filter(|(marks, _)| *marks == mark.marks)
                .and_then(|(_, sealed)| self.open_block(project_id, &mark, &sealed));
            let block = match current {
                Some(block) => block,
                None => {
                    self.make_block(project_id, mark.block, &settings, now)
                        .await?
                }
            };
            for clocked in &block.open {
                let (overdue, stalled) = clocked.judged(&settings, now);
                count.tally.judged(overdue, stalled);
            }
            count.tally.merge(block.tally);
            count.ids.extend_from_slice(&block.ids);
            for (user, n) in &block.handled {
                *count.handled.entry(*user).or_insert(0) += n;
            }
        }
        Ok(())
    }

    /// Where the project's blocks holding cases of [`lo`, `hi`) stand, summed from what
    /// each change appended (`figure_marks`); folded into a row a block when many have
    /// gathered.
    async fn marks(&self, project_id: i64, lo: i64, hi: i64) -> Result<Vec<Mark>> {
        let rows = sqlx::query(
            "SELECT block, CAST(SUM(cases) AS BIGINT) AS n, CAST(SUM(id_sum) AS BIGINT) AS ids, \
             CAST(SUM(revisions) AS BIGINT) AS r, MIN(first_received) AS first, \
             MAX(last_received) AS last, COUNT(*) AS appended FROM figure_marks \
             WHERE project_id = $1 GROUP BY block \
             HAVING SUM(cases) > 0 AND MAX(last_received) >= $2 AND MIN(first_received) < $3",
        )
        .bind(project_id)
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?;
        let mut appended = 0;
        let marks = rows
            .iter()
            .map(|row| {
                appended += row.try_get::<i64, _>("appended")? - 1;
                Ok(Mark {
                    block: row.try_get("block")?,
                    marks: Marks {
                        cases: row.try_get("n")?,
                        id_sum: row.try_get("ids")?,
                        revisions: row.try_get("r")?,
                    },
                    first: row.try_get("first")?,
                    last: row.try_get("last")?,
                })
            })
            .collect::<Result<Vec<Mark>>>()?;
        if appended > FOLD_AFTER {
            self.fold_marks(project_id).await?;
            self.vacuum_marks().await?;
        }
        Ok(marks)
    }

    /// Lets PostgreSQL reuse what folds deleted. The deleted rows stay until a vacuum,
    /// and every read of the marks would step over them: after a million filings with
    /// autovacuum off, 167 ms a project, 2.7 s of a year's figures of sixteen. Small once
    /// folded, so cheap to vacuum (1.2 s the first time, then little).
    async fn vacuum_marks(&self) -> Result<()> {
        if self.backend() == Backend::Postgres {
            sqlx::query("VACUUM figure_marks")
                .execute(self.writer())
                .await?;
        }
        Ok(())
    }

    /// Folds the rows a project's changes appended into one a block. What a change
    /// appends meanwhile stays apart, to be summed with the folded row.
    async fn fold_marks(&self, project_id: i64) -> Result<()> {
        let sums = "CAST(SUM(cases) AS BIGINT), CAST(SUM(id_sum) AS BIGINT), \
             CAST(SUM(revisions) AS BIGINT), MIN(first_received), MAX(last_received)";
        let columns = "project_id, block, cases, id_sum, revisions, first_received, last_received";
        // A block every case has left sums to nothing, and goes.
        let kept = "HAVING SUM(cases) <> 0 OR SUM(id_sum) <> 0 OR SUM(revisions) <> 0";
        match self.backend() {
            // One statement: what it folds is exactly what it deletes, whatever commits
            // between its reads.
            Backend::Postgres => {
                sqlx::query(&format!(
                    "WITH gone AS (DELETE FROM figure_marks WHERE project_id = $1 RETURNING {columns}) \
                     INSERT INTO figure_marks ({columns}) SELECT project_id, block, {sums} FROM gone \
                     GROUP BY project_id, block {kept}"
                ))
                .bind(project_id)
                .execute(self.writer())
                .await?;
            }
            // One writer: nothing is appended between the reads of its transaction.
            Backend::Sqlite => {
                let mut tx = self.begin_write().await?;
                let last: Option<i64> =
                    sqlx::query("SELECT MAX(seq) AS last FROM figure_marks WHERE project_id = $1")
                        .bind(project_id)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get("last")?;
                if let Some(last) = last {
                    sqlx::query(&format!(
                        "INSERT INTO figure_marks ({columns}) SELECT project_id, block, {sums} \
                         FROM figure_marks WHERE project_id = $1 AND seq <= $2 \
                         GROUP BY project_id, block {kept}"
                    ))
                    .bind(project_id)
                    .bind(last)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM figure_marks WHERE project_id = $1 AND seq <= $2")
                        .bind(project_id)
                        .bind(last)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// For each user who acted on the block's cases received in [`lo`, `hi`), on how many.
    async fn handled(
        &self,
        project_id: i64,
        block: i64,
        (lo, hi): (i64, i64),
    ) -> Result<HashMap<i64, i64>> {
        let rows = sqlx::query(
            "SELECT e.actor_id, COUNT(DISTINCT e.case_id) AS n FROM case_events e \
             JOIN cases c ON c.id = e.case_id WHERE c.project_id = $1 AND c.number >= $2 AND c.number < $3 \
             AND +c.received_at >= $4 AND +c.received_at < $5 AND e.actor_id IS NOT NULL GROUP BY e.actor_id",
        )
        .bind(project_id)
        .bind(block * BLOCK)
        .bind((block + 1) * BLOCK)
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("actor_id")?, row.try_get("n")?)))
            .collect()
    }

    /// A kept block, if it opens as made from the cases as they stand and this release
    /// made it.
    fn open_block(&self, project_id: i64, mark: &Mark, sealed: &[u8]) -> Option<Block> {
        let m = mark.marks;
        let context = ctx(project_id, mark.block, m.cases, m.id_sum, m.revisions);
        let plain = self.keys().open(&context, sealed).ok()?;
        postcard::from_bytes::<Block>(&plain)
            .ok()
            .filter(|b| b.made_by == MADE_BY)
    }

    /// Makes a block from its cases and keeps it. Its marks come from the same rows, so a
    /// case changed meanwhile leaves it stale, never wrong.
    async fn make_block(
        &self,
        project_id: i64,
        block: i64,
        settings: &ClockSettings,
        now: OffsetDateTime,
    ) -> Result<Block> {
        let rows = self
            .block_rows(project_id, block, (i64::MIN, i64::MAX))
            .await?;
        let mut made = Block {
            made_by: MADE_BY.to_owned(),
            ids: Vec::with_capacity(rows.len()),
            tally: Tally::default(),
            open: Vec::new(),
            handled: HashMap::new(),
        };
        let mut marks = Marks {
            cases: 0,
            id_sum: 0,
            revisions: 0,
        };
        for row in &rows {
            marks.cases += 1;
            marks.revisions += row.try_get::<i64, _>("revision")?;
            let counted = counted_from_row(self.keys(), row)?;
            marks.id_sum += counted.id;
            made.ids.push(counted.id);
            if counted.clocked.is_open() {
                made.open.push(counted.clocked.clone());
            }
            // Closed cases' clocks never count; open ones' are judged when read.
            let mut figures = counted.figures(settings, now);
            figures.overdue = false;
            figures.stalled = false;
            made.tally.add(&figures);
        }
        // Read after the cases: an entry added since bumps a revision, so the block is
        // made again next time rather than kept wrong.
        made.handled = self
            .handled(project_id, block, (i64::MIN, i64::MAX))
            .await?;
        let plain = postcard::to_allocvec(&made)
            .map_err(|e| StoreError::Corrupt(format!("a block of figures: {e}")))?;
        let context = ctx(
            project_id,
            block,
            marks.cases,
            marks.id_sum,
            marks.revisions,
        );
        let sealed = self.keys().seal(&context, &plain)?;
        sqlx::query(
            "INSERT INTO figure_blocks (project_id, block, cases, id_sum, revisions, body_sealed) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, block) DO UPDATE SET \
             cases = excluded.cases, id_sum = excluded.id_sum, revisions = excluded.revisions, \
             body_sealed = excluded.body_sealed",
        )
        .bind(project_id)
        .bind(block)
        .bind(marks.cases)
        .bind(marks.id_sum)
        .bind(marks.revisions)
        .bind(sealed)
        .execute(self.writer())
        .await?;
        Ok(made)
    }

    /// The rows of a block's cases received in [`lo`, `hi`), for [`counted_from_row`].
    /// (Here and in `handled` the `+` keeps SQLite on the index of case numbers:
    /// it preferred the one of receipt times, and read every case of the project for each
    /// block, 9 s to make the blocks of 50,000 cases.)
    async fn block_rows(
        &self,
        project_id: i64,
        block: i64,
        (lo, hi): (i64, i64),
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        Ok(sqlx::query(&format!(
            "SELECT {FIGURE_COLUMNS} FROM cases c WHERE c.project_id = $1 AND c.number >= $2 AND c.number < $3 \
             AND +c.received_at >= $4 AND +c.received_at < $5 ORDER BY c.id"
        ))
        .bind(project_id)
        .bind(block * BLOCK)
        .bind((block + 1) * BLOCK)
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Counts the cases of a block received in the period one by one.
    async fn count_cases(
        &self,
        project_id: i64,
        block: i64,
        (lo, hi): (i64, i64),
        settings: &ClockSettings,
        now: OffsetDateTime,
        count: &mut Count,
    ) -> Result<()> {
        let rows = self.block_rows(project_id, block, (lo, hi)).await?;
        for row in &rows {
            let counted = counted_from_row(self.keys(), row)?;
            count.ids.push(counted.id);
            count.tally.add(&counted.figures(settings, now));
        }
        for (user, n) in self.handled(project_id, block, (lo, hi)).await? {
            *count.handled.entry(user).or_insert(0) += n;
        }
        Ok(())
    }
}

impl Store {
    /// Folds what changes appended to `figure_marks` for every project with more than a
    /// row a block (the daily digest's job does it, so a store whose figures nobody
    /// reads does not grow a row a change). Returns how many projects it folded.
    pub async fn fold_figure_marks(&self) -> Result<usize> {
        let projects: Vec<i64> = sqlx::query(
            "SELECT project_id FROM figure_marks GROUP BY project_id \
             HAVING COUNT(*) > COUNT(DISTINCT block)",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| row.try_get("project_id"))
        .collect::<std::result::Result<_, _>>()?;
        for &project in &projects {
            self.fold_marks(project).await?;
        }
        if !projects.is_empty() {
            self.vacuum_marks().await?;
        }
        Ok(projects.len())
    }
}
