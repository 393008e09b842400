//! Organisations, projects, committee rosters and security team membership.

use embargo_core::access::may_join_project_team;
use embargo_core::disclosure::{DisclosureSettings, OrgSettings};
use embargo_core::project::{ClockSettings, ProductSettings, is_branch_name};
use embargo_core::reference::ProjectKey;
use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::accounts::{check_email, new_secret};
use crate::{Result, Store, StoreError, millis, rfc};

/// An organisation (e.g. a foundation) with its own foundation security team.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organisation {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
}

/// A project and the settings that shape its procedure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Project {
    /// Its id.
    pub id: i64,
    /// The organisation it belongs to.
    pub org: String,
    /// Its key, e.g. CLOUDSTACK.
    pub key: String,
    /// Its display name.
    pub name: String,
    /// Supported release branches (besides trunk).
    pub branches: Vec<String>,
    /// The procedure's clocks.
    pub clocks: ClockSettings,
    /// Words the commit guard refuses in public commits; "CVE-" stands for any CVE ID.
    pub giveaways: Vec<String>,
    /// The organisation's inbox for its foundation address: worked by the foundation
    /// team, which routes each report to a project.
    pub inbox: bool,
    /// The project's wider private list (its management committee), told of stalled cases.
    pub private_list: Option<String>,
    /// How the project discloses.
    pub disclosure: DisclosureSettings,
    /// Whether its team reserves its own CVE IDs (the foundation team does otherwise).
    pub cve_delegated: bool,
    /// Where its product lives, for the advisories.
    pub product: ProductSettings,
}

/// The giveaway words a project starts with.
pub const DEFAULT_GIVEAWAYS: &[&str] = &[
    "vulnerability",
    "vulnerabilities",
    "security fix",
    "security issue",
    "security bug",
    "exploit",
    "exploitable",
    "embargo",
    "embargoed",
    "CVE-",
];

/// A member of a security team, with their last activity ("lurking is discouraged").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    /// The member's address.
    pub email: String,
    /// When they joined the team (RFC 3339).
    pub added_at: String,
    /// When they last did anything (RFC 3339).
    pub last_active_at: Option<String>,
}

fn project_from_row(row: &sqlx::any::AnyRow) -> Result<Project> {
    let branches: String = row.try_get("branches")?;
    let clocks: String = row.try_get("clock_settings")?;
    let giveaways: Option<String> = row.try_get("giveaways")?;
    let giveaways = match giveaways {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("project giveaways: {e}")))?,
        None => DEFAULT_GIVEAWAYS.iter().map(|g| (*g).to_owned()).collect(),
    };
    Ok(Project {
        id: row.try_get("id")?,
        org: row.try_get("org_name")?,
        key: row.try_get("key")?,
        name: row.try_get("name")?,
        branches: serde_json::from_str(&branches)
            .map_err(|e| StoreError::Corrupt(format!("project branches: {e}")))?,
        clocks: serde_json::from_str(&clocks)
            .map_err(|e| StoreError::Corrupt(format!("project clocks: {e}")))?,
        giveaways,
        inbox: row.try_get::<i64, _>("inbox")? != 0,
        private_list: row.try_get("private_list")?,
        disclosure: match row.try_get::<Option<String>, _>("disclosure")? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("project disclosure settings: {e}")))?,
            None => DisclosureSettings::default(),
        },
        cve_delegated: row.try_get::<i64, _>("cve_delegated")? != 0,
        product: match row.try_get::<Option<String>, _>("product")? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("project product settings: {e}")))?,
            None => ProductSettings::default(),
        },
    })
}

/// What a new installation starts with (see [`Store::initialise`]).
pub struct FirstRun<'a> {
    /// The first administrator's address.
    pub email: &'a str,
    /// Their password (12 characters or more).
    pub password: &'a str,
    /// The organisation's name.
    pub org: &'a str,
    /// The first project's key.
    pub project: &'a ProjectKey,
    /// Its display name (empty for the key).
    pub project_name: &'a str,
    /// Its supported release branches.
    pub branches: &'a [String],
}

/// Changes to a project's settings; absent ones are left as they are.
#[derive(Debug, Default)]
pub struct ProjectUpdate {
    /// The name shown publicly (the announcement's subject, the report form, the
    /// advisory pages); the key never changes.
    pub name: Option<String>,
    /// Supported release branches besides trunk.
    pub branches: Option<Vec<String>>,
    /// The procedure's clocks.
    pub clocks: Option<ClockSettings>,
    /// The commit guard's giveaway words.
    pub giveaways: Option<Vec<String>>,
    /// The wider private list's address; empty clears it.
    pub private_list: Option<String>,
    /// How the project discloses (replaces the settings).
    pub disclosure: Option<DisclosureSettings>,
    /// Where the product lives (replaces the settings).
    pub product: Option<ProductSettings>,
}

/// The lease a first run holds while it sets the installation up.
const FIRST_RUN_LEASE: &str = "first-run";

const PROJECT_SELECT: &str = "SELECT p.id, p.org_id, o.name AS org_name, p.key, p.name, p.branches, p.clock_settings, p.giveaways, p.inbox, p.private_list, p.disclosure, p.cve_delegated, p.product FROM projects p JOIN organisations o ON o.id = p.org_id";

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn check_branches(branches: &[String]) -> Result<()> {
    match branches
        .iter()
        .find(|b| !is_branch_name(b) || b.as_str() == "trunk")
    {
        Some(bad) => Err(StoreError::Invalid(format!(
            "'{bad}' is not a usable release branch name"
        ))),
        None => Ok(()),
    }
}

impl Store {
    /// Creates an organisation.
    pub async fn create_org(&self, name: &str) -> Result<Organisation> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(StoreError::Invalid(
                "an organisation needs a name of 1 to 200 characters".into(),
            ));
        }
        let row = sqlx::query("INSERT INTO organisations (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id")
            .bind(name)
            .bind(millis(OffsetDateTime::now_utc()))
            .fetch_optional(self.writer())
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("an organisation named {name} exists already")))?;
        self.audit_change(None, format!("organisation {name} created"))
            .await?;
        Ok(Organisation {
            id: row.try_get("id")?,
            name: name.to_owned(),
        })
    }

    /// Lists organisations.
    pub async fn list_orgs(&self) -> Result<Vec<Organisation>> {
        let rows = sqlx::query("SELECT id, name FROM organisations ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Organisation {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    async fn org_id(&self, name: &str) -> Result<i64> {
        let row = sqlx::query("SELECT id FROM organisations WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("organisation"))?;
        Ok(row.try_get("id")?)
    }

    /// Creates a project in an organisation.
    pub async fn create_project(
        &self,
        org: &str,
        key: &ProjectKey,
        name: &str,
        branches: &[String],
    ) -> Result<Project> {
        check_branches(branches)?;
        let org_id = self.org_id(org).await?;
        let name = if name.trim().is_empty() {
            key.as_str()
        } else {
            name.trim()
        };
        let clocks = serde_json::to_string(&ClockSettings::default())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let branches_json =
            serde_json::to_string(branches).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO projects (org_id, key, name, branches, clock_settings, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (key) DO NOTHING RETURNING id",
        )
        .bind(org_id)
        .bind(key.as_str())
        .bind(name)
        .bind(branches_json)
        .bind(clocks)
        .bind(millis(OffsetDateTime::now_utc()))
        .fetch_optional(self.writer())
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("a project with the key {key} exists already")))?;
        self.audit_change(None, format!("project {key} created in {org}"))
            .await?;
        self.project(key).await
    }

    /// Creates an organisation's inbox: the project its foundation address delivers to
    /// (`embargo intake --project KEY`), worked by the foundation team. One per organisation.
    pub async fn create_inbox(&self, org: &str, key: &ProjectKey, name: &str) -> Result<Project> {
        let org_id = self.org_id(org).await?;
        let existing = sqlx::query("SELECT key FROM projects WHERE org_id = $1 AND inbox = 1")
            .bind(org_id)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = existing {
            let key: String = row.try_get("key")?;
            return Err(StoreError::Conflict(format!(
                "{org} has an inbox already: {key}"
            )));
        }
        let name = if name.trim().is_empty() {
            format!("{org} security (foundation address)")
        } else {
            name.trim().to_owned()
        };
        let project = self.create_project(org, key, &name, &[]).await?;
        sqlx::query("UPDATE projects SET inbox = 1 WHERE id = $1")
            .bind(project.id)
            .execute(self.writer())
            .await?;
        self.project(key).await
    }

    /// An organisation's publishing settings.
    pub async fn org_settings(&self, org: &str) -> Result<OrgSettings> {
        let row = sqlx::query("SELECT settings FROM organisations WHERE name = $1")
            .bind(org)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("organisation"))?;
        match row.try_get::<Option<String>, _>("settings")? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("organisation settings: {e}"))),
            None => Ok(OrgSettings::default()),
        }
    }

    /// Replaces an organisation's publishing settings.
    pub async fn set_org_settings(&self, org: &str, settings: &OrgSettings) -> Result<OrgSettings> {
        if !embargo_formats::osv::valid_prefix(&settings.osv_prefix) {
            return Err(StoreError::Invalid(format!(
                "'{}' is not an OSV id prefix: x_, or a registered prefix ending in '-'",
                settings.osv_prefix
            )));
        }
        if let Some(id) = &settings.cna_org_id
            && !embargo_formats::cve5::is_uuid(id)
        {
            return Err(StoreError::Invalid(format!(
                "the CNA organisation id '{id}' is not a UUID"
            )));
        }
        let done = sqlx::query("UPDATE organisations SET settings = $1 WHERE name = $2")
            .bind(to_json(settings)?)
            .bind(org)
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("organisation"));
        }
        self.audit_change(
            None,
            format!("organisation {org}: publishing settings changed"),
        )
        .await?;
        self.org_settings(org).await
    }

    /// Finds a project by key.
    pub async fn project(&self, key: &ProjectKey) -> Result<Project> {
        let row = sqlx::query(&format!("{PROJECT_SELECT} WHERE p.key = $1"))
            .bind(key.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("project"))?;
        project_from_row(&row)
    }

    /// Sets up a new installation, as `embargo init` and the first-run page do: the
    /// first administrator (with their password), the organisation, and its first
    /// project, with the administrator on its committee and security team. Refused once
    /// an organisation exists.
    pub async fn initialise(&self, first: &FirstRun<'_>) -> Result<crate::User> {
        // Two first runs at once (two posts of the setup form, or `init` beside a server)
        // must not both find the store empty: one holds the lease while it checks and
        // writes, and the other is told to wait.
        let holder = new_secret("init_");
        if !self
            .take_lease(
                FIRST_RUN_LEASE,
                &holder,
                std::time::Duration::from_secs(300),
            )
            .await?
        {
            return Err(StoreError::Conflict(
                "another first run is under way; try again in a moment".into(),
            ));
        }
        let done = self.initialise_held(first).await;
        // The lease lapses by itself: failing to let it go early does not undo the run.
        if let Err(e) = self.release_lease(FIRST_RUN_LEASE, &holder).await {
            tracing::warn!(error = %e, "the first-run lease was not released; it lapses in five minutes");
        }
        done
    }

    async fn initialise_held(&self, first: &FirstRun<'_>) -> Result<crate::User> {
        if !self.list_orgs().await?.is_empty() {
            return Err(StoreError::Conflict(
                "this installation is initialised already; use `embargo user`, `embargo org` and `embargo project` to add more".into(),
            ));
        }
        // Everything is judged before anything is written, so a refused first run leaves
        // nothing behind that would stop the next one.
        let name = first.org.trim();
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "an organisation's name is 1 to 200 characters, without control characters".into(),
            ));
        }
        let project_name = first.project_name.trim();
        if project_name.len() > 200 || project_name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "a project's name is at most 200 characters, without control characters".into(),
            ));
        }
        check_email(first.email)?;
        check_branches(first.branches)?;
        let user = self
            .create_user(first.email, Some(first.password), true)
            .await?;
        self.create_org(name).await?;
        self.create_project(name, first.project, project_name, first.branches)
            .await?;
        // Whoever sets Embargo up for a project is normally on its security team.
        self.add_committee_members(first.project, std::slice::from_ref(&user.email))
            .await?;
        self.add_project_member(first.project, &user.email).await?;
        Ok(user)
    }

    /// Lists every project.
    pub async fn list_projects(&self) -> Result<Vec<Project>> {
        let rows = sqlx::query(&format!("{PROJECT_SELECT} ORDER BY p.key"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(project_from_row).collect()
    }

    /// Updates a project's supported branches and clocks.
    pub async fn update_project(&self, key: &ProjectKey, update: ProjectUpdate) -> Result<Project> {
        let project = self.project(key).await?;
        let name = match update.name.as_deref().map(str::trim) {
            None => project.name.clone(),
            Some(n) if n.is_empty() || n.len() > 200 || n.chars().any(char::is_control) => {
                return Err(StoreError::Invalid(
                    "a project's name is 1 to 200 characters, without control characters".into(),
                ));
            }
            Some(n) => n.to_owned(),
        };
        let branches = update.branches.unwrap_or(project.branches);
        check_branches(&branches)?;
        let clocks = update.clocks.unwrap_or(project.clocks);
        clocks
            .validate()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let giveaways: Vec<String> = update
            .giveaways
            .unwrap_or(project.giveaways)
            .into_iter()
            .map(|g| g.trim().to_owned())
            .filter(|g| !g.is_empty())
            .collect();
        if giveaways.len() > 200 || giveaways.iter().any(|g| g.len() > 100) {
            return Err(StoreError::Invalid(
                "at most 200 giveaway words of at most 100 bytes each".into(),
            ));
        }
        let private_list = match update.private_list {
            None => project.private_list,
            Some(list) if list.trim().is_empty() => None,
            Some(list) => {
                let list = list.trim().to_owned();
                if !list.contains('@') || list.len() > 320 || list.contains(char::is_whitespace) {
                    return Err(StoreError::Invalid(format!(
                        "'{list}' is not a mail address"
                    )));
                }
                Some(list)
            }
        };
        let disclosure = match update.disclosure {
            Some(d) => {
                if let Some(problem) = d.problem() {
                    return Err(StoreError::Invalid(format!(
                        "disclosure settings: {problem}"
                    )));
                }
                Some(to_json(&d)?)
            }
            None => None,
        };
        let product = match update.product {
            Some(p) => {
                let p = p.tidied();
                p.validate()
                    .map_err(|e| StoreError::Invalid(format!("product settings: {e}")))?;
                Some(to_json(&p)?)
            }
            None => None,
        };
        sqlx::query(
            "UPDATE projects SET branches = $1, clock_settings = $2, giveaways = $3, private_list = $4, disclosure = COALESCE($6, disclosure), name = $7, product = COALESCE($8, product) WHERE id = $5",
        )
        .bind(to_json(&branches)?)
        .bind(to_json(&clocks)?)
        .bind(to_json(&giveaways)?)
        .bind(private_list)
        .bind(project.id)
        .bind(disclosure)
        .bind(&name)
        .bind(product)
        .execute(self.writer())
        .await?;
        self.audit_change(None, format!("project {key}: settings changed"))
            .await?;
        self.project(key).await
    }

    /// The project's management committee roster.
    pub async fn committee(&self, key: &ProjectKey) -> Result<Vec<String>> {
        let project = self.project(key).await?;
        let rows =
            sqlx::query("SELECT email FROM committee_members WHERE project_id = $1 ORDER BY email")
                .bind(project.id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok(r.try_get("email")?)).collect()
    }

    /// Adds addresses to the committee roster.
    pub async fn add_committee_members(
        &self,
        key: &ProjectKey,
        emails: &[String],
    ) -> Result<Vec<String>> {
        let project = self.project(key).await?;
        let now = millis(OffsetDateTime::now_utc());
        let mut tx = self.begin_write().await?;
        for email in emails {
            sqlx::query("INSERT INTO committee_members (project_id, email, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(project.id)
                .bind(check_email(email)?)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.audit_change(
            None,
            format!("project {key}: committee gained {}", emails.join(", ")),
        )
        .await?;
        self.committee(key).await
    }

    /// Adds a user to a project's security team; only committee members are eligible.
    pub async fn add_project_member(&self, key: &ProjectKey, email: &str) -> Result<()> {
        let project = self.project(key).await?;
        let user = self.user_by_email(email).await?;
        if !may_join_project_team(&user.email, &self.committee(key).await?) {
            return Err(StoreError::Invalid(format!(
                "{} is not on the {} management committee; only committee members may join its security team",
                user.email, project.key
            )));
        }
        self.add_membership(user.id, "project", project.id).await?;
        self.audit_change(
            None,
            format!("project {key}: {} joined the security team", user.email),
        )
        .await
    }

    /// Adds a user to an organisation's foundation security team.
    pub async fn add_foundation_member(&self, org: &str, email: &str) -> Result<()> {
        let org_id = self.org_id(org).await?;
        let user = self.user_by_email(email).await?;
        self.add_membership(user.id, "foundation", org_id).await?;
        self.audit_change(
            None,
            format!(
                "organisation {org}: {} joined the foundation team",
                user.email
            ),
        )
        .await
    }

    async fn add_membership(&self, user_id: i64, kind: &str, scope_id: i64) -> Result<()> {
        self.token_cache.clear();
        sqlx::query("INSERT INTO team_members (user_id, kind, scope_id, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(user_id)
            .bind(kind)
            .bind(scope_id)
            .bind(millis(OffsetDateTime::now_utc()))
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Removes a user from a project's security team.
    pub async fn remove_project_member(&self, key: &ProjectKey, email: &str) -> Result<()> {
        self.token_cache.clear();
        let project = self.project(key).await?;
        let user = self.user_by_email(email).await?;
        let done = sqlx::query(
            "DELETE FROM team_members WHERE user_id = $1 AND kind = 'project' AND scope_id = $2",
        )
        .bind(user.id)
        .bind(project.id)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("team member"));
        }
        self.audit_change(
            None,
            format!("project {key}: {} left the security team", user.email),
        )
        .await
    }

    /// The project's security team with each member's last activity.
    pub async fn project_members(&self, key: &ProjectKey) -> Result<Vec<Member>> {
        let project = self.project(key).await?;
        let rows = sqlx::query(
            "SELECT u.email, t.added_at, u.last_active_at FROM team_members t JOIN users u ON u.id = t.user_id \
             WHERE t.kind = 'project' AND t.scope_id = $1 ORDER BY u.email",
        )
        .bind(project.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Member {
                    email: r.try_get("email")?,
                    added_at: rfc(r.try_get("added_at")?),
                    last_active_at: r.try_get::<Option<i64>, _>("last_active_at")?.map(rfc),
                })
            })
            .collect()
    }
}
