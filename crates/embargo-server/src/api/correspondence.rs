//! Routes of the external thread: replies to the reporter, canned responses, and the
//! public report form's API.

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use embargo_core::canned::Canned;
use embargo_core::reference::{CaseRef, ProjectKey};
use embargo_store::{
    DuplicateProposal, FiledReport, ImportedCase, IntakeOutcome, Quarantined, TimelineEvent,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::actions::ReportRefused;
use crate::client::ClientAddr;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path};

/// A message to the reporter.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    /// The text, often a canned response edited for the case.
    pub text: String,
}

/// A canned response's new text.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedBody {
    /// The text; `{ref}` stands for the case reference.
    pub text: String,
}

/// A report from the public form.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicReport {
    /// A short title.
    pub title: String,
    /// The vulnerability.
    pub description: String,
    /// How it might be exploited.
    #[serde(default)]
    pub exploitation: String,
    /// The versions affected.
    #[serde(default)]
    pub affected_versions: String,
    /// Anything else useful: configuration, logs, a proof of concept.
    #[serde(default)]
    pub other: String,
    /// Where the team can reach you (for the acknowledgement and replies).
    pub email: Option<String>,
    /// Your name, for credit.
    pub name: Option<String>,
    /// Leave empty: a field people never see, which bots fill in.
    #[serde(default)]
    pub website: String,
}

/// Write to the reporter (team only); the message is mailed and joins the thread.
#[utoipa::path(post, path = "/api/cases/{ref}/replies", tag = "cases", request_body = ReplyBody, params(("ref" = String, Path, description = "Case reference")),
    responses((status = 201, body = TimelineEvent), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn reply(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Json(body): Json<ReplyBody>,
) -> Result<(StatusCode, Json<TimelineEvent>), ApiError> {
    let case: CaseRef = reference.parse()?;
    let event = state
        .store
        .reply_to_reporter(&caller.viewer, &case, &body.text)
        .await?;
    Ok((StatusCode::CREATED, Json(event)))
}

/// The project's canned responses (its team and administrators).
#[utoipa::path(get, path = "/api/projects/{key}/responses", tag = "cases", params(("key" = String, Path, description = "Project key")),
    responses((status = 200, body = Vec<Canned>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn responses(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Vec<Canned>>, ApiError> {
    let key: ProjectKey = key.parse()?;
    Ok(Json(
        state.store.canned_responses(&caller.viewer, &key).await?,
    ))
}

/// Set the project's text of a canned response.
#[utoipa::path(put, path = "/api/projects/{key}/responses/{name}", tag = "cases", request_body = CannedBody,
    params(("key" = String, Path, description = "Project key"), ("name" = String, Path, description = "e.g. needs-more-info")),
    responses((status = 200, body = Vec<Canned>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn set_response(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((key, name)): Path<(String, String)>,
    Json(body): Json<CannedBody>,
) -> Result<Json<Vec<Canned>>, ApiError> {
    let key: ProjectKey = key.parse()?;
    Ok(Json(
        state
            .store
            .set_canned_response(&caller.viewer, &key, &name, &body.text)
            .await?,
    ))
}

/// File a report without an account; returns the reference and the secret link.
#[utoipa::path(post, path = "/api/public/projects/{key}/reports", tag = "public", request_body = PublicReport, params(("key" = String, Path, description = "Project key")),
    responses((status = 201, body = FiledReport), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn file_report(
    AxumState(state): AxumState<AppState>,
    ClientAddr(client): ClientAddr,
    Path(key): Path<String>,
    Json(body): Json<PublicReport>,
) -> Result<(StatusCode, Json<FiledReport>), ApiError> {
    let key: ProjectKey = key.parse()?;
    let report = crate::actions::PublicReport {
        title: &body.title,
        description: &body.description,
        exploitation: &body.exploitation,
        affected_versions: &body.affected_versions,
        other: &body.other,
        name: body.name.as_deref(),
        email: body.email.as_deref(),
        trap: &body.website,
    };
    let filed = match crate::actions::file_public_report(&state, client, &key, report).await? {
        Ok(filed) => filed,
        Err(ReportRefused::TooMany) => {
            return Err(ApiError::TooManyRequests(
                "too many reports from this address; please try again in an hour or write to the security address",
            ));
        }
        Err(ReportRefused::Trap) => {
            return Err(ApiError::BadRequest(
                "the report could not be accepted".into(),
            ));
        }
    };
    Ok((StatusCode::CREATED, Json(filed)))
}

/// The project's quarantine: messages intake could not use, with the reason (team and
/// administrators; no content is shown).
#[utoipa::path(get, path = "/api/projects/{key}/quarantine", tag = "cases", params(("key" = String, Path, description = "Project key")),
    responses((status = 200, body = Vec<Quarantined>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn quarantine(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Vec<Quarantined>>, ApiError> {
    let key: ProjectKey = key.parse()?;
    Ok(Json(state.store.quarantined(&caller.viewer, &key).await?))
}

/// Take a quarantined message in again, as a report if it was held as spam (team only).
#[utoipa::path(post, path = "/api/projects/{key}/quarantine/{id}/release", tag = "cases",
    params(("key" = String, Path, description = "Project key"), ("id" = i64, Path, description = "Quarantined message")),
    responses((status = 200, body = IntakeOutcome), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn release(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((key, id)): Path<(String, i64)>,
) -> Result<Json<IntakeOutcome>, ApiError> {
    let key: ProjectKey = key.parse()?;
    Ok(Json(
        state
            .store
            .release(&caller.viewer, &key, id, &state.intake_limits)
            .await?,
    ))
}

/// A findings file.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// Markdown (one `##` section per finding) or JSON findings with titles.
    pub content: String,
}

/// File one case per finding (the project's team); each comes with likely duplicates.
#[utoipa::path(post, path = "/api/projects/{key}/import", tag = "cases", request_body = ImportBody, params(("key" = String, Path, description = "Project key")),
    responses((status = 201, body = Vec<ImportedCase>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn import(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(key): Path<String>,
    Json(body): Json<ImportBody>,
) -> Result<(StatusCode, Json<Vec<ImportedCase>>), ApiError> {
    let key: ProjectKey = key.parse()?;
    let imported = state
        .store
        .import_findings(&caller.viewer, &key, &body.content)
        .await?;
    Ok((StatusCode::CREATED, Json(imported)))
}

/// Likely duplicates of a case among the project's open and published cases (team).
#[utoipa::path(get, path = "/api/cases/{ref}/duplicates", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = Vec<DuplicateProposal>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn duplicates(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<Vec<DuplicateProposal>>, ApiError> {
    let case: CaseRef = reference.parse()?;
    Ok(Json(state.store.duplicates(&caller.viewer, &case).await?))
}
