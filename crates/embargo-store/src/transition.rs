//! Moving a case: the one place that changes `cases.state`. The lifecycle table in core
//! (`lifecycle::on_entry`) decides what a move does; [`apply_transition`] carries it out,
//! for a person's request and for Embargo's own moves (the announcement) alike.

use embargo_core::access::{Need, Viewer};
use embargo_core::case::Reporter;
use embargo_core::checklist::MarkStatus;
use embargo_core::lifecycle::{self, Effects, State, TransitionRequest};
use embargo_core::reference::CaseRef;
use embargo_core::timeline::EventKind;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::access::authorize;
use crate::audit::{Entry, Read};
use crate::case_row::{Loaded, load};
use crate::cases::{check_text, ctx};
use crate::jobs::{Task, enqueue};
use crate::seal::{open_json, seal_json};
use crate::timeline::{Act, record_event, record_mark};
use crate::views::{CaseDetail, EmbargoOverride, MergedReporter};
use crate::{Keyring, Result, Store, StoreError, millis, rfc};

/// Carries out an allowed move of `case`: the state and its time, the timeline, the
/// jobs, the marks, the retrospective and the duplicate link, all in the caller's
/// transaction. `duplicate_of` is the resolved id of `effects.duplicate_of`. Returns
/// false, having written nothing, when the case left `effects.from` meanwhile.
pub(crate) async fn apply_transition(
    conn: &mut AnyConnection,
    keys: &Keyring,
    case: &Loaded,
    effects: &Effects,
    act: Act,
    duplicate_of: Option<i64>,
) -> Result<bool> {
    let entry = effects.entry;
    let override_sealed = match &effects.embargo_override {
        Some(reason) => {
            let by = match act.actor {
                Some(user) => sqlx::query("SELECT email FROM users WHERE id = $1")
                    .bind(user)
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get("email")?,
                None => "Embargo".to_owned(),
            };
            let record = EmbargoOverride {
                reason: reason.expose().clone(),
                by,
                at: rfc(act.now),
            };
            Some(seal_json(keys, &case.field_context("override"), &record)?)
        }
        None => None,
    };
    if let Some((_, details)) = &effects.retrospective {
        if let Some(Err(e)) = details.cwe.as_deref().map(embargo_core::cwe::lookup) {
            return Err(StoreError::Invalid(e.to_string()));
        }
        check_text("retrospective", &details.prevention, 100_000)?;
    }
    let stamp = match entry.stamp {
        Some(s) if s.keeps_first() => format!(", {0} = COALESCE({0}, $2)", s.column()),
        Some(s) => format!(", {} = $2", s.column()),
        None => String::new(),
    };
    let moved = sqlx::query(&format!(
        "UPDATE cases SET state = $1, updated_at = $2, last_activity_at = $2{stamp}, \
         duplicate_of = COALESCE($3, duplicate_of), override_sealed = COALESCE($4, override_sealed) \
         WHERE id = $5 AND state = $6"
    ))
    .bind(effects.to.as_str())
    .bind(act.now)
    .bind(duplicate_of.filter(|_| entry.links_duplicate))
    .bind(override_sealed)
    .bind(act.case_id)
    .bind(effects.from.as_str())
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() != 1 {
        return Ok(false);
    }
    if effects.to.is_announced() {
        // The public site's page and documents are rendered once, ahead of the readers.
        enqueue(
            conn,
            &Task::RenderPublic {
                case_id: act.case_id,
            },
            act.now,
        )
        .await?;
    }
    // What triage concluded is kept for the figures; a report back in triage has none.
    let concluded = crate::triage::concluded(conn, act.case_id, effects.to).await?;
    if concluded.is_some() || effects.to == State::Triage {
        sqlx::query("UPDATE cases SET disposition = $1 WHERE id = $2")
            .bind(concluded.map(|d| d.as_str().to_owned()))
            .bind(act.case_id)
            .execute(&mut *conn)
            .await?;
    }
    let detail = effects.detail.as_ref().map(|d| d.expose().as_str());
    record_event(
        conn,
        keys,
        act,
        EventKind::Transition,
        Some((effects.from, effects.to)),
        detail,
    )
    .await?;
    if let (Some(original), true) = (duplicate_of, entry.links_duplicate) {
        merge_reporter(conn, keys, case, original, act).await?;
    }
    if let (Some(message), true) = (&effects.message_to_reporter, entry.mails_reporter) {
        let event = record_event(
            conn,
            keys,
            act,
            EventKind::MessageToReporter,
            None,
            Some(message.expose()),
        )
        .await?;
        enqueue(
            conn,
            &Task::MailReporter {
                case_id: act.case_id,
                event_id: event,
            },
            act.now,
        )
        .await?;
    }
    if entry.tells_reporter {
        let reference = case.reference();
        let text = match case.advisory_url() {
            Some(url) => format!(
                "{reference} is announced. The advisory is published at {url}. Thank you for reporting it, and for keeping it private until now."
            ),
            None => format!(
                "{reference} is announced, and the advisory is published: your page links to it. Thank you for reporting it, and for keeping it private until now."
            ),
        };
        crate::jobs::tell_reporter(conn, keys, act, &text).await?;
    }
    if entry.notify_foundation {
        enqueue(
            conn,
            &Task::NotifyFoundation {
                case_id: act.case_id,
            },
            act.now,
        )
        .await?;
    }
    if let (Some((text, details)), true) = (&effects.retrospective, entry.records_retrospective) {
        sqlx::query("UPDATE cases SET retrospective_sealed = $1 WHERE id = $2")
            .bind(seal_json(
                keys,
                &case.field_context("retrospective"),
                details,
            )?)
            .bind(act.case_id)
            .execute(&mut *conn)
            .await?;
        record_event(
            conn,
            keys,
            act,
            EventKind::Retrospective,
            None,
            Some(text.expose()),
        )
        .await?;
    }
    for item in entry.marks {
        record_mark(conn, keys, act, item, MarkStatus::Done, None).await?;
    }
    if entry.cancels_disclosure {
        cancel_disclosure(conn, keys, act).await?;
    }
    Ok(true)
}

/// Cancels the disclosure jobs of a case not yet done: they are kept, failed as
/// `cancelled`, and give up their dedup keys so that the team can schedule again.
pub(crate) async fn cancel_disclosure(
    conn: &mut AnyConnection,
    keys: &Keyring,
    act: Act,
) -> Result<u64> {
    let cancelled = sqlx::query(
        "UPDATE jobs SET failed_at = $1, last_error = 'cancelled', dedup_key = NULL, locked_by = NULL, locked_until = NULL \
         WHERE (dedup_key LIKE $2 OR dedup_key LIKE $3) AND done_at IS NULL AND failed_at IS NULL",
    )
    .bind(act.now)
    .bind(Task::announcements_of(act.case_id))
    .bind(Task::prenotifications_of(act.case_id))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if cancelled > 0 {
        record_event(
            conn,
            keys,
            act,
            EventKind::DisclosureCancelled,
            None,
            Some(&format!("{cancelled} scheduled mail(s) cancelled")),
        )
        .await?;
    }
    Ok(cancelled)
}

/// Credits the duplicate's reporter on the case it duplicates, and says so there.
async fn merge_reporter(
    conn: &mut AnyConnection,
    keys: &Keyring,
    duplicate: &Loaded,
    original_id: i64,
    act: Act,
) -> Result<()> {
    let reporter_row = sqlx::query("SELECT reporter_sealed FROM cases WHERE id = $1")
        .bind(act.case_id)
        .fetch_one(&mut *conn)
        .await?;
    let reporter: Reporter = open_json(
        keys,
        &duplicate.field_context("reporter"),
        &reporter_row.try_get::<Vec<u8>, _>("reporter_sealed")?,
    )?;
    let row = sqlx::query("SELECT project_id, number, merged_sealed FROM cases WHERE id = $1")
        .bind(original_id)
        .fetch_one(&mut *conn)
        .await?;
    let context = ctx(row.try_get("project_id")?, row.try_get("number")?, "merged");
    let mut merged: Vec<MergedReporter> =
        match row.try_get::<Option<Vec<u8>>, _>("merged_sealed")? {
            Some(s) => open_json(keys, &context, &s)?,
            None => Vec::new(),
        };
    let who = match (&reporter.name, &reporter.email) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n.clone(),
        (None, Some(e)) => e.clone(),
        (None, None) => "an unnamed reporter".to_owned(),
    };
    let duplicate_ref = duplicate.reference();
    merged.push(MergedReporter {
        reference: duplicate_ref.clone(),
        reporter,
    });
    sqlx::query("UPDATE cases SET merged_sealed = $1 WHERE id = $2")
        .bind(seal_json(keys, &context, &merged)?)
        .bind(original_id)
        .execute(&mut *conn)
        .await?;
    let quoted = quoted_report(conn, keys, duplicate, act.case_id).await?;
    let files = crate::attachments::copy_attachments(
        conn,
        keys,
        (duplicate.project_id, act.case_id),
        (row.try_get("project_id")?, original_id),
    )
    .await?;
    let files = match files.as_slice() {
        [] => String::new(),
        names => format!(
            "\n\nIts attachments, copied to this case: {}.",
            names.join(", ")
        ),
    };
    let detail = format!(
        "{duplicate_ref} merged as a duplicate; its reporter, {who}, is credited here and keeps their own link to its thread. Its report and thread, quoted:\n\n{quoted}{files}"
    );
    let act = Act {
        case_id: original_id,
        ..act
    };
    record_event(conn, keys, act, EventKind::Merged, None, Some(&detail)).await?;
    // The surviving case's reporter hears that another report joined theirs, without
    // who sent it.
    let told = format!(
        "Another report of the same issue ({duplicate_ref}) was merged into yours. Nothing changes for you: the team goes on with this case, and credits each reporter as they choose."
    );
    crate::jobs::tell_reporter(conn, keys, act, &told).await
}

/// The duplicate's report and external thread as a quoted section that names its source,
/// for the surviving case (opened under the duplicate's contexts, sealed again there as
/// the detail of its timeline entry).
async fn quoted_report(
    conn: &mut AnyConnection,
    keys: &Keyring,
    duplicate: &Loaded,
    duplicate_id: i64,
) -> Result<String> {
    let quote = |text: &str| -> String {
        text.lines()
            .map(|l| format!("> {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let description = match sqlx::query("SELECT description_sealed FROM cases WHERE id = $1")
        .bind(duplicate_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get::<Option<Vec<u8>>, _>("description_sealed")?
    {
        Some(sealed) => keys.open_string(&duplicate.field_context("description"), &sealed)?,
        None => String::new(),
    };
    let mut out = format!(
        "From {}, the report:\n{}",
        duplicate.reference(),
        quote(&description)
    );
    let rows = sqlx::query(
        "SELECT id, kind, at, detail_sealed FROM case_events WHERE case_id = $1 AND kind IN ('message-to-reporter', 'reporter-message', 'third-party-message') ORDER BY id",
    )
    .bind(duplicate_id)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>("detail_sealed")? else {
            continue;
        };
        let text = crate::timeline::open_logged(
            keys,
            &crate::contexts::event(duplicate.project_id(), duplicate_id, &kind),
            &sealed,
            "case_events",
            row.try_get("id")?,
        )?;
        let who = match kind.as_str() {
            "reporter-message" => "the reporter",
            "message-to-reporter" => "the team",
            _ => "a third party",
        };
        out.push_str(&format!(
            "\n\n{} {who} wrote:\n{}",
            crate::rfc(row.try_get("at")?),
            quote(&text)
        ));
    }
    Ok(out)
}

/// Embargo's own move to `announced`, once the announcement went to every list; in the
/// completing job's transaction. Each list's line was ticked as its mail went, and stays
/// so even where the lifecycle refuses the move (a case moved back to fixing meanwhile).
pub(crate) async fn announce_by_embargo(
    conn: &mut AnyConnection,
    keys: &Keyring,
    case_id: i64,
    now: i64,
) -> Result<()> {
    let case = load(conn, keys, case_id, false).await?;
    let req = TransitionRequest {
        reason: Some("the announcement went to every list".into()),
        ..TransitionRequest::default()
    };
    let act = Act {
        case_id,
        actor: None,
        now,
    };
    let refusal = match lifecycle::check_transition(
        &case.facts(),
        None,
        State::Announced,
        &req,
        crate::from_millis(now),
    ) {
        Ok(effects) => {
            if apply_transition(conn, keys, &case, &effects, act, None).await? {
                return Ok(());
            }
            None
        }
        Err(refusal) => Some(refusal),
    };
    if case.state().is_announced() {
        return Ok(());
    }
    tracing::warn!(case_id, refusal = ?refusal, "the announcement went out but the case did not move to announced");
    Ok(())
}

impl Store {
    /// Moves a case to another state, if the lifecycle allows it now.
    pub async fn transition(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        to: State,
        req: &TransitionRequest,
    ) -> Result<CaseDetail> {
        let now_dt = OffsetDateTime::now_utc();
        let now = millis(now_dt);
        let keys = self.keys();
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let case = load(&mut tx, keys, auth.case_id, false).await?;
        let mut facts = case.facts();
        if to == State::Announced {
            facts.unsent_lists =
                crate::checklist::unsent_lists(&mut tx, auth.case_id, &case.lists).await?;
        }
        if to == State::FixReady {
            (facts.unfixed_branches, facts.has_testing_evidence) =
                crate::fixes::pending(&mut tx, auth.case_id, &case.branches).await?;
        }
        let effects = lifecycle::check_transition(&facts, Some(case_ref), to, req, now_dt)?;
        let duplicate_of = match &effects.duplicate_of {
            Some(other) => Some(
                authorize(&mut tx, viewer, other, Need::Change)
                    .await
                    .map_err(|_| {
                        StoreError::Invalid(format!(
                            "{other} is not a case you can see, so this cannot be its duplicate"
                        ))
                    })?
                    .case_id,
            ),
            None => None,
        };
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        if !apply_transition(&mut tx, keys, &case, &effects, act, duplicate_of).await? {
            return Err(StoreError::Conflict(
                "the case changed while this request ran; reload and try again".into(),
            ));
        }
        let case = load(&mut tx, keys, auth.case_id, true).await?;
        tx.commit().await?;
        tracing::info!(case_id = auth.case_id, case = %case_ref, to = %to, "case moved");
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Case)])
            .await?;
        Ok(case.detail(now_dt))
    }
}
