//! A case as stored: the one SELECT every read starts from, the case's sealed columns, and
//! `Loaded`, the row with its sealed fields opened, from which every view of a case and
//! every document about it is made.

use embargo_core::case::{AdvisoryDraft, Channel, Reporter, Versions};
use embargo_core::clocks::{self, CaseTimes};
use embargo_core::cvss::{Cvss, CvssSummary, ratings};
use embargo_core::lifecycle::{CaseFacts, State};
use embargo_core::project::ClockSettings;
use embargo_core::reference::{CaseRef, ProjectKey};
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

/// A case field's seal context, `ctx(project_id, number, field)`.
use crate::contexts::case_field as ctx;
use crate::seal::open_json;
use crate::views::{AdvisoryView, CaseDetail, CaseSummary, EmbargoOverride, MergedReporter};
use crate::{Keyring, Result, StoreError, from_millis, millis, rfc};

/// `c.state IN (…)` for the states that satisfy `which`, drawn from the lifecycle so
/// that no query lists states by hand.
pub(crate) fn state_in(which: impl Fn(State) -> bool) -> String {
    let names: Vec<String> = embargo_core::lifecycle::ALL_STATES
        .into_iter()
        .filter(|s| which(*s))
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("c.state IN ({})", names.join(", "))
}

pub(crate) fn parse_state(s: &str) -> Result<State> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown state {s}")))
}

macro_rules! case_from {
    () => {
        "FROM cases c JOIN projects p ON p.id = c.project_id \
         LEFT JOIN cases d ON d.id = c.duplicate_of LEFT JOIN projects dp ON dp.id = d.project_id \
         LEFT JOIN users ou ON ou.id = c.owner_id"
    };
}

macro_rules! case_columns {
    () => {
        "c.*, p.key AS project_key, p.branches, p.clock_settings, p.disclosure AS project_disclosure, \
         d.number AS dup_number, dp.key AS dup_key, ou.email AS owner_email"
    };
}

/// The columns [`Loaded::from_row`] reads, for queries that select more.
pub(crate) const CASE_COLUMNS: &str = case_columns!();

pub(crate) const CASE_SELECT: &str = concat!("SELECT ", case_columns!(), " ", case_from!());

/// Every sealed column of `cases` with the field name its seal context binds it to
/// (`ctx(project, number, field)`): the one list that re-sealing, routing to another
/// project and the backup's coverage check go by.
pub const SEALED_CASE_FIELDS: &[(&str, &str)] = &[
    ("title_sealed", "title"),
    ("description_sealed", "description"),
    ("reporter_sealed", "reporter"),
    ("cvss_sealed", "cvss"),
    ("cve_sealed", "cve"),
    ("versions_sealed", "versions"),
    ("advisory_sealed", "advisory"),
    ("override_sealed", "override"),
    ("terms_sealed", "terms"),
    ("reporter_link_sealed", "reporter-link"),
    ("merged_sealed", "merged"),
    ("reporter_key_sealed", "reporter-key"),
    ("advisory_url_sealed", "advisory-url"),
    ("cve_state_sealed", "cve-state"),
    ("retrospective_sealed", "retrospective"),
    ("credit_sealed", "credit"),
];

/// What a list reads of each case: its times, state, owner, and of its sealed columns
/// only the title and the rating (a summary shows no more, and opening the rest of
/// fifty cases was most of a list page's cost).
pub(crate) const SUMMARY_SELECT: &str = "SELECT c.id, c.project_id, c.number, c.state, c.received_at, \
     c.acknowledged_at, c.confirmed_at, c.fix_ready_at, c.announced_at, c.embargo_at, c.last_activity_at, \
     c.updated_at, c.title_sealed, c.cvss_sealed, p.key AS project_key, p.clock_settings, ou.email AS owner_email \
     FROM cases c JOIN projects p ON p.id = c.project_id LEFT JOIN users ou ON ou.id = c.owner_id";

/// The primary rating's severity of a row holding `cvss_sealed`.
fn severity_from_row(
    keys: &Keyring,
    row: &sqlx::any::AnyRow,
    project_id: i64,
    number: i64,
) -> Result<Option<embargo_core::cvss::Severity>> {
    let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>("cvss_sealed")? else {
        return Ok(None);
    };
    let stored = keys.open_string(&ctx(project_id, number, "cvss"), &sealed)?;
    let rated = ratings::from_stored(&stored)
        .map_err(|_| StoreError::Corrupt("stored CVSS vector".into()))?;
    Ok(ratings::primary(&rated).map(Cvss::severity))
}

/// What the clocks need of a row holding the case's clear times.
fn times_from_row(
    row: &sqlx::any::AnyRow,
    state: State,
    severity: Option<embargo_core::cvss::Severity>,
) -> Result<CaseTimes> {
    let at = |col: &str| -> Result<Option<OffsetDateTime>> {
        Ok(row.try_get::<Option<i64>, _>(col)?.map(from_millis))
    };
    Ok(CaseTimes {
        state,
        received_at: from_millis(row.try_get("received_at")?),
        acknowledged_at: at("acknowledged_at")?,
        confirmed_at: at("confirmed_at")?,
        fix_ready_at: at("fix_ready_at")?,
        announced_at: at("announced_at")?,
        last_activity_at: from_millis(row.try_get("last_activity_at")?),
        severity,
    })
}

/// A case's summary from a row of [`SUMMARY_SELECT`].
pub(crate) fn summary_from_row(
    keys: &Keyring,
    row: &sqlx::any::AnyRow,
    now: OffsetDateTime,
) -> Result<CaseSummary> {
    let project_id: i64 = row.try_get("project_id")?;
    let number: i64 = row.try_get("number")?;
    let open = |field: &str, col: &str| -> Result<Option<String>> {
        row.try_get::<Option<Vec<u8>>, _>(col)?
            .map(|s| {
                keys.open_string(&ctx(project_id, number, field), &s)
                    .map_err(StoreError::from)
            })
            .transpose()
    };
    let severity = severity_from_row(keys, row, project_id, number)?;
    let settings: ClockSettings =
        serde_json::from_str(&row.try_get::<String, _>("clock_settings")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let state = parse_state(&row.try_get::<String, _>("state")?)?;
    let project: ProjectKey = row
        .try_get::<String, _>("project_key")?
        .parse()
        .map_err(|_| StoreError::Corrupt("project key".into()))?;
    let received_at: i64 = row.try_get("received_at")?;
    let times = times_from_row(row, state, severity)?;
    Ok(CaseSummary {
        clocks: clocks::compute(&times, &settings, now),
        reference: CaseRef {
            project: project.clone(),
            number,
        },
        project,
        state,
        title: open("title", "title_sealed")?.unwrap_or_default(),
        received_at: rfc(received_at),
        updated_at: rfc(row.try_get("updated_at")?),
        embargo_at: row.try_get::<Option<i64>, _>("embargo_at")?.map(rfc),
        severity,
        unread: false,
        owner: row.try_get("owner_email")?,
    })
}

/// The joins of `CASE_SELECT`, for queries that select more.
pub(crate) const CASE_FROM: &str = case_from!();

/// A case row with its sealed fields opened.
pub(crate) struct Loaded {
    pub(crate) project_id: i64,
    pub(crate) number: i64,
    pub(crate) project_key: ProjectKey,
    pub(crate) branches: Vec<String>,
    /// The project's announcement lists (its own and oss-security).
    pub(crate) lists: Vec<String>,
    pub(crate) settings: ClockSettings,
    pub(crate) state: State,
    pub(crate) channel: Channel,
    pub(crate) received_at: i64,
    pub(crate) acknowledged_at: Option<i64>,
    pub(crate) confirmed_at: Option<i64>,
    pub(crate) fix_ready_at: Option<i64>,
    pub(crate) announced_at: Option<i64>,
    pub(crate) embargo_at: Option<i64>,
    pub(crate) last_activity_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) duplicate_of: Option<String>,
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) reporter: Option<Reporter>,
    /// The case's own rating: the newest version of `ratings`.
    pub(crate) cvss: Option<Cvss>,
    /// Every rating, at most one per CVSS version, oldest version first.
    pub(crate) ratings: Vec<Cvss>,
    pub(crate) cve_id: Option<String>,
    pub(crate) versions: Versions,
    pub(crate) advisory: AdvisoryDraft,
    pub(crate) embargo_override: Option<EmbargoOverride>,
    pub(crate) sensitive_terms: Vec<String>,
    pub(crate) merged_reporters: Vec<MergedReporter>,
    pub(crate) reporter_key: Option<String>,
    pub(crate) advisory_url: Option<String>,
    pub(crate) cve_state: Option<embargo_core::cve_record::CveState>,
    /// How the reporter wishes to be credited, once they said.
    pub(crate) credit: Option<embargo_core::case::ReporterCredit>,
    /// What triage concluded, kept when the case left triage.
    pub(crate) disposition: Option<embargo_core::triage::Disposition>,
    /// The member who owns the case, by address.
    pub(crate) owner: Option<String>,
    /// Whether the reporter agreed that the case's collaborators may know who they are.
    pub(crate) identity_shared: bool,
}

impl Loaded {
    /// Opens a row; `full` also opens the report text and the reporter's identity,
    /// which a queue listing does not need.
    pub(crate) fn from_row(keys: &Keyring, row: &sqlx::any::AnyRow, full: bool) -> Result<Loaded> {
        let project_id: i64 = row.try_get("project_id")?;
        let number: i64 = row.try_get("number")?;
        let open_text = |field: &str, col: &str| -> Result<Option<String>> {
            let sealed: Option<Vec<u8>> = row.try_get(col)?;
            sealed
                .map(|s| {
                    keys.open_string(&ctx(project_id, number, field), &s)
                        .map_err(StoreError::from)
                })
                .transpose()
        };
        let sealed = |col: &str| -> Result<Option<Vec<u8>>> { Ok(row.try_get(col)?) };
        let ratings = open_text("cvss", "cvss_sealed")?
            .map(|v| {
                ratings::from_stored(&v)
                    .map_err(|_| StoreError::Corrupt("stored CVSS vector".into()))
            })
            .transpose()?
            .unwrap_or_default();
        let cvss = ratings::primary(&ratings).cloned();
        let versions = match sealed("versions_sealed")? {
            Some(s) => open_json(keys, &ctx(project_id, number, "versions"), &s)?,
            None => Versions::default(),
        };
        let advisory = match sealed("advisory_sealed")? {
            Some(s) => open_json(keys, &ctx(project_id, number, "advisory"), &s)?,
            None => AdvisoryDraft::default(),
        };
        let embargo_override = match sealed("override_sealed")? {
            Some(s) => Some(open_json(keys, &ctx(project_id, number, "override"), &s)?),
            None => None,
        };
        let sensitive_terms = match sealed("terms_sealed")? {
            Some(s) => open_json(keys, &ctx(project_id, number, "terms"), &s)?,
            None => Vec::new(),
        };
        let merged_reporters = match (full, sealed("merged_sealed")?) {
            (true, Some(s)) => open_json(keys, &ctx(project_id, number, "merged"), &s)?,
            _ => Vec::new(),
        };
        let reporter_key = match (full, sealed("reporter_key_sealed")?) {
            (true, Some(s)) => {
                Some(keys.open_string(&ctx(project_id, number, "reporter-key"), &s)?)
            }
            _ => None,
        };
        let advisory_url = open_text("advisory-url", "advisory_url_sealed")?;
        let cve_state = match sealed("cve_state_sealed")? {
            Some(s) => Some(open_json(keys, &ctx(project_id, number, "cve-state"), &s)?),
            None => None,
        };
        let credit = match sealed("credit_sealed")? {
            Some(s) => Some(open_json(keys, &ctx(project_id, number, "credit"), &s)?),
            None => None,
        };
        let reporter = match (full, sealed("reporter_sealed")?) {
            (true, Some(s)) => Some(open_json(keys, &ctx(project_id, number, "reporter"), &s)?),
            _ => None,
        };
        let dup_key: Option<String> = row.try_get("dup_key")?;
        let dup_number: Option<i64> = row.try_get("dup_number")?;
        let channel: String = row.try_get("channel")?;
        let branches: String = row.try_get("branches")?;
        let settings: String = row.try_get("clock_settings")?;
        let disclosure: embargo_core::disclosure::DisclosureSettings =
            match row.try_get::<Option<String>, _>("project_disclosure")? {
                Some(text) => serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("disclosure settings: {e}")))?,
                None => Default::default(),
            };
        Ok(Loaded {
            project_id,
            number,
            project_key: row
                .try_get::<String, _>("project_key")?
                .parse()
                .map_err(|_| StoreError::Corrupt("project key".into()))?,
            branches: serde_json::from_str(&branches)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            lists: disclosure.all_lists(),
            settings: serde_json::from_str(&settings)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            state: parse_state(&row.try_get::<String, _>("state")?)?,
            channel: Channel::parse(&channel)
                .ok_or_else(|| StoreError::Corrupt("channel".into()))?,
            received_at: row.try_get("received_at")?,
            acknowledged_at: row.try_get("acknowledged_at")?,
            confirmed_at: row.try_get("confirmed_at")?,
            fix_ready_at: row.try_get("fix_ready_at")?,
            announced_at: row.try_get("announced_at")?,
            embargo_at: row.try_get("embargo_at")?,
            last_activity_at: row.try_get("last_activity_at")?,
            updated_at: row.try_get("updated_at")?,
            duplicate_of: dup_key
                .zip(dup_number)
                .map(|(k, n)| embargo_core::reference::case_reference(&k, n)),
            title: open_text("title", "title_sealed")?.unwrap_or_default(),
            description: if full {
                open_text("description", "description_sealed")?
            } else {
                None
            },
            identity_shared: row
                .try_get::<Option<i64>, _>("identity_shared_at")?
                .is_some(),
            disposition: row
                .try_get::<Option<String>, _>("disposition")?
                .as_deref()
                .and_then(embargo_core::triage::Disposition::parse),
            reporter,
            cvss,
            ratings,
            cve_id: open_text("cve", "cve_sealed")?,
            versions,
            advisory,
            embargo_override,
            sensitive_terms,
            merged_reporters,
            reporter_key,
            advisory_url,
            cve_state,
            credit,
            // Read where the query joined the owner (every case query does).
            owner: row
                .try_get::<Option<String>, _>("owner_email")
                .ok()
                .flatten(),
        })
    }

    /// The advisory as it is published: the team's draft, the case's rating, IDs and
    /// versions, and the dates of the procedure. `page` is Embargo's public page for it.
    pub(crate) fn published(
        &self,
        product: &str,
        vendor: &str,
        coordinates: embargo_formats::Coordinates,
        page: &str,
    ) -> embargo_formats::Advisory {
        use embargo_formats::{Reference, TimelineEntry};
        let draft = &self.advisory;
        let mut references = Vec::new();
        if let Some(url) = &self.advisory_url {
            references.push(Reference {
                url: url.clone(),
                tags: vec!["vendor-advisory".into(), "mailing-list".into()],
            });
        }
        references.push(Reference {
            url: page.to_owned(),
            tags: vec!["vendor-advisory".into()],
        });
        for url in &draft.references {
            if !references.iter().any(|r| &r.url == url) {
                references.push(Reference {
                    url: url.clone(),
                    tags: Vec::new(),
                });
            }
        }
        let mut credits = draft.credits.clone();
        if credits.is_empty() && !draft.credit.trim().is_empty() {
            credits.push(embargo_core::case::Credit {
                name: draft.credit.trim().to_owned(),
                role: embargo_core::case::CreditRole::Finder,
            });
        }
        // The reporter's own wish about their credit comes before the team's draft.
        if let Some(wish) = &self.credit {
            credits = wish.apply(&credits);
        }
        let at = |ms: i64| from_millis(ms);
        let mut timeline = vec![TimelineEntry {
            at: at(self.received_at),
            event: "Reported to the security team".into(),
        }];
        if let Some(t) = self.confirmed_at {
            timeline.push(TimelineEntry {
                at: at(t),
                event: "Confirmed as a vulnerability".into(),
            });
        }
        if let Some(t) = self.fix_ready_at {
            timeline.push(TimelineEntry {
                at: at(t),
                event: "Fix ready and tested".into(),
            });
        }
        let published = self
            .announced_at
            .or(self.embargo_at)
            .map(at)
            .unwrap_or_else(|| at(self.updated_at));
        timeline.push(TimelineEntry {
            at: published,
            event: "Announced".into(),
        });
        embargo_formats::Advisory {
            reference: self.reference(),
            cve_id: self.cve_id.clone(),
            title: if draft.title.trim().is_empty() {
                self.title.clone()
            } else {
                draft.title.clone()
            },
            vendor: vendor.to_owned(),
            product: product.to_owned(),
            description: draft.description.clone(),
            mitigation: draft.mitigation.clone(),
            workarounds: draft.workarounds.clone(),
            cwe: draft.cwe.clone(),
            cvss: self.ratings.clone(),
            products: draft.products.clone(),
            affected: self.versions.affected.clone(),
            fixed: self.versions.fixed.clone(),
            coordinates,
            git: embargo_formats::GitFacts {
                // What git said; else the versions in words where they read as ranges
                // (cases announced before git's facts were kept among them).
                ranges: if self.versions.ranges.is_empty() {
                    self.versions.ranges_from_words().unwrap_or_default()
                } else {
                    self.versions.ranges.clone()
                },
                releases: self.versions.releases.clone(),
                introduced_commit: self.versions.introduced_commit.clone(),
                fixed_commits: self.versions.fixed_commits.clone(),
            },
            credits,
            references,
            timeline,
            published,
            updated: at(self.updated_at).max(published),
        }
    }

    pub(crate) fn embargo_at(&self) -> Option<i64> {
        self.embargo_at
    }

    pub(crate) fn advisory_url(&self) -> Option<&str> {
        self.advisory_url.as_deref()
    }

    pub(crate) fn project_id(&self) -> i64 {
        self.project_id
    }

    /// The reporter's OpenPGP key, when known and readable.
    pub(crate) fn reporter_key(&self) -> Option<embargo_openpgp::PublicKey> {
        self.reporter_key
            .as_deref()
            .and_then(|k| embargo_openpgp::PublicKey::from_armored(k).ok())
    }

    pub(crate) fn reporter_email(&self) -> Option<String> {
        self.reporter
            .as_ref()
            .and_then(|r| r.email.clone())
            .filter(|e| e.contains('@'))
    }

    pub(crate) fn state(&self) -> State {
        self.state
    }

    pub(crate) fn received_at(&self) -> String {
        rfc(self.received_at)
    }

    pub(crate) fn title(&self) -> &str {
        &self.title
    }

    pub(crate) fn description(&self) -> &str {
        self.description.as_deref().unwrap_or_default()
    }

    pub(crate) fn project_key(&self) -> &str {
        self.project_key.as_str()
    }

    pub(crate) fn reference(&self) -> String {
        self.case_ref().to_string()
    }

    /// The case's reference.
    pub(crate) fn case_ref(&self) -> CaseRef {
        CaseRef {
            project: self.project_key.clone(),
            number: self.number,
        }
    }

    pub(crate) fn context(&self, field: &str) -> String {
        ctx(self.project_id, self.number, field)
    }

    /// The seal context of one of the case's fields.
    pub(crate) fn field_context(&self, field: &str) -> String {
        self.context(field)
    }

    pub(crate) fn clocks(&self, now: OffsetDateTime) -> clocks::Clocks {
        clocks::compute(&self.times(), &self.settings, now)
    }

    fn times(&self) -> CaseTimes {
        CaseTimes {
            state: self.state,
            received_at: from_millis(self.received_at),
            acknowledged_at: self.acknowledged_at.map(from_millis),
            confirmed_at: self.confirmed_at.map(from_millis),
            fix_ready_at: self.fix_ready_at.map(from_millis),
            announced_at: self.announced_at.map(from_millis),
            last_activity_at: from_millis(self.last_activity_at),
            severity: self.cvss.as_ref().map(Cvss::severity),
        }
    }

    pub(crate) fn facts(&self) -> CaseFacts {
        CaseFacts {
            state: Some(self.state),
            has_cvss: self.cvss.is_some(),
            has_cve: self.cve_id.is_some(),
            versions: self.versions.clone(),
            advisory: self.advisory.clone(),
            embargo_at: self.embargo_at.map(from_millis),
            unsent_lists: Vec::new(),
            unfixed_branches: Vec::new(),
            has_testing_evidence: false,
        }
    }

    /// The case as the process-review figures count it (`full` rows: the reporter is read).
    pub(crate) fn figures(
        &self,
        now: OffsetDateTime,
        public_at: Option<i64>,
        retrospective_cwe: Option<String>,
    ) -> embargo_core::review::CaseFigures {
        case_figures(
            &self.times(),
            &self.settings,
            now,
            FigureFacts {
                public_at,
                disposition: self.disposition,
                cwe: retrospective_cwe.or_else(|| self.advisory.cwe.clone()),
                channel: self.channel,
                reporter: thanked(self.reporter.as_ref()),
            },
        )
    }

    pub(crate) fn summary(self, now: OffsetDateTime) -> CaseSummary {
        CaseSummary {
            clocks: self.clocks(now),
            reference: self.case_ref(),
            project: self.project_key,
            state: self.state,
            title: self.title,
            received_at: rfc(self.received_at),
            updated_at: rfc(self.updated_at),
            embargo_at: self.embargo_at.map(rfc),
            severity: self.cvss.as_ref().map(Cvss::severity),
            unread: false,
            owner: self.owner,
        }
    }

    /// What a pre-notified distributor may see.
    pub(crate) fn advisory_view(self) -> AdvisoryView {
        AdvisoryView {
            reference: self.case_ref(),
            project: self.project_key,
            state: self.state,
            embargo_at: self.embargo_at.map(rfc),
            cve_id: self.cve_id,
            cvss: self.cvss.as_ref().map(CvssSummary::from),
            ratings: self.ratings.iter().map(CvssSummary::from).collect(),
            versions: self.versions,
            advisory: self.advisory,
        }
    }

    pub(crate) fn detail(self, now: OffsetDateTime) -> CaseDetail {
        CaseDetail {
            clocks: self.clocks(now),
            reference: self.case_ref(),
            next_states: self.state.next_states().to_vec(),
            project: self.project_key,
            state: self.state,
            channel: self.channel,
            title: self.title,
            description: self.description.unwrap_or_default(),
            reporter: self.reporter.unwrap_or_default(),
            received_at: rfc(self.received_at),
            acknowledged_at: self.acknowledged_at.map(rfc),
            updated_at: rfc(self.updated_at),
            embargo_at: self.embargo_at.map(rfc),
            cvss: self.cvss.as_ref().map(CvssSummary::from),
            ratings: self.ratings.iter().map(CvssSummary::from).collect(),
            disposition: self.disposition,
            cve_id: self.cve_id,
            versions: self.versions,
            advisory: self.advisory,
            duplicate_of: self.duplicate_of,
            embargo_override: self.embargo_override,
            sensitive_terms: self.sensitive_terms,
            merged_reporters: self.merged_reporters,
            reporter_key: self
                .reporter_key
                .as_deref()
                .and_then(|k| embargo_openpgp::PublicKey::from_armored(k).ok())
                .map(|k| k.fingerprint()),
            reporter_withheld: false,
            owner: self.owner,
            advisory_url: self.advisory_url,
            cve_state: self.cve_state,
        }
    }
}

/// Opens the CVE ID and sensitive terms of a case row (for the guard's export).
pub(crate) fn opened_cve_and_terms(
    keys: &Keyring,
    project_id: i64,
    number: i64,
    row: &sqlx::any::AnyRow,
) -> Result<(Option<String>, Vec<String>)> {
    let cve: Option<Vec<u8>> = row.try_get("cve_sealed")?;
    let terms: Option<Vec<u8>> = row.try_get("terms_sealed")?;
    let cve = cve
        .map(|s| keys.open_string(&ctx(project_id, number, "cve"), &s))
        .transpose()?;
    let terms = match terms {
        Some(s) => open_json(keys, &ctx(project_id, number, "terms"), &s)?,
        None => Vec::new(),
    };
    Ok((cve, terms))
}

pub(crate) async fn load(
    conn: &mut AnyConnection,
    keys: &Keyring,
    case_id: i64,
    full: bool,
) -> Result<Loaded> {
    let row = sqlx::query(&format!("{CASE_SELECT} WHERE c.id = $1"))
        .bind(case_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound("case"))?;
    Loaded::from_row(keys, &row, full)
}

/// What the figures take of a case besides its times.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct FigureFacts {
    pub(crate) public_at: Option<i64>,
    pub(crate) disposition: Option<embargo_core::triage::Disposition>,
    pub(crate) cwe: Option<String>,
    pub(crate) channel: Channel,
    /// The reporter as the figures thank them: their name, else their address.
    pub(crate) reporter: Option<String>,
}

/// The reporter as the figures name them.
pub(crate) fn thanked(reporter: Option<&Reporter>) -> Option<String> {
    reporter
        .and_then(|r| r.name.clone().or_else(|| r.email.clone()))
        .filter(|r| !r.trim().is_empty())
}

/// Whether a case's clocks are overdue and whether it stalled, at `now`: the one place
/// they are judged for the figures.
fn judged(times: &CaseTimes, settings: &ClockSettings, now: OffsetDateTime) -> (bool, bool) {
    use embargo_core::clocks::ClockStatus;
    let clocks = clocks::compute(times, settings, now);
    let overdue = times.state.is_open()
        && (clocks.acknowledgement.status == ClockStatus::Overdue
            && times.state == State::Reported
            || [clocks.mitigation.as_ref(), clocks.announcement.as_ref()]
                .into_iter()
                .flatten()
                .any(|c| c.status == ClockStatus::Overdue));
    (overdue, clocks.stalled)
}

/// One case as the process review counts it.
pub(crate) fn case_figures(
    times: &CaseTimes,
    settings: &ClockSettings,
    now: OffsetDateTime,
    facts: FigureFacts,
) -> embargo_core::review::CaseFigures {
    let (overdue, stalled) = judged(times, settings, now);
    embargo_core::review::CaseFigures {
        received: times.received_at,
        acknowledged: times.acknowledged_at,
        confirmed: times.confirmed_at,
        fix_ready: times.fix_ready_at,
        announced: times.announced_at,
        public: facts.public_at.map(from_millis),
        state: times.state.as_str().to_owned(),
        disposition: facts.disposition.map(|d| d.as_str().to_owned()),
        severity: times.severity.map(|s| s.to_string()),
        cwe: facts.cwe,
        channel: facts.channel.as_str().to_owned(),
        reporter: facts.reporter,
        overdue,
        stalled,
    }
}

/// The columns [`counted_from_row`] reads: the clear times, states and revision, and of
/// the sealed fields only the four the figures count (rating, advisory, reporter,
/// retrospective).
pub(crate) const FIGURE_COLUMNS: &str = "c.id, c.project_id, c.number, c.state, c.channel, \
     c.received_at, c.acknowledged_at, c.confirmed_at, c.fix_ready_at, c.announced_at, \
     c.public_at, c.last_activity_at, c.disposition, c.revision, c.cvss_sealed, c.advisory_sealed, \
     c.reporter_sealed, c.retrospective_sealed";

/// What a case's clocks are judged from: what a block of figures keeps of each open
/// case, whose clocks run on.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Clocked {
    state: State,
    received_at: i64,
    acknowledged_at: Option<i64>,
    confirmed_at: Option<i64>,
    fix_ready_at: Option<i64>,
    announced_at: Option<i64>,
    last_activity_at: i64,
    severity: Option<embargo_core::cvss::Severity>,
}

impl Clocked {
    fn times(&self) -> CaseTimes {
        CaseTimes {
            state: self.state,
            received_at: from_millis(self.received_at),
            acknowledged_at: self.acknowledged_at.map(from_millis),
            confirmed_at: self.confirmed_at.map(from_millis),
            fix_ready_at: self.fix_ready_at.map(from_millis),
            announced_at: self.announced_at.map(from_millis),
            last_activity_at: from_millis(self.last_activity_at),
            severity: self.severity,
        }
    }

    /// Whether it is open: its clocks run and are judged when read.
    pub(crate) fn is_open(&self) -> bool {
        self.state.is_open()
    }

    /// Whether it is overdue and whether it stalled, at `now`.
    pub(crate) fn judged(&self, settings: &ClockSettings, now: OffsetDateTime) -> (bool, bool) {
        judged(&self.times(), settings, now)
    }
}

/// A case as the figures count it, before its clocks are judged against a moment.
pub(crate) struct Counted {
    pub(crate) id: i64,
    pub(crate) clocked: Clocked,
    pub(crate) facts: FigureFacts,
}

impl Counted {
    /// Its figures, its clocks judged at `now` under its project's `settings`.
    pub(crate) fn figures(
        self,
        settings: &ClockSettings,
        now: OffsetDateTime,
    ) -> embargo_core::review::CaseFigures {
        case_figures(&self.clocked.times(), settings, now, self.facts)
    }
}

/// A case as the figures count it, from a row of [`FIGURE_COLUMNS`].
pub(crate) fn counted_from_row(keys: &Keyring, row: &sqlx::any::AnyRow) -> Result<Counted> {
    let project_id: i64 = row.try_get("project_id")?;
    let number: i64 = row.try_get("number")?;
    let sealed = |col: &str| -> Result<Option<Vec<u8>>> { Ok(row.try_get(col)?) };
    let severity = severity_from_row(keys, row, project_id, number)?;
    let retrospective_cwe = match sealed("retrospective_sealed")? {
        Some(s) => {
            open_json::<embargo_core::review::Retrospective>(
                keys,
                &ctx(project_id, number, "retrospective"),
                &s,
            )?
            .cwe
        }
        None => None,
    };
    let cwe = match retrospective_cwe {
        Some(cwe) => Some(cwe),
        None => match sealed("advisory_sealed")? {
            Some(s) => {
                open_json::<AdvisoryDraft>(keys, &ctx(project_id, number, "advisory"), &s)?.cwe
            }
            None => None,
        },
    };
    let reporter: Option<Reporter> = match sealed("reporter_sealed")? {
        Some(s) => Some(open_json(keys, &ctx(project_id, number, "reporter"), &s)?),
        None => None,
    };
    let channel: String = row.try_get("channel")?;
    let times = times_from_row(
        row,
        parse_state(&row.try_get::<String, _>("state")?)?,
        severity,
    )?;
    Ok(Counted {
        id: row.try_get("id")?,
        clocked: Clocked {
            state: times.state,
            received_at: millis(times.received_at),
            acknowledged_at: times.acknowledged_at.map(millis),
            confirmed_at: times.confirmed_at.map(millis),
            fix_ready_at: times.fix_ready_at.map(millis),
            announced_at: times.announced_at.map(millis),
            last_activity_at: millis(times.last_activity_at),
            severity,
        },
        facts: FigureFacts {
            public_at: row.try_get("public_at")?,
            disposition: row
                .try_get::<Option<String>, _>("disposition")?
                .as_deref()
                .and_then(embargo_core::triage::Disposition::parse),
            cwe,
            channel: Channel::parse(&channel)
                .ok_or_else(|| StoreError::Corrupt("channel".into()))?,
            reporter: thanked(reporter.as_ref()),
        },
    })
}
