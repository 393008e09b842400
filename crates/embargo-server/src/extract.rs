//! Request extractors whose rejections use the API's error body, and the caller's identity.

use axum::extract::{FromRequest, FromRequestParts};
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

/// The session cookie's value, if the request carries one.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
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
        let viewer = match bearer {
            Some(token) => state.store.viewer_for_token(token).await?,
            None => match session_cookie(&parts.headers) {
                Some(secret) => match state.store.session_user(&secret).await? {
                    Some(user_id) => {
                        let mut viewer = state.store.viewer(user_id).await?;
                        viewer.via = embargo_core::access::Via::Web;
                        Some(viewer)
                    }
                    None => None,
                },
                None => None,
            },
        };
        let viewer = viewer.ok_or(ApiError::Unauthorized)?;
        Ok(Caller { viewer })
    }
}
