//! OpenPGP keys: each project's team key (its secret half sealed, its public half
//! published) and the reporter's public key on a case (sealed, as it names the reporter).

use embargo_core::reference::ProjectKey;
use embargo_openpgp::{PublicKey, TeamKey};
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use crate::cases::ctx;
use crate::{Result, Store, StoreError, millis, rfc};

/// A project's published team key.
#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TeamPublicKey {
    /// The project key.
    pub project: String,
    /// The primary key's fingerprint.
    pub fingerprint: String,
    /// The public key, armored.
    pub public_key: String,
    /// When it was set (RFC 3339).
    pub created_at: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SealedSecret {
    armored: String,
    passphrase: String,
}

impl Store {
    /// Sets a project's team key. An existing key is kept unless `replace`: messages
    /// encrypted to it could no longer be read again.
    pub async fn set_team_key(
        &self,
        key: &ProjectKey,
        team: &TeamKey,
        replace: bool,
    ) -> Result<TeamPublicKey> {
        let project = self.project(key).await?;
        let armored = team
            .armored_secret()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let public = team
            .public()
            .armored()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let sealed = serde_json::to_vec(&SealedSecret {
            armored,
            passphrase: team.passphrase().to_owned(),
        })
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = self
            .keys()
            .seal(&crate::contexts::team_key_secret(project.id), &sealed)?;
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT fingerprint FROM team_keys WHERE project_id = $1")
            .bind(project.id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = exists {
            if !replace {
                let fingerprint: String = row.try_get("fingerprint")?;
                return Err(StoreError::Conflict(format!(
                    "{key} has a team key already ({fingerprint}); replacing it means mail encrypted to it can no longer be read again, so say so explicitly"
                )));
            }
            sqlx::query("DELETE FROM team_keys WHERE project_id = $1")
                .bind(project.id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO team_keys (project_id, fingerprint, public_key, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(project.id)
        .bind(team.fingerprint())
        .bind(&public)
        .bind(sealed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(project = %key, fingerprint = %team.fingerprint(), "team key set");
        Ok(TeamPublicKey {
            project: project.key,
            fingerprint: team.fingerprint(),
            public_key: public,
            created_at: rfc(now),
        })
    }

    /// A project's published team key, if it has one. Public: reporters need it.
    pub async fn team_public_key(&self, key: &ProjectKey) -> Result<Option<TeamPublicKey>> {
        let row = sqlx::query(
            "SELECT p.key, t.fingerprint, t.public_key, t.created_at FROM team_keys t JOIN projects p ON p.id = t.project_id WHERE p.key = $1",
        )
        .bind(key.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(TeamPublicKey {
                project: row.try_get("key")?,
                fingerprint: row.try_get("fingerprint")?,
                public_key: row.try_get("public_key")?,
                created_at: rfc(row.try_get("created_at")?),
            })
        })
        .transpose()
    }

    /// A project's team key with its secret half, for decrypting and signing.
    pub(crate) async fn team_key(
        &self,
        conn: &mut AnyConnection,
        project_id: i64,
    ) -> Result<Option<TeamKey>> {
        let row = sqlx::query("SELECT secret_sealed FROM team_keys WHERE project_id = $1")
            .bind(project_id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let plain = self.keys().open(
            &crate::contexts::team_key_secret(project_id),
            &row.try_get::<Vec<u8>, _>("secret_sealed")?,
        )?;
        let secret: SealedSecret =
            serde_json::from_slice(&plain).map_err(|_| StoreError::Corrupt("team key".into()))?;
        TeamKey::from_armored(&secret.armored, &secret.passphrase)
            .map(Some)
            .map_err(|_| StoreError::Corrupt("team key".into()))
    }

    /// The reporter's key on a case, if known.
    pub(crate) async fn reporter_key(
        &self,
        conn: &mut AnyConnection,
        case_id: i64,
    ) -> Result<Option<PublicKey>> {
        let row =
            sqlx::query("SELECT project_id, number, reporter_key_sealed FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_one(&mut *conn)
                .await?;
        let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>("reporter_key_sealed")? else {
            return Ok(None);
        };
        let context = ctx(
            row.try_get("project_id")?,
            row.try_get("number")?,
            "reporter-key",
        );
        let armored = self.keys().open_string(&context, &sealed)?;
        Ok(PublicKey::from_armored(&armored).ok())
    }

    /// Records the reporter's key on a case when none is known yet; true if it did.
    pub(crate) async fn learn_reporter_key(
        &self,
        conn: &mut AnyConnection,
        case_id: i64,
        key: &PublicKey,
    ) -> Result<bool> {
        let Ok(armored) = key.armored() else {
            return Ok(false);
        };
        if !key.can_encrypt() {
            return Ok(false);
        }
        let row = sqlx::query("SELECT project_id, number FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(&mut *conn)
            .await?;
        let context = ctx(
            row.try_get("project_id")?,
            row.try_get("number")?,
            "reporter-key",
        );
        let done = sqlx::query(
            "UPDATE cases SET reporter_key_sealed = $1 WHERE id = $2 AND reporter_key_sealed IS NULL",
        )
        .bind(self.keys().seal_str(&context, &armored)?)
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
