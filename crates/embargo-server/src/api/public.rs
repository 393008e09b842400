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

/// Readiness: the database answers and its schema is this release's.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// "ready", or "not-ready" with a reason.
    pub status: &'static str,
    /// Why not, by category (never content).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// Whether the server should be sent traffic: the database answers and its migrations
/// are current. 503 otherwise, so that a load balancer passes this server by.
#[utoipa::path(get, path = "/readyz", tag = "public", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(AxumState(state): AxumState<AppState>) -> impl axum::response::IntoResponse {
    use axum::http::StatusCode;
    let reason = match state.store.schema_current().await {
        Ok(true) => None,
        Ok(false) => Some("schema-not-current"),
        Err(_) => Some("database-unreachable"),
    };
    let status = if reason.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        status,
        axum::Json(Readiness {
            status: if reason.is_some() {
                "not-ready"
            } else {
                "ready"
            },
            reason,
        }),
    )
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
