//! What the commit guard's deny list is made from. The terms leave the store in clear
//! only to be hashed by the caller; nothing here is logged.

use embargo_core::access::Viewer;
use embargo_core::lifecycle::State;
use embargo_core::reference::ProjectKey;
use sqlx::Row;

use crate::cases::opened_cve_and_terms;
use crate::{Result, Store, StoreError};

/// A project's guard terms, for `embargo guard export`.
pub struct GuardTerms {
    /// References of cases still under embargo.
    pub case_refs: Vec<String>,
    /// CVE IDs reserved for cases still under embargo.
    pub reserved_cves: Vec<String>,
    /// Sensitive terms of cases still under embargo.
    pub terms: Vec<String>,
    /// The project's giveaway words.
    pub giveaways: Vec<String>,
    /// CVE IDs of announced cases, which may be named.
    pub published_cves: Vec<String>,
}

impl std::fmt::Debug for GuardTerms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GuardTerms([redacted])")
    }
}

impl Store {
    /// The guard terms of a project. With a viewer, only for its security teams; without
    /// one, for the operator working on the data directory.
    pub async fn guard_terms(
        &self,
        viewer: Option<&Viewer>,
        key: &ProjectKey,
    ) -> Result<GuardTerms> {
        let project = self.project(key).await?;
        if viewer.is_some_and(|v| !v.can_see_project(project.id)) {
            return Err(StoreError::NotFound("project"));
        }
        let rows = sqlx::query("SELECT number, state, cve_sealed, terms_sealed FROM cases WHERE project_id = $1 ORDER BY number")
            .bind(project.id)
            .fetch_all(&self.pool)
            .await?;
        let mut out = GuardTerms {
            case_refs: Vec::new(),
            reserved_cves: Vec::new(),
            terms: Vec::new(),
            giveaways: project.giveaways.clone(),
            published_cves: Vec::new(),
        };
        for row in rows {
            let number: i64 = row.try_get("number")?;
            let state: String = row.try_get("state")?;
            let state: State = state
                .parse()
                .map_err(|_| StoreError::Corrupt("case state".into()))?;
            let (cve, terms) = opened_cve_and_terms(self.keys(), project.id, number, &row)?;
            if state.is_announced() {
                out.published_cves.extend(cve);
            } else if state.is_open() {
                out.case_refs.push(format!("{}-SEC-{number}", project.key));
                out.reserved_cves.extend(cve);
                out.terms.extend(terms);
            }
        }
        Ok(out)
    }
}
