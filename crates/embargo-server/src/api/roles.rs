//! Routes of the per-case roles: collaborators and their invitations, distributor
//! pre-notification, and the reporter's secret link.

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use embargo_core::reference::{CaseRef, ProjectKey};
use embargo_store::{AdvisoryView, Collaborator, Invitation, ReporterView, ThreadMessage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path};

/// Someone to engage.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    /// Their address.
    pub email: String,
}

/// The answer to an invitation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The invitation's secret.
    pub secret: String,
    /// Must be true: the invitee accepts the confidentiality terms (GET /api/terms).
    #[serde(default)]
    pub accept_terms: bool,
    /// A password to sign in with, for an invitee who has none yet.
    pub password: Option<String>,
}

/// The case an accepted invitation opens.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// The case reference.
    #[serde(rename = "ref")]
    #[schema(value_type = String, example = "CLOUDSTACK-SEC-42")]
    pub reference: embargo_core::reference::CaseRef,
}

/// The confidentiality terms collaborators accept.
#[derive(Serialize, ToSchema)]
pub struct Terms {
    /// Their version, recorded with each acceptance.
    pub version: &'static str,
    /// The text.
    pub text: &'static str,
}

/// Who was pre-notified.
#[derive(Serialize, ToSchema)]
pub struct Prenotified {
    /// The distributor contacts.
    pub notified: Vec<String>,
}

/// The reporter's secret link.
#[derive(Serialize, ToSchema)]
pub struct ReporterLink {
    /// The secret; the reporter's page and API are at /api/reporter/{secret}.
    pub secret: String,
}

/// A message from the reporter.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// The text.
    pub text: String,
}

fn case_ref(s: &str) -> Result<CaseRef, ApiError> {
    Ok(s.parse::<CaseRef>()?)
}

/// The people engaged on a case.
#[utoipa::path(get, path = "/api/cases/{ref}/collaborators", tag = "roles", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = Vec<Collaborator>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn collaborators(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<Vec<Collaborator>>, ApiError> {
    Ok(Json(
        state
            .store
            .collaborators(&caller.viewer, &case_ref(&reference)?)
            .await?,
    ))
}

/// Invite someone to collaborate on a case (team only). They see nothing until they
/// accept the confidentiality terms with the returned secret.
#[utoipa::path(post, path = "/api/cases/{ref}/collaborators", tag = "roles", request_body = EmailBody, params(("ref" = String, Path, description = "Case reference")),
    responses((status = 201, body = Invitation), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn invite(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Json(body): Json<EmailBody>,
) -> Result<(StatusCode, Json<Invitation>), ApiError> {
    let invitation = state
        .store
        .invite_collaborator(&caller.viewer, &case_ref(&reference)?, &body.email)
        .await?;
    Ok((StatusCode::CREATED, Json(invitation)))
}

/// Accept the invitation to a case and its confidentiality terms as the signed-in invitee
/// (an account of long standing; the invitation mail's secret is not needed then).
#[utoipa::path(post, path = "/api/cases/{ref}/invitation/accept", tag = "roles", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = Accepted), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn accept_signed_in(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<Accepted>, ApiError> {
    let case = state
        .store
        .accept_invitation_as(&caller.viewer, &case_ref(&reference)?)
        .await?;
    Ok(Json(Accepted { reference: case }))
}

/// Withdraw a collaborator's or distributor's access to a case (team only).
#[utoipa::path(delete, path = "/api/cases/{ref}/access/{email}", tag = "roles", params(("ref" = String, Path, description = "Case reference"), ("email" = String, Path, description = "Their address")),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn revoke(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((reference, email)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .revoke_access(&caller.viewer, &case_ref(&reference)?, &email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The confidentiality terms collaborators accept.
#[utoipa::path(get, path = "/api/terms", tag = "roles", responses((status = 200, body = Terms)))]
pub async fn terms() -> Json<Terms> {
    Json(Terms {
        version: embargo_store::TERMS_VERSION,
        text: embargo_store::TERMS,
    })
}

/// Accept an invitation and the confidentiality terms; the acceptance is recorded.
#[utoipa::path(post, path = "/api/invitations/accept", tag = "roles", request_body = AcceptBody,
    responses((status = 200, body = Accepted), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept(
    AxumState(state): AxumState<AppState>,
    Json(body): Json<AcceptBody>,
) -> Result<Json<Accepted>, ApiError> {
    let case = state
        .store
        .accept_invitation(&body.secret, body.accept_terms, body.password.as_deref())
        .await?;
    Ok(Json(Accepted { reference: case }))
}

/// Take a contact off a project's pre-notification list; what they were shown of its
/// cases is withdrawn (the project's team).
#[utoipa::path(delete, path = "/api/projects/{key}/distributors/{email}", tag = "roles",
    params(("key" = String, Path, description = "Project key"), ("email" = String, Path, description = "The contact's address")),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove_distributor(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((key, email)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let key: ProjectKey = key.parse()?;
    state
        .store
        .remove_distributor(&caller.viewer, &key, &email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grant a distributor whose access to the case was revoked that access again (team only).
#[utoipa::path(post, path = "/api/cases/{ref}/distributors/{email}", tag = "roles",
    params(("ref" = String, Path, description = "Case reference"), ("email" = String, Path, description = "The contact's address")),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn regrant_distributor(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((reference, email)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .regrant_distributor(&caller.viewer, &case_ref(&reference)?, &email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a contact to a project's pre-notification list (the project's team).
#[utoipa::path(post, path = "/api/projects/{key}/distributors", tag = "roles", request_body = EmailBody, params(("key" = String, Path, description = "Project key")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_distributor(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(key): Path<String>,
    Json(body): Json<EmailBody>,
) -> Result<StatusCode, ApiError> {
    let key: ProjectKey = key.parse()?;
    state
        .store
        .add_distributor(&caller.viewer, &key, &body.email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pre-notify the project's distributor contacts of a case (team only; fix-ready or
/// release-pending).
#[utoipa::path(post, path = "/api/cases/{ref}/prenotify", tag = "roles", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = Prenotified), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn prenotify(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<Prenotified>, ApiError> {
    let notified = state
        .store
        .prenotify(&caller.viewer, &case_ref(&reference)?)
        .await?;
    Ok(Json(Prenotified { notified }))
}

/// The advisory draft, fix and embargo date of a case (pre-notified distributors, and
/// everyone who may read the case).
#[utoipa::path(get, path = "/api/cases/{ref}/advisory", tag = "roles", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = AdvisoryView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn advisory(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<AdvisoryView>, ApiError> {
    Ok(Json(
        state
            .store
            .advisory_view(&caller.viewer, &case_ref(&reference)?)
            .await?,
    ))
}

/// The cases the caller was pre-notified of as a distributor contact.
#[utoipa::path(get, path = "/api/prenotified", tag = "roles",
    responses((status = 200, body = Vec<AdvisoryView>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn prenotified(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
) -> Result<Json<Vec<AdvisoryView>>, ApiError> {
    Ok(Json(state.store.prenotified(&caller.viewer).await?))
}

/// The reporter's secret link (team only, a read-write token or session), to pass on: it
/// lets its holder write as the reporter, so it is a POST and it is audited.
#[utoipa::path(post, path = "/api/cases/{ref}/reporter-link", tag = "roles", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = ReporterLink), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn reporter_link(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<ReporterLink>, ApiError> {
    let secret = state
        .store
        .reporter_link(&caller.viewer, &case_ref(&reference)?)
        .await?;
    Ok(Json(ReporterLink { secret }))
}

/// What the reporter sees through their secret link: status and the external thread.
#[utoipa::path(get, path = "/api/reporter/{secret}", tag = "roles", params(("secret" = String, Path, description = "The reporter's secret")),
    responses((status = 200, body = ReporterView), (status = 404, body = ErrorBody)))]
pub async fn reporter_view(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
) -> Result<Json<ReporterView>, ApiError> {
    Ok(Json(state.store.reporter_view(&secret).await?))
}

/// A reply from the reporter; it joins the external thread.
#[utoipa::path(post, path = "/api/reporter/{secret}/messages", tag = "roles", request_body = MessageBody, params(("secret" = String, Path, description = "The reporter's secret")),
    responses((status = 201, body = ThreadMessage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reporter_reply(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
    Json(body): Json<MessageBody>,
) -> Result<(StatusCode, Json<ThreadMessage>), ApiError> {
    let message = state.store.reporter_reply(&secret, &body.text).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

/// The reporter's answer to the proposed embargo date.
#[derive(serde::Deserialize, ToSchema)]
pub struct EmbargoAnswer {
    /// True to accept the date the team proposes.
    #[serde(default)]
    pub accept: bool,
    /// Another date to propose instead (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub propose: Option<time::OffsetDateTime>,
    /// Why, with a proposal.
    #[serde(default)]
    pub note: String,
}

/// The reporter accepts the proposed embargo date, or proposes another.
#[utoipa::path(post, path = "/api/reporter/{secret}/embargo", tag = "roles", request_body = EmbargoAnswer, params(("secret" = String, Path, description = "The reporter's secret")),
    responses((status = 200, body = ReporterView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reporter_embargo(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
    Json(body): Json<EmbargoAnswer>,
) -> Result<Json<ReporterView>, ApiError> {
    let view = match (body.accept, body.propose) {
        (true, None) => state.store.reporter_accept_embargo(&secret).await?,
        (false, Some(at)) => {
            state
                .store
                .reporter_propose_embargo(&secret, at, &body.note)
                .await?
        }
        _ => {
            return Err(ApiError::Store(embargo_store::StoreError::Invalid(
                "say either accept: true, or propose: a date".into(),
            )));
        }
    };
    Ok(Json(view))
}

/// Whether the case's collaborators may know who the reporter is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityAnswer {
    /// True to let collaborators see the reporter's name and address; false to keep them
    /// with the security team only (the default).
    pub share: bool,
}

/// The reporter agrees, or no longer agrees, that the people the team brings in to help
/// (the case's collaborators) may know their name and address.
#[utoipa::path(post, path = "/api/reporter/{secret}/identity", tag = "roles", request_body = IdentityAnswer, params(("secret" = String, Path, description = "The reporter's secret")),
    responses((status = 200, body = ReporterView), (status = 404, body = ErrorBody)))]
pub async fn reporter_identity(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
    Json(body): Json<IdentityAnswer>,
) -> Result<Json<ReporterView>, ApiError> {
    Ok(Json(
        state
            .store
            .reporter_share_identity(&secret, body.share)
            .await?,
    ))
}

/// The reporter chooses how to be credited: by name, by a handle, or not at all.
#[utoipa::path(post, path = "/api/reporter/{secret}/credit", tag = "roles", request_body = embargo_core::case::CreditChoice, params(("secret" = String, Path, description = "The reporter's secret")),
    responses((status = 200, body = ReporterView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reporter_credit(
    AxumState(state): AxumState<AppState>,
    Path(secret): Path<String>,
    Json(choice): Json<embargo_core::case::CreditChoice>,
) -> Result<Json<ReporterView>, ApiError> {
    Ok(Json(
        state.store.reporter_choose_credit(&secret, choice).await?,
    ))
}
