//! The process review's figures, kept by block so that a year of a busy organisation is
//! counted without opening every case: each block of 1,024 cases (by id) of a project
//! keeps what its cases add up to, and what each open case's clocks are judged from when
//! read (they run on). A block is kept sealed, bound to the count and the revision sum of
//! the cases it was made from; when either no longer matches (a case changed, arrived, or
//! moved to another project) it is made again when next read, and an old block put back
//! does not open. Blocks that straddle the period asked for are counted case by case.

use std::collections::HashMap;

use embargo_core::project::ClockSettings;
use embargo_core::review::Tally;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::OffsetDateTime;

use crate::case_row::{Clocked, FIGURE_COLUMNS, counted_from_row};
use crate::contexts::figure_block as ctx;
use crate::{Result, Store, StoreError};

/// Cases per block.
const BLOCK: i64 = 1024;

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
}

/// What a scope's cases received in a period add up to, and which cases were counted.
#[derive(Default)]
pub(crate) struct Count {
    pub(crate) tally: Tally,
    pub(crate) ids: Vec<i64>,
}

/// Where one block stands in the database.
struct Mark {
    block: i64,
    cases: i64,
    revisions: i64,
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
        // Read from the index alone: which blocks hold cases of the period, and how each
        // stands now.
        let marks = sqlx::query(&format!(
            "SELECT id / {BLOCK} AS block, COUNT(*) AS n, CAST(SUM(revision) AS BIGINT) AS r, \
             MIN(received_at) AS first, MAX(received_at) AS last FROM cases WHERE project_id = $1 \
             GROUP BY id / {BLOCK} HAVING MAX(received_at) >= $2 AND MIN(received_at) < $3"
        ))
        .bind(project_id)
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Mark {
                block: row.try_get("block")?,
                cases: row.try_get("n")?,
                revisions: row.try_get("r")?,
                first: row.try_get("first")?,
                last: row.try_get("last")?,
            })
        })
        .collect::<Result<Vec<Mark>>>()?;
        if marks.is_empty() {
            return Ok(());
        }
        let mut kept: HashMap<i64, (i64, i64, Vec<u8>)> = HashMap::new();
        for row in sqlx::query(
            "SELECT block, cases, revisions, body_sealed FROM figure_blocks WHERE project_id = $1",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?
        {
            kept.insert(
                row.try_get("block")?,
                (
                    row.try_get("cases")?,
                    row.try_get("revisions")?,
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
                .filter(|(cases, revisions, _)| {
                    (*cases, *revisions) == (mark.cases, mark.revisions)
                })
                .and_then(|(_, _, sealed)| self.open_block(project_id, &mark, &sealed));
            let block = match current {
                Some(block) => block,
                None => {
                    self.make_block(project_id, mark.block, &settings, now)
                        .await?
                }
            };
            count.tally.merge(&block.tally);
            for clocked in &block.open {
                let (overdue, stalled) = clocked.judged(&settings, now);
                count.tally.judged(overdue, stalled);
            }
            count.ids.extend_from_slice(&block.ids);
        }
        Ok(())
    }

    /// A kept block, if it opens as made from the cases as they stand and this release
    /// made it.
    fn open_block(&self, project_id: i64, mark: &Mark, sealed: &[u8]) -> Option<Block> {
        let context = ctx(project_id, mark.block, mark.cases, mark.revisions);
        let plain = self.keys().open(&context, sealed).ok()?;
        postcard::from_bytes::<Block>(&plain)
            .ok()
            .filter(|b| b.made_by == MADE_BY)
    }

    /// Makes a block from its cases and keeps it. Its count and revision sum come from the
    /// same rows, so a case changed meanwhile leaves it stale, never wrong.
    async fn make_block(
        &self,
        project_id: i64,
        block: i64,
        settings: &ClockSettings,
        now: OffsetDateTime,
    ) -> Result<Block> {
        let rows = sqlx::query(&format!(
            "SELECT {FIGURE_COLUMNS} FROM cases c WHERE c.project_id = $1 AND c.id >= $2 AND c.id < $3 ORDER BY c.id"
        ))
        .bind(project_id)
        .bind(block * BLOCK)
        .bind((block + 1) * BLOCK)
        .fetch_all(&self.pool)
        .await?;
        let mut made = Block {
            made_by: MADE_BY.to_owned(),
            ids: Vec::with_capacity(rows.len()),
            tally: Tally::default(),
            open: Vec::new(),
        };
        let mut revisions = 0i64;
        for row in &rows {
            revisions += row.try_get::<i64, _>("revision")?;
            let counted = counted_from_row(self.keys(), row)?;
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
        let plain = postcard::to_allocvec(&made)
            .map_err(|e| StoreError::Corrupt(format!("a block of figures: {e}")))?;
        let cases = rows.len() as i64;
        let sealed = self
            .keys()
            .seal(&ctx(project_id, block, cases, revisions), &plain)?;
        sqlx::query(
            "INSERT INTO figure_blocks (project_id, block, cases, revisions, body_sealed) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, block) DO UPDATE SET \
             cases = excluded.cases, revisions = excluded.revisions, body_sealed = excluded.body_sealed",
        )
        .bind(project_id)
        .bind(block)
        .bind(cases)
        .bind(revisions)
        .bind(sealed)
        .execute(self.writer())
        .await?;
        Ok(made)
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
        let rows = sqlx::query(&format!(
            "SELECT {FIGURE_COLUMNS} FROM cases c WHERE c.project_id = $1 AND c.id >= $2 AND c.id < $3 \
             AND c.received_at >= $4 AND c.received_at < $5 ORDER BY c.id"
        ))
        .bind(project_id)
        .bind(block * BLOCK)
        .bind((block + 1) * BLOCK)
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let counted = counted_from_row(self.keys(), row)?;
            count.ids.push(counted.id);
            count.tally.add(&counted.figures(settings, now));
        }
        Ok(())
    }
}
