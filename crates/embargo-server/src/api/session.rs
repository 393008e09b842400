//! Sign-in sessions, the caller's own account, and API tokens.

use axum::extract::State as AxumState;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};

use embargo_store::{TotpSetup, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::actions::SignInRefused;
use crate::client::ClientAddr;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path, SESSION_COOKIE, csrf_token, session_cookie};

/// Credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The account's address.
    pub email: String,
    /// The password.
    pub password: String,
    /// The code from the authenticator app, or a recovery code, once two-factor
    /// sign-in is on.
    pub code: Option<String>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignIn([redacted])")
    }
}

/// The caller and what they may see.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// The account.
    pub user: User,
    /// Keys of the projects whose cases the caller may see.
    pub projects: Vec<String>,
    /// With a session cookie: the token to send as X-CSRF-Token with every change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    /// The account.
    pub user: User,
    /// Send this as X-CSRF-Token with every change made with the session cookie.
    pub csrf_token: String,
}

/// A TOTP code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// The six digits the authenticator app shows now.
    pub code: String,
}

/// The recovery codes, shown once.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Each signs in once in place of a TOTP code. Keep them somewhere safe.
    pub recovery_codes: Vec<String>,
}

/// A password change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    pub current: String,
    /// The new one, at least 12 characters.
    pub new: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange([redacted])")
    }
}

/// A request for an API token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for, e.g. "ci" or "laptop".
    pub name: String,
    /// The account's password, asked again: a stolen session alone makes no token.
    pub password: String,
    /// "write" (the default) or "read": a read-only token may only read.
    #[serde(default)]
    pub scope: TokenScope,
}

/// What a token may do.
#[derive(Deserialize, ToSchema, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Read and change what its user may.
    #[default]
    Write,
    /// Only read.
    Read,
}

/// A new API token; the secret is shown once.
#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    /// The token's id, for revocation.
    pub id: i64,
    /// The secret, for `Authorization: Bearer`.
    pub token: String,
}

pub(crate) fn cookie(value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}"
    ))
    .map_err(|_| ApiError::BadRequest("cannot set the session cookie".into()))
}

/// Sign in with a password (and the second factor, once on); sets the session cookie.
#[utoipa::path(post, path = "/api/session", tag = "session", request_body = SignIn,
    responses((status = 200, body = SignedIn), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn sign_in(
    AxumState(state): AxumState<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<SignIn>,
) -> Result<(HeaderMap, Json<SignedIn>), ApiError> {
    let signed_in = crate::actions::sign_in(
        &state,
        client,
        &body.email,
        &body.password,
        body.code.as_deref(),
    )
    .await?;
    let (user, secret) = match signed_in {
        Ok(session) => (session.user, session.secret),
        Err(SignInRefused::TooManyFromAddress) => {
            return Err(ApiError::TooManyRequests(
                "too many failed sign-ins from this address; wait ten minutes",
            ));
        }
        Err(SignInRefused::CodeRequired) => return Err(ApiError::CodeRequired),
        Err(SignInRefused::Wrong) => return Err(ApiError::Unauthorized),
        Err(SignInRefused::Locked) => {
            return Err(ApiError::TooManyRequests(
                "too many failed sign-ins with this address from this client; try again in 15 minutes",
            ));
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(SET_COOKIE, cookie(&secret, 12 * 3600)?);
    Ok((
        headers,
        Json(SignedIn {
            user,
            csrf_token: csrf_token(&secret),
        }),
    ))
}

/// The account's password, asked again before a change to how it signs in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The current password.
    pub password: String,
}

/// Checks the password given again for a sensitive change.
/// Start two-factor enrolment (the password asked again): the secret for an
/// authenticator app.
#[utoipa::path(post, path = "/api/me/totp", tag = "session", request_body = PasswordBody,
    responses((status = 200, body = TotpSetup), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn start_totp(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Json(body): Json<PasswordBody>,
) -> Result<Json<TotpSetup>, ApiError> {
    Ok(Json(
        crate::actions::account::start_totp(&state, &caller.viewer, &body.password).await?,
    ))
}

/// Turn two-factor sign-in on with a first code; returns the recovery codes, once.
#[utoipa::path(post, path = "/api/me/totp/confirm", tag = "session", request_body = CodeBody,
    responses((status = 200, body = RecoveryCodes), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn confirm_totp(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Json(body): Json<CodeBody>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let recovery_codes = state
        .store
        .confirm_totp(caller.viewer.user_id, &body.code)
        .await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// Change the password; every session of the account ends.
#[utoipa::path(post, path = "/api/me/password", tag = "session", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn change_password(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    if state
        .store
        .change_password(caller.viewer.user_id, &body.current, &body.new)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::Store(embargo_store::StoreError::Invalid(
            "the current password is not right".into(),
        )))
    }
}

/// Sign out; ends the session.
#[utoipa::path(delete, path = "/api/session", tag = "session", responses((status = 204)))]
pub async fn sign_out(
    AxumState(state): AxumState<AppState>,
    request_headers: HeaderMap,
) -> Result<(StatusCode, HeaderMap), ApiError> {
    if let Some(secret) = session_cookie(&request_headers) {
        state.store.end_session(&secret).await?;
    }
    let mut headers = HeaderMap::new();
    headers.insert(SET_COOKIE, cookie("", 0)?);
    Ok((StatusCode::NO_CONTENT, headers))
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/me", tag = "session", responses((status = 200, body = Me), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn me(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    request_headers: HeaderMap,
) -> Result<Json<Me>, ApiError> {
    let csrf_token = match request_headers.get(axum::http::header::AUTHORIZATION) {
        Some(_) => None,
        None => session_cookie(&request_headers).map(|s| csrf_token(&s)),
    };
    let user = state.store.user_by_id(caller.viewer.user_id).await?;
    let projects = crate::extract::visible_projects(&state, &caller.viewer).await?;
    Ok(Json(Me {
        user,
        projects,
        csrf_token,
    }))
}

/// An OpenPGP public key, armored; none removes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    /// The armored public key, or null.
    pub key: Option<String>,
}

/// Set (or remove) your OpenPGP key: embargoed mail to you, such as pre-notifications, is
/// encrypted to it.
#[utoipa::path(put, path = "/api/me/openpgp-key", tag = "session", request_body = KeyBody,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn set_openpgp_key(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Json(body): Json<KeyBody>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .set_own_openpgp_key(caller.viewer.user_id, body.key.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create an API token for the caller (the password asked again).
#[utoipa::path(post, path = "/api/tokens", tag = "session", request_body = TokenRequest,
    responses((status = 201, body = TokenCreated), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_token(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Json(body): Json<TokenRequest>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    let token = crate::actions::account::create_token(
        &state,
        &caller.viewer,
        &body.name,
        body.scope == TokenScope::Read,
        &body.password,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            id: token.id,
            token: token.secret,
        }),
    ))
}

/// Revoke one of the caller's API tokens.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "session", params(("id" = i64, Path, description = "Token id")),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn revoke_token(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.revoke_token(caller.viewer.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
