//! Case routes: report, list, read, move, annotate, rate, and tick the checklist.

use axum::extract::{RawQuery, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use embargo_core::case::{AdvisoryDraft, Channel, Reporter, Versions};
use embargo_core::checklist::MarkStatus;
use embargo_core::confidential::Confidential;
use embargo_core::lifecycle::{State, TransitionRequest};
use embargo_core::reference::{CaseRef, ProjectKey};
use embargo_store::{
    AttachmentInfo, CaseDetail, CaseFilter, CasePatch, CaseSummary, ChecklistEntry, NewReport,
    TimelineEvent,
};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path, Query};

/// A new report.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseBody {
    /// The project key, e.g. CLOUDSTACK.
    pub project: String,
    /// A short title.
    pub title: String,
    /// The report: the vulnerability, how it might be exploited, affected versions.
    #[serde(default)]
    pub description: String,
    /// Who reported it.
    #[serde(default)]
    pub reporter: Reporter,
}

/// Filters for the case list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only this project.
    pub project: Option<String>,
    /// Only this state.
    pub state: Option<String>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<i64>,
    /// Skip this many (without `cursor`).
    pub offset: Option<i64>,
    /// The page after this one: the `cursor` of the previous page's `Link: rel="next"`.
    pub cursor: Option<String>,
    /// Only cases holding every word of this text (title, description, CVE ID, notes the
    /// caller may read), or the case with this reference.
    pub q: Option<String>,
    /// `true`: only cases with a message from outside the team since the caller last
    /// opened them.
    pub unread: Option<bool>,
    /// `overdue`, `due` or `stalled`: only open cases whose clocks need attention.
    pub attention: Option<String>,
    /// `me`: only cases in triage that the caller has not given a view of.
    pub awaiting: Option<String>,
    /// `me`, `none`, or a member's address: only the cases they own (or nobody does).
    pub owner: Option<String>,
}

/// Fields to set on a case; absent fields are left alone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchCaseBody {
    /// A new title.
    pub title: Option<String>,
    /// The member who owns the case (on its team), by address; empty for nobody.
    pub owner: Option<String>,
    /// A CVSS 3.1 or 4.0 vector, checked strictly (it replaces the rating of its own
    /// version), or a list with at most one vector per version (it replaces them all).
    #[schema(value_type = Option<Object>, example = json!(["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"]))]
    pub cvss: Option<embargo_store::CvssInput>,
    /// The reserved CVE ID.
    pub cve_id: Option<String>,
    /// When the embargo lifts (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub embargo_at: Option<OffsetDateTime>,
    /// Affected and fixed versions.
    pub versions: Option<Versions>,
    /// The advisory draft.
    pub advisory: Option<AdvisoryDraft>,
    /// Words the commit guard blocks while the case is embargoed (replaces the list).
    pub sensitive_terms: Option<Vec<String>>,
    /// The reporter's OpenPGP public key, armored: mail to them is encrypted to it.
    pub reporter_key: Option<String>,
    /// The archived public announcement (after the announcement): the advisory reference.
    pub advisory_url: Option<String>,
}

/// A move to another state.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// The state to move to.
    pub to: State,
    /// Why; recorded on the timeline (required to reopen).
    #[schema(value_type = Option<String>)]
    pub reason: Option<Confidential<String>>,
    /// The message sent to the reporter (required for invalid and duplicate).
    #[schema(value_type = Option<String>)]
    pub message_to_reporter: Option<Confidential<String>>,
    /// The case this one duplicates (required for duplicate).
    pub duplicate_of: Option<String>,
    /// Why the announcement goes out before the embargo date.
    #[schema(value_type = Option<String>)]
    pub override_reason: Option<Confidential<String>>,
    /// Why the case counts as announced although Embargo has not sent the announcement
    /// to every list (required then; recorded on the timeline).
    #[schema(value_type = Option<String>)]
    pub not_sent_reason: Option<Confidential<String>>,
    /// How the project could make similar vulnerabilities less likely (required to close).
    #[schema(value_type = Option<String>)]
    pub retrospective: Option<Confidential<String>>,
    /// The retrospective's structured part (required to close).
    pub retrospective_details: Option<embargo_core::review::Retrospective>,
}

/// An internal note.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// The note: the team's own, unless `shared`. A collaborator's note always goes to
    /// the collaborators' thread.
    pub text: String,
    /// Put it in the collaborators' thread, which the case's collaborators read too.
    #[serde(default)]
    pub shared: bool,
}

/// A checklist mark.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkBody {
    /// done, not-applicable, or open.
    pub status: MarkStatus,
    /// Commit ids, evidence links, and the like.
    pub note: Option<String>,
}

fn case_ref(s: &str) -> Result<CaseRef, ApiError> {
    Ok(s.parse::<CaseRef>()?)
}

/// `me`, `none` or an address, as a list's owner filter.
fn owner_filter(owner: &str, caller: &Caller) -> embargo_store::OwnerFilter {
    match owner {
        "me" => embargo_store::OwnerFilter::User(caller.viewer.user_id),
        "none" => embargo_store::OwnerFilter::Nobody,
        email => embargo_store::OwnerFilter::Email(email.to_owned()),
    }
}

/// List the cases the caller may see, newest first. When more may follow, the answer's
/// `Link` header names the next page (`rel="next"`), with its `cursor`.
#[utoipa::path(get, path = "/api/cases", tag = "cases", params(ListParams),
    responses((status = 200, body = Vec<CaseSummary>,
        headers(("Link" = String, description = "The next page, `<…&cursor=…>; rel=\"next\"`, when there may be one"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    RawQuery(raw): RawQuery,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    if params.cursor.is_some() && params.offset.is_some() {
        return Err(ApiError::BadRequest(
            "give either cursor or offset, not both".into(),
        ));
    }
    let filter = CaseFilter {
        project: params
            .project
            .as_deref()
            .map(str::parse::<ProjectKey>)
            .transpose()?,
        state: params
            .state
            .as_deref()
            .map(str::parse::<State>)
            .transpose()
            .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        limit: params.limit,
        offset: params.offset,
        awaiting_view_of: match params.awaiting.as_deref() {
            None => None,
            Some("me") => Some(caller.viewer.user_id),
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "awaiting={other}: the only value is me"
                )));
            }
        },
        owner: params.owner.as_deref().map(|o| owner_filter(o, &caller)),
        after: params
            .cursor
            .as_deref()
            .map(str::parse::<embargo_store::Cursor>)
            .transpose()?,
        text: params.q.clone(),
        unread: params.unread.unwrap_or(false),
        attention: match params.attention.as_deref() {
            None => None,
            Some(name) => Some(embargo_store::Attention::parse(name).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "attention={name}: the values are overdue, due and stalled"
                ))
            })?),
        },
    };
    let page = state.store.page_cases(&caller.viewer, &filter).await?;
    let mut response = Json(page.cases).into_response();
    if let Some(next) = page.next {
        // The caller's own query, with the cursor of the next page in place of any other.
        let mut query: Vec<&str> = raw
            .as_deref()
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("cursor="))
            .collect();
        let cursor = format!("cursor={next}");
        query.push(&cursor);
        let link = format!("</api/cases?{}>; rel=\"next\"", query.join("&"));
        if let Ok(value) = axum::http::HeaderValue::from_str(&link) {
            response
                .headers_mut()
                .insert(axum::http::header::LINK, value);
        }
    }
    Ok(response)
}

/// File a report.
#[utoipa::path(post, path = "/api/cases", tag = "cases", request_body = NewCaseBody,
    responses((status = 201, body = CaseDetail), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Json(body): Json<NewCaseBody>,
) -> Result<(StatusCode, Json<CaseDetail>), ApiError> {
    let report = NewReport {
        project: body.project.parse()?,
        title: body.title,
        description: body.description,
        reporter: body.reporter,
        channel: Channel::Api,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_case(&caller.viewer, report).await?),
    ))
}

/// Read a case.
#[utoipa::path(get, path = "/api/cases/{ref}", tag = "cases", params(("ref" = String, Path, description = "Case reference, e.g. CLOUDSTACK-SEC-42")),
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn show(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    Ok(Json(
        state
            .store
            .case(&caller.viewer, &case_ref(&reference)?)
            .await?,
    ))
}

/// Set fields of a case: title, CVSS vector, CVE ID, embargo date, versions, advisory.
#[utoipa::path(patch, path = "/api/cases/{ref}", tag = "cases", request_body = PatchCaseBody, params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Json(body): Json<PatchCaseBody>,
) -> Result<Json<CaseDetail>, ApiError> {
    let patch = CasePatch {
        title: body.title,
        cvss: body.cvss,
        cve_id: body.cve_id,
        embargo_at: body.embargo_at,
        versions: body.versions,
        advisory: body.advisory,
        sensitive_terms: body.sensitive_terms,
        reporter_key: body.reporter_key,
        advisory_url: body.advisory_url,
        owner: body.owner,
    };
    Ok(Json(
        state
            .store
            .update_case(&caller.viewer, &case_ref(&reference)?, patch)
            .await?,
    ))
}

/// Move a case to another state; a refusal says what is missing.
#[utoipa::path(post, path = "/api/cases/{ref}/transitions", tag = "cases", request_body = TransitionBody, params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn transition(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Json(body): Json<TransitionBody>,
) -> Result<Json<CaseDetail>, ApiError> {
    let req = TransitionRequest {
        reason: body.reason,
        message_to_reporter: body.message_to_reporter,
        duplicate_of: body.duplicate_of.as_deref().map(case_ref).transpose()?,
        override_reason: body.override_reason,
        not_sent_reason: body.not_sent_reason,
        retrospective: body.retrospective,
        retrospective_details: body.retrospective_details,
    };
    Ok(Json(
        state
            .store
            .transition(&caller.viewer, &case_ref(&reference)?, body.to, &req)
            .await?,
    ))
}

/// Where the foundation team routes a case.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteBody {
    /// The key of the project the case concerns.
    pub project: String,
    /// Why it goes there (on the timeline).
    #[serde(default)]
    pub reason: String,
}

/// Route a case to another project of its organisation (the foundation team only; before
/// the announcement). The answer carries the case's new reference; mail under the old one
/// still threads onto it.
#[utoipa::path(post, path = "/api/cases/{ref}/route", tag = "cases", request_body = RouteBody, params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = CaseDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn route(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Json(body): Json<RouteBody>,
) -> Result<Json<CaseDetail>, ApiError> {
    let to: ProjectKey = body.project.parse()?;
    Ok(Json(
        state
            .store
            .route_case(&caller.viewer, &case_ref(&reference)?, &to, &body.reason)
            .await?,
    ))
}

/// The case's timeline: every transition, note and change, with who and when.
#[utoipa::path(get, path = "/api/cases/{ref}/timeline", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = Vec<TimelineEvent>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn timeline(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<Vec<TimelineEvent>>, ApiError> {
    Ok(Json(
        state
            .store
            .timeline(&caller.viewer, &case_ref(&reference)?)
            .await?,
    ))
}

/// Add a note: the team's internal one, or one in the collaborators' thread.
#[utoipa::path(post, path = "/api/cases/{ref}/notes", tag = "cases", request_body = NoteBody, params(("ref" = String, Path, description = "Case reference")),
    responses((status = 201, body = TimelineEvent), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_note(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Json(body): Json<NoteBody>,
) -> Result<(StatusCode, Json<TimelineEvent>), ApiError> {
    let case_ref = case_ref(&reference)?;
    let note = match body.shared {
        true => {
            state
                .store
                .add_shared_note(&caller.viewer, &case_ref, &body.text)
                .await?
        }
        false => {
            state
                .store
                .add_note(&caller.viewer, &case_ref, &body.text)
                .await?
        }
    };
    Ok((StatusCode::CREATED, Json(note)))
}

/// The checklist of a confirmed case.
#[utoipa::path(get, path = "/api/cases/{ref}/checklist", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = Vec<ChecklistEntry>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn checklist(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<Vec<ChecklistEntry>>, ApiError> {
    Ok(Json(
        state
            .store
            .checklist(&caller.viewer, &case_ref(&reference)?)
            .await?,
    ))
}

/// Tick a checklist item.
#[utoipa::path(put, path = "/api/cases/{ref}/checklist/{item}", tag = "cases", request_body = MarkBody,
    params(("ref" = String, Path, description = "Case reference"), ("item" = String, Path, description = "Item key, e.g. testing or fix:4.18")),
    responses((status = 200, body = Vec<ChecklistEntry>), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn mark(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((reference, item)): Path<(String, String)>,
    Json(body): Json<MarkBody>,
) -> Result<Json<Vec<ChecklistEntry>>, ApiError> {
    let entries = state
        .store
        .mark_checklist(
            &caller.viewer,
            &case_ref(&reference)?,
            &item,
            body.status,
            body.note.as_deref(),
        )
        .await?;
    Ok(Json(entries))
}

/// The attachments of a case (their bytes are downloaded one by one).
#[utoipa::path(get, path = "/api/cases/{ref}/attachments", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = Vec<AttachmentInfo>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn attachments(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<Vec<AttachmentInfo>>, ApiError> {
    Ok(Json(
        state
            .store
            .attachments(&caller.viewer, &case_ref(&reference)?)
            .await?,
    ))
}

/// Download an attachment, byte for byte as sent. Always served as an octet stream to
/// save, never to open in the browser.
#[utoipa::path(get, path = "/api/cases/{ref}/attachments/{id}", tag = "cases",
    params(("ref" = String, Path, description = "Case reference"), ("id" = i64, Path, description = "Attachment id")),
    responses((status = 200, description = "The bytes", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn attachment(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((reference, id)): Path<(String, i64)>,
) -> Result<axum::response::Response, ApiError> {
    let (info, bytes) = state
        .store
        .attachment(&caller.viewer, &case_ref(&reference)?, id)
        .await?;
    Ok(download(&info.filename, bytes))
}

/// A file to save, never to open in the browser: an octet stream, with only safe
/// characters of its name in the header (the original name is in the listing).
pub(crate) fn download(filename: &str, bytes: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    let name: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
