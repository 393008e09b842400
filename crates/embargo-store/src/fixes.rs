//! The private fix per branch (SPEC §2.5–2.6): each branch's stages, the private patches
//! and testing evidence as sealed case files, and what fix-ready waits for. A stage is a
//! row of `fix_stages` (branch and stage in clear, the rest sealed), a timeline entry and
//! the branch's checklist line; the latest row per branch counts.

use std::collections::HashMap;

use embargo_core::access::{CaseAccess, Need, Viewer};
use embargo_core::case::Versions;
use embargo_core::checklist::{self, MarkStatus};
use embargo_core::fix::{self, FixDetail, FixStage, PatchSummary, TestingEvidence};
use embargo_core::reference::CaseRef;
use embargo_core::timeline::EventKind;
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::access::authorize;
use crate::attachments::Upload;
use crate::audit::{Entry, Read};
use crate::case_row::{Loaded, load};
use crate::seal::{open_json, seal_json};
use crate::timeline::{Act, open_bytes_logged, open_logged, record_event, record_mark, touch};
use crate::{Result, Store, StoreError, contexts, millis, rfc};

/// The largest private patch taken, in bytes (a request body's limit too).
pub const PATCH_LIMIT: usize = 1024 * 1024;

/// One stage recorded on a branch.
#[derive(Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct FixRecord {
    /// The stage reached.
    pub stage: FixStage,
    /// What it records.
    pub detail: FixDetail,
    /// Who recorded it.
    pub by: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// Where the fix stands on one branch.
#[derive(Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct BranchFix {
    /// Trunk or a supported release branch.
    pub branch: String,
    /// The latest stage, if any was recorded.
    pub current: Option<FixRecord>,
    /// Every stage, oldest first.
    pub history: Vec<FixRecord>,
    /// Whether nothing more is needed on this branch before fix-ready.
    pub done: bool,
}

/// A file the team added to a case.
#[derive(Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct CaseFile {
    /// Its id.
    pub id: i64,
    /// What it is for: `patch` or `evidence`.
    pub purpose: String,
    /// Its name.
    pub filename: String,
    /// Its size in bytes.
    pub size: i64,
    /// Who added it.
    pub by: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// Testing evidence as recorded.
#[derive(Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct EvidenceEntry {
    /// What was tested, the links and the files, as recorded.
    pub text: String,
    /// Who recorded it.
    pub by: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// The fix of a case, across its branches.
#[derive(Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct FixBoard {
    /// Trunk first, then each supported branch.
    pub branches: Vec<BranchFix>,
    /// Testing evidence, oldest first.
    pub evidence: Vec<EvidenceEntry>,
    /// Private patches and evidence files.
    pub files: Vec<CaseFile>,
    /// The branches still waiting for a merge (or not affected).
    pub open: Vec<String>,
    /// Whether the case may move to fix-ready as far as the fix goes.
    pub ready: bool,
}

/// The branches whose fix line is not done, and whether testing evidence is recorded:
/// what fix-ready waits for. The checklist lines follow the fix records (and, for cases
/// from before them, the marks made by hand then).
pub(crate) async fn pending(
    conn: &mut AnyConnection,
    case_id: i64,
    branches: &[String],
) -> Result<(Vec<String>, bool)> {
    let rows = sqlx::query(
        "SELECT item, status FROM checklist_marks WHERE case_id = $1 AND (item LIKE 'fix:%' OR item = $2) ORDER BY id",
    )
    .bind(case_id)
    .bind(checklist::TESTING)
    .fetch_all(&mut *conn)
    .await?;
    let mut latest = HashMap::new();
    for row in rows {
        latest.insert(
            row.try_get::<String, _>("item")?,
            row.try_get::<String, _>("status")?,
        );
    }
    let settled = |key: &str| {
        latest.get(key).is_some_and(|s| {
            s == MarkStatus::Done.as_str() || s == MarkStatus::NotApplicable.as_str()
        })
    };
    let open = fix::branches(branches)
        .into_iter()
        .filter(|b| !settled(&fix::checklist_item(b)))
        .collect();
    Ok((open, settled(checklist::TESTING)))
}

fn confirmed(case: &Loaded) -> Result<()> {
    if case.state.is_confirmed() {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "the fix is tracked once the case is confirmed (it is {})",
            case.state
        )))
    }
}

fn known_branch(case: &Loaded, branch: &str) -> Result<()> {
    let known = fix::branches(&case.branches);
    if known.iter().any(|b| b == branch) {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            fix::FixError::UnknownBranch {
                branch: branch.chars().take(200).collect(),
                known,
            }
            .to_string(),
        ))
    }
}

/// What the case shows of a patch file, once it is read as one.
fn patch_summary(filename: &str, bytes: &[u8]) -> Result<PatchSummary> {
    let set = embargo_mail::patch::parse(bytes, PATCH_LIMIT)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let first = set.patches.first().cloned();
    Ok(PatchSummary {
        file_id: 0,
        subject: first
            .as_ref()
            .map(|p| p.subject.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| filename.to_owned()),
        author: first.as_ref().and_then(|p| p.author.clone()),
        commit: first.and_then(|p| p.commit),
        patches: set.patches.len(),
    })
}

fn check_filename(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "a file needs a name of 1 to 255 bytes without control characters".into(),
        ));
    }
    Ok(name)
}

impl Store {
    /// The fix of a case: each branch's stages, the testing evidence and the files.
    pub async fn fixes(&self, viewer: &Viewer, case_ref: &CaseRef) -> Result<FixBoard> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Read).await?;
        let case = load(&mut conn, self.keys(), auth.case_id, false).await?;
        let board = self.board(&mut conn, &case, auth.case_id).await?;
        drop(conn);
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Fixes)])
            .await?;
        Ok(board)
    }

    async fn board(
        &self,
        conn: &mut AnyConnection,
        case: &Loaded,
        case_id: i64,
    ) -> Result<FixBoard> {
        let rows = sqlx::query(
            "SELECT s.id, s.branch, s.stage, s.at, s.detail_sealed, u.email FROM fix_stages s LEFT JOIN users u ON u.id = s.actor_id \
             WHERE s.case_id = $1 ORDER BY s.id",
        )
        .bind(case_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut by_branch: HashMap<String, Vec<FixRecord>> = HashMap::new();
        for row in rows {
            let branch: String = row.try_get("branch")?;
            let stage = FixStage::parse(&row.try_get::<String, _>("stage")?)
                .ok_or_else(|| StoreError::Corrupt("fix stage".into()))?;
            let detail: FixDetail = open_json(
                self.keys(),
                &contexts::fix(case.project_id, case_id, &branch),
                &row.try_get::<Vec<u8>, _>("detail_sealed")?,
            )?;
            by_branch.entry(branch).or_default().push(FixRecord {
                stage,
                detail,
                by: row.try_get("email")?,
                at: rfc(row.try_get("at")?),
            });
        }
        let (open, tested) = pending(conn, case_id, &case.branches).await?;
        let branches = fix::branches(&case.branches)
            .into_iter()
            .map(|branch| {
                let history = by_branch.remove(&branch).unwrap_or_default();
                BranchFix {
                    done: !open.contains(&branch),
                    current: history.last().cloned(),
                    history,
                    branch,
                }
            })
            .collect();
        let events = sqlx::query(
            "SELECT e.id, e.at, e.detail_sealed, u.email FROM case_events e LEFT JOIN users u ON u.id = e.actor_id \
             WHERE e.case_id = $1 AND e.kind = $2 ORDER BY e.id",
        )
        .bind(case_id)
        .bind(EventKind::TestingEvidence.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let mut evidence = Vec::new();
        for row in events {
            let sealed: Option<Vec<u8>> = row.try_get("detail_sealed")?;
            let Some(sealed) = sealed else { continue };
            evidence.push(EvidenceEntry {
                text: open_logged(
                    self.keys(),
                    &contexts::event(
                        case.project_id,
                        case_id,
                        EventKind::TestingEvidence.as_str(),
                    ),
                    &sealed,
                    "case_events",
                    row.try_get("id")?,
                )?,
                by: row.try_get("email")?,
                at: rfc(row.try_get("at")?),
            });
        }
        let files = self
            .file_rows(conn, case.project_id, case_id, None)
            .await?
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        Ok(FixBoard {
            ready: open.is_empty() && tested,
            branches,
            evidence,
            files,
            open,
        })
    }

    async fn file_rows(
        &self,
        conn: &mut AnyConnection,
        project_id: i64,
        case_id: i64,
        only: Option<i64>,
    ) -> Result<Vec<(CaseFile, Vec<u8>)>> {
        let rows = sqlx::query(
            "SELECT f.id, f.purpose, f.size, f.at, f.meta_sealed, f.data_sealed, u.email FROM case_files f LEFT JOIN users u ON u.id = f.actor_id \
             WHERE f.case_id = $1 AND ($2 = 0 OR f.id = $2) ORDER BY f.id",
        )
        .bind(case_id)
        .bind(only.unwrap_or(0))
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let context = |part| contexts::case_file(project_id, case_id, id, part);
            let filename = open_logged(
                self.keys(),
                &context("meta"),
                &row.try_get::<Vec<u8>, _>("meta_sealed")?,
                "case_files",
                id,
            )?;
            let data = match only {
                Some(_) => open_bytes_logged(
                    self.keys(),
                    &context("data"),
                    &row.try_get::<Vec<u8>, _>("data_sealed")?,
                    "case_files",
                    id,
                )?,
                None => Vec::new(),
            };
            out.push((
                CaseFile {
                    id,
                    purpose: row.try_get("purpose")?,
                    filename,
                    size: row.try_get("size")?,
                    by: row.try_get("email")?,
                    at: rfc(row.try_get("at")?),
                },
                data,
            ));
        }
        Ok(out)
    }

    /// One file the team added, with its bytes.
    pub async fn case_file(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        id: i64,
    ) -> Result<(CaseFile, Vec<u8>)> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Read).await?;
        let file = self
            .file_rows(&mut conn, auth.project_id, auth.case_id, Some(id))
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound("file"))?;
        drop(conn);
        self.audit(vec![Entry::new(viewer, auth.case_id, Read::Fixes)])
            .await?;
        Ok(file)
    }

    async fn insert_file(
        &self,
        conn: &mut AnyConnection,
        act: Act,
        project_id: i64,
        purpose: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO case_files (case_id, purpose, size, actor_id, at, meta_sealed, data_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(act.case_id)
        .bind(purpose)
        .bind(bytes.len() as i64)
        .bind(act.actor)
        .bind(act.now)
        .bind(Vec::<u8>::new())
        .bind(Vec::<u8>::new())
        .fetch_one(&mut *conn)
        .await?;
        let id: i64 = row.try_get("id")?;
        let context = |part| contexts::case_file(project_id, act.case_id, id, part);
        sqlx::query("UPDATE case_files SET meta_sealed = $1, data_sealed = $2 WHERE id = $3")
            .bind(self.keys().seal(&context("meta"), filename.as_bytes())?)
            .bind(self.keys().seal(&context("data"), bytes)?)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(id)
    }

    /// Records a stage of the fix on one branch. A patch is given only by
    /// [`Store::import_patch`]; what callers send in `detail.patch` is ignored.
    pub async fn record_fix(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        branch: &str,
        stage: FixStage,
        detail: &FixDetail,
    ) -> Result<FixBoard> {
        let given = FixDetail {
            patch: None,
            ..detail.clone()
        };
        self.write_fix(viewer, case_ref, branch, stage, given, None)
            .await
    }

    /// Takes a private patch (`git format-patch` output or a unified diff) onto the case,
    /// sealed, and records the branch's fix as proposed with it.
    pub async fn import_patch(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        branch: &str,
        filename: &str,
        bytes: &[u8],
        note: Option<&str>,
    ) -> Result<FixBoard> {
        let given = FixDetail {
            note: note.map(str::to_owned),
            ..FixDetail::default()
        };
        self.write_fix(
            viewer,
            case_ref,
            branch,
            FixStage::Proposed,
            given,
            Some((filename, bytes)),
        )
        .await
    }

    async fn write_fix(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        branch: &str,
        stage: FixStage,
        mut given: FixDetail,
        patch: Option<(&str, &[u8])>,
    ) -> Result<FixBoard> {
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        // A collaborator may propose a patch; only the team records what became of it.
        let need = match patch {
            Some(_) => Need::Contribute,
            None => Need::Change,
        };
        let auth = authorize(&mut tx, viewer, case_ref, need).await?;
        let case = load(&mut tx, self.keys(), auth.case_id, false).await?;
        confirmed(&case)?;
        known_branch(&case, branch)?;
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        let last = sqlx::query(
            "SELECT stage, detail_sealed FROM fix_stages WHERE case_id = $1 AND branch = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(auth.case_id)
        .bind(branch)
        .fetch_optional(&mut *tx)
        .await?;
        let previous = match &last {
            Some(row) => Some(open_json::<FixDetail>(
                self.keys(),
                &contexts::fix(auth.project_id, auth.case_id, branch),
                &row.try_get::<Vec<u8>, _>("detail_sealed")?,
            )?),
            None => None,
        };
        // A collaborator's patch never undoes what the team recorded after a proposal.
        if auth.access != CaseAccess::Team
            && let Some(row) = &last
        {
            let stage: String = row.try_get("stage")?;
            if FixStage::parse(&stage).is_some_and(|s| s != FixStage::Proposed) {
                return Err(StoreError::Invalid(format!(
                    "the fix on {branch} is already recorded as {stage}: the security team can reopen it"
                )));
            }
        }
        let mut file_id = None;
        if let Some((filename, bytes)) = patch {
            let filename = check_filename(filename)?;
            let mut summary = patch_summary(filename, bytes)?;
            let id = self
                .insert_file(&mut tx, act, auth.project_id, "patch", filename, bytes)
                .await?;
            summary.file_id = id;
            file_id = Some(id);
            given.patch = Some(summary);
        }
        let detail = fix::checked(stage, &given, previous.as_ref())
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let said = fix::describe(branch, stage, &detail);
        sqlx::query(
            "INSERT INTO fix_stages (case_id, branch, stage, file_id, actor_id, at, detail_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(auth.case_id)
        .bind(branch)
        .bind(stage.as_str())
        .bind(file_id)
        .bind(viewer.user_id)
        .bind(now)
        .bind(seal_json(
            self.keys(),
            &contexts::fix(auth.project_id, auth.case_id, branch),
            &detail,
        )?)
        .execute(&mut *tx)
        .await?;
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::FixStage,
            None,
            Some(&said),
        )
        .await?;
        let mark = match stage {
            FixStage::NotAffected => MarkStatus::NotApplicable,
            FixStage::Proposed => MarkStatus::Open,
            FixStage::Merged | FixStage::Released => MarkStatus::Done,
        };
        record_mark(
            &mut tx,
            self.keys(),
            act,
            &fix::checklist_item(branch),
            mark,
            Some(&said),
        )
        .await?;
        // The advisory's fixed versions come from the releases.
        if let (FixStage::Released, Some(version)) = (stage, &detail.version)
            && !case.versions.fixed.contains(version)
        {
            let mut versions: Versions = case.versions.clone();
            versions.fixed.retain(|v| !v.trim().is_empty());
            versions.fixed.push(version.clone());
            sqlx::query("UPDATE cases SET versions_sealed = $1 WHERE id = $2")
                .bind(seal_json(
                    self.keys(),
                    &case.context("versions"),
                    &versions,
                )?)
                .bind(auth.case_id)
                .execute(&mut *tx)
                .await?;
        }
        touch(&mut tx, auth.case_id, now).await?;
        tx.commit().await?;
        self.fixes(viewer, case_ref).await
    }

    /// Records testing evidence: what was tested, links, and files kept sealed on the case.
    pub async fn record_testing(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        evidence: &TestingEvidence,
        files: &[Upload<'_>],
    ) -> Result<FixBoard> {
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        // Who may act is settled before what they sent is judged.
        let auth = authorize(&mut tx, viewer, case_ref, Need::Contribute).await?;
        let evidence = evidence
            .checked()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        if files.len() > 20 {
            return Err(StoreError::Invalid("at most 20 files at once".into()));
        }
        for file in files {
            check_filename(file.filename)?;
            if file.bytes.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "{} is empty",
                    file.filename.trim()
                )));
            }
            if file.bytes.len() > file.limit {
                return Err(StoreError::Invalid(format!(
                    "{} is larger than the limit of {} bytes",
                    file.filename.trim(),
                    file.limit
                )));
            }
        }
        let case = load(&mut tx, self.keys(), auth.case_id, false).await?;
        confirmed(&case)?;
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        let mut names = Vec::new();
        for file in files {
            let name = file.filename.trim();
            self.insert_file(&mut tx, act, auth.project_id, "evidence", name, file.bytes)
                .await?;
            names.push(name.to_owned());
        }
        let said = evidence.describe(&names);
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::TestingEvidence,
            None,
            Some(&said),
        )
        .await?;
        record_mark(
            &mut tx,
            self.keys(),
            act,
            checklist::TESTING,
            MarkStatus::Done,
            Some(&said),
        )
        .await?;
        touch(&mut tx, auth.case_id, now).await?;
        tx.commit().await?;
        self.fixes(viewer, case_ref).await
    }
}
