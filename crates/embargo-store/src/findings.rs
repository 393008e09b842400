//! Bulk import of findings (one case each, flagged as imported) and duplicate proposals
//! among a project's open and published cases.

use embargo_core::access::{Need, Viewer};
use embargo_core::case::{Channel, Reporter};
use embargo_core::findings::{self, DUPLICATE_THRESHOLD, Profile};
use embargo_core::lifecycle::State;
use embargo_core::reference::{CaseRef, ProjectKey};
use sqlx::Row;
use time::OffsetDateTime;

use crate::access::authorize;
use crate::audit::{Entry, Read};
use crate::case_row::Loaded;
use crate::cases::{NewReport, insert_case};
use crate::{Result, Store, StoreError, millis};

/// A likely duplicate of a case.
#[derive(Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DuplicateProposal {
    /// The other case's reference, or a published advisory's id.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Its title.
    pub title: String,
    /// Where it stands.
    pub state: State,
    /// Text similarity, from 0 to 1.
    pub score: f64,
}

/// A case opened by an import, with its likely duplicates.
#[derive(Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ImportedCase {
    /// The new case.
    #[serde(rename = "ref")]
    #[schema(value_type = String, example = "CLOUDSTACK-SEC-42")]
    pub reference: embargo_core::reference::CaseRef,
    /// Likely duplicates, best first.
    pub duplicates: Vec<DuplicateProposal>,
}

/// Most proposals shown for one case.
const MAX_PROPOSALS: usize = 5;

impl Store {
    /// The project's cases that a new one could duplicate: open or published, with their
    /// text profiles.
    async fn candidates(
        &self,
        project_id: i64,
    ) -> Result<Vec<(i64, String, String, State, Profile)>> {
        let rows = sqlx::query(&format!(
            "{} WHERE c.project_id = $1 AND {}",
            crate::case_row::CASE_SELECT,
            crate::case_row::state_in(|s| !matches!(s, State::Invalid | State::Duplicate))
        ))
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        // Advisories published elsewhere and imported: ids below zero, never a case's.
        for (n, (record_id, title, summary)) in
            self.published_record_texts().await?.into_iter().enumerate()
        {
            let profile = Profile::new(&title, &summary);
            out.push((-(n as i64) - 1, record_id, title, State::Public, profile));
        }
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let case = Loaded::from_row(self.keys(), &row, true)?;
            let profile = Profile::new(case.title(), case.description());
            out.push((
                id,
                case.reference(),
                case.title().to_owned(),
                case.state(),
                profile,
            ));
        }
        Ok(out)
    }

    fn rank(
        candidates: &[(i64, String, String, State, Profile)],
        own: i64,
        profile: &Profile,
    ) -> Vec<(i64, DuplicateProposal)> {
        let mut found: Vec<(i64, DuplicateProposal)> = candidates
            .iter()
            .filter(|(id, ..)| *id != own)
            .filter_map(|(id, reference, title, state, other)| {
                let score = profile.similarity(other);
                (score >= DUPLICATE_THRESHOLD).then(|| {
                    (
                        *id,
                        DuplicateProposal {
                            reference: reference.clone(),
                            title: title.clone(),
                            state: *state,
                            score: (score * 1000.0).round() / 1000.0,
                        },
                    )
                })
            })
            .collect();
        found.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
        found.truncate(MAX_PROPOSALS);
        found
    }

    /// Likely duplicates of a case among the project's open and published cases (team).
    pub async fn duplicates(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
    ) -> Result<Vec<DuplicateProposal>> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Change).await?;
        let project_id: i64 = sqlx::query("SELECT project_id FROM cases WHERE id = $1")
            .bind(auth.case_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get("project_id")?;
        drop(conn);
        let candidates = self.candidates(project_id).await?;
        let Some(own) = candidates.iter().find(|(id, ..)| *id == auth.case_id) else {
            return Ok(Vec::new());
        };
        let ranked = Self::rank(&candidates, auth.case_id, &own.4);
        let mut read = vec![Entry::new(viewer, auth.case_id, Read::Case)];
        read.extend(
            ranked
                .iter()
                .filter(|(id, _)| *id > 0)
                .map(|(id, _)| Entry::new(viewer, *id, Read::Summary)),
        );
        self.audit(read).await?;
        Ok(ranked.into_iter().map(|(_, p)| p).collect())
    }

    /// Files one case per finding of a markdown or JSON findings file (the project's
    /// team), in one transaction, and proposes duplicates for each.
    pub async fn import_findings(
        &self,
        viewer: &Viewer,
        key: &ProjectKey,
        text: &str,
    ) -> Result<Vec<ImportedCase>> {
        let project = self.project(key).await?;
        if !viewer.can_see_project(project.id) {
            return Err(StoreError::NotFound("project"));
        }
        let found = findings::parse(text).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        let mut created = Vec::with_capacity(found.len());
        for finding in &found {
            let report = NewReport {
                project: key.clone(),
                title: finding.title.clone(),
                description: finding.description.clone(),
                reporter: Reporter::default(),
                channel: Channel::Import,
            };
            let (id, number, _) = insert_case(
                &mut tx,
                self.keys(),
                project.id,
                &report,
                Some(viewer.user_id),
                now,
            )
            .await?;
            created.push((
                id,
                embargo_core::reference::case_reference(project.key.as_str(), number),
            ));
        }
        tx.commit().await?;
        let candidates = self.candidates(project.id).await?;
        let mut out = Vec::with_capacity(created.len());
        let mut read = Vec::new();
        for (id, reference) in created {
            let duplicates = match candidates.iter().find(|(cid, ..)| *cid == id) {
                Some(own) => Self::rank(&candidates, id, &own.4),
                None => Vec::new(),
            };
            read.extend(
                duplicates
                    .iter()
                    .filter(|(other, _)| *other > 0)
                    .map(|(other, _)| Entry::new(viewer, *other, Read::Summary)),
            );
            out.push(ImportedCase {
                reference: reference
                    .parse()
                    .map_err(|_| StoreError::Corrupt("case reference".into()))?,
                duplicates: duplicates.into_iter().map(|(_, p)| p).collect(),
            });
        }
        self.audit(read).await?;
        tracing::info!(project = %project.key, cases = out.len(), "findings imported");
        Ok(out)
    }
}
