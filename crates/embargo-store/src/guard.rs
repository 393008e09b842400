//! What the commit guard's deny list is made from, and the guard key. The terms leave the
//! store in clear only to be hashed by the caller; nothing here is logged.

use embargo_core::access::Viewer;
use embargo_core::lifecycle::State;
use embargo_core::reference::ProjectKey;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::Row;

use crate::audit::{Entry, Read};
use crate::case_row::opened_cve_and_terms;
use crate::{Result, Store, StoreError};

/// A project's guard terms and key, for `embargo guard export`.
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
    /// The project's guard key, for a list with keyed entries.
    pub key: [u8; 32],
}

impl std::fmt::Debug for GuardTerms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GuardTerms([redacted])")
    }
}

fn mac(key: &[u8]) -> Result<Hmac<Sha256>> {
    // HMAC takes keys of any length; the error cannot happen for our 32-byte keys.
    <Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|_| StoreError::Corrupt("guard key length".into()))
}

impl Store {
    /// A project's guard key: derived from the newest data key and the project key, so it
    /// is stored nowhere but where the operator writes it, and one project's key checks
    /// nothing of another's. For the operator only (no viewer): it goes to the
    /// server-side hook and CI.
    pub async fn guard_key(&self, key: &ProjectKey) -> Result<[u8; 32]> {
        let project = self.project(key).await?;
        self.project_guard_key(&project.key)
    }

    fn project_guard_key(&self, project: &str) -> Result<[u8; 32]> {
        let mut m = mac(self.keys().guard_root())?;
        m.update(project.as_bytes());
        Ok(m.finalize().into_bytes().into())
    }

    /// The guard terms of a project. With a viewer, only for its security teams, and each
    /// embargoed case's terms handed over are audited as read; without one, for the
    /// operator working on the data directory.
    pub async fn guard_terms(
        &self,
        viewer: Option<&Viewer>,
        key: &ProjectKey,
    ) -> Result<GuardTerms> {
        let project = self.project(key).await?;
        if viewer.is_some_and(|v| !v.can_see_project(project.id)) {
            return Err(StoreError::NotFound("project"));
        }
        let rows = sqlx::query("SELECT id, number, state, cve_sealed, terms_sealed FROM cases WHERE project_id = $1 ORDER BY number")
            .bind(project.id)
            .fetch_all(&self.pool)
            .await?;
        let mut out = GuardTerms {
            case_refs: Vec::new(),
            reserved_cves: Vec::new(),
            terms: Vec::new(),
            giveaways: project.giveaways.clone(),
            published_cves: Vec::new(),
            key: self.project_guard_key(&project.key)?,
        };
        let mut read = Vec::new();
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
                out.case_refs.push(embargo_core::reference::case_reference(
                    project.key.as_str(),
                    number,
                ));
                out.reserved_cves.extend(cve);
                out.terms.extend(terms);
                if let Some(v) = viewer {
                    read.push(Entry::new(v, row.try_get("id")?, Read::GuardTerms));
                }
            }
        }
        // Recorded before the terms are handed over, as every other read is.
        self.audit(read).await?;
        Ok(out)
    }
}
