//! CVE Services: the organisation's credentials (sealed) and the state of each case's
//! CVE ID there (RESERVED, PUBLISHED, REJECTED), recorded as the server acts on it.

use embargo_core::access::{Need, Viewer};
use embargo_core::checklist::{self, MarkStatus};
use embargo_core::cve_record::{CveRecordState, CveState};
use embargo_core::reference::CaseRef;
use embargo_core::timeline::EventKind;
use sqlx::Row;
use time::OffsetDateTime;

use crate::access::authorize;
use crate::case_row::load;
use crate::cases::ctx;
use crate::timeline::{Act, record_event, record_mark, touch};
use crate::{Result, Store, StoreError, millis, rfc};

/// Credentials for CVE Services. The key never appears in Debug output.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct CveCredentials {
    /// The API's base URL, e.g. https://cveawg.mitre.org/api.
    pub api_url: String,
    /// The CNA's short name (CVE-API-ORG).
    pub org: String,
    /// The user name (CVE-API-USER).
    pub user: String,
    key: String,
}

impl std::fmt::Debug for CveCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CveCredentials({} as {}@{}, key [redacted])",
            self.api_url, self.user, self.org
        )
    }
}

impl CveCredentials {
    /// Credentials, checked for shape.
    pub fn new(api_url: &str, org: &str, user: &str, key: &str) -> Result<CveCredentials> {
        if !(api_url.starts_with("https://") || is_loopback_http(api_url)) {
            return Err(StoreError::Invalid(format!(
                "'{api_url}' is not an https URL: the API key must not travel in clear (plain http is accepted on loopback only)"
            )));
        }
        if org.trim().is_empty() || user.trim().is_empty() || key.trim().is_empty() {
            return Err(StoreError::Invalid(
                "CVE Services needs an organisation, a user and an API key".into(),
            ));
        }
        Ok(CveCredentials {
            api_url: api_url.trim().to_owned(),
            org: org.trim().to_owned(),
            user: user.trim().to_owned(),
            key: key.trim().to_owned(),
        })
    }

    /// Whether requests may go to `url`: https, or http to this machine (a local proxy or
    /// a test stand-in), never plain http over a network.
    pub fn allows(url: &str) -> bool {
        url.starts_with("https://") || is_loopback_http(url)
    }

    /// The API key, for the request header only.
    pub fn key(&self) -> &str {
        &self.key
    }
}

fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What the server needs to act on a case's CVE ID.
pub struct CveContext {
    /// The case.
    pub case_id: i64,
    /// The organisation's credentials, when configured.
    pub credentials: Option<CveCredentials>,
    /// The case's CVE ID, if it has one.
    pub cve_id: Option<String>,
    /// Its state, when known.
    pub state: Option<CveState>,
}

/// Whether a case's CVE ID can be reserved here, and by this viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CveReservation {
    /// The organisation has CVE Services credentials.
    pub configured: bool,
    /// The viewer may reserve: on the foundation team (the CNA), or on a project team
    /// the organisation delegated reservation to.
    pub may_reserve: bool,
}

impl CveReservation {
    /// The refusal for a viewer who may not reserve.
    pub fn allowed(self) -> Result<()> {
        match self.may_reserve {
            true => Ok(()),
            false => Err(StoreError::Forbidden(
                "CVE IDs are reserved by the foundation security team, the organisation's CNA: ask them for one, or to delegate reservation to this project",
            )),
        }
    }
}

/// The one place that decides who reserves CVE IDs for a case.
async fn reservation(
    conn: &mut sqlx::AnyConnection,
    viewer: &Viewer,
    case_id: i64,
) -> Result<CveReservation> {
    let row = sqlx::query(
        "SELECT CASE WHEN o.cve_services_sealed IS NULL THEN 0 ELSE 1 END AS configured, o.id AS org_id, p.cve_delegated \
         FROM cases c JOIN projects p ON p.id = c.project_id JOIN organisations o ON o.id = p.org_id WHERE c.id = $1",
    )
    .bind(case_id)
    .fetch_one(&mut *conn)
    .await?;
    let org_id: i64 = row.try_get("org_id")?;
    let delegated = row.try_get::<i64, _>("cve_delegated")? != 0;
    Ok(CveReservation {
        configured: row.try_get::<i64, _>("configured")? == 1,
        may_reserve: !viewer.read_only && (viewer.foundation_orgs.contains(&org_id) || delegated),
    })
}

impl Store {
    /// Stores an organisation's CVE Services credentials, sealed.
    pub async fn set_cve_credentials(&self, org: &str, credentials: &CveCredentials) -> Result<()> {
        let id: i64 = sqlx::query("SELECT id FROM organisations WHERE name = $1")
            .bind(org)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("organisation"))?
            .try_get("id")?;
        let json =
            serde_json::to_vec(credentials).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("UPDATE organisations SET cve_services_sealed = $1 WHERE id = $2")
            .bind(
                self.keys()
                    .seal(&crate::contexts::cve_credentials(id), &json)?,
            )
            .bind(id)
            .execute(self.writer())
            .await?;
        tracing::info!(org = id, "CVE Services credentials set");
        Ok(())
    }

    /// Every organisation's CVE Services credentials, opened: for the operator's
    /// `embargo config check`, which holds the master key anyway.
    pub async fn all_cve_credentials(&self) -> Result<Vec<(String, CveCredentials)>> {
        let rows = sqlx::query(
            "SELECT id, name, cve_services_sealed FROM organisations WHERE cve_services_sealed IS NOT NULL ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let sealed: Vec<u8> = row.try_get("cve_services_sealed")?;
                let plain = self.keys().open(
                    &crate::contexts::cve_credentials(row.try_get("id")?),
                    &sealed,
                )?;
                let credentials = serde_json::from_slice(&plain)
                    .map_err(|_| StoreError::Corrupt("CVE Services credentials".into()))?;
                Ok((row.try_get("name")?, credentials))
            })
            .collect()
    }

    /// What is known of a case's CVE ID, for someone who may change the case.
    pub async fn cve_context(&self, viewer: &Viewer, case_ref: &CaseRef) -> Result<CveContext> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Change).await?;
        self.cve_context_of(&mut conn, auth.case_id).await
    }

    /// Whether the case's organisation has CVE Services credentials (without opening
    /// them: the case page asks on every view), and whether this viewer may reserve.
    pub async fn cve_reservation(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
    ) -> Result<CveReservation> {
        let mut conn = self.pool.acquire().await?;
        let auth = authorize(&mut conn, viewer, case_ref, Need::Change).await?;
        reservation(&mut conn, viewer, auth.case_id).await
    }

    /// Delegates reserving CVE IDs to a project's team, or withdraws it; recorded in the
    /// audit chain. `by` is the foundation team member doing it (none: the operator's CLI).
    pub async fn set_cve_delegation(
        &self,
        key: &embargo_core::reference::ProjectKey,
        delegated: bool,
        by: Option<&Viewer>,
    ) -> Result<()> {
        let project = self.project(key).await?;
        if let Some(viewer) = by {
            let org_id: i64 = sqlx::query("SELECT org_id FROM projects WHERE id = $1")
                .bind(project.id)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
            if viewer.read_only || !viewer.foundation_orgs.contains(&org_id) {
                return Err(StoreError::Forbidden(
                    "only the organisation's foundation security team delegates CVE ID reservation",
                ));
            }
        }
        sqlx::query("UPDATE projects SET cve_delegated = $1 WHERE id = $2")
            .bind(i64::from(delegated))
            .bind(project.id)
            .execute(self.writer())
            .await?;
        let what = match delegated {
            true => format!("project {key}: CVE ID reservation delegated to the project team"),
            false => format!("project {key}: CVE ID reservation delegation withdrawn"),
        };
        self.audit_change(by.map(|v| v.user_id), what).await
    }

    pub(crate) async fn cve_context_of(
        &self,
        conn: &mut sqlx::AnyConnection,
        case_id: i64,
    ) -> Result<CveContext> {
        let row = sqlx::query(
            "SELECT c.project_id, c.number, c.cve_sealed, c.cve_state_sealed, o.id AS org_id, o.cve_services_sealed \
             FROM cases c JOIN projects p ON p.id = c.project_id JOIN organisations o ON o.id = p.org_id WHERE c.id = $1",
        )
        .bind(case_id)
        .fetch_one(&mut *conn)
        .await?;
        let (project_id, number): (i64, i64) = (row.try_get("project_id")?, row.try_get("number")?);
        let credentials = match row.try_get::<Option<Vec<u8>>, _>("cve_services_sealed")? {
            Some(sealed) => {
                let plain = self.keys().open(
                    &crate::contexts::cve_credentials(row.try_get("org_id")?),
                    &sealed,
                )?;
                Some(
                    serde_json::from_slice(&plain)
                        .map_err(|_| StoreError::Corrupt("CVE Services credentials".into()))?,
                )
            }
            None => None,
        };
        let cve_id = row
            .try_get::<Option<Vec<u8>>, _>("cve_sealed")?
            .map(|s| self.keys().open_string(&ctx(project_id, number, "cve"), &s))
            .transpose()?;
        let state = match row.try_get::<Option<Vec<u8>>, _>("cve_state_sealed")? {
            Some(s) => Some(
                serde_json::from_slice(
                    &self
                        .keys()
                        .open(&ctx(project_id, number, "cve-state"), &s)?,
                )
                .map_err(|_| StoreError::Corrupt("CVE state".into()))?,
            ),
            None => None,
        };
        Ok(CveContext {
            case_id,
            credentials,
            cve_id,
            state,
        })
    }

    /// Records a CVE ID reserved at CVE Services as the case's, with its checklist mark.
    pub async fn record_cve_reserved(
        &self,
        viewer: &Viewer,
        case_ref: &CaseRef,
        cve_id: &str,
    ) -> Result<()> {
        if !embargo_formats::cve5::is_cve_id(cve_id) {
            return Err(StoreError::Invalid(
                "CVE Services answered with something that is not a CVE ID".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let auth = authorize(&mut tx, viewer, case_ref, Need::Change).await?;
        reservation(&mut tx, viewer, auth.case_id)
            .await?
            .allowed()?;
        let case = load(&mut tx, self.keys(), auth.case_id, false).await?;
        let now = millis(OffsetDateTime::now_utc());
        sqlx::query("UPDATE cases SET cve_sealed = $1 WHERE id = $2")
            .bind(self.keys().seal_str(&case.field_context("cve"), cve_id)?)
            .bind(auth.case_id)
            .execute(&mut *tx)
            .await?;
        crate::search::index_text(
            &mut tx,
            self.keys(),
            auth.case_id,
            crate::search::Source::Cve,
            cve_id,
        )
        .await?;
        self.write_cve_state(
            &mut tx,
            auth.case_id,
            &case.field_context("cve-state"),
            CveRecordState::Reserved,
            now,
        )
        .await?;
        let act = Act {
            case_id: auth.case_id,
            actor: Some(viewer.user_id),
            now,
        };
        record_mark(
            &mut tx,
            self.keys(),
            act,
            checklist::CVE_RESERVED,
            MarkStatus::Done,
            None,
        )
        .await?;
        record_event(
            &mut tx,
            self.keys(),
            act,
            EventKind::Cve,
            None,
            Some(&format!("{cve_id} reserved through CVE Services")),
        )
        .await?;
        touch(&mut tx, auth.case_id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a new state of the case's CVE ID (PUBLISHED, REJECTED) after CVE Services
    /// took the change.
    pub async fn record_cve_state(
        &self,
        actor: Option<i64>,
        case_id: i64,
        state: CveRecordState,
        note: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let case = load(&mut tx, self.keys(), case_id, false).await?;
        let now = millis(OffsetDateTime::now_utc());
        self.write_cve_state(
            &mut tx,
            case_id,
            &case.field_context("cve-state"),
            state,
            now,
        )
        .await?;
        let act = Act {
            case_id,
            actor,
            now,
        };
        if state == CveRecordState::Published {
            record_mark(
                &mut tx,
                self.keys(),
                act,
                "cve-published",
                MarkStatus::Done,
                None,
            )
            .await?;
        }
        record_event(&mut tx, self.keys(), act, EventKind::Cve, None, Some(note)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn write_cve_state(
        &self,
        conn: &mut sqlx::AnyConnection,
        case_id: i64,
        context: &str,
        state: CveRecordState,
        now: i64,
    ) -> Result<()> {
        let value = CveState {
            state,
            at: rfc(now),
        };
        let json = serde_json::to_vec(&value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("UPDATE cases SET cve_state_sealed = $1 WHERE id = $2")
            .bind(self.keys().seal(context, &json)?)
            .bind(case_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// What a job needs to update a published CVE record.
pub struct CveUpdate {
    /// The case.
    pub case_id: i64,
    /// The organisation's credentials.
    pub credentials: CveCredentials,
    /// The CVE ID.
    pub cve_id: String,
    /// The record as it now stands.
    pub record: serde_json::Value,
}

impl Store {
    /// The update a `cve-update` job sends; `None` when there is nothing to send (no
    /// credentials, no published record).
    pub async fn cve_update(
        &self,
        job: &crate::Job,
        public_url: &str,
    ) -> Result<Option<CveUpdate>> {
        let case_id = job.case_id()?;
        let mut conn = self.pool.acquire().await?;
        let context = self.cve_context_of(&mut conn, case_id).await?;
        let case = load(&mut conn, self.keys(), case_id, false).await?;
        drop(conn);
        let (Some(credentials), Some(cve_id)) = (context.credentials, context.cve_id) else {
            return Ok(None);
        };
        if !context.state.as_ref().is_some_and(CveState::is_published) {
            return Ok(None);
        }
        let publication = self.publication(&case, public_url).await?;
        let cna = match (&publication.org.cna_org_id, &publication.org.cna_short_name) {
            (Some(id), Some(name)) => embargo_formats::cve5::Cna {
                org_id: id.clone(),
                short_name: name.clone(),
            },
            _ => return Ok(None),
        };
        let record = embargo_formats::cve5::Record::from_advisory(&publication.advisory, &cna)
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            .to_json();
        Ok(Some(CveUpdate {
            case_id,
            credentials,
            cve_id,
            record,
        }))
    }
}
