//! The search index over sealed text. Each term of a case's title, description, CVE ID and
//! notes (`embargo_core::search`) is stored as a keyed token: 64 bits of an HMAC under a
//! key derived from the active data key. SQL finds the candidate cases by token; the
//! words themselves never reach the database. What the tokens still reveal to someone
//! holding the database is in docs/threat-model.md.
//!
//! A case is indexed in the transaction that writes its text. `search_indexed` says under
//! which data key; a case without a row there (a database upgraded or restored) is
//! indexed when the store opens, and `keys reseal` indexes again what an older key made.

use std::collections::BTreeSet;

use embargo_core::search::{Depth, QueryWord, index_terms};
use embargo_core::timeline::EventKind;
use sqlx::{AnyConnection, Row};

use crate::case_row::load;
use crate::{Backend, Keyring, Result, Store};

/// Which field a case's tokens came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Title,
    Description,
    Cve,
    /// An internal note: the team's only.
    Note,
    /// A note in the collaborators' thread.
    SharedNote,
}

/// Tokens everyone who reads the case may match.
const SCOPE_CASE: i64 = 0;
/// Tokens only the case's team may match (internal notes).
const SCOPE_TEAM: i64 = 1;

/// Rows per INSERT: the values are integers and fixed names, written into the statement.
const ROWS_PER_INSERT: usize = 500;

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Title => "title",
            Source::Description => "description",
            Source::Cve => "cve",
            Source::Note => "note",
            Source::SharedNote => "shared-note",
        }
    }

    fn scope(self) -> i64 {
        match self {
            Source::Note => SCOPE_TEAM,
            _ => SCOPE_CASE,
        }
    }

    fn depth(self) -> Depth {
        match self {
            Source::Title | Source::Cve => Depth::Prefixes,
            _ => Depth::Words,
        }
    }

    /// Notes add to the index; a field replaces what it gave before.
    fn replaces(self) -> bool {
        !matches!(self, Source::Note | Source::SharedNote)
    }

    /// The timeline entries whose text is searchable.
    pub(crate) fn of_event(kind: EventKind) -> Option<Source> {
        match kind {
            EventKind::Note => Some(Source::Note),
            EventKind::SharedNote => Some(Source::SharedNote),
            _ => None,
        }
    }
}

async fn insert_tokens(
    conn: &mut AnyConnection,
    case_id: i64,
    source: Source,
    key_id: u32,
    tokens: &BTreeSet<i64>,
) -> Result<()> {
    let tokens: Vec<&i64> = tokens.iter().collect();
    for chunk in tokens.chunks(ROWS_PER_INSERT) {
        // Every value is an integer we computed or a fixed name: nothing from outside.
        let rows: Vec<String> = chunk
            .iter()
            .map(|t| {
                format!(
                    "({t}, {case_id}, '{}', {}, {key_id})",
                    source.name(),
                    source.scope()
                )
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO search_terms (token, case_id, source, scope, key_id) VALUES {} ON CONFLICT DO NOTHING",
            rows.join(", ")
        ))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn tokens_of(keys: &Keyring, text: &str, depth: Depth) -> BTreeSet<i64> {
    index_terms(text, depth)
        .iter()
        .filter_map(|term| keys.search_token(keys.active(), term))
        .collect()
}

/// Indexes one field's text on a case, in the caller's transaction.
pub(crate) async fn index_text(
    conn: &mut AnyConnection,
    keys: &Keyring,
    case_id: i64,
    source: Source,
    text: &str,
) -> Result<()> {
    if source.replaces() {
        sqlx::query("DELETE FROM search_terms WHERE case_id = $1 AND source = $2")
            .bind(case_id)
            .bind(source.name())
            .execute(&mut *conn)
            .await?;
    }
    let tokens = tokens_of(keys, text, source.depth());
    insert_tokens(conn, case_id, source, keys.active(), &tokens).await
}

/// Marks a case as indexed under the active key (a new case, once its text is in).
pub(crate) async fn mark_indexed(
    conn: &mut AnyConnection,
    keys: &Keyring,
    case_id: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO search_indexed (case_id, key_id) VALUES ($1, $2) \
         ON CONFLICT (case_id) DO UPDATE SET key_id = excluded.key_id",
    )
    .bind(case_id)
    .bind(i64::from(keys.active()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Indexes a whole case again under the active key: its fields and every note.
pub(crate) async fn index_case(
    conn: &mut AnyConnection,
    keys: &Keyring,
    case_id: i64,
) -> Result<()> {
    let case = load(conn, keys, case_id, true).await?;
    sqlx::query("DELETE FROM search_terms WHERE case_id = $1")
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
    let mut fields = vec![(Source::Title, case.title.clone())];
    if let Some(description) = case.description.clone() {
        fields.push((Source::Description, description));
    }
    if let Some(cve) = case.cve_id.clone() {
        fields.push((Source::Cve, cve));
    }
    let notes = sqlx::query(
        "SELECT id, kind, detail_sealed FROM case_events WHERE case_id = $1 AND kind IN ($2, $3) AND detail_sealed IS NOT NULL ORDER BY id",
    )
    .bind(case_id)
    .bind(EventKind::Note.as_str())
    .bind(EventKind::SharedNote.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let mut by_source: Vec<(Source, BTreeSet<i64>)> = Vec::new();
    for (source, text) in fields {
        by_source.push((source, tokens_of(keys, &text, source.depth())));
    }
    for row in notes {
        let kind: String = row.try_get("kind")?;
        let Some(source) = EventKind::parse(&kind).and_then(Source::of_event) else {
            continue;
        };
        let id: i64 = row.try_get("id")?;
        let sealed: Vec<u8> = row.try_get("detail_sealed")?;
        // Opened as the timeline opens it; the timeline is not imported, as it indexes
        // through this module.
        let text = keys
            .open_string(
                &crate::contexts::event(case.project_id, case_id, &kind),
                &sealed,
            )
            .map_err(|e| {
                tracing::error!(
                    table = "case_events",
                    id,
                    "a sealed value does not open under its binding: moved or altered"
                );
                crate::StoreError::from(e)
            })?;
        let tokens = tokens_of(keys, &text, source.depth());
        match by_source.iter_mut().find(|(s, _)| *s == source) {
            Some((_, all)) => all.extend(tokens),
            None => by_source.push((source, tokens)),
        }
    }
    for (source, tokens) in &by_source {
        insert_tokens(conn, case_id, *source, keys.active(), tokens).await?;
    }
    mark_indexed(conn, keys, case_id).await
}

/// Which cases an indexing run takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pending {
    /// Cases never indexed (after an upgrade or a restore).
    Unindexed,
    /// Those too, and cases indexed under an older data key (`keys reseal`).
    NotUnderActiveKey,
}

/// Cases per transaction while indexing many.
const BATCH: i64 = 200;

impl Store {
    /// Indexes the cases `pending` names, batch by batch (each batch commits on its own,
    /// so a run that stops is simply run again). Returns how many it indexed.
    pub(crate) async fn index_pending(
        &self,
        pending: Pending,
        mut progress: impl FnMut(u64),
    ) -> Result<u64> {
        let keys = self.keys();
        let condition = match pending {
            Pending::Unindexed => "i.case_id IS NULL".to_owned(),
            Pending::NotUnderActiveKey => {
                format!("(i.case_id IS NULL OR i.key_id <> {})", keys.active())
            }
        };
        let mut done = 0u64;
        let mut after = 0i64;
        loop {
            let ids: Vec<i64> = sqlx::query(&format!(
                "SELECT c.id FROM cases c LEFT JOIN search_indexed i ON i.case_id = c.id \
                 WHERE c.id > $1 AND {condition} ORDER BY c.id LIMIT {BATCH}"
            ))
            .bind(after)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
            let Some(last) = ids.last() else {
                return Ok(done);
            };
            after = *last;
            let mut tx = self.begin_write().await?;
            for id in &ids {
                index_case(&mut tx, keys, *id).await?;
            }
            tx.commit().await?;
            done += ids.len() as u64;
            progress(done);
        }
    }

    /// Indexes the cases an upgrade or a restore left without an index. Run on open.
    pub(crate) async fn index_unindexed(&self) -> Result<()> {
        // Every open (an MTA's `embargo intake` is one per message) asks, so the question
        // is two index lookups: cases are indexed as they are written, and a build goes in
        // id order, so the newest case is indexed unless some are not.
        let row = sqlx::query(
            "SELECT (SELECT MAX(id) FROM cases) AS newest, (SELECT MAX(case_id) FROM search_indexed) AS indexed",
        )
        .fetch_one(&self.pool)
        .await?;
        let newest: Option<i64> = row.try_get("newest")?;
        let indexed: Option<i64> = row.try_get("indexed")?;
        if newest.is_none() || newest == indexed {
            return Ok(());
        }
        tracing::info!("indexing cases for search");
        let done = self
            .index_pending(Pending::Unindexed, |done| {
                if done % 10_000 == 0 {
                    tracing::info!(done, "indexing cases for search");
                }
            })
            .await?;
        tracing::info!(cases = done, "search index built");
        Ok(())
    }
}

/// A word found in more cases than this is common: the list walks the cases newest
/// first and looks each up in the index, rather than reading every case the word names
/// and sorting them.
const COMMON: i64 = 1_000;

/// The same on PostgreSQL, counted in index entries. Its planner, given a word's cases
/// as a subquery, walks the cases newest first anyway (it expects the word's cases to be
/// spread evenly), so a word whose cases came in one burst long ago read 221,000 cases to
/// fill a page (1.3 s at 1,000,000); handed the word's cases as a list computed first,
/// it reads them and sorts (22 ms for 1,111). Past about 10,000 entries the walk is as
/// fast (190 ms either way at 1,000,000 cases).
const COMMON_POSTGRES: i64 = 10_000;

fn tokens_of_word(keys: &Keyring, word: &QueryWord) -> String {
    let mut terms = vec![word.whole.as_str()];
    terms.extend(word.prefix.as_deref());
    terms
        .iter()
        .flat_map(|term| keys.search_tokens(term))
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Whether every word of a query is common (see [`COMMON`]).
    pub(crate) async fn all_common(&self, words: &[QueryWord]) -> Result<bool> {
        let common = match self.backend() {
            Backend::Sqlite => COMMON,
            Backend::Postgres => COMMON_POSTGRES,
        };
        for word in words {
            let found: i64 = sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM (SELECT 1 FROM search_terms WHERE token IN ({}) LIMIT {common}) t",
                tokens_of_word(self.keys(), word)
            ))
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
            if found < common {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The SQL condition that a case (`c`) holds every word of a query, for a viewer who is
/// on the team of the projects `team_projects` (ids): internal notes match only on those
/// projects' cases. `common` chooses a lookup per case over a list of the word's cases.
/// Tokens and ids are integers, written into the statement.
pub(crate) fn matches_sql(
    keys: &Keyring,
    backend: Backend,
    words: &[QueryWord],
    team_projects: &[i64],
    common: bool,
) -> String {
    let team: Vec<String> = team_projects.iter().map(i64::to_string).collect();
    let team = team.join(", ");
    words
        .iter()
        .map(|word| {
            let tokens = tokens_of_word(keys, word);
            let scope = if team.is_empty() {
                format!("s.scope = {SCOPE_CASE}")
            } else {
                format!("(s.scope = {SCOPE_CASE} OR c.project_id IN ({team}))")
            };
            if common {
                return format!(
                    "EXISTS (SELECT 1 FROM search_terms s WHERE s.token IN ({tokens}) AND s.case_id = c.id AND {scope})"
                );
            }
            // One list of cases, so that the planner starts from the word's few cases;
            // a team-only token counts where its case is on one of the viewer's teams.
            let scope = if team.is_empty() {
                format!("s.scope = {SCOPE_CASE}")
            } else {
                format!(
                    "(s.scope = {SCOPE_CASE} OR EXISTS (SELECT 1 FROM cases t WHERE t.id = s.case_id AND t.project_id IN ({team})))"
                )
            };
            let cases = format!("SELECT s.case_id FROM search_terms s WHERE s.token IN ({tokens}) AND {scope}");
            match backend {
                Backend::Sqlite => format!("c.id IN ({cases})"),
                // Computed once, before the cases are read (see COMMON_POSTGRES).
                Backend::Postgres => format!("c.id = ANY(ARRAY({cases}))"),
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}
