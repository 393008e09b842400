//! Signing in: password and, once enrolled, a TOTP code (RFC 6238) or a single-use
//! recovery code; lockout after repeated failures; password changes that end every
//! session. The TOTP secret is sealed like case content; recovery codes are stored as
//! hashes only.

use rand::RngCore;
use sqlx::Row;
use time::{Duration, OffsetDateTime};
use totp_rs::{Algorithm, TOTP};

use crate::accounts::{digest, dummy_hash, verify_password};
use crate::{Result, Store, StoreError, User, millis, rfc};

/// Failed attempts in a row before an account is locked.
pub const MAX_FAILURES: i64 = 5;
/// How long a lock lasts.
pub const LOCKOUT: Duration = Duration::minutes(15);
const RECOVERY_CODES: usize = 10;
const STEP: u64 = 30;

/// How a sign-in attempt ended.
#[derive(Debug)]
pub enum SignInOutcome {
    /// Signed in.
    Accepted(User),
    /// The password is right, and the account needs its second factor.
    CodeRequired,
    /// Wrong address, password or code; the same answer for each.
    Refused,
    /// Too many failures; try again after this time (RFC 3339).
    Locked(String),
}

/// Who tries: the account name (as a keyed tag) and the client address.
struct Attempt {
    name_tag: String,
    client: String,
}

/// A started TOTP enrolment: the secret to put into an authenticator app. No `Debug`:
/// the secret must not be logged.
#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// The secret, base32 (RFC 4648, no padding).
    pub secret: String,
    /// The otpauth:// URI authenticator apps read (usually as a QR code).
    pub uri: String,
}

fn totp(secret: Vec<u8>) -> Result<TOTP> {
    TOTP::new(Algorithm::SHA1, 6, 1, STEP, secret)
        .map_err(|_| StoreError::Corrupt("TOTP secret".into()))
}

/// The time step a code matches, within one step either way; `None` if it matches none.
fn matching_step(totp: &TOTP, code: &str, now: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = now / STEP;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|s| totp.generate(s * STEP) == code)
        .and_then(|s| i64::try_from(s).ok())
}

fn recovery_code() -> String {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let n = u64::from_be_bytes(bytes);
    let digits = format!("{:016x}", n);
    format!(
        "{}-{}-{}-{}",
        &digits[..4],
        &digits[4..8],
        &digits[8..12],
        &digits[12..]
    )
}

fn normalise_recovery(code: &str) -> String {
    code.trim().to_ascii_lowercase()
}

impl Store {
    /// One sign-in attempt from `client`. Failures count towards a lock of that address
    /// out of that account name, whether the account exists or not (so neither the answer
    /// nor the lock tells accounts apart, and nobody can lock a member out from elsewhere);
    /// a locked pair is refused without looking at the password.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        code: Option<&str>,
        client: &str,
    ) -> Result<SignInOutcome> {
        let now = OffsetDateTime::now_utc();
        let attempt = Attempt {
            name_tag: self
                .keys()
                .tag("sign-in", &email.trim().to_ascii_lowercase()),
            client: client.to_owned(),
        };
        if let Some(until) = self.locked_until(&attempt, now).await? {
            return Ok(SignInOutcome::Locked(rfc(until)));
        }
        let outcome = self.check_credentials(email, password, code, now).await?;
        match &outcome {
            SignInOutcome::Accepted(_) => self.clear_failures(&attempt).await?,
            SignInOutcome::Refused => self.failed(&attempt, now).await?,
            SignInOutcome::CodeRequired | SignInOutcome::Locked(_) => {}
        }
        Ok(outcome)
    }

    async fn check_credentials(
        &self,
        email: &str,
        password: &str,
        code: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<SignInOutcome> {
        let row = sqlx::query(
            "SELECT id, email, is_admin, password_hash, totp_sealed, totp_enabled_at, totp_last_step, failed_signins, locked_until \
             FROM users WHERE email = $1",
        )
        .bind(email.trim().to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            // Unknown addresses cost a hash too, so timing does not tell them apart.
            verify_password(password.to_owned(), dummy_hash().await).await;
            return Ok(SignInOutcome::Refused);
        };
        let user_id: i64 = row.try_get("id")?;
        let hash = match row.try_get::<Option<String>, _>("password_hash")? {
            Some(hash) => hash,
            None => dummy_hash().await,
        };
        if !verify_password(password.to_owned(), hash).await {
            return Ok(SignInOutcome::Refused);
        }
        if row.try_get::<Option<i64>, _>("totp_enabled_at")?.is_some() {
            let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
                return Ok(SignInOutcome::CodeRequired);
            };
            let sealed: Vec<u8> = row
                .try_get::<Option<Vec<u8>>, _>("totp_sealed")?
                .ok_or_else(|| StoreError::Corrupt("TOTP enabled without a secret".into()))?;
            let secret = self.keys().open(&crate::contexts::totp(user_id), &sealed)?;
            let last: Option<i64> = row.try_get("totp_last_step")?;
            let unix = now.unix_timestamp().max(0) as u64;
            let by_totp = match matching_step(&totp(secret)?, code, unix) {
                // A code is good once: a step at or before the last one used is a replay.
                Some(step) if last.is_none_or(|l| step > l) => {
                    let claimed = sqlx::query(
                        "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
                    )
                    .bind(step)
                    .bind(user_id)
                    .execute(self.writer())
                    .await?;
                    claimed.rows_affected() == 1
                }
                _ => false,
            };
            let accepted = by_totp || self.use_recovery_code(user_id, code, now).await?;
            if !accepted {
                return Ok(SignInOutcome::Refused);
            }
        }
        Ok(SignInOutcome::Accepted(User {
            id: user_id,
            email: row.try_get("email")?,
            is_admin: row.try_get::<i64, _>("is_admin")? != 0,
        }))
    }

    async fn locked_until(&self, attempt: &Attempt, now: OffsetDateTime) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT locked_until FROM signin_failures WHERE name_tag = $1 AND client = $2",
        )
        .bind(&attempt.name_tag)
        .bind(&attempt.client)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => row
                .try_get::<Option<i64>, _>("locked_until")?
                .filter(|until| *until > millis(now)),
            None => None,
        })
    }

    async fn clear_failures(&self, attempt: &Attempt) -> Result<()> {
        sqlx::query("DELETE FROM signin_failures WHERE name_tag = $1 AND client = $2")
            .bind(&attempt.name_tag)
            .bind(&attempt.client)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn failed(&self, attempt: &Attempt, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let failures: i64 = sqlx::query(
            "INSERT INTO signin_failures (name_tag, client, failures, updated_at) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (name_tag, client) DO UPDATE SET failures = signin_failures.failures + 1, updated_at = $3 \
             RETURNING failures",
        )
        .bind(&attempt.name_tag)
        .bind(&attempt.client)
        .bind(millis(now))
        .fetch_one(&mut *tx)
        .await?
        .try_get("failures")?;
        if failures >= MAX_FAILURES {
            sqlx::query(
                "UPDATE signin_failures SET failures = 0, locked_until = $1 WHERE name_tag = $2 AND client = $3",
            )
            .bind(millis(now + LOCKOUT))
            .bind(&attempt.name_tag)
            .bind(&attempt.client)
            .execute(&mut *tx)
            .await?;
            tracing::warn!(
                "an address is locked out of an account name after repeated failed sign-ins"
            );
        }
        // Old counts are of no use; keep the table small.
        sqlx::query("DELETE FROM signin_failures WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $2)")
            .bind(millis(now - LOCKOUT - LOCKOUT))
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_recovery_code(
        &self,
        user_id: i64,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let used = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(millis(now))
        .bind(user_id)
        .bind(digest(&normalise_recovery(code)))
        .execute(self.writer())
        .await?;
        Ok(used.rows_affected() == 1)
    }

    /// Starts TOTP enrolment (or restarts one not yet confirmed).
    pub async fn start_totp(&self, user_id: i64) -> Result<TotpSetup> {
        let row = sqlx::query("SELECT email, totp_enabled_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        if row.try_get::<Option<i64>, _>("totp_enabled_at")?.is_some() {
            return Err(StoreError::Conflict(
                "two-factor sign-in is already on for this account".into(),
            ));
        }
        let email: String = row.try_get("email")?;
        let mut secret = vec![0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        sqlx::query("UPDATE users SET totp_sealed = $1, totp_last_step = NULL WHERE id = $2")
            .bind(self.keys().seal(&crate::contexts::totp(user_id), &secret)?)
            .bind(user_id)
            .execute(self.writer())
            .await?;
        let secret = totp(secret)?.get_secret_base32();
        let account = email.replace('@', "%40");
        Ok(TotpSetup {
            uri: format!(
                "otpauth://totp/Embargo:{account}?secret={secret}&issuer=Embargo&algorithm=SHA1&digits=6&period=30"
            ),
            secret,
        })
    }

    /// Confirms enrolment with a first code; returns the recovery codes, shown once.
    pub async fn confirm_totp(&self, user_id: i64, code: &str) -> Result<Vec<String>> {
        let row = sqlx::query("SELECT totp_sealed, totp_enabled_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        if row.try_get::<Option<i64>, _>("totp_enabled_at")?.is_some() {
            return Err(StoreError::Conflict(
                "two-factor sign-in is already on for this account".into(),
            ));
        }
        let sealed: Vec<u8> = row
            .try_get::<Option<Vec<u8>>, _>("totp_sealed")?
            .ok_or_else(|| {
                StoreError::Invalid("start enrolment first (POST /api/me/totp)".into())
            })?;
        let secret = self.keys().open(&crate::contexts::totp(user_id), &sealed)?;
        let now = OffsetDateTime::now_utc();
        let step = matching_step(&totp(secret)?, code, now.unix_timestamp().max(0) as u64)
            .ok_or_else(|| {
                StoreError::Invalid(
                    "that code does not match; check the authenticator app's clock and try the current code".into(),
                )
            })?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET totp_enabled_at = $1, totp_last_step = $2 WHERE id = $3")
            .bind(millis(now))
            .bind(step)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for code in &codes {
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
            )
            .bind(user_id)
            .bind(digest(code))
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(codes)
    }

    /// Changes a password after checking the current one; every session and token ends.
    pub async fn change_password(&self, user_id: i64, current: &str, new: &str) -> Result<bool> {
        let ok = self.verify_user_password(user_id, current).await?;
        if ok {
            self.set_password(user_id, new).await?;
        }
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_nothing_else() {
        let t = totp(b"12345678901234567890".to_vec()).unwrap();
        // RFC 6238 appendix B, SHA-1, at T = 59 s: 94287082 (the last six digits).
        assert_eq!(t.generate(59), "287082");
        assert_eq!(matching_step(&t, "287082", 59), Some(1));
        assert_eq!(
            matching_step(&t, "287082", 59 + 30),
            Some(1),
            "one step of skew"
        );
        assert_eq!(matching_step(&t, "287082", 59 + 90), None);
        assert_eq!(matching_step(&t, "28708", 59), None);
        assert_eq!(matching_step(&t, "abcdef", 59), None);
        let code = recovery_code();
        assert_eq!(code.len(), 19);
        assert_eq!(normalise_recovery(&code.to_uppercase()), code);
    }
}
