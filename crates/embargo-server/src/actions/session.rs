//! Signing in, for the API and the sign-in page alike.

use std::net::IpAddr;

use embargo_store::{SignInOutcome, StoreError, User};

use crate::AppState;

/// A session opened by signing in.
pub struct SignedIn {
    /// Who signed in.
    pub user: User,
    /// The session's secret, for its cookie.
    pub secret: String,
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefused {
    /// Too many failures from this client address.
    TooManyFromAddress,
    /// The password was right; the second factor is needed too.
    CodeRequired,
    /// The address, password or code is wrong (never which).
    Wrong,
    /// Too many failures for this account from this client.
    Locked,
}

/// Signs in with a password (and the second factor once it is on); opens a session.
/// The address is trimmed, the password and code are taken as typed.
pub async fn sign_in(
    state: &AppState,
    client: IpAddr,
    email: &str,
    password: &str,
    code: Option<&str>,
) -> Result<Result<SignedIn, SignInRefused>, StoreError> {
    let limit = crate::limiter::Limit::SignIn;
    let address = client.to_string();
    if !state
        .store
        .address_allows(limit.scope(), &address, limit.max(), limit.window_ms())
        .await?
    {
        return Ok(Err(SignInRefused::TooManyFromAddress));
    }
    let code = code.map(str::trim).filter(|c| !c.is_empty());
    let outcome = state
        .store
        .sign_in(email.trim(), password, code, &client.to_string())
        .await?;
    let user = match outcome {
        SignInOutcome::Accepted(user) => user,
        SignInOutcome::CodeRequired => return Ok(Err(SignInRefused::CodeRequired)),
        SignInOutcome::Refused => {
            state
                .store
                .record_address_event(limit.scope(), &address)
                .await?;
            return Ok(Err(SignInRefused::Wrong));
        }
        SignInOutcome::Locked(_) => return Ok(Err(SignInRefused::Locked)),
    };
    let secret = state.store.create_session(user.id).await?;
    tracing::info!(user = user.id, "signed in");
    Ok(Ok(SignedIn { user, secret }))
}
