//! Team members invited by address: an administrator or a member of the project's team
//! names someone, and they join the team; a newcomer gets a single-use link by mail to
//! choose their own password (nobody else ever knows it), then sets up their second
//! factor on their account page. The team stays limited to the project's committee: an
//! administrator's invitation adds the person to it, anyone else's is refused, saying
//! who can.

use embargo_core::access::{Viewer, may_join_project_team};
use embargo_core::reference::ProjectKey;
use sqlx::Row;
use time::OffsetDateTime;

use crate::accounts::{check_email, digest, new_secret};
use crate::{Result, Store, StoreError, User, millis};

/// How long an invitation's link stays valid, in milliseconds (a week).
const VALID_MS: i64 = 7 * 24 * 3600 * 1000;

/// What an invitation did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MemberInvitation {
    /// The member's address.
    pub email: String,
    /// Whether they were added to the project's committee first.
    pub added_to_committee: bool,
    /// Whether a link to choose their password goes to them by mail (a newcomer).
    pub invited_by_mail: bool,
}

impl Store {
    /// Adds `email` to the project's security team, inviting a newcomer by mail.
    pub async fn invite_member(
        &self,
        viewer: &Viewer,
        key: &ProjectKey,
        email: &str,
    ) -> Result<MemberInvitation> {
        let email = check_email(email)?;
        let project = self.project(key).await?;
        if !viewer.is_admin && !viewer.can_see_project(project.id) {
            return Err(StoreError::NotFound("project"));
        }
        let committee = self.committee(key).await?;
        let added_to_committee = !may_join_project_team(&email, &committee);
        if added_to_committee {
            if !viewer.is_admin {
                return Err(StoreError::Invalid(format!(
                    "{email} is not on the {} management committee, and only committee members may join its security team; an administrator can add them to the committee (inviting them adds them)",
                    project.key
                )));
            }
            self.add_committee_members(key, std::slice::from_ref(&email))
                .await?;
        }
        let user = match self.user_by_email(&email).await {
            Ok(user) => user,
            Err(StoreError::NotFound(_)) => match self.create_user(&email, None, false).await {
                Ok(user) => user,
                Err(StoreError::Conflict(_)) => self.user_by_email(&email).await?,
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        };
        self.add_project_member(key, &user.email).await?;
        let newcomer = !self.has_password(user.id).await?;
        if newcomer {
            self.mail_invitation(viewer, &user, project.id).await?;
        }
        self.audit_change(
            Some(viewer.user_id),
            format!(
                "project {key}: {email} invited to the security team{}",
                if added_to_committee {
                    " (and added to the committee)"
                } else {
                    ""
                }
            ),
        )
        .await?;
        Ok(MemberInvitation {
            email,
            added_to_committee,
            invited_by_mail: newcomer,
        })
    }

    async fn has_password(&self, user_id: i64) -> Result<bool> {
        let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<String>, _>("password_hash")?.is_some())
    }

    /// Records a new invitation (any earlier one for the person lapses) and queues its
    /// mail; the secret exists only sealed in the job and, digested, here.
    async fn mail_invitation(&self, viewer: &Viewer, user: &User, project_id: i64) -> Result<()> {
        let secret = new_secret("wel_");
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE member_invitations SET expires_at = $1 WHERE user_id = $2 AND accepted_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(
            "INSERT INTO member_invitations (user_id, project_id, invited_by, invited_at, expires_at, invite_hash) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user.id)
        .bind(project_id)
        .bind(viewer.user_id)
        .bind(now)
        .bind(now + VALID_MS)
        .bind(digest(&secret))
        .fetch_one(&mut *tx)
        .await?;
        let invitation_id: i64 = row.try_get("id")?;
        let sealed = |what: &str, value: &str| -> Result<String> {
            use base64::Engine;
            Ok(base64::engine::general_purpose::STANDARD.encode(
                self.keys()
                    .seal_str(&crate::contexts::welcome(invitation_id, what), value)?,
            ))
        };
        crate::jobs::enqueue(
            &mut tx,
            &crate::jobs::Task::MailWelcome {
                invitation_id,
                to_sealed: sealed("to", &user.email)?,
                secret_sealed: sealed("secret", &secret)?,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes up an invitation: the newcomer's own password, once. Returns who they are,
    /// to sign them in.
    pub async fn accept_member_invitation(&self, secret: &str, password: &str) -> Result<User> {
        let now = millis(OffsetDateTime::now_utc());
        let row = sqlx::query(
            "SELECT i.id, i.user_id FROM member_invitations i \
             WHERE i.invite_hash = $1 AND i.accepted_at IS NULL AND i.expires_at > $2",
        )
        .bind(digest(secret))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("invitation"))?;
        let user_id: i64 = row.try_get("user_id")?;
        if self.has_password(user_id).await? {
            return Err(StoreError::NotFound("invitation"));
        }
        self.set_password(user_id, password).await?;
        let taken = sqlx::query(
            "UPDATE member_invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL",
        )
        .bind(now)
        .bind(row.try_get::<i64, _>("id")?)
        .execute(self.writer())
        .await?
        .rows_affected();
        if taken == 0 {
            return Err(StoreError::NotFound("invitation"));
        }
        let user = self.user_by_id(user_id).await?;
        self.audit_change(
            Some(user_id),
            format!(
                "{} accepted the invitation and chose a password",
                user.email
            ),
        )
        .await?;
        Ok(user)
    }

    /// The mail of a `mail-welcome` job: the link, to the newcomer alone.
    pub async fn welcome_mail(
        &self,
        job: &crate::Job,
        public_url: &str,
        domain: &str,
    ) -> Result<crate::OutboundMail> {
        let Some(crate::jobs::Task::MailWelcome {
            invitation_id,
            to_sealed,
            secret_sealed,
        }) = &job.task
        else {
            return Err(StoreError::Invalid("not an invitation job".into()));
        };
        let unsealed = |sealed: &str, what: &str| -> Result<String> {
            use base64::Engine;
            let sealed = base64::engine::general_purpose::STANDARD
                .decode(sealed)
                .map_err(|_| StoreError::Invalid("the job is incomplete".into()))?;
            Ok(self
                .keys()
                .open_string(&crate::contexts::welcome(*invitation_id, what), &sealed)?)
        };
        let row = sqlx::query(
            "SELECT p.name FROM member_invitations i JOIN projects p ON p.id = i.project_id WHERE i.id = $1",
        )
        .bind(invitation_id)
        .fetch_one(&self.pool)
        .await?;
        let project: String = row.try_get("name")?;
        let letter = embargo_mail::wording::welcome(
            &project,
            public_url,
            &unsealed(secret_sealed, "secret")?,
        );
        Ok(crate::OutboundMail {
            case_id: 0,
            to: unsealed(to_sealed, "to")?,
            subject: letter.subject,
            body: letter.body,
            message_id: self.message_id(&job.id.to_string(), domain),
            in_reply_to: None,
            references: Vec::new(),
            kind: "welcome",
            encrypt_to: None,
            sign_with: None,
        })
    }
}
