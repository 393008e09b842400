//! Triage views: each member's view of a report, the tally, and requests for views.

use axum::extract::State as AxumState;
use embargo_core::reference::CaseRef;
use embargo_core::triage::Disposition;
use embargo_store::TriageViews;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path};

/// A member's view of a report.
#[derive(Deserialize, ToSchema)]
pub struct ViewBody {
    /// What they think it is.
    pub disposition: Disposition,
    /// Why.
    pub reason: String,
    /// The case it duplicates (for a probable duplicate).
    pub duplicate_of: Option<String>,
}

/// Members asked for their view.
#[derive(Deserialize, ToSchema)]
pub struct ViewRequest {
    /// Their addresses; each must be on the project's security team.
    pub members: Vec<String>,
}

/// How many were asked.
#[derive(serde::Serialize, ToSchema)]
pub struct Asked {
    /// The count.
    pub asked: usize,
}

/// Every member's latest view of a case, the tally, and who has not given one.
#[utoipa::path(get, path = "/api/cases/{ref}/views", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = TriageViews), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn views(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<TriageViews>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    Ok(Json(
        state.store.triage_views(&caller.viewer, &case_ref).await?,
    ))
}

/// Give (or change) your view of a report during triage.
#[utoipa::path(put, path = "/api/cases/{ref}/views", tag = "cases", request_body = ViewBody, params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = TriageViews), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn give(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Json(body): Json<ViewBody>,
) -> Result<Json<TriageViews>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    let duplicate_of = body
        .duplicate_of
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse::<CaseRef>)
        .transpose()?;
    Ok(Json(
        state
            .store
            .give_view(
                &caller.viewer,
                &case_ref,
                body.disposition,
                &body.reason,
                duplicate_of.as_ref(),
            )
            .await?,
    ))
}

/// Ask members of the project's team for their view (mailed, by reference only).
#[utoipa::path(post, path = "/api/cases/{ref}/views/request", tag = "cases", request_body = ViewRequest, params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = Asked), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn request(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Json(body): Json<ViewRequest>,
) -> Result<Json<Asked>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    let asked = state
        .store
        .request_views(&caller.viewer, &case_ref, &body.members)
        .await?;
    Ok(Json(Asked { asked }))
}
