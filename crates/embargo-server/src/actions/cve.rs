//! A case's CVE ID at CVE Services: reserving, publishing (or updating) the record, and
//! rejecting; for the API and the case page alike. Each records what CVE Services took.

use embargo_core::access::Viewer;
use embargo_core::reference::CaseRef;
use embargo_store::{CveContext, CveRecordState, CveState, StoreError};

use crate::AppState;
use crate::cve_services::CveServices;
use crate::error::ApiError;

/// The ID and where it now stands.
pub struct CveOutcome {
    /// The CVE ID.
    pub cve_id: String,
    /// Its state at CVE Services.
    pub state: CveRecordState,
}

fn client(context: &CveContext) -> Result<CveServices, ApiError> {
    let credentials = context.credentials.clone().ok_or_else(|| {
        ApiError::Store(StoreError::Invalid(
            "the organisation has no CVE Services credentials (embargo org cve-services …)".into(),
        ))
    })?;
    Ok(CveServices::new(credentials)?)
}

fn recorded_id(context: &CveContext) -> Result<String, ApiError> {
    context
        .cve_id
        .clone()
        .ok_or_else(|| ApiError::Store(StoreError::Invalid("the case has no CVE ID".into())))
}

/// Reserves a CVE ID for a case and records it.
pub async fn reserve(
    state: &AppState,
    viewer: &Viewer,
    case_ref: &CaseRef,
) -> Result<CveOutcome, ApiError> {
    state
        .store
        .cve_reservation(viewer, case_ref)
        .await?
        .allowed()?;
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
    Ok(CveOutcome {
        cve_id,
        state: CveRecordState::Reserved,
    })
}

/// Publishes the case's record after the announcement, or updates it once published.
pub async fn publish(
    state: &AppState,
    viewer: &Viewer,
    case_ref: &CaseRef,
) -> Result<CveOutcome, ApiError> {
    let record = state
        .store
        .cve_record(viewer, case_ref, &state.public_url)
        .await?;
    let context = state.store.cve_context(viewer, case_ref).await?;
    let cve_id = recorded_id(&context)?;
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
            Some(viewer.user_id),
            context.case_id,
            CveRecordState::Published,
            &note,
        )
        .await?;
    Ok(CveOutcome {
        cve_id,
        state: CveRecordState::Published,
    })
}

/// Rejects the case's reserved ID (an invalid report, a duplicate), with the reason.
pub async fn reject(
    state: &AppState,
    viewer: &Viewer,
    case_ref: &CaseRef,
    reason: &str,
) -> Result<CveOutcome, ApiError> {
    let context = state.store.cve_context(viewer, case_ref).await?;
    let cve_id = recorded_id(&context)?;
    if context.state.as_ref().is_some_and(CveState::is_published) {
        return Err(ApiError::Store(StoreError::Invalid(format!(
            "{cve_id} is published; a published record is updated, not rejected"
        ))));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.len() > 4000 {
        return Err(ApiError::Store(StoreError::Invalid(
            "a rejection needs a reason of at most 4000 bytes".into(),
        )));
    }
    client(&context)?.reject(&cve_id, reason).await?;
    state
        .store
        .record_cve_state(
            Some(viewer.user_id),
            context.case_id,
            CveRecordState::Rejected,
            &format!("{cve_id} rejected: {reason}"),
        )
        .await?;
    Ok(CveOutcome {
        cve_id,
        state: CveRecordState::Rejected,
    })
}
