//! Administration: users, organisations, projects, committee rosters and security teams.

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use embargo_core::project::ClockSettings;
use embargo_core::reference::ProjectKey;
use embargo_store::{Member, Organisation, Project, ProjectUpdate, User};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path, Query};

/// A new user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// The sign-in address.
    pub email: String,
    /// At least 12 characters; without one the user signs in by token only.
    pub password: Option<String>,
    /// Whether the user administers the instance.
    #[serde(default)]
    pub admin: bool,
}

/// A new organisation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    /// Its name.
    pub name: String,
}

/// A new project.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// The organisation's name.
    pub org: String,
    /// The key, e.g. CLOUDSTACK.
    pub key: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// Supported release branches besides trunk.
    #[serde(default)]
    pub branches: Vec<String>,
}

/// Changes to a project's settings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectSettings {
    /// The name shown publicly, e.g. "Apache CloudStack" (the key stays).
    pub name: Option<String>,
    /// Supported release branches besides trunk.
    pub branches: Option<Vec<String>>,
    /// The procedure's clocks.
    pub clocks: Option<ClockSettings>,
    /// Words the commit guard refuses in public commits; "CVE-" stands for any CVE ID.
    pub giveaways: Option<Vec<String>>,
    /// The project's wider private list, told of stalled cases; empty clears it.
    pub private_list: Option<String>,
    /// How the project discloses: lists, oss-security, pre-notification, security.txt.
    pub disclosure: Option<embargo_core::disclosure::DisclosureSettings>,
    /// Where the product lives: its name and vendor in advisories, package URLs, CPE
    /// names, source repository (replaces the settings).
    pub product: Option<embargo_core::project::ProductSettings>,
}

/// Addresses to add to a committee roster.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Emails {
    /// The addresses.
    pub emails: Vec<String>,
}

/// A user to add to a team.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRequest {
    /// The user's address.
    pub email: String,
}

fn key(s: &str) -> Result<ProjectKey, ApiError> {
    Ok(s.parse::<ProjectKey>()?)
}

/// Create a user (administrators only).
#[utoipa::path(post, path = "/api/users", tag = "admin", request_body = NewUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_user(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Json(body): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    caller.require_admin()?;
    let user = state
        .store
        .create_user(&body.email, body.password.as_deref(), body.admin)
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// List organisations.
#[utoipa::path(get, path = "/api/orgs", tag = "admin", responses((status = 200, body = Vec<Organisation>)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_orgs(
    _caller: Caller,
    AxumState(state): AxumState<AppState>,
) -> Result<Json<Vec<Organisation>>, ApiError> {
    Ok(Json(state.store.list_orgs().await?))
}

/// Create an organisation (administrators only).
#[utoipa::path(post, path = "/api/orgs", tag = "admin", request_body = NewOrg,
    responses((status = 201, body = Organisation), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_org(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Json(body): Json<NewOrg>,
) -> Result<(StatusCode, Json<Organisation>), ApiError> {
    caller.require_admin()?;
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_org(&body.name).await?),
    ))
}

/// Administrators manage teams; they do not put themselves on one (which would open every
/// case of it to them): another administrator must.
/// Refuses an administrator putting themselves on a committee or a team: the API and the
/// admin page both ask here.
pub(crate) async fn not_oneself(
    state: &AppState,
    viewer: &embargo_core::access::Viewer,
    emails: &[String],
) -> Result<(), ApiError> {
    let own = state.store.user_by_id(viewer.user_id).await?.email;
    if emails.iter().any(|e| e.trim().eq_ignore_ascii_case(&own)) {
        return Err(ApiError::Forbidden(
            "an administrator cannot put themselves on a committee or team; another administrator must",
        ));
    }
    Ok(())
}

/// Add a user to an organisation's foundation security team (administrators only).
#[utoipa::path(post, path = "/api/orgs/{name}/foundation-team", tag = "admin", request_body = MemberRequest,
    params(("name" = String, Path, description = "Organisation name")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_foundation_member(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(name): Path<String>,
    Json(body): Json<MemberRequest>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    not_oneself(&state, &caller.viewer, std::slice::from_ref(&body.email)).await?;
    state
        .store
        .add_foundation_member(&name, &body.email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List projects.
#[utoipa::path(get, path = "/api/projects", tag = "admin", responses((status = 200, body = Vec<Project>)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_projects(
    _caller: Caller,
    AxumState(state): AxumState<AppState>,
) -> Result<Json<Vec<Project>>, ApiError> {
    Ok(Json(state.store.list_projects().await?))
}

/// Create a project (administrators only).
#[utoipa::path(post, path = "/api/projects", tag = "admin", request_body = NewProject,
    responses((status = 201, body = Project), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_project(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Json(body): Json<NewProject>,
) -> Result<(StatusCode, Json<Project>), ApiError> {
    caller.require_admin()?;
    let project = state
        .store
        .create_project(&body.org, &key(&body.key)?, &body.name, &body.branches)
        .await?;
    Ok((StatusCode::CREATED, Json(project)))
}

/// Read a project.
#[utoipa::path(get, path = "/api/projects/{key}", tag = "admin", params(("key" = String, Path, description = "Project key")),
    responses((status = 200, body = Project), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn show_project(
    _caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(k): Path<String>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(state.store.project(&key(&k)?).await?))
}

/// Change a project's branches and clocks (administrators only).
#[utoipa::path(patch, path = "/api/projects/{key}", tag = "admin", request_body = ProjectSettings, params(("key" = String, Path, description = "Project key")),
    responses((status = 200, body = Project), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_project(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(k): Path<String>,
    Json(body): Json<ProjectSettings>,
) -> Result<Json<Project>, ApiError> {
    caller.require_admin()?;
    let update = ProjectUpdate {
        name: body.name,
        branches: body.branches,
        clocks: body.clocks,
        giveaways: body.giveaways,
        private_list: body.private_list,
        disclosure: body.disclosure,
        product: body.product,
    };
    let project = state.store.update_project(&key(&k)?, update).await?;
    Ok(Json(project))
}

/// The project's management committee roster.
#[utoipa::path(get, path = "/api/projects/{key}/committee", tag = "admin", params(("key" = String, Path, description = "Project key")),
    responses((status = 200, body = Vec<String>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn committee(
    _caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(k): Path<String>,
) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(state.store.committee(&key(&k)?).await?))
}

/// Add addresses to the committee roster (administrators only).
#[utoipa::path(post, path = "/api/projects/{key}/committee", tag = "admin", request_body = Emails, params(("key" = String, Path, description = "Project key")),
    responses((status = 200, body = Vec<String>), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_committee(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(k): Path<String>,
    Json(body): Json<Emails>,
) -> Result<Json<Vec<String>>, ApiError> {
    caller.require_admin()?;
    not_oneself(&state, &caller.viewer, &body.emails).await?;
    Ok(Json(
        state
            .store
            .add_committee_members(&key(&k)?, &body.emails)
            .await?,
    ))
}

/// The project's security team, with each member's last activity.
#[utoipa::path(get, path = "/api/projects/{key}/members", tag = "admin", params(("key" = String, Path, description = "Project key")),
    responses((status = 200, body = Vec<Member>), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn members(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(k): Path<String>,
) -> Result<Json<Vec<Member>>, ApiError> {
    let project = state.store.project(&key(&k)?).await?;
    if !caller.viewer.is_admin && !caller.viewer.can_see_project(project.id) {
        return Err(ApiError::Forbidden(
            "the team list is for administrators and the teams that see this project",
        ));
    }
    Ok(Json(state.store.project_members(&key(&k)?).await?))
}

/// Add a committee member to the project's security team (administrators only).
#[utoipa::path(post, path = "/api/projects/{key}/members", tag = "admin", request_body = MemberRequest, params(("key" = String, Path, description = "Project key")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_member(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(k): Path<String>,
    Json(body): Json<MemberRequest>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    not_oneself(&state, &caller.viewer, std::slice::from_ref(&body.email)).await?;
    state
        .store
        .add_project_member(&key(&k)?, &body.email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invite someone to the project's security team by address (administrators, and the
/// teams that see the project). A person not on the committee is added to it only by an
/// administrator; a newcomer gets a single-use link by mail to choose their password.
#[utoipa::path(post, path = "/api/projects/{key}/invitations", tag = "admin", request_body = MemberRequest, params(("key" = String, Path, description = "Project key")),
    responses((status = 201, body = embargo_store::MemberInvitation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn invite_member(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(k): Path<String>,
    Json(body): Json<MemberRequest>,
) -> Result<(StatusCode, Json<embargo_store::MemberInvitation>), ApiError> {
    not_oneself(&state, &caller.viewer, std::slice::from_ref(&body.email)).await?;
    let invited = state
        .store
        .invite_member(&caller.viewer, &key(&k)?, &body.email)
        .await?;
    Ok((StatusCode::CREATED, Json(invited)))
}

/// Whether the project's team reserves its own CVE IDs.
#[derive(Deserialize, ToSchema)]
pub struct DelegationRequest {
    /// True to delegate reservation to the project team, false to withdraw it.
    pub delegated: bool,
}

/// Delegate reserving CVE IDs to the project's team, or withdraw it (the organisation's
/// foundation security team only; recorded in the audit chain).
#[utoipa::path(put, path = "/api/projects/{key}/cve-delegation", tag = "admin", request_body = DelegationRequest, params(("key" = String, Path, description = "Project key")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn cve_delegation(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(k): Path<String>,
    Json(body): Json<DelegationRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .set_cve_delegation(&key(&k)?, body.delegated, Some(&caller.viewer))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a member from the project's security team (administrators only).
#[utoipa::path(delete, path = "/api/projects/{key}/members/{email}", tag = "admin",
    params(("key" = String, Path, description = "Project key"), ("email" = String, Path, description = "Member's address")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove_member(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((k, email)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    state.store.remove_project_member(&key(&k)?, &email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The project's deny list for the commit guard (project security teams only; each
/// embargoed case whose terms go into it is audited as read). By default a developer's
/// list: hashes of the giveaway words only. With `keyed=true`, the list for the
/// server-side hook and CI: also the embargoed case references, reserved CVE IDs and
/// sensitive terms, as HMACs under the project's guard key, which this API never hands
/// out. Valid for `days` days (default 7).
#[utoipa::path(get, path = "/api/projects/{key}/deny-list", tag = "admin",
    params(("key" = String, Path, description = "Project key"), DenyListParams),
    responses((status = 200, description = "The deny list (format embargo-deny-list, version 2)", body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn deny_list(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(k): Path<String>,
    Query(params): Query<DenyListParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let days = params.days.unwrap_or(7);
    if !(1..=90).contains(&days) {
        return Err(ApiError::BadRequest("days must be between 1 and 90".into()));
    }
    let terms = state
        .store
        .guard_terms(Some(&caller.viewer), &key(&k)?)
        .await?;
    let list = crate::deny_list(
        &k.to_ascii_uppercase(),
        terms,
        time::Duration::days(days),
        params.keyed.unwrap_or(false),
    );
    Ok(Json(
        serde_json::to_value(list).map_err(|e| ApiError::BadRequest(e.to_string()))?,
    ))
}

/// How long the exported list stays valid, and for whom it is.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DenyListParams {
    /// Days until the list expires (1 to 90, default 7).
    pub days: Option<i64>,
    /// The list for the server-side hook and CI, which need the guard key (default false:
    /// a developer's list).
    pub keyed: Option<bool>,
}
