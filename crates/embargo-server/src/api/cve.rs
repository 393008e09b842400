//! Routes that act on a case's CVE ID through CVE Services with the organisation's
//! credentials: reserve, publish (or update) the record, reject.

use axum::extract::State as AxumState;
use embargo_core::reference::CaseRef;
use embargo_store::CveRecordState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::actions;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path};

/// A case's CVE ID and its state at CVE Services.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CveStatus {
    /// The CVE ID.
    pub cve_id: String,
    /// Where the ID stands at CVE Services.
    pub state: CveRecordState,
}

impl From<actions::cve::CveOutcome> for CveStatus {
    fn from(done: actions::cve::CveOutcome) -> CveStatus {
        CveStatus {
            cve_id: done.cve_id,
            state: done.state,
        }
    }
}

/// Why a reserved ID is rejected.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// The reason, published with the rejection.
    pub reason: String,
}

/// Reserve a CVE ID for the case through CVE Services.
#[utoipa::path(post, path = "/api/cases/{ref}/cve/reserve", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = CveStatus), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn reserve(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<CveStatus>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    let done = actions::cve::reserve(&state, &caller.viewer, &case_ref).await?;
    Ok(Json(done.into()))
}

/// Publish the case's CVE record through CVE Services, or update it once published
/// (credit corrections, say): after the announcement, with the archived announcement.
#[utoipa::path(post, path = "/api/cases/{ref}/cve/publish", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = CveStatus), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn publish(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<CveStatus>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    let done = actions::cve::publish(&state, &caller.viewer, &case_ref).await?;
    Ok(Json(done.into()))
}

/// Reject the case's reserved CVE ID (an invalid report, a duplicate), with the reason.
#[utoipa::path(post, path = "/api/cases/{ref}/cve/reject", tag = "cases", request_body = RejectBody, params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = CveStatus), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn reject(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Json(body): Json<RejectBody>,
) -> Result<Json<CveStatus>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    let done = actions::cve::reject(&state, &caller.viewer, &case_ref, &body.reason).await?;
    Ok(Json(done.into()))
}
