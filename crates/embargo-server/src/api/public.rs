//! Routes anyone may call: health, and the public view of a case once it is public.

use axum::extract::State as AxumState;
use embargo_core::reference::{CaseRef, ProjectKey};
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

/// A project's OpenPGP team key, armored, for reporters to encrypt to.
#[utoipa::path(get, path = "/api/public/projects/{key}/openpgp-key", tag = "public", params(("key" = String, Path, description = "Project key")),
    responses((status = 200, description = "The armored public key", content_type = "application/pgp-keys", body = String), (status = 404, body = ErrorBody)))]
pub async fn openpgp_key(
    AxumState(state): AxumState<AppState>,
    Path(key): Path<String>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let key: ProjectKey = key.parse()?;
    let found = state
        .store
        .team_public_key(&key)
        .await?
        .ok_or(ApiError::Store(embargo_store::StoreError::NotFound(
            "team key",
        )))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/pgp-keys")],
        found.public_key,
    ))
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
