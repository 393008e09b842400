//! The per-case roles: collaborators invited by the team, who see a case only after
//! accepting the confidentiality terms; distributor contacts, who see the advisory and
//! fix of the cases they are pre-notified of; and the reporter, who reaches the external
//! thread of their own case through a secret link. What each may reach is decided in
//! `access::authorize` like every other case access.

use embargo_core::access::{Need, Viewer};
use embargo_core::lifecycle::State;
use embargo_core::reference::{CaseRef, ProjectKey};
use embargo_core::timeline::EventKind;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::access::authorize;
use crate::accounts::{check_email, digest, new_secret};
use crate::attachments::Upload;
use crate::audit::{Entry, Read};
use crate::case_row::load;
use crate::cases::{MAX_TEXT, check_text, ctx};
use crate::timeline::{Act, record_event, touch};
use crate::views::{AdvisoryView, Collaborator, Invitation, ReporterView, ThreadMessage};
use crate::{Result, Store, StoreError, millis, rfc};

/// The version of the confidentiality terms collaborators accept.
pub const TERMS_VERSION: &str = "2026-11";

/// The confidentiality terms, as shown before acceptance.
pub const TERMS: &str = "You are invited to help with an embargoed security case. Until the \
team announces it, you will not discuss it, or anything you learn from it, with anyone who \
is not on the case; you will not commit, push or publish anything that refers to it; you \
will keep what you receive on systems only you control; and you will tell the team at once \
if any of it may have leaked. Your acceptance, and each time you read the case, is recorded.";

impl Store {
    async fn user_id_for(&self, email: &str) -> Result<i64> {
        let email = check_email(email)?;
        match self.user_by_email(&email).await {
            Ok(user) => Ok(user.id),
            Err(StoreError::NotFound(_)) => match self.create_user(&email, None, false).await {
                Ok(user) => Ok(user.id),
                // Created meanwhile by someone else.
                Err(StoreError::Conflict(_)) => Ok(self.user_by_email(&email).await?.id),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Invites someone to collaborate on a case (team only). They see nothing until they
    /// accept the terms with the returned secret.
    pub async fn invite_collaborator(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        email: &str,
    ) -> Result<Invitation> {
        let user_id = self.user_id_for(email).await?;
        let email = check_email(email)?;
        let secret = new_secret("inv_");
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        // A new invitation replaces an earlier one, and restarts acceptance.
        sqlx::query(
            "INSERT INTO case_grants (case_id, user_id, kind, invited_by, invited_at, invite_hash) VALUES ($1, $2, 'collaborator', $3, $4, $5) \
             ON CONFLICT (case_id, user_id, kind) DO UPDATE SET invited_by = $3, invited_at = $4, invite_hash = $5, accepted_at = NULL, terms_version = NULL, revoked_at = NULL",
        )
        .bind(auth.case_id)
        .bind(user_id)
        .bind(viewer.user_id)
        .bind(now)
        .bind(digest(&secret))
        .execute(&mut *tx)
        .await?;
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::CollaboratorInvited,
            None,
            Some(&email),
        )
        .await?;
        touch(&mut tx, auth.case_id, now).await?;
        // The secret goes to the invitee alone, by mail: whoever holds it could accept the
        // terms, so the inviter never sees it.
        let sealed = |what: &str, value: &str| -> Result<String> {
            use base64::Engine;
            Ok(base64::engine::general_purpose::STANDARD.encode(
                self.keys()
                    .seal_str(&crate::contexts::invitation(auth.case_id, what), value)?,
            ))
        };
        crate::jobs::enqueue(
            &mut tx,
            &crate::jobs::Task::MailInvitation {
                case_id: auth.case_id,
                to_sealed: sealed("to", &email)?,
                secret_sealed: sealed("secret", &secret)?,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        self.token_cache.clear();
        self.audit_change(
            Some(viewer.user_id),
            format!("case {case_ref}: {email} invited as a collaborator"),
        )
        .await?;
        Ok(Invitation { email })
    }

    /// Accepts the invitation to a case as the signed-in invitee (who has an account
    /// already, and need not have the mailed secret).
    pub async fn accept_invitation_as(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
    ) -> Result<CaseRef> {
        let row = sqlx::query(
            "SELECT g.id, g.case_id FROM case_grants g JOIN cases c ON c.id = g.case_id JOIN projects p ON p.id = c.project_id \
             WHERE g.user_id = $1 AND p.key = $2 AND c.number = $3 AND g.kind = 'collaborator' AND g.revoked_at IS NULL AND g.accepted_at IS NULL",
        )
        .bind(viewer.user_id)
        .bind(case_ref.project.as_str())
        .bind(case_ref.number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("invitation"))?;
        self.record_acceptance(row.try_get("id")?, row.try_get("case_id")?, viewer.user_id)
            .await?;
        Ok(case_ref.clone())
    }

    /// Accepts an invitation: records the acceptance of the terms (and sets a password
    /// for an invitee who has none). Returns the case now open to them.
    pub async fn accept_invitation(
        &self,
        secret: &str,
        accept_terms: bool,
        password: Option<&str>,
    ) -> Result<CaseRef> {
        let row = sqlx::query(
            "SELECT g.id, g.case_id, g.user_id, u.password_hash, p.key, c.number FROM case_grants g \
             JOIN users u ON u.id = g.user_id JOIN cases c ON c.id = g.case_id JOIN projects p ON p.id = c.project_id \
             WHERE g.invite_hash = $1 AND g.kind = 'collaborator' AND g.revoked_at IS NULL AND g.accepted_at IS NULL",
        )
        .bind(digest(secret))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("invitation"))?;
        if !accept_terms {
            return Err(StoreError::Invalid(format!(
                "accept the confidentiality terms (version {TERMS_VERSION}) to see the case: send \"accept_terms\": true"
            )));
        }
        let user_id: i64 = row.try_get("user_id")?;
        let has_password = row.try_get::<Option<String>, _>("password_hash")?.is_some();
        match (has_password, password) {
            (false, None) => {
                return Err(StoreError::Invalid(
                    "choose a password (at least 12 characters) to sign in with".into(),
                ));
            }
            (false, Some(p)) => self.set_password(user_id, p).await?,
            // An account of long standing proves it is its owner who accepts.
            (true, Some(p)) if self.verify_user_password(user_id, p).await? => {}
            (true, _) => {
                return Err(StoreError::Invalid(
                    "give your account's password: only the invitee accepts the terms".into(),
                ));
            }
        }
        let case_id: i64 = row.try_get("case_id")?;
        self.record_acceptance(row.try_get("id")?, case_id, user_id)
            .await?;
        Ok(CaseRef {
            project: row
                .try_get::<String, _>("key")?
                .parse()
                .map_err(|_| StoreError::Corrupt("project key".into()))?,
            number: row.try_get("number")?,
        })
    }

    async fn record_acceptance(&self, grant_id: i64, case_id: i64, user_id: i64) -> Result<()> {
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let accepted = sqlx::query(
            "UPDATE case_grants SET accepted_at = $1, terms_version = $2, invite_hash = NULL WHERE id = $3 AND accepted_at IS NULL",
        )
        .bind(now)
        .bind(TERMS_VERSION)
        .bind(grant_id)
        .execute(&mut *tx)
        .await?;
        if accepted.rows_affected() != 1 {
            return Err(StoreError::NotFound("invitation"));
        }
        let act = Act {
            case_id,
            actor: Some(user_id),
            now,
        };
        let detail = format!("accepted the confidentiality terms, version {TERMS_VERSION}");
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::CollaboratorAccepted,
            None,
            Some(&detail),
        )
        .await?;
        tx.commit().await?;
        self.token_cache.clear();
        self.audit_change(
            Some(user_id),
            format!("case {case_id}: the invitee accepted the terms"),
        )
        .await
    }

    /// Withdraws a collaborator's or distributor's access to a case (team only).
    pub async fn revoke_access(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        email: &str,
    ) -> Result<()> {
        let email = check_email(email)?;
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let done = sqlx::query(
            "UPDATE case_grants SET revoked_at = $1, invite_hash = NULL WHERE case_id = $2 AND revoked_at IS NULL \
             AND user_id = (SELECT id FROM users WHERE email = $3)",
        )
        .bind(now)
        .bind(auth.case_id)
        .bind(&email)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("collaborator"));
        }
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        self.settle_grant_change(
            tx,
            act,
            EventKind::AccessRevoked,
            &email,
            format!("case {case_ref}: access of {email} revoked"),
        )
        .await
    }

    /// The people engaged on a case, with their acceptance.
    pub async fn collaborators(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
    ) -> Result<Vec<Collaborator>> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Read).await?;
        let rows = sqlx::query(
            "SELECT u.email, g.invited_at, g.accepted_at, g.terms_version, g.revoked_at FROM case_grants g JOIN users u ON u.id = g.user_id \
             WHERE g.case_id = $1 AND g.kind = 'collaborator' ORDER BY g.invited_at",
        )
        .bind(auth.case_id)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Collaborator {
                    email: r.try_get("email")?,
                    invited_at: rfc(r.try_get("invited_at")?),
                    accepted_at: r.try_get::<Option<i64>, _>("accepted_at")?.map(rfc),
                    terms_version: r.try_get("terms_version")?,
                    revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(rfc),
                })
            })
            .collect()
    }

    /// A project's pre-notification list, by address (the project's team).
    pub async fn distributors(&self, viewer: &Viewer, key: &ProjectKey) -> Result<Vec<String>> {
        let project = self.project(key).await?;
        if !viewer.can_see_project(project.id) {
            return Err(StoreError::NotFound("project"));
        }
        sqlx::query(
            "SELECT u.email FROM distributors d JOIN users u ON u.id = d.user_id WHERE d.project_id = $1 ORDER BY u.email",
        )
        .bind(project.id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok(r.try_get("email")?))
        .collect()
    }

    /// Adds a contact to a project's pre-notification list (administrators and the
    /// project's team).
    pub async fn add_distributor(
        &self,
        viewer: &Viewer,
        key: &ProjectKey,
        email: &str,
    ) -> Result<()> {
        let project = self.project(key).await?;
        // The team decides who hears of its embargoes; an administrator is not the team.
        if !viewer.can_see_project(project.id) {
            return Err(StoreError::NotFound("project"));
        }
        let user_id = self.user_id_for(email).await?;
        sqlx::query("INSERT INTO distributors (project_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT (project_id, user_id) DO NOTHING")
            .bind(project.id)
            .bind(user_id)
            .bind(millis(OffsetDateTime::now_utc()))
            .execute(self.writer())
            .await?;
        self.audit_change(
            Some(viewer.user_id),
            format!("project {key}: {} added to the distributors", email.trim()),
        )
        .await
    }

    /// Takes a contact off a project's pre-notification list (the project's team), and
    /// withdraws what they were shown of its cases.
    pub async fn remove_distributor(
        &self,
        viewer: &Viewer,
        key: &ProjectKey,
        email: &str,
    ) -> Result<()> {
        let project = self.project(key).await?;
        if !viewer.can_see_project(project.id) {
            return Err(StoreError::NotFound("project"));
        }
        let email = check_email(email)?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM distributors WHERE project_id = $1 AND user_id = (SELECT id FROM users WHERE email = $2)",
        )
        .bind(project.id)
        .bind(&email)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("distributor"));
        }
        sqlx::query(
            "UPDATE case_grants SET revoked_at = $1 WHERE kind = 'distributor' AND revoked_at IS NULL \
             AND user_id = (SELECT id FROM users WHERE email = $2) AND case_id IN (SELECT id FROM cases WHERE project_id = $3)",
        )
        .bind(millis(OffsetDateTime::now_utc()))
        .bind(&email)
        .bind(project.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.token_cache.clear();
        self.audit_change(
            Some(viewer.user_id),
            format!("project {key}: {email} removed from the distributors"),
        )
        .await
    }

    /// Grants a distributor whose access to a case was revoked that access again (team
    /// only): a revocation holds until the team says so, whatever pre-notifies later.
    pub async fn regrant_distributor(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        email: &str,
    ) -> Result<()> {
        let email = check_email(email)?;
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let done = sqlx::query(
            "UPDATE case_grants SET revoked_at = NULL, invited_by = $1, invited_at = $2 WHERE case_id = $3 AND kind = 'distributor' \
             AND revoked_at IS NOT NULL AND user_id = (SELECT id FROM users WHERE email = $4)",
        )
        .bind(viewer.user_id)
        .bind(now)
        .bind(auth.case_id)
        .bind(&email)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("revoked distributor"));
        }
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        self.settle_grant_change(
            tx,
            act,
            EventKind::AccessGranted,
            &email,
            format!("case {case_ref}: {email} granted distributor access again"),
        )
        .await
    }

    /// Ends a change of who may reach a case: the case event, the commit, then the
    /// cached tokens dropped (so the change holds for the next request, not after the
    /// cache expires) and the audit entry.
    async fn settle_grant_change(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        act: Act,
        event: EventKind,
        email: &str,
        audit: String,
    ) -> Result<()> {
        let actor = act.actor;
        record_event(&mut tx, self.keys(), act, event, None, Some(email)).await?;
        tx.commit().await?;
        self.token_cache.clear();
        self.audit_change(actor, audit).await
    }

    /// Pre-notifies every contact on the project's list of a case (team only): they may
    /// then read its advisory draft, fix and embargo date. Returns who was notified.
    pub async fn prenotify(&self, viewer: &Viewer, case_ref: &CaseRef) -> Result<Vec<String>> {
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let case = load(&mut tx, self.keys(), auth.case_id, false).await?;
        if !matches!(case.state(), State::FixReady | State::ReleasePending) {
            return Err(StoreError::Invalid(
                "distributors are pre-notified once the fix is ready and before the announcement (fix-ready or release-pending)".into(),
            ));
        }
        let rows = sqlx::query(
            "SELECT d.user_id, u.email FROM distributors d JOIN users u ON u.id = d.user_id JOIN cases c ON c.project_id = d.project_id \
             WHERE c.id = $1 ORDER BY u.email",
        )
        .bind(auth.case_id)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Err(StoreError::Invalid(
                "the project has no distributor contacts to pre-notify".into(),
            ));
        }
        let mut emails = Vec::new();
        for row in &rows {
            // A revoked grant stays revoked: pre-notifying again skips that contact.
            sqlx::query(
                "INSERT INTO case_grants (case_id, user_id, kind, invited_by, invited_at, accepted_at) VALUES ($1, $2, 'distributor', $3, $4, $4) \
                 ON CONFLICT (case_id, user_id, kind) DO NOTHING",
            )
            .bind(auth.case_id)
            .bind(row.try_get::<i64, _>("user_id")?)
            .bind(viewer.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let revoked = sqlx::query(
                "SELECT 1 AS r FROM case_grants WHERE case_id = $1 AND user_id = $2 AND kind = 'distributor' AND revoked_at IS NOT NULL",
            )
            .bind(auth.case_id)
            .bind(row.try_get::<i64, _>("user_id")?)
            .fetch_optional(&mut *tx)
            .await?;
            if revoked.is_none() {
                emails.push(row.try_get::<String, _>("email")?);
            }
        }
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::PreNotified,
            None,
            Some(&emails.join(", ")),
        )
        .await?;
        tx.commit().await?;
        self.audit_change(
            Some(viewer.user_id),
            format!("case {case_ref}: pre-notified {}", emails.join(", ")),
        )
        .await?;
        Ok(emails)
    }

    /// The advisory draft, fix and embargo date of a case: for distributors it was
    /// pre-notified to, and for everyone who may read the case.
    pub async fn advisory_view(&self, viewer: &Viewer, case_ref: &CaseRef) -> Result<AdvisoryView> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Advisory).await?;
        let case = load(&mut conn, self.keys(), auth.case_id, false).await?;
        drop(conn);
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Advisory)])
            .await?;
        Ok(case.advisory_view())
    }

    /// The cases a distributor contact was pre-notified of, newest first.
    pub async fn prenotified(&self, viewer: &Viewer) -> Result<Vec<AdvisoryView>> {
        let rows = sqlx::query(
            "SELECT g.case_id FROM case_grants g WHERE g.user_id = $1 AND g.kind = 'distributor' AND g.revoked_at IS NULL ORDER BY g.case_id DESC LIMIT 200",
        )
        .bind(viewer.user_id)
        .fetch_all(&self.pool)
        .await?;
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::new();
        let mut read = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("case_id")?;
            out.push(
                load(&mut conn, self.keys(), id, false)
                    .await?
                    .advisory_view(),
            );
            read.push(Entry::new(viewer, id, Read::Advisory));
        }
        drop(conn);
        self.audit(read).await?;
        Ok(out)
    }

    /// The team's copy of the reporter's secret link (team only), to pass on until mail
    /// carries it.
    pub async fn reporter_link(&self, viewer: &Viewer, case_ref: &CaseRef) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        let link = self.ensure_reporter_link(&mut tx, auth.case_id).await?;
        tx.commit().await?;
        // The link lets its holder write as the reporter: handing it out is a read to audit.
        self.audit(vec![crate::audit::Entry::new(
            viewer,
            auth.case_id,
            crate::audit::Read::ReporterLink,
        )])
        .await?;
        Ok(link)
    }

    /// The reporter's secret link of a case, opened from its sealed copy; cases filed
    /// before links existed get one on first use.
    pub(crate) async fn ensure_reporter_link(
        &self,
        conn: &mut AnyConnection,
        case_id: i64,
    ) -> Result<String> {
        let row =
            sqlx::query("SELECT project_id, number, reporter_link_sealed FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_one(&mut *conn)
                .await?;
        let context = ctx(
            row.try_get("project_id")?,
            row.try_get("number")?,
            "reporter-link",
        );
        if let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>("reporter_link_sealed")? {
            return Ok(self.keys().open_string(&context, &sealed)?);
        }
        let link = new_secret("rl_");
        sqlx::query(
            "UPDATE cases SET reporter_link_hash = $1, reporter_link_sealed = $2 WHERE id = $3",
        )
        .bind(digest(&link))
        .bind(self.keys().seal_str(&context, &link)?)
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
        Ok(link)
    }

    pub(crate) async fn reporter_case(&self, secret: &str) -> Result<(i64, i64, i64)> {
        let row =
            sqlx::query("SELECT id, project_id, number FROM cases WHERE reporter_link_hash = $1")
                .bind(digest(secret))
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("case"))?;
        Ok((
            row.try_get("id")?,
            row.try_get("project_id")?,
            row.try_get("number")?,
        ))
    }

    /// What the reporter sees through their link: status and the external thread.
    pub async fn reporter_view(&self, secret: &str) -> Result<ReporterView> {
        let (case_id, _, _) = self.reporter_case(secret).await?;
        self.audit(vec![crate::audit::Entry::by_reporter(
            case_id,
            crate::audit::Read::ExternalThread,
        )])
        .await?;
        let mut conn = self.pool.acquire().await?;
        let case = load(&mut conn, self.keys(), case_id, true).await?;
        let rows = sqlx::query(
            "SELECT id, kind, at, detail_sealed FROM case_events WHERE case_id = $1 AND kind IN ('message-to-reporter', 'reporter-message', 'reporter-proposed', 'reporter-agreed') ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut thread = vec![ThreadMessage {
            from: "reporter".into(),
            at: case.received_at(),
            text: case.description().to_owned(),
        }];
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>("detail_sealed")? else {
                continue;
            };
            thread.push(ThreadMessage {
                from: if kind != "message-to-reporter" {
                    "reporter"
                } else {
                    "team"
                }
                .into(),
                at: rfc(row.try_get("at")?),
                text: crate::timeline::open_logged(
                    self.keys(),
                    &crate::contexts::event(case.project_id(), case_id, &kind),
                    &sealed,
                    "case_events",
                    row.try_get("id")?,
                )?,
            });
        }
        let agreed = crate::agreement::agreed_at(&mut conn, case_id).await?;
        Ok(ReporterView {
            reference: case.case_ref(),
            state: case.state(),
            received_at: case.received_at(),
            embargo_at: case.embargo_at.map(rfc),
            embargo_agreed_at: agreed.map(rfc),
            credit: case.credit.as_ref().map(|c| c.choice.clone()),
            name_on_file: case.reporter.as_ref().and_then(|r| r.name.clone()),
            identity_shared: case.identity_shared,
            thread,
        })
    }

    /// A reply from the reporter, through their link; it joins the external thread.
    pub async fn reporter_reply(&self, secret: &str, text: &str) -> Result<ThreadMessage> {
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::Invalid("a message cannot be empty".into()));
        }
        check_text("message", text, MAX_TEXT)?;
        let (case_id, _, _) = self.reporter_case(secret).await?;
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let act = Act {
            case_id,
            actor: None,
            now,
        };
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::ReporterMessage,
            None,
            Some(text),
        )
        .await?;
        touch(&mut tx, case_id, now).await?;
        crate::jobs::enqueue(&mut tx, &crate::jobs::Task::ReporterWrote { case_id }, now).await?;
        tx.commit().await?;
        Ok(ThreadMessage {
            from: "reporter".into(),
            at: rfc(now),
            text: text.to_owned(),
        })
    }

    /// A file from the reporter, through their link: kept sealed, byte for byte, as an
    /// attachment of the case, and noted in the external thread.
    pub async fn reporter_upload(&self, secret: &str, file: Upload<'_>) -> Result<ThreadMessage> {
        self.upload_as_reporter(secret, file, true).await
    }

    /// A file sent with the report itself, on the public form: kept as an upload, without
    /// a "the reporter wrote" mail to the team, which the new report's own mail covers.
    pub async fn attach_to_new_report(
        &self,
        secret: &str,
        file: Upload<'_>,
    ) -> Result<ThreadMessage> {
        self.upload_as_reporter(secret, file, false).await
    }

    async fn upload_as_reporter(
        &self,
        secret: &str,
        file: Upload<'_>,
        tell_team: bool,
    ) -> Result<ThreadMessage> {
        let filename = file.filename.trim();
        if filename.is_empty() || filename.len() > 255 {
            return Err(StoreError::Invalid(
                "a file needs a name of 1 to 255 bytes".into(),
            ));
        }
        if file.bytes.is_empty() {
            return Err(StoreError::Invalid("the file is empty".into()));
        }
        if file.bytes.len() > file.limit {
            return Err(StoreError::Invalid(format!(
                "the file is larger than the limit of {} bytes",
                file.limit
            )));
        }
        let (case_id, project_id, _) = self.reporter_case(secret).await?;
        let now = millis(OffsetDateTime::now_utc());
        let text = format!("Uploaded {filename} ({} bytes).", file.bytes.len());
        let mut tx = self.begin_write().await?;
        let message_id = self
            .keep_web_message(&mut tx, project_id, case_id, text.as_bytes(), now)
            .await?;
        let attachment = crate::attachments::NewAttachment {
            filename,
            content_type: file.content_type,
            bytes: file.bytes,
            held_back: false,
        };
        self.insert_attachment(&mut tx, message_id, case_id, &attachment)
            .await?;
        let act = Act {
            case_id,
            actor: None,
            now,
        };
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::ReporterMessage,
            None,
            Some(&text),
        )
        .await?;
        touch(&mut tx, case_id, now).await?;
        if tell_team {
            crate::jobs::enqueue(&mut tx, &crate::jobs::Task::ReporterWrote { case_id }, now)
                .await?;
        }
        tx.commit().await?;
        Ok(ThreadMessage {
            from: "reporter".into(),
            at: rfc(now),
            text,
        })
    }
}
