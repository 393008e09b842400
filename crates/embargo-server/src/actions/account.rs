//! A member's own account, for the API and the account page alike: what asks for the
//! password again (a new token, starting two-factor sign-in) asks in one place.

use embargo_core::access::Viewer;
use embargo_store::{NewToken, StoreError, TotpSetup};

use crate::AppState;
use crate::error::ApiError;

/// Refuses unless `password` is the member's: a stolen session alone cannot mint a
/// token or move two-factor sign-in to another device.
pub async fn fresh_password(
    state: &AppState,
    viewer: &Viewer,
    password: &str,
) -> Result<(), ApiError> {
    match state
        .store
        .verify_user_password(viewer.user_id, password)
        .await?
    {
        true => Ok(()),
        false => Err(ApiError::Store(StoreError::Invalid(
            "the password is not right".into(),
        ))),
    }
}

/// A new API token, after the password.
pub async fn create_token(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
    read_only: bool,
    password: &str,
) -> Result<NewToken, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::BadRequest(
            "a token needs a name of 1 to 100 characters".into(),
        ));
    }
    fresh_password(state, viewer, password).await?;
    Ok(state
        .store
        .create_scoped_token(viewer.user_id, name, read_only)
        .await?)
}

/// Starts two-factor enrolment, after the password.
pub async fn start_totp(
    state: &AppState,
    viewer: &Viewer,
    password: &str,
) -> Result<TotpSetup, ApiError> {
    fresh_password(state, viewer, password).await?;
    Ok(state.store.start_totp(viewer.user_id).await?)
}
