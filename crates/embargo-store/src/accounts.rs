//! People who sign in: users, password hashes (Argon2id), sessions and API tokens.
//! Session and API tokens are random 32-byte secrets; only their SHA-256 is stored.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use time::{Duration, OffsetDateTime};

use crate::{Result, Store, StoreError, millis};

/// A user account.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    /// The account id.
    pub id: i64,
    /// The sign-in address.
    pub email: String,
    /// Whether the user administers the instance.
    pub is_admin: bool,
}

/// A freshly created API token; the secret is shown once and never stored.
pub struct NewToken {
    /// The token's id, for revocation.
    pub id: i64,
    /// The secret to put in `Authorization: Bearer`.
    pub secret: String,
}

/// How long a sign-in session lasts.
const SESSION_LIFETIME: Duration = Duration::hours(12);

pub(crate) fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", B64URL.encode(bytes))
}

/// A live session as its user sees it on their account page.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    /// A short name for it, from its hash.
    pub handle: String,
    /// When it began (RFC 3339).
    pub started_at: String,
    /// When it ends by itself (RFC 3339).
    pub expires_at: String,
    /// Whether it is the session asking.
    pub current: bool,
}

/// An API token as its user sees it: never its secret.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// Its id.
    pub id: i64,
    /// What it is for.
    pub name: String,
    /// Whether it may only read.
    pub read_only: bool,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it was last used (RFC 3339).
    pub last_used_at: Option<String>,
    /// Whether it is revoked.
    pub revoked: bool,
}

fn session_handle(hash: &[u8]) -> String {
    hash.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Checks an email address loosely: something@something, no spaces.
pub(crate) fn check_email(email: &str) -> Result<String> {
    let email = email.trim();
    let ok = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if ok {
        Ok(email.to_ascii_lowercase())
    } else {
        Err(StoreError::Invalid(format!(
            "'{email}' is not an email address"
        )))
    }
}

/// Argon2id with the OWASP Password Storage Cheat Sheet's first configuration:
/// 19 MiB of memory, 2 iterations, 1 degree of parallelism.
fn argon2() -> Argon2<'static> {
    let params = argon2::Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

pub(crate) async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| StoreError::Invalid("the password cannot be hashed".into()))
    })
    .await
    .map_err(|_| StoreError::Invalid("the password cannot be hashed".into()))?
}

pub(crate) async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A real hash of a random password, to spend the same effort on unknown users.
pub(crate) async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async { hash_password(new_secret("")).await.unwrap_or_default() })
        .await
        .clone()
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        is_admin: row.try_get::<i64, _>("is_admin")? != 0,
    })
}

impl Store {
    /// Creates a user. Passwords shorter than 12 characters are refused.
    pub async fn create_user(
        &self,
        email: &str,
        password: Option<&str>,
        is_admin: bool,
    ) -> Result<User> {
        let email = check_email(email)?;
        let hash = match password {
            Some(p) if p.chars().count() < 12 => {
                return Err(StoreError::Invalid(
                    "a password needs at least 12 characters".into(),
                ));
            }
            Some(p) => Some(hash_password(p.to_owned()).await?),
            None => None,
        };
        let now = millis(OffsetDateTime::now_utc());
        let row = sqlx::query(
            "INSERT INTO users (email, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (email) DO NOTHING RETURNING id, email, is_admin",
        )
        .bind(&email)
        .bind(hash)
        .bind(i64::from(is_admin))
        .bind(now)
        .fetch_optional(self.writer())
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("a user with the address {email} exists already")))?;
        user_from_row(&row)
    }

    /// Finds a user by address.
    pub async fn user_by_email(&self, email: &str) -> Result<User> {
        let row = sqlx::query("SELECT id, email, is_admin FROM users WHERE email = $1")
            .bind(email.trim().to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        user_from_row(&row)
    }

    /// Finds a user by id.
    pub async fn user_by_id(&self, id: i64) -> Result<User> {
        let row = sqlx::query("SELECT id, email, is_admin FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        user_from_row(&row)
    }

    /// Lists users with their last activity.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        sqlx::query("SELECT id, email, is_admin FROM users ORDER BY email")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_from_row)
            .collect()
    }

    /// Checks a password; the same answer whether the user is unknown or the password wrong.
    pub async fn check_password(&self, email: &str, password: &str) -> Result<Option<User>> {
        let row =
            sqlx::query("SELECT id, email, is_admin, password_hash FROM users WHERE email = $1")
                .bind(email.trim().to_ascii_lowercase())
                .fetch_optional(&self.pool)
                .await?;
        // Unknown users still cost one hash, so timing does not reveal which addresses exist.
        let (user, hash) = match row {
            Some(row) => (
                Some(user_from_row(&row)?),
                row.try_get::<Option<String>, _>("password_hash")?,
            ),
            None => (None, None),
        };
        let hash = match hash {
            Some(hash) => hash,
            None => dummy_hash().await,
        };
        let ok = verify_password(password.to_owned(), hash).await;
        Ok(if ok { user } else { None })
    }

    /// Sets a new password and ends every session and API token of the user: whoever
    /// took the old password may have made either.
    pub async fn set_password(&self, user_id: i64, password: &str) -> Result<()> {
        if password.chars().count() < 12 {
            return Err(StoreError::Invalid(
                "a password needs at least 12 characters".into(),
            ));
        }
        let hash = hash_password(password.to_owned()).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(millis(OffsetDateTime::now_utc()))
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.token_cache.clear();
        Ok(())
    }

    /// Sets (or, with `None`, removes) the user's own OpenPGP public key: embargoed mail to
    /// them (pre-notifications) is encrypted to it.
    pub async fn set_own_openpgp_key(&self, user_id: i64, armored: Option<&str>) -> Result<()> {
        let checked = match armored {
            Some(text) => {
                let key = embargo_openpgp::PublicKey::from_armored(text).map_err(|e| {
                    StoreError::Invalid(format!("the OpenPGP key is not usable: {e}"))
                })?;
                // Refused now rather than at the first mail.
                embargo_openpgp::encrypt(b"check", &key, None).map_err(|e| {
                    StoreError::Invalid(format!("the OpenPGP key cannot encrypt: {e}"))
                })?;
                Some(
                    key.armored()
                        .map_err(|e| StoreError::Invalid(e.to_string()))?,
                )
            }
            None => None,
        };
        sqlx::query("UPDATE users SET openpgp_key = $1 WHERE id = $2")
            .bind(&checked)
            .bind(user_id)
            .execute(self.writer())
            .await?;
        self.audit_change(
            Some(user_id),
            format!(
                "user {user_id}: OpenPGP key {}",
                if checked.is_some() { "set" } else { "removed" }
            ),
        )
        .await
    }

    /// Whether `password` is the user's: asked again before a token is made or two-factor
    /// sign-in changes, so a stolen session alone can do neither.
    pub async fn verify_user_password(&self, user_id: i64, password: &str) -> Result<bool> {
        let hash: Option<String> = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("user"))?
            .try_get("password_hash")?;
        Ok(match hash {
            Some(hash) => verify_password(password.to_owned(), hash).await,
            None => {
                verify_password(password.to_owned(), dummy_hash().await).await;
                false
            }
        })
    }

    /// Starts a sign-in session; returns the cookie secret.
    pub async fn create_session(&self, user_id: i64) -> Result<String> {
        let secret = new_secret("");
        let now = OffsetDateTime::now_utc();
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(digest(&secret))
            .bind(user_id)
            .bind(millis(now))
            .bind(millis(now + SESSION_LIFETIME))
            .execute(self.writer())
            .await?;
        self.touch_user(user_id).await?;
        Ok(secret)
    }

    /// The user of a live session.
    pub async fn session_user(&self, secret: &str) -> Result<Option<i64>> {
        let row =
            sqlx::query("SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2")
                .bind(digest(secret))
                .bind(millis(OffsetDateTime::now_utc()))
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.try_get("user_id")).transpose()?)
    }

    /// Ends a session.
    pub async fn end_session(&self, secret: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(digest(secret))
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The user's live sessions, newest first; `current` (the cookie's secret) marks the
    /// one asking. Each is named by a short handle derived from its hash, never the secret.
    pub async fn list_sessions(
        &self,
        user_id: i64,
        current: Option<&str>,
    ) -> Result<Vec<SessionInfo>> {
        let rows = sqlx::query(
            "SELECT token_hash, created_at, expires_at FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC",
        )
        .bind(user_id)
        .bind(millis(OffsetDateTime::now_utc()))
        .fetch_all(&self.pool)
        .await?;
        let mine = current.map(digest);
        rows.iter()
            .map(|r| {
                let hash: Vec<u8> = r.try_get("token_hash")?;
                Ok(SessionInfo {
                    handle: session_handle(&hash),
                    started_at: crate::rfc(r.try_get("created_at")?),
                    expires_at: crate::rfc(r.try_get("expires_at")?),
                    current: mine.as_ref() == Some(&hash),
                })
            })
            .collect()
    }

    /// Ends one of the user's sessions, by its handle.
    pub async fn end_session_of(&self, user_id: i64, handle: &str) -> Result<()> {
        let rows = sqlx::query("SELECT token_hash FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        for row in rows {
            let hash: Vec<u8> = row.try_get("token_hash")?;
            if session_handle(&hash) == handle {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1 AND user_id = $2")
                    .bind(hash)
                    .bind(user_id)
                    .execute(self.writer())
                    .await?;
                return Ok(());
            }
        }
        Err(StoreError::NotFound("session"))
    }

    /// The user's API tokens, newest first (revoked ones included, marked).
    pub async fn list_tokens(&self, user_id: i64) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, scope, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    read_only: r.try_get::<String, _>("scope")? == "read",
                    created_at: crate::rfc(r.try_get("created_at")?),
                    last_used_at: r.try_get::<Option<i64>, _>("last_used_at")?.map(crate::rfc),
                    revoked: r.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
                })
            })
            .collect()
    }

    /// Whether any account exists (a fresh installation has none until `embargo init`).
    pub async fn has_users(&self) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM users LIMIT 1")
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Whether the user signs in with a second factor.
    pub async fn totp_enabled(&self, user_id: i64) -> Result<bool> {
        let row = sqlx::query("SELECT totp_enabled_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>("totp_enabled_at")?.is_some())
    }

    /// Creates an API token for a user, allowed to change what its user may change.
    pub async fn create_token(&self, user_id: i64, name: &str) -> Result<NewToken> {
        self.create_scoped_token(user_id, name, false).await
    }

    /// Creates an API token; a read-only one may only read.
    pub async fn create_scoped_token(
        &self,
        user_id: i64,
        name: &str,
        read_only: bool,
    ) -> Result<NewToken> {
        let secret = new_secret("emb_");
        let row = sqlx::query("INSERT INTO api_tokens (user_id, name, token_hash, created_at, scope) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(user_id)
            .bind(name)
            .bind(digest(&secret))
            .bind(millis(OffsetDateTime::now_utc()))
            .bind(if read_only { "read" } else { "write" })
            .fetch_one(self.writer())
            .await?;
        Ok(NewToken {
            id: row.try_get("id")?,
            secret,
        })
    }

    /// Revokes one of the user's tokens.
    pub async fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<()> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(millis(OffsetDateTime::now_utc()))
            .bind(token_id)
            .bind(user_id)
            .execute(self.writer())
            .await?;
        self.token_cache.clear();
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("token"));
        }
        Ok(())
    }

    pub(crate) async fn touch_user(&self, user_id: i64) -> Result<()> {
        sqlx::query("UPDATE users SET last_active_at = $1 WHERE id = $2")
            .bind(millis(OffsetDateTime::now_utc()))
            .bind(user_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
