//! Routes of the process review: a project's or an organisation's figures over a period.

use axum::extract::State as AxumState;
use embargo_core::reference::ProjectKey;
use embargo_store::{Metrics, Scope, StoreError};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path, Query};

/// The period: cases received from `from` (included) to `to` (excluded).
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// Start: a date (2026-01-01) or an RFC 3339 time.
    pub from: Option<String>,
    /// End, excluded: a date or an RFC 3339 time.
    pub to: Option<String>,
}

pub(crate) fn when(text: &Option<String>, name: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    match text {
        None => Ok(None),
        Some(t) => embargo_formats::parse_time(t).map(Some).ok_or_else(|| {
            ApiError::Store(StoreError::Invalid(format!(
                "{name} is not a date (YYYY-MM-DD) or an RFC 3339 time"
            )))
        }),
    }
}

/// A project's figures: times to acknowledge, validate, fix, announce and publish (median
/// and 90th percentile), counts by state, severity, disposition, CWE and channel, what is
/// overdue or stalled, who reported most, and each member's activity.
#[utoipa::path(get, path = "/api/projects/{key}/metrics", tag = "cases", params(("key" = String, Path, description = "Project key"), Period),
    responses((status = 200, body = Metrics), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn project(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(key): Path<String>,
    Query(period): Query<Period>,
) -> Result<Json<Metrics>, ApiError> {
    let key: ProjectKey = key.parse()?;
    let (from, to) = (when(&period.from, "from")?, when(&period.to, "to")?);
    Ok(Json(
        state
            .store
            .metrics(&caller.viewer, &Scope::Project(key), from, to)
            .await?,
    ))
}

/// An organisation's figures, for its foundation team.
#[utoipa::path(get, path = "/api/orgs/{name}/metrics", tag = "cases", params(("name" = String, Path, description = "Organisation name"), Period),
    responses((status = 200, body = Metrics), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn organisation(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(name): Path<String>,
    Query(period): Query<Period>,
) -> Result<Json<Metrics>, ApiError> {
    let (from, to) = (when(&period.from, "from")?, when(&period.to, "to")?);
    Ok(Json(
        state
            .store
            .metrics(&caller.viewer, &Scope::Organisation(name), from, to)
            .await?,
    ))
}
