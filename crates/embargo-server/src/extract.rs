//! Request extractors whose rejections use the API's error body, and the caller's identity.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::Method;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use embargo_core::access::Viewer;

use crate::AppState;
use crate::error::ApiError;

/// JSON body; malformed or unknown fields answer 400 with a JSON error.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// Query parameters.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "embargo_session";

/// The signed-in caller, by API token or session cookie, with what they may see.
pub struct Caller {
    /// What the caller may see.
    pub viewer: Viewer,
}

impl Caller {
    /// Refuses callers who do not administer the instance.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.viewer.is_admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden("this needs an administrator"))
        }
    }
}

/// The value of the cookie `name`, if the request carries it.
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

/// A live session: who it is, and the token its forms and scripts must send back.
pub struct Session {
    /// What its user may see, as seen through the web.
    pub viewer: Viewer,
    /// Its user.
    pub user_id: i64,
    /// Its CSRF token.
    pub csrf: String,
}

/// The session a request's cookie belongs to, if it is live: the one way from a session
/// cookie to a viewer, for the API's caller and the pages' member alike.
pub async fn session_viewer(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<Session>, embargo_store::StoreError> {
    let Some(secret) = session_cookie(headers) else {
        return Ok(None);
    };
    let Some(user_id) = state.store.session_user(&secret).await? else {
        return Ok(None);
    };
    let mut viewer = state.store.viewer(user_id).await?;
    viewer.via = embargo_core::access::Via::Web;
    Ok(Some(Session {
        viewer,
        user_id,
        csrf: csrf_token(&secret),
    }))
}

/// The keys of the projects whose cases the viewer may see.
pub async fn visible_projects(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<String>, embargo_store::StoreError> {
    Ok(state
        .store
        .list_projects()
        .await?
        .into_iter()
        .filter(|p| viewer.can_see_project(p.id))
        .map(|p| p.key)
        .collect())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        let viewer = match bearer {
            Some(token) => state.store.viewer_for_token(token).await?,
            None => match session_viewer(state, &parts.headers).await? {
                Some(session) => {
                    // A browser sends the cookie with any request, including one a
                    // hostile page makes it send; changes need the token only our
                    // pages can read.
                    let sent = parts
                        .headers
                        .get(CSRF_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    if !safe && !constant_time_eq(sent.as_bytes(), session.csrf.as_bytes()) {
                        return Err(ApiError::Forbidden(
                            "missing or wrong X-CSRF-Token header: send the csrf_token given at sign-in",
                        ));
                    }
                    Some(session.viewer)
                }
                None => None,
            },
        };
        let mut viewer = viewer.ok_or(ApiError::Unauthorized)?;
        let from_cli = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.starts_with("embargo-cli/"));
        if bearer.is_some() && from_cli {
            viewer.via = embargo_core::access::Via::Cli;
        }
        if viewer.read_only && !safe {
            return Err(ApiError::Forbidden("this API token is read-only"));
        }
        Ok(Caller { viewer })
    }
}

/// The header that carries the CSRF token with cookie-authenticated changes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of a session: derived from its secret, so nothing more is stored, and
/// readable only by pages that were given it.
pub fn csrf_token(session_secret: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(b"embargo csrf\0")
        .chain_update(session_secret.as_bytes())
        .finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
