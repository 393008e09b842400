//! Routes of the disclosure: the announcement preview, the rehearsal, the schedule, and
//! what follows the announcement (the CVE record, CHANGES/NEWS).

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use embargo_core::reference::{CaseRef, ProjectKey};
use embargo_store::{AnnouncementPreview, ChangesEntry, DisclosurePlan, Prenotification};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path};

/// The announcement as it will go out, signed when the project signs.
#[utoipa::path(get, path = "/api/cases/{ref}/announcement", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = AnnouncementPreview), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn preview(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<AnnouncementPreview>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    Ok(Json(
        state
            .store
            .announcement_preview(&caller.viewer, &case_ref, &state.public_url)
            .await?,
    ))
}

/// The rehearsal: every step of the disclosure, checked, nothing done.
#[utoipa::path(post, path = "/api/cases/{ref}/disclosure/rehearsal", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = DisclosurePlan), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn rehearse(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<DisclosurePlan>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    Ok(Json(
        state
            .store
            .rehearse_disclosure(&caller.viewer, &case_ref, &state.public_url)
            .await?,
    ))
}

/// Schedule the disclosure; refused with the failing step when the rehearsal finds one.
#[utoipa::path(post, path = "/api/cases/{ref}/disclosure", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = DisclosurePlan), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn schedule(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<DisclosurePlan>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    Ok(Json(
        state
            .store
            .schedule_disclosure(&caller.viewer, &case_ref, &state.public_url)
            .await?,
    ))
}

/// Cancel the scheduled disclosure: the mails not sent yet stay unsent, and the case can
/// be scheduled again (the team only).
#[utoipa::path(delete, path = "/api/cases/{ref}/disclosure", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn cancel(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<StatusCode, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    state
        .store
        .cancel_scheduled_disclosure(&caller.viewer, &case_ref)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The CVE record (CVE JSON 5.1) for publication: after the announcement, once the
/// archived announcement is recorded.
#[utoipa::path(get, path = "/api/cases/{ref}/cve-record", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, description = "The CVE record", body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn cve_record(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    Ok(Json(
        state
            .store
            .cve_record(&caller.viewer, &case_ref, &state.public_url)
            .await?,
    ))
}

/// A case's advisory as an OSV, CSAF 2.0 or CVE JSON 5 document, for the team (a draft
/// until the announcement): what `embargo export` writes.
#[utoipa::path(get, path = "/api/cases/{ref}/documents/{format}", tag = "cases",
    params(("ref" = String, Path, description = "Case reference"), ("format" = String, Path, description = "osv, csaf or cve")),
    responses((status = 200, description = "The document", body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn document(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((reference, format)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    let format: crate::documents::Format = format.parse()?;
    let draft = state
        .store
        .publication_draft(&caller.viewer, &case_ref, &state.public_url)
        .await?;
    Ok(Json(crate::documents::document(
        &draft,
        format,
        &state.public_url,
    )?))
}

/// The CHANGES and NEWS entries of a case, after its announcement.
#[utoipa::path(get, path = "/api/cases/{ref}/changes", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = ChangesEntry), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn case_changes(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<ChangesEntry>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    Ok(Json(
        state
            .store
            .changes_entry(&caller.viewer, &case_ref, &state.public_url)
            .await?,
    ))
}

/// The CHANGES and NEWS entries of a project's announced cases, newest first.
#[utoipa::path(get, path = "/api/projects/{key}/changes", tag = "cases", params(("key" = String, Path, description = "Project key")),
    responses((status = 200, body = Vec<ChangesEntry>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn project_changes(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Vec<ChangesEntry>>, ApiError> {
    let key: ProjectKey = key.parse()?;
    Ok(Json(
        state
            .store
            .project_changes(&caller.viewer, &key, &state.public_url)
            .await?,
    ))
}

/// The case's pre-notifications: who got a copy, when, and who acknowledged it in time.
#[utoipa::path(get, path = "/api/cases/{ref}/prenotifications", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = Vec<Prenotification>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn prenotifications(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<Vec<Prenotification>>, ApiError> {
    let case_ref: CaseRef = reference.parse()?;
    Ok(Json(
        state
            .store
            .prenotifications(&caller.viewer, &case_ref)
            .await?,
    ))
}
