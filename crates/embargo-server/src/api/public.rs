//! Routes anyone may call: health, and the public view of a case once it is public.

use axum::extract::State as AxumState;
use embargo_core::reference::CaseRef;
use embargo_store::PublicCase;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};

/// Health of the server and its database.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// "ok" when the database answers.
    pub status: &'static str,
}

/// Whether the server and its database answer.
#[utoipa::path(get, path = "/healthz", tag = "public", responses((status = 200, body = Health), (status = 500, body = ErrorBody)))]
pub async fn healthz(AxumState(state): AxumState<AppState>) -> Result<Json<Health>, ApiError> {
    state.store.ping().await?;
    Ok(Json(Health { status: "ok" }))
}

/// The public view of a case; it does not exist before the case is made public.
#[utoipa::path(get, path = "/api/public/cases/{ref}", tag = "public", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = PublicCase), (status = 404, body = ErrorBody)))]
pub async fn case(
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<PublicCase>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    Ok(Json(state.store.public_case(&case_ref).await?))
}
