//! Sign-in sessions, the caller's own account, and API tokens.

use axum::extract::State as AxumState;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use embargo_store::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path, SESSION_COOKIE, session_cookie};

/// Credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The account's address.
    pub email: String,
    /// The password.
    pub password: String,
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
}

/// A request for an API token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for, e.g. "ci" or "laptop".
    pub name: String,
}

/// A new API token; the secret is shown once.
#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    /// The token's id, for revocation.
    pub id: i64,
    /// The secret, for `Authorization: Bearer`.
    pub token: String,
}

fn cookie(value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}"
    ))
    .map_err(|_| ApiError::BadRequest("cannot set the session cookie".into()))
}

/// Sign in with a password; sets the session cookie.
#[utoipa::path(post, path = "/api/session", tag = "session", request_body = SignIn,
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
pub async fn sign_in(
    AxumState(state): AxumState<AppState>,
    Json(body): Json<SignIn>,
) -> Result<(HeaderMap, Json<User>), ApiError> {
    let user = state
        .store
        .check_password(&body.email, &body.password)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let secret = state.store.create_session(user.id).await?;
    let mut headers = HeaderMap::new();
    headers.insert(SET_COOKIE, cookie(&secret, 12 * 3600)?);
    tracing::info!(user = user.id, "signed in");
    Ok((headers, Json(user)))
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
) -> Result<Json<Me>, ApiError> {
    let user = state.store.user_by_id(caller.viewer.user_id).await?;
    let projects = state
        .store
        .list_projects()
        .await?
        .into_iter()
        .filter(|p| caller.viewer.can_see_project(p.id))
        .map(|p| p.key)
        .collect();
    Ok(Json(Me { user, projects }))
}

/// Create an API token for the caller.
#[utoipa::path(post, path = "/api/tokens", tag = "session", request_body = TokenRequest,
    responses((status = 201, body = TokenCreated), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_token(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Json(body): Json<TokenRequest>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::BadRequest(
            "a token needs a name of 1 to 100 characters".into(),
        ));
    }
    let token = state
        .store
        .create_token(caller.viewer.user_id, name)
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
