//! Routes of intake for the team: the intake log, and what becomes of a third party's
//! message on a case (its sender accepted as a co-reporter, or the message moved to
//! quarantine).

use axum::extract::State as AxumState;
use embargo_core::reference::{CaseRef, ProjectKey};
use embargo_store::IntakeEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path, Query};

/// A page of the intake log.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    /// Entries before this one (the `id` of the last entry of the previous page).
    pub before: Option<i64>,
    /// At most this many (1 to 200, default 50).
    pub limit: Option<i64>,
}

/// Every message intake took in, newest first, with its classification and its case or
/// quarantine entry; no content (the project's team and foundation team, administrators
/// without case references).
#[utoipa::path(get, path = "/api/projects/{key}/intake", tag = "cases",
    params(("key" = String, Path, description = "Project key"), LogParams),
    responses((status = 200, body = Vec<IntakeEntry>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn log(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(key): Path<String>,
    Query(params): Query<LogParams>,
) -> Result<Json<Vec<IntakeEntry>>, ApiError> {
    let key: ProjectKey = key.parse()?;
    Ok(Json(
        state
            .store
            .intake_log(
                &caller.viewer,
                &key,
                params.before,
                params.limit.unwrap_or(50),
            )
            .await?,
    ))
}

/// A co-reporter the team accepted.
#[derive(Serialize, ToSchema)]
pub struct CoReporter {
    /// Their address: their mail on the case is the reporter's from now on.
    pub email: String,
}

/// Accept the sender of a third party's message as a co-reporter (team only).
#[utoipa::path(post, path = "/api/cases/{ref}/messages/{id}/accept-sender", tag = "cases",
    params(("ref" = String, Path, description = "Case reference"), ("id" = i64, Path, description = "The message's timeline entry")),
    responses((status = 200, body = CoReporter), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn accept_sender(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((reference, event)): Path<(String, i64)>,
) -> Result<Json<CoReporter>, ApiError> {
    let case: CaseRef = reference.parse()?;
    let email = state
        .store
        .accept_co_reporter(&caller.viewer, &case, event)
        .await?;
    Ok(Json(CoReporter { email }))
}

/// Move a third party's message out of the case into the project's quarantine (team
/// only).
#[utoipa::path(post, path = "/api/cases/{ref}/messages/{id}/quarantine", tag = "cases",
    params(("ref" = String, Path, description = "Case reference"), ("id" = i64, Path, description = "The message's timeline entry")),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn quarantine_message(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((reference, event)): Path<(String, i64)>,
) -> Result<axum::http::StatusCode, ApiError> {
    let case: CaseRef = reference.parse()?;
    state
        .store
        .quarantine_third_party(&caller.viewer, &case, event)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
