//! The private fix per branch: stages, private patches, testing evidence and the files.
//! Branches are named in the body or the query, never the path, so that a branch such
//! as `release/4.x` needs no escaping.

use axum::body::Bytes;
use axum::extract::State as AxumState;
use base64::Engine;
use embargo_core::fix::{FixDetail, FixStage, TestingEvidence};
use embargo_core::reference::CaseRef;
use embargo_store::{FixBoard, Upload};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, Json, Path, Query};

/// The largest testing evidence file taken, in bytes.
pub const EVIDENCE_FILE_LIMIT: usize = 10 * 1024 * 1024;

/// A stage of the fix on one branch.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixBody {
    /// Trunk or one of the project's supported branches.
    pub branch: String,
    /// The stage reached.
    pub stage: FixStage,
    /// A link to the private review (proposed).
    pub review_url: Option<String>,
    /// The fixing commit (merged; kept for released).
    pub commit: Option<String>,
    /// The release carrying the fix (released).
    pub version: Option<String>,
    /// Anything else.
    pub note: Option<String>,
}

/// Which branch a patch is for.
#[derive(Deserialize, IntoParams)]
pub struct PatchQuery {
    /// Trunk or one of the project's supported branches.
    pub branch: Option<String>,
    /// The file's name (default `fix.patch`).
    pub filename: Option<String>,
    /// A note on the proposal.
    pub note: Option<String>,
}

/// A file of testing evidence.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceFile {
    /// Its name.
    pub name: String,
    /// Its bytes, in base64.
    pub content_base64: String,
}

/// Testing evidence.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    /// What was tested and how.
    pub text: String,
    /// Links to runs, reviews, reproductions.
    #[serde(default)]
    pub links: Vec<String>,
    /// Files kept sealed on the case.
    #[serde(default)]
    pub files: Vec<EvidenceFile>,
}

fn case_ref(s: &str) -> Result<CaseRef, ApiError> {
    Ok(s.parse()?)
}

/// The fix of a case: each branch's stages, testing evidence, files, and what fix-ready
/// still waits for.
#[utoipa::path(get, path = "/api/cases/{ref}/fixes", tag = "cases", params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = FixBoard), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn board(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<FixBoard>, ApiError> {
    Ok(Json(
        state
            .store
            .fixes(&caller.viewer, &case_ref(&reference)?)
            .await?,
    ))
}

/// Record a stage of the fix on one branch: not affected, proposed (with a review
/// link), merged (with the commit), released (with the version).
#[utoipa::path(put, path = "/api/cases/{ref}/fixes", tag = "cases", request_body = FixBody, params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = FixBoard), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn record(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Json(body): Json<FixBody>,
) -> Result<Json<FixBoard>, ApiError> {
    let detail = FixDetail {
        review_url: body.review_url,
        commit: body.commit,
        version: body.version,
        note: body.note,
        patch: None,
    };
    Ok(Json(
        state
            .store
            .record_fix(
                &caller.viewer,
                &case_ref(&reference)?,
                body.branch.trim(),
                body.stage,
                &detail,
            )
            .await?,
    ))
}

/// Upload a private patch for a branch: the output of `git format-patch` (one patch or
/// a series) or a unified diff, as the request body. It is sealed on the case and the
/// branch's fix becomes proposed.
#[utoipa::path(post, path = "/api/cases/{ref}/fixes/patch", tag = "cases", params(("ref" = String, Path, description = "Case reference"), PatchQuery),
    request_body(content = String, content_type = "text/x-patch"),
    responses((status = 200, body = FixBoard), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn patch(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Query(query): Query<PatchQuery>,
    body: Bytes,
) -> Result<Json<FixBoard>, ApiError> {
    // The store settles access before it reads the patch.
    let case_ref = case_ref(&reference)?;
    Ok(Json(
        state
            .store
            .import_patch(
                &caller.viewer,
                &case_ref,
                query.branch.as_deref().map(str::trim).unwrap_or_default(),
                query.filename.as_deref().unwrap_or("fix.patch"),
                &body,
                query.note.as_deref(),
            )
            .await?,
    ))
}

/// Record testing evidence: what was tested, links, and files.
#[utoipa::path(post, path = "/api/cases/{ref}/testing", tag = "cases", request_body = EvidenceBody, params(("ref" = String, Path, description = "Case reference")),
    responses((status = 200, body = FixBoard), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn testing(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path(reference): Path<String>,
    Json(body): Json<EvidenceBody>,
) -> Result<Json<FixBoard>, ApiError> {
    let mut decoded = Vec::new();
    for file in &body.files {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(file.content_base64.trim())
            .map_err(|_| {
                ApiError::BadRequest(format!("{} is not valid base64", file.name.trim()))
            })?;
        decoded.push((file.name.as_str(), bytes));
    }
    let uploads: Vec<Upload<'_>> = decoded
        .iter()
        .map(|(name, bytes)| Upload {
            filename: name,
            content_type: "application/octet-stream",
            bytes,
            limit: EVIDENCE_FILE_LIMIT,
        })
        .collect();
    let evidence = TestingEvidence {
        text: body.text,
        links: body.links,
    };
    Ok(Json(
        state
            .store
            .record_testing(&caller.viewer, &case_ref(&reference)?, &evidence, &uploads)
            .await?,
    ))
}

/// Download a private patch or an evidence file, byte for byte.
#[utoipa::path(get, path = "/api/cases/{ref}/files/{id}", tag = "cases",
    params(("ref" = String, Path, description = "Case reference"), ("id" = i64, Path, description = "File id")),
    responses((status = 200, description = "The bytes", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn file(
    caller: Caller,
    AxumState(state): AxumState<AppState>,
    Path((reference, id)): Path<(String, i64)>,
) -> Result<axum::response::Response, ApiError> {
    let (info, bytes) = state
        .store
        .case_file(&caller.viewer, &case_ref(&reference)?, id)
        .await?;
    Ok(super::cases::download(&info.filename, bytes))
}
