//! Routes that act on a case's CVE ID through CVE Services with the organisation's
//! credentials: reserve, publish (or update) the record, reject.

use axum::extract::State as AxumState;
use embargo_core::reference::CaseRef;
use embargo_store::{CveContext, CveRecordState, CveState, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::cve_services::CveServices;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path};

/// A case's CVE ID and its state at CVE Services.
#[derive(Serialize, ToSchema)]
pub struct CveStatus {
    /// The CVE ID.
    pub cve_id: String,
    /// Where the ID stands at CVE Services.
    pub state: CveRecordState,
}

/// Why a reserved ID is rejected.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// The reason, published with the rejection.
    pub reason: String,
}

fn client(context: &CveContext) -> Result<CveServices, ApiError> {
    let credentials = context.credentials.clone().ok_or_else(|| {
        ApiError::Store(StoreError::Invalid(
            "the organisation has no CVE Services credentials (embargo org cve-services …)".into(),
        ))
    })?;
    Ok(CveServices::new(credentials)?)
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
    Ok(Json(reserve_for(&state, &caller.viewer, &case_ref).await?))
}

/// Reserves a CVE ID for a case through CVE Services and records it; the API and the
/// case page both reserve this way.
pub(crate) async fn reserve_for(
    state: &AppState,
    viewer: &embargo_core::access::Viewer,
    case_ref: &CaseRef,
) -> Result<CveStatus, ApiError> {
    let context = state.store.cve_context(viewer, case_ref).await?;
    if let Some(id) = &context.cve_id {
        return Err(ApiError::Store(StoreError::Invalid(format!(
            "the case has a CVE ID already: {id}"
        ))));
    }
    let year = time::OffsetDateTime::now_utc().year();
    let cve_id = client(&context)?.reserve(year).await?;
    state
        .store
        .record_cve_reserved(viewer, case_ref, &cve_id)
        .await?;
    Ok(CveStatus {
        cve_id,
        state: CveRecordState::Reserved,
    })
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
    let record = state
        .store
        .cve_record(&caller.viewer, &case_ref, &state.public_url)
        .await?;
    let context = state.store.cve_context(&caller.viewer, &case_ref).await?;
    let cve_id = context
        .cve_id
        .clone()
        .ok_or_else(|| ApiError::Store(StoreError::Invalid("the case has no CVE ID".into())))?;
    let update = context.state.as_ref().is_some_and(CveState::is_published);
    client(&context)?.publish(&cve_id, &record, update).await?;
    let note = if update {
        format!("{cve_id}: the published record updated")
    } else {
        format!("{cve_id} published")
    };
    state
        .store
        .record_cve_state(
            Some(caller.viewer.user_id),
            context.case_id,
            CveRecordState::Published,
            &note,
        )
        .await?;
    Ok(Json(CveStatus {
        cve_id,
        state: CveRecordState::Published,
    }))
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
    let context = state.store.cve_context(&caller.viewer, &case_ref).await?;
    let cve_id = context
        .cve_id
        .clone()
        .ok_or_else(|| ApiError::Store(StoreError::Invalid("the case has no CVE ID".into())))?;
    if context.state.as_ref().is_some_and(CveState::is_published) {
        return Err(ApiError::Store(StoreError::Invalid(format!(
            "{cve_id} is published; a published record is updated, not rejected"
        ))));
    }
    let reason = body.reason.trim();
    if reason.is_empty() || reason.len() > 4000 {
        return Err(ApiError::Store(StoreError::Invalid(
            "a rejection needs a reason of at most 4000 bytes".into(),
        )));
    }
    client(&context)?.reject(&cve_id, reason).await?;
    state
        .store
        .record_cve_state(
            Some(caller.viewer.user_id),
            context.case_id,
            CveRecordState::Rejected,
            &format!("{cve_id} rejected: {reason}"),
        )
        .await?;
    Ok(Json(CveStatus {
        cve_id,
        state: CveRecordState::Rejected,
    }))
}
