//! The queue: the cases a viewer may see, newest first, a page at a time. Every filter
//! runs in SQL (text through the search index), so that a page costs the same at a
//! thousand cases as at a million; pages follow a keyset cursor, so that cases filed
//! while someone pages through neither repeat nor push others out of sight.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use embargo_core::access::Viewer;
use embargo_core::clocks::{ClockStatus, Clocks};
use embargo_core::lifecycle::State;
use embargo_core::project::ClockSettings;
use embargo_core::reference::{CaseRef, ProjectKey};
use embargo_core::timeline::EventKind;
use sqlx::Row;
use time::OffsetDateTime;

use crate::access::readable_cases_sql;
use crate::audit::{Entry, Read};
use crate::case_row::{SUMMARY_SELECT, state_in, summary_from_row};
use crate::search::matches_sql;
use crate::views::CaseSummary;
use crate::{Result, Store, StoreError, millis};

/// `EXISTS (…)`: a message from outside the team (the reporter, a third party) reached
/// the case `case` after the member `user_id` last opened it. The one definition of
/// "unread", for the queue's marker, its filter, and the mark an opened case clears.
pub(crate) fn unread_sql(case: &str, user_id: i64) -> String {
    format!(
        "EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = {case} AND e.kind IN ('{}', '{}') \
         AND e.at > COALESCE((SELECT s.at FROM case_seen s WHERE s.case_id = {case} AND s.user_id = {user_id}), 0))",
        EventKind::ReporterMessage.as_str(),
        EventKind::ThirdPartyMessage.as_str(),
    )
}

/// Which cases a list shows.
#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    /// Only this project.
    pub project: Option<ProjectKey>,
    /// Only cases in this state.
    pub state: Option<State>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Skip this many (without a cursor).
    pub offset: Option<i64>,
    /// The page after this cursor (from the previous page's `next`).
    pub after: Option<Cursor>,
    /// Only cases in triage that this member has not given a view of.
    pub awaiting_view_of: Option<i64>,
    /// Only cases of this owner, or of none.
    pub owner: Option<OwnerFilter>,
    /// Only cases holding every word of this text (title, description, CVE ID, notes the
    /// viewer may read), or the case with this reference.
    pub text: Option<String>,
    /// Only cases with a message from outside the team since the viewer last opened them.
    pub unread: bool,
    /// Only open cases whose clocks need attention.
    pub attention: Option<Attention>,
}

/// Whose cases a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerFilter {
    /// The member's, by account id (the viewer's own, never the caller's text).
    User(i64),
    /// Those of the member with this address.
    Email(String),
    /// Those nobody owns.
    Nobody,
}

/// Open cases whose clocks need someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attention {
    /// A clock is past its due time.
    Overdue,
    /// A clock is past its warning point or its due time.
    Due,
    /// Nothing happened for the project's stall period.
    Stalled,
}

impl Attention {
    /// `overdue`, `due` or `stalled`.
    pub fn parse(name: &str) -> Option<Attention> {
        match name {
            "overdue" => Some(Attention::Overdue),
            "due" => Some(Attention::Due),
            "stalled" => Some(Attention::Stalled),
            _ => None,
        }
    }

    /// Whether clocks computed now call for this attention.
    pub fn holds(self, clocks: &Clocks) -> bool {
        let all = [
            Some(&clocks.acknowledgement),
            clocks.mitigation.as_ref(),
            clocks.announcement.as_ref(),
        ];
        let any = |status: ClockStatus| all.iter().flatten().any(|c| c.status == status);
        match self {
            Attention::Overdue => any(ClockStatus::Overdue),
            Attention::Due => any(ClockStatus::Warning) || any(ClockStatus::Overdue),
            Attention::Stalled => clocks.stalled,
        }
    }

    /// The cases of one project that may need this attention at `now`: exact for every
    /// clock but mitigation, whose window depends on the sealed rating (the shortest is
    /// taken, and `holds` decides). Every value is an integer.
    fn candidates_sql(self, project_id: i64, settings: &ClockSettings, now: i64) -> String {
        const DAY: i64 = 86_400_000;
        let before = |days: i64| now - days * DAY;
        let acknowledge = format!(
            "(c.acknowledged_at IS NULL AND c.received_at < {})",
            before(settings.acknowledge_days)
        );
        let shortest = settings
            .mitigation_days_critical
            .min(settings.mitigation_days_high)
            .min(settings.mitigation_days_other);
        let mitigate = format!(
            "(c.confirmed_at IS NOT NULL AND c.cvss_sealed IS NOT NULL AND c.fix_ready_at IS NULL AND c.confirmed_at < {})",
            before(shortest)
        );
        let announce = |days: i64, strictly: bool| {
            format!(
                "(c.confirmed_at IS NOT NULL AND c.announced_at IS NULL AND c.received_at {} {})",
                if strictly { "<" } else { "<=" },
                before(days)
            )
        };
        let clocks = match self {
            Attention::Overdue => format!(
                "{acknowledge} OR {mitigate} OR {}",
                announce(settings.announce_overdue_days, true)
            ),
            Attention::Due => format!(
                "{acknowledge} OR {mitigate} OR {}",
                announce(settings.announce_warn_days, false)
            ),
            Attention::Stalled => format!(
                "{} AND c.last_activity_at < {}",
                state_in(|s| !s.is_announced()),
                before(settings.stall_days)
            ),
        };
        format!("(c.project_id = {project_id} AND ({clocks}))")
    }
}

/// Where a page of the queue ends: the next page starts after this case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    received_at: i64,
    id: i64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.received_at, self.id)
    }
}

impl FromStr for Cursor {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Cursor> {
        let bad = || StoreError::Invalid(format!("'{s}' is not a cursor from a page of cases"));
        let (at, id) = s.split_once('.').ok_or_else(bad)?;
        Ok(Cursor {
            received_at: at.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// One page of cases.
pub struct CasePage {
    /// The cases, newest first.
    pub cases: Vec<CaseSummary>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

/// At most this many rounds of reading are spent filling one page with cases whose
/// clocks need attention; the page then ends early, with a cursor to go on from.
const MAX_ROUNDS: usize = 20;

impl Store {
    /// Lists the cases the viewer may see, newest first: one page.
    pub async fn list_cases(
        &self,
        viewer: &Viewer,
        filter: &CaseFilter,
    ) -> Result<Vec<CaseSummary>> {
        Ok(self.page_cases(viewer, filter).await?.cases)
    }

    /// A page of the cases the viewer may see, newest first, and where the next starts.
    pub async fn page_cases(&self, viewer: &Viewer, filter: &CaseFilter) -> Result<CasePage> {
        let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
        let (conditions, binds) = self.conditions(viewer, filter).await?;
        let now = OffsetDateTime::now_utc();
        let mut cases: Vec<CaseSummary> = Vec::new();
        let mut read = Vec::new();
        let mut after = filter.after;
        let mut offset = if filter.after.is_none() {
            filter.offset.unwrap_or(0).max(0)
        } else {
            0
        };
        let mut next = None;
        let mut last_shown = None;
        'rounds: for round in 0.. {
            if round == MAX_ROUNDS {
                next = after;
                break;
            }
            let mut page = format!(
                "SELECT c.id FROM cases c JOIN projects p ON p.id = c.project_id WHERE {conditions}"
            );
            if let Some(cursor) = after {
                // Integers from a parsed cursor.
                page.push_str(&format!(
                    " AND (c.received_at, c.id) < ({}, {})",
                    cursor.received_at, cursor.id
                ));
            }
            let chunk = limit + 1;
            // The page is chosen on narrow rows (ids and times, from an index), and only
            // its cases are read: sorting every readable case with its sealed columns
            // cost about 50 ms per request at 10,000 cases.
            let sql = format!(
                "{SUMMARY_SELECT} WHERE c.id IN ({page} ORDER BY c.received_at DESC, c.id DESC LIMIT {chunk} OFFSET {offset}) \
                 ORDER BY c.received_at DESC, c.id DESC"
            );
            offset = 0;
            let mut query = sqlx::query(&sql);
            for b in &binds {
                query = query.bind(b.clone());
            }
            let rows = query.fetch_all(&self.pool).await?;
            let exhausted = rows.len() < chunk as usize;
            let unread = self.unread_among(viewer, &rows).await?;
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                let cursor = Cursor {
                    received_at: row.try_get("received_at")?,
                    id,
                };
                if cases.len() as i64 == limit {
                    next = last_shown;
                    break 'rounds;
                }
                after = Some(cursor);
                let mut summary = summary_from_row(self.keys(), row, now)?;
                if filter.attention.is_some_and(|a| !a.holds(&summary.clocks)) {
                    continue;
                }
                summary.unread = unread.contains(&id);
                read.push(id);
                cases.push(summary);
                last_shown = Some(cursor);
            }
            if exhausted {
                break;
            }
        }
        self.audit(Entry::listed(viewer, &read, Read::Summary))
            .await?;
        Ok(CasePage { cases, next })
    }

    /// The WHERE clause of a filter, and its bound texts (`$1`, `$2`, …).
    async fn conditions(
        &self,
        viewer: &Viewer,
        filter: &CaseFilter,
    ) -> Result<(String, Vec<String>)> {
        // The access rule, written so that the planner walks the cases newest first and
        // stops at the page (the `+` keeps it from reading every case of the viewer's
        // projects to sort them), unless one project is asked for: its own index is in
        // that order.
        let readable = readable_cases_sql(viewer, "c.id", "+c.project_id");
        let mut sql = match &filter.project {
            Some(project) => {
                let id: Option<i64> = sqlx::query("SELECT id FROM projects WHERE key = $1")
                    .bind(project.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|row| row.try_get("id"))
                    .transpose()?;
                match id {
                    Some(id) => format!("c.project_id = {id} AND {readable}"),
                    None => "1 = 0".to_owned(),
                }
            }
            None => readable,
        };
        let mut binds: Vec<String> = Vec::new();
        if let Some(state) = filter.state {
            binds.push(state.as_str().to_owned());
            sql.push_str(&format!(" AND c.state = ${}", binds.len()));
        }
        match &filter.owner {
            Some(OwnerFilter::User(id)) => sql.push_str(&format!(" AND c.owner_id = {id}")),
            Some(OwnerFilter::Email(email)) => {
                binds.push(email.trim().to_ascii_lowercase());
                sql.push_str(&format!(
                    " AND c.owner_id = (SELECT u.id FROM users u WHERE u.email = ${})",
                    binds.len()
                ));
            }
            Some(OwnerFilter::Nobody) => sql.push_str(" AND c.owner_id IS NULL"),
            None => {}
        }
        if let Some(user_id) = filter.awaiting_view_of {
            // The id is ours (the viewer's), never the caller's text.
            sql.push_str(&format!(
                " AND {} AND NOT EXISTS (SELECT 1 FROM triage_views v WHERE v.case_id = c.id AND v.user_id = {user_id})",
                state_in(|s| matches!(s, State::Reported | State::Triage))
            ));
        }
        if filter.unread {
            sql.push_str(&format!(" AND {}", unread_sql("c.id", viewer.user_id)));
        }
        if let Some(text) = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            if let Ok(reference) = text.parse::<CaseRef>() {
                binds.push(reference.project.as_str().to_owned());
                sql.push_str(&format!(
                    " AND p.key = ${} AND c.number = {}",
                    binds.len(),
                    reference.number
                ));
            } else {
                let words = embargo_core::search::query_words(text);
                if words.is_empty() {
                    return Err(StoreError::Invalid(
                        "search for a word (letters or digits), a reference or a CVE ID".into(),
                    ));
                }
                let team: Vec<i64> = viewer.visible_projects.iter().copied().collect();
                let dense = self.all_common(&words).await?;
                sql.push_str(&format!(
                    " AND {}",
                    matches_sql(self.keys(), self.backend(), &words, &team, dense)
                ));
            }
        }
        if let Some(attention) = filter.attention {
            let now = millis(OffsetDateTime::now_utc());
            let projects = sqlx::query("SELECT id, clock_settings FROM projects")
                .fetch_all(&self.pool)
                .await?;
            let mut any = Vec::new();
            for row in projects {
                let settings: String = row.try_get("clock_settings")?;
                let settings: ClockSettings = serde_json::from_str(&settings)
                    .map_err(|e| StoreError::Corrupt(format!("clock settings: {e}")))?;
                any.push(attention.candidates_sql(row.try_get("id")?, &settings, now));
            }
            if any.is_empty() {
                any.push("1 = 0".into());
            }
            sql.push_str(&format!(
                " AND {} AND ({})",
                state_in(State::is_open),
                any.join(" OR ")
            ));
        }
        Ok((sql, binds))
    }

    /// Of these cases, those with a message from outside the team (the reporter, a third
    /// party) newer than the viewer's last look.
    async fn unread_among(
        &self,
        viewer: &Viewer,
        rows: &[sqlx::any::AnyRow],
    ) -> Result<HashSet<i64>> {
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<i64, _>("id").map(|id| id.to_string()))
            .collect::<std::result::Result<_, _>>()?;
        if ids.is_empty() {
            return Ok(Default::default());
        }
        // The ids are integers from the database, so listing them in the statement is safe.
        let sql = format!(
            "SELECT c.id AS case_id FROM cases c WHERE c.id IN ({}) AND {}",
            ids.join(", "),
            unread_sql("c.id", viewer.user_id)
        );
        let found = sqlx::query(&sql).fetch_all(&self.pool).await?;
        found
            .iter()
            .map(|r| Ok(r.try_get::<i64, _>("case_id")?))
            .collect()
    }
}
