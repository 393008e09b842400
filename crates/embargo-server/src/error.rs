//! The one mapping from errors to HTTP responses. Clients get a clear message and the
//! request id; the log gets the detail; confidential text goes to neither.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use embargo_core::lifecycle::{Refusal, Requirement};
use embargo_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

tokio::task_local! {
    /// The id of the request being handled, for error bodies and logs.
    pub static REQUEST_ID: String;
}

/// Errors of the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid session or token.
    #[error("sign in first: send a session cookie or an Authorization: Bearer token")]
    Unauthorized,
    /// The password was right; the second factor is missing.
    #[error("enter the code from your authenticator app, or a recovery code")]
    CodeRequired,
    /// Signed in, but this needs a role the caller does not have (administration only;
    /// case content that a caller may not see is reported as not found).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The body is too large.
    #[error("{0}")]
    TooLarge(String),
    /// The body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A route that does not exist.
    #[error("no such route")]
    NoRoute,
    /// A method the route does not take.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// Too many attempts.
    #[error("{0}")]
    TooManyRequests(&'static str),
    /// From the store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// CVE Services refused or failed; the message says what to do.
    #[error(transparent)]
    CveServices(#[from] crate::cve_services::CveServicesError),
}

/// The JSON body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: unauthorized, code_required, forbidden, bad_request, too_large, unsupported_media_type,
    /// not_found, method_not_allowed, conflict, invalid, refused, too_many_requests, cve_services, internal.
    pub error: &'static str,
    /// What went wrong, in words a person can act on.
    pub message: String,
    /// What a refused transition is missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<Requirement>,
    /// Quote this when asking an operator about the error.
    pub request_id: String,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::CodeRequired => (StatusCode::UNAUTHORIZED, "code_required"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::NoRoute => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ApiError::CveServices(_) => (StatusCode::BAD_GATEWAY, "cve_services"),
            ApiError::Store(e) => match e {
                StoreError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
                StoreError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
                StoreError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
                StoreError::Refused(_) | StoreError::Checklist(_) => {
                    (StatusCode::CONFLICT, "refused")
                }
                StoreError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
                StoreError::Seal(_)
                | StoreError::Database(_)
                | StoreError::Migrate(_)
                | StoreError::Corrupt(_)
                | StoreError::UpgradePending(_)
                | StoreError::Audit(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            },
        }
    }
}

impl ApiError {
    /// The status and the message the client may read; a server fault is logged here,
    /// with the request id the message quotes.
    pub fn public_status_and_message(&self) -> (StatusCode, String) {
        let (status, _) = self.status_and_code();
        let request_id = REQUEST_ID.try_with(Clone::clone).unwrap_or_default();
        // CVE Services' refusals are the caller's to act on (credentials, quota, record).
        let message = if status.is_server_error() && !matches!(self, ApiError::CveServices(_)) {
            // The detail names no content (store errors never quote it), but it is still
            // for the operator, not the client.
            tracing::error!(request_id = %request_id, error = %self, "request failed");
            format!(
                "something went wrong on the server; quote the request id {request_id} to the operator"
            )
        } else {
            self.to_string()
        };
        (status, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (_, code) = self.status_and_code();
        let request_id = REQUEST_ID.try_with(Clone::clone).unwrap_or_default();
        let (status, message) = self.public_status_and_message();
        let missing = match &self {
            ApiError::Store(StoreError::Refused(Refusal::Missing { missing, .. })) => {
                missing.clone()
            }
            _ => Vec::new(),
        };
        (
            status,
            Json(ErrorBody {
                error: code,
                message,
                missing,
                request_id,
            }),
        )
            .into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let text = rejection.body_text();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!(
                "the request body is larger than the limit of {} bytes",
                crate::BODY_LIMIT
            ))
        } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            ApiError::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".to_owned(),
            )
        } else {
            ApiError::BadRequest(without_values(&text))
        }
    }
}

/// The parser's message without the values it quotes (`string "…"`, `variant `…``), so
/// an error never repeats content, even back to its sender. Field names stay: they say
/// what to fix.
fn without_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let string_at = rest.find("string \"");
        let variant_at = rest.find("variant `");
        let (at, skip, close) = match (string_at, variant_at) {
            (Some(s), Some(v)) if v < s => (v, "variant `".len(), '`'),
            (Some(s), _) => (s, "string \"".len(), '"'),
            (None, Some(v)) => (v, "variant `".len(), '`'),
            (None, None) => break,
        };
        out.push_str(&rest[..at + skip - 2]);
        let value = &rest[at + skip..];
        // The quoted value may hold escaped quotes; it ends at the first unescaped one.
        let mut escaped = false;
        let end = value
            .char_indices()
            .find(|&(_, c)| {
                let done = !escaped && c == close;
                escaped = !escaped && c == '\\';
                done
            })
            .map(|(i, _)| i + 1)
            .unwrap_or(value.len());
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl From<embargo_core::reference::ReferenceError> for ApiError {
    fn from(e: embargo_core::reference::ReferenceError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn parser_messages_lose_the_values_they_quote() {
        assert_eq!(
            without_values(
                "to: unknown variant `secret plan`, expected one of `triage`, `invalid`"
            ),
            "to: unknown variant, expected one of `triage`, `invalid`"
        );
        assert_eq!(
            without_values(
                r#"title: invalid type: string "a \"quoted\" secret", expected u32 at line 1"#
            ),
            "title: invalid type: string, expected u32 at line 1"
        );
        assert_eq!(
            without_values("unknown field `titel`, expected `title`"),
            "unknown field `titel`, expected `title`"
        );
    }
}
