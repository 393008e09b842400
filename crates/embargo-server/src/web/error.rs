//! How a page answers when it cannot be shown: the API's one error mapping, as HTML.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use embargo_store::StoreError;

use crate::error::ApiError;
use crate::web::layout;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not signed in: go to the sign-in page, then back to `next`.
    #[error("sign in first")]
    SignIn {
        /// Where to return after signing in.
        next: String,
    },
    /// A form without the token only our pages carry.
    #[error("this form has expired or did not come from Embargo; reload the page and try again")]
    Csrf,
    /// A form that could not be read.
    #[error("{0}")]
    BadForm(String),
    /// Anything the API would answer.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Api(ApiError::Store(e))
    }
}

impl From<embargo_core::reference::ReferenceError> for PageError {
    fn from(e: embargo_core::reference::ReferenceError) -> Self {
        PageError::Api(e.into())
    }
}

impl PageError {
    /// The status and the message a person may read: never confidential text, and for
    /// server faults only the request id.
    pub fn status_and_message(&self) -> (StatusCode, String) {
        match self {
            PageError::SignIn { .. } => (StatusCode::UNAUTHORIZED, self.to_string()),
            PageError::Csrf => (StatusCode::FORBIDDEN, self.to_string()),
            PageError::BadForm(m) => (StatusCode::BAD_REQUEST, m.clone()),
            PageError::Api(e) => e.public_status_and_message(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { next } => {
                let target = format!("/sign-in?next={}", crate::url::component(&next));
                Redirect::to(&target).into_response()
            }
            PageError::Api(ApiError::Unauthorized) => Redirect::to("/sign-in").into_response(),
            other => {
                let (status, message) = other.status_and_message();
                let title = if status == StatusCode::NOT_FOUND {
                    "Not found"
                } else if status.is_server_error() {
                    "Something went wrong"
                } else {
                    "That did not work"
                };
                let body = maud::html! {
                    h1 { (title) }
                    p role="alert" { (message) }
                    p { a href="/" { "Back to the start" } }
                };
                (status, layout::page(title, None, body)).into_response()
            }
        }
    }
}
