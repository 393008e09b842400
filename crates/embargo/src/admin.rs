//! Commands that work directly on the data directory or database: init, tokens, users,
//! organisations, projects, teams and job diagnostics. They need no running server, so a
//! new installation can bootstrap itself.

use clap::{Args, Subcommand};
use embargo_core::reference::ProjectKey;
use serde_json::json;

use crate::store_args::StoreArgs;
use crate::{Output, prompt, read_stdin_line};

/// Options of `embargo init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The first administrator's address.
    #[arg(long)]
    pub admin_email: Option<String>,
    /// Read the administrator's password from the first line of stdin.
    #[arg(long)]
    pub admin_password_stdin: bool,
    /// The organisation's name, e.g. "Apache Software Foundation".
    #[arg(long)]
    pub org: Option<String>,
    /// The first project's key, e.g. CLOUDSTACK.
    #[arg(long)]
    pub project: Option<String>,
    /// The first project's display name.
    #[arg(long)]
    pub project_name: Option<String>,
    /// A supported release branch (repeatable).
    #[arg(long = "branch")]
    pub branches: Vec<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn required(
    value: Option<String>,
    flag: &str,
    label: &str,
    secret: bool,
) -> Result<String, String> {
    value
        .filter(|v| !v.trim().is_empty())
        .or_else(|| prompt(label, secret))
        .ok_or_else(|| {
            format!("{flag} is required (stdin is not a terminal, so Embargo cannot ask)")
        })
}

/// `embargo init`.
pub async fn init(args: InitArgs, out: &Output) -> Result<(), String> {
    let email = required(
        args.admin_email,
        "--admin-email",
        "Administrator email",
        false,
    )?;
    let password = if args.admin_password_stdin {
        read_stdin_line().map_err(|e| format!("cannot read the password from stdin: {e}"))?
    } else {
        required(
            None,
            "--admin-password-stdin",
            "Administrator password (12 characters or more)",
            true,
        )?
    };
    let org = required(args.org, "--org", "Organisation name", false)?;
    let key: ProjectKey = required(
        args.project,
        "--project",
        "Project key (e.g. CLOUDSTACK)",
        false,
    )?
    .parse()
    .map_err(|e: embargo_core::reference::ReferenceError| e.to_string())?;
    let data_dir = args.store.data_dir().map_err(|e| e.to_string())?;
    let store = args.store.open().await.map_err(|e| e.to_string())?;
    let user = store
        .initialise(&embargo_store::FirstRun {
            email: &email,
            password: &password,
            org: &org,
            project: &key,
            project_name: args.project_name.as_deref().unwrap_or(""),
            branches: &args.branches,
        })
        .await
        .map_err(|e| e.to_string())?;
    let project = store.project(&key).await.map_err(|e| e.to_string())?;
    store.close().await;
    let value =
        json!({ "admin": user.email, "org": org, "project": project.key, "data": data_dir });
    out.show(&value, || {
        format!(
            "Initialised Embargo in {}.\n  administrator: {} (on the {} committee and security team)\n  organisation:  {}\n  project:       {}\nNext: `embargo serve`, then `embargo token create --user {}` for the CLI.",
            data_dir.display(),
            user.email,
            project.key,
            org,
            project.key,
            user.email
        )
    });
    Ok(())
}

/// `embargo token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it.
    Create {
        /// The user's address.
        #[arg(long)]
        user: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs `embargo token …`.
pub async fn token(cmd: TokenCommand, out: &Output) -> Result<(), String> {
    let TokenCommand::Create { user, name, store } = cmd;
    let store = store.open().await.map_err(|e| e.to_string())?;
    let user = store
        .user_by_email(&user)
        .await
        .map_err(|e| e.to_string())?;
    let token = store
        .create_token(user.id, &name)
        .await
        .map_err(|e| e.to_string())?;
    store.close().await;
    out.show(&json!({ "id": token.id, "token": token.secret }), || {
        token.secret.clone()
    });
    Ok(())
}

/// `embargo user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add {
        /// The sign-in address.
        #[arg(long)]
        email: String,
        /// Read a password from the first line of stdin (otherwise the user signs in by token).
        #[arg(long)]
        password_stdin: bool,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs `embargo user …`.
pub async fn user(cmd: UserCommand, out: &Output) -> Result<(), String> {
    match cmd {
        UserCommand::Add {
            email,
            password_stdin,
            admin,
            store,
        } => {
            let password = if password_stdin {
                Some(read_stdin_line().map_err(|e| e.to_string())?)
            } else {
                None
            };
            let store = store.open().await.map_err(|e| e.to_string())?;
            let user = store
                .create_user(&email, password.as_deref(), admin)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(user), || format!("added {}", user.email));
        }
        UserCommand::List { store } => {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let users = store.list_users().await.map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(users), || {
                users
                    .iter()
                    .map(|u| format!("{}{}", u.email, if u.is_admin { " (admin)" } else { "" }))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

/// `embargo org …`.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add an organisation.
    Add {
        /// Its name.
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List organisations.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set how the organisation publishes: its CNA identity, OSV id prefix, vendor name.
    Set {
        /// The organisation's name.
        #[arg(long)]
        org: String,
        /// The OSV id prefix: x_ (a local database) or a registered one ending in '-'.
        #[arg(long)]
        osv_prefix: Option<String>,
        /// The CNA's organisation UUID in CVE Services.
        #[arg(long)]
        cna_org_id: Option<String>,
        /// The CNA's short name in CVE Services.
        #[arg(long)]
        cna_short_name: Option<String>,
        /// The vendor name in advisories (default: the organisation's name).
        #[arg(long)]
        vendor: Option<String>,
        /// The publisher's namespace URL for CSAF.
        #[arg(long)]
        namespace: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Store the organisation's CVE Services credentials (sealed).
    CveServices {
        /// The organisation's name.
        #[arg(long)]
        org: String,
        /// The API's base URL.
        #[arg(long, default_value = "https://cveawg.mitre.org/api")]
        api_url: String,
        /// The CNA's short name at CVE Services (CVE-API-ORG).
        #[arg(long)]
        cve_org: String,
        /// The user (CVE-API-USER).
        #[arg(long)]
        user: String,
        /// The environment variable holding the API key (CVE-API-KEY).
        #[arg(long, value_name = "VAR")]
        key_env: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Create the organisation's inbox: the project its foundation address delivers to
    /// (an MTA alias running `embargo intake --project KEY`). Its reports reach the
    /// foundation team, which routes each to a project (`embargo case route`).
    Inbox {
        /// The organisation's name.
        #[arg(long)]
        org: String,
        /// The inbox's project key, e.g. ASF.
        #[arg(long)]
        key: String,
        /// The display name.
        #[arg(long, default_value = "")]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs `embargo org …`.
pub async fn org(cmd: OrgCommand, out: &Output) -> Result<(), String> {
    match cmd {
        OrgCommand::Add { name, store } => {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let org = store.create_org(&name).await.map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(org), || format!("added organisation {}", org.name));
        }
        OrgCommand::Inbox {
            org,
            key,
            name,
            store,
        } => {
            let key = parse_key(&key)?;
            let store = store.open().await.map_err(|e| e.to_string())?;
            let project = store
                .create_inbox(&org, &key, &name)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(project), || {
                format!(
                    "created {}, the inbox of {}: deliver its foundation address with `embargo intake --project {}`",
                    project.key, project.org, project.key
                )
            });
        }
        OrgCommand::Set {
            org,
            osv_prefix,
            cna_org_id,
            cna_short_name,
            vendor,
            namespace,
            store,
        } => {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let mut settings = store.org_settings(&org).await.map_err(|e| e.to_string())?;
            if let Some(p) = osv_prefix {
                settings.osv_prefix = p;
            }
            settings.cna_org_id = cna_org_id.or(settings.cna_org_id);
            settings.cna_short_name = cna_short_name.or(settings.cna_short_name);
            settings.vendor = vendor.or(settings.vendor);
            settings.namespace = namespace.or(settings.namespace);
            let settings = store
                .set_org_settings(&org, &settings)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(settings), || {
                format!("{org}: OSV prefix {}", settings.osv_prefix)
            });
        }
        OrgCommand::CveServices {
            org,
            api_url,
            cve_org,
            user,
            key_env,
            store,
        } => {
            let key = std::env::var(&key_env)
                .map_err(|_| format!("the environment variable {key_env} is not set"))?;
            let credentials = embargo_store::CveCredentials::new(&api_url, &cve_org, &user, &key)
                .map_err(|e| e.to_string())?;
            let store = store.open().await.map_err(|e| e.to_string())?;
            store
                .set_cve_credentials(&org, &credentials)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(
                &json!({ "org": org, "api_url": api_url, "user": user }),
                || format!("{org}: CVE Services credentials stored (sealed) for {user}@{cve_org}"),
            );
        }
        OrgCommand::List { store } => {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let orgs = store.list_orgs().await.map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(orgs), || {
                orgs.iter()
                    .map(|o| o.name.clone())
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

/// `embargo project …`.
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Add a project to an organisation.
    Add {
        /// The organisation's name.
        #[arg(long)]
        org: String,
        /// The project key, e.g. CLOUDSTACK.
        #[arg(long)]
        key: String,
        /// The display name.
        #[arg(long, default_value = "")]
        name: String,
        /// A supported release branch (repeatable).
        #[arg(long = "branch")]
        branches: Vec<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List projects.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Change a project's name, supported branches or the commit guard's giveaway words.
    Set {
        /// The project key.
        #[arg(long)]
        project: String,
        /// The name shown publicly, e.g. "Apache CloudStack" (the key stays).
        #[arg(long)]
        name: Option<String>,
        /// A supported release branch (repeatable; replaces the list).
        #[arg(long = "branch")]
        branches: Vec<String>,
        /// A word the guard refuses in public commits, "CVE-" for any CVE ID (repeatable;
        /// replaces the list).
        #[arg(long = "giveaway")]
        giveaways: Vec<String>,
        /// The project's wider private list (its management committee), told of stalled
        /// cases; "" clears it.
        #[arg(long)]
        private_list: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Say where the product lives, for the advisories scanners read: its name and
    /// vendor, package URLs, CPE names, source repository. Given options replace theirs.
    Product {
        /// The project key.
        #[arg(long)]
        project: String,
        /// The product's name in advisories, e.g. "Apache CloudStack"; "" for the project's.
        #[arg(long = "product-name")]
        product_name: Option<String>,
        /// The vendor, e.g. "Apache Software Foundation"; "" for the organisation's.
        #[arg(long)]
        vendor: Option<String>,
        /// A package URL without a version, e.g. pkg:maven/org.example/app (repeatable;
        /// replaces the list; "" clears it).
        #[arg(long = "purl")]
        packages: Vec<String>,
        /// A CPE 2.3 name (repeatable; replaces the list; "" clears it).
        #[arg(long = "cpe")]
        cpes: Vec<String>,
        /// The public source repository URL; "" clears it.
        #[arg(long)]
        repository: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set how the project discloses: announcement lists, oss-security, pre-notification,
    /// signing, security.txt.
    Disclosure {
        /// The project key.
        #[arg(long)]
        project: String,
        /// A list the announcement goes to (repeatable; replaces the lists).
        #[arg(long = "list")]
        lists: Vec<String>,
        /// The oss-security address, or "none" to leave it out.
        #[arg(long)]
        oss_security: Option<String>,
        /// Days before the embargo time that distributors are pre-notified.
        #[arg(long)]
        prenotify_days: Option<i64>,
        /// A security.txt contact URI, e.g. mailto:security@example.org (repeatable).
        #[arg(long = "security-contact")]
        security_contacts: Vec<String>,
        /// The security policy URL for security.txt.
        #[arg(long)]
        policy_url: Option<String>,
        /// Send announcements unsigned even with a team key.
        #[arg(long)]
        unsigned: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delegate reserving CVE IDs to the project's team (the foundation team, the
    /// organisation's CNA, reserves them otherwise), or withdraw the delegation.
    CveDelegation {
        /// The project key.
        #[arg(long)]
        project: String,
        /// Withdraw the delegation instead.
        #[arg(long)]
        withdraw: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Add addresses to the project's management committee roster.
    Committee {
        /// The project key.
        #[arg(long)]
        project: String,
        /// Addresses to add.
        #[arg(required = true)]
        emails: Vec<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn parse_key(s: &str) -> Result<ProjectKey, String> {
    s.parse()
        .map_err(|e: embargo_core::reference::ReferenceError| e.to_string())
}

/// Runs `embargo project …`.
pub async fn project(cmd: ProjectCommand, out: &Output) -> Result<(), String> {
    match cmd {
        ProjectCommand::Add {
            org,
            key,
            name,
            branches,
            store,
        } => {
            let key = parse_key(&key)?;
            let store = store.open().await.map_err(|e| e.to_string())?;
            let project = store
                .create_project(&org, &key, &name, &branches)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(project), || {
                format!("added project {} to {}", project.key, project.org)
            });
        }
        ProjectCommand::Disclosure {
            project,
            lists,
            oss_security,
            prenotify_days,
            security_contacts,
            policy_url,
            unsigned,
            store,
        } => {
            let key = parse_key(&project)?;
            let store = store.open().await.map_err(|e| e.to_string())?;
            let mut d = store
                .project(&key)
                .await
                .map_err(|e| e.to_string())?
                .disclosure;
            if !lists.is_empty() {
                d.lists = lists;
            }
            match oss_security.as_deref() {
                Some("none") => d.oss_security = None,
                Some(address) => d.oss_security = Some(address.to_owned()),
                None => {}
            }
            d.prenotify_days = prenotify_days.unwrap_or(d.prenotify_days);
            if !security_contacts.is_empty() {
                d.security_contacts = security_contacts;
            }
            d.policy_url = policy_url.or(d.policy_url);
            if unsigned {
                d.sign_announcements = false;
            }
            let update = embargo_store::ProjectUpdate {
                disclosure: Some(d),
                ..Default::default()
            };
            let project = store
                .update_project(&key, update)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(project), || {
                format!(
                    "{}: announcements to {}",
                    project.key,
                    project.disclosure.all_lists().join(", ")
                )
            });
        }
        ProjectCommand::Product {
            project,
            product_name,
            vendor,
            packages,
            cpes,
            repository,
            store,
        } => {
            let key = parse_key(&project)?;
            let store = store.open().await.map_err(|e| e.to_string())?;
            let mut product = store
                .project(&key)
                .await
                .map_err(|e| e.to_string())?
                .product;
            if product_name.is_some() {
                product.product = product_name;
            }
            if vendor.is_some() {
                product.vendor = vendor;
            }
            if !packages.is_empty() {
                product.packages = packages;
            }
            if !cpes.is_empty() {
                product.cpes = cpes;
            }
            if repository.is_some() {
                product.repository = repository;
            }
            let update = embargo_store::ProjectUpdate {
                product: Some(product),
                ..Default::default()
            };
            let project = store
                .update_project(&key, update)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(project), || {
                let p = &project.product;
                format!(
                    "{}: product {}; packages {}; CPE {}; repository {}",
                    project.key,
                    p.product.as_deref().unwrap_or(&project.name),
                    if p.packages.is_empty() {
                        "none".to_owned()
                    } else {
                        p.packages.join(", ")
                    },
                    if p.cpes.is_empty() {
                        "none".to_owned()
                    } else {
                        p.cpes.join(", ")
                    },
                    p.repository.as_deref().unwrap_or("none"),
                )
            });
        }
        ProjectCommand::List { store } => {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let projects = store.list_projects().await.map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(projects), || {
                projects
                    .iter()
                    .map(|p| format!("{}\t{}\t{}", p.key, p.org, p.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        ProjectCommand::Set {
            project,
            name,
            branches,
            giveaways,
            private_list,
            store,
        } => {
            let key = parse_key(&project)?;
            let update = embargo_store::ProjectUpdate {
                name,
                branches: (!branches.is_empty()).then_some(branches),
                clocks: None,
                giveaways: (!giveaways.is_empty()).then_some(giveaways),
                private_list,
                disclosure: None,
                product: None,
            };
            let store = store.open().await.map_err(|e| e.to_string())?;
            let project = store
                .update_project(&key, update)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(project), || {
                format!(
                    "{}: branches {}; giveaway words {}",
                    project.key,
                    project.branches.join(", "),
                    project.giveaways.join(", ")
                )
            });
        }
        ProjectCommand::CveDelegation {
            project,
            withdraw,
            store,
        } => {
            let key = parse_key(&project)?;
            let store = store.open().await.map_err(|e| e.to_string())?;
            store
                .set_cve_delegation(&key, !withdraw, None)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(
                &json!({ "project": key, "cve_delegated": !withdraw }),
                || match withdraw {
                    true => format!("{key}: CVE IDs are reserved by the foundation team"),
                    false => format!("{key}: the project team reserves its own CVE IDs"),
                },
            );
        }
        ProjectCommand::Committee {
            project,
            emails,
            store,
        } => {
            let key = parse_key(&project)?;
            let store = store.open().await.map_err(|e| e.to_string())?;
            let roster = store
                .add_committee_members(&key, &emails)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(roster), || {
                format!("{} committee: {}", key, roster.join(", "))
            });
        }
    }
    Ok(())
}

/// `embargo team …`.
#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Add a user to a project's security team, or to an organisation's foundation team.
    Add {
        /// The project whose team to join (the user must be on its committee).
        #[arg(
            long,
            conflicts_with = "foundation",
            required_unless_present = "foundation"
        )]
        project: Option<String>,
        /// The organisation whose foundation security team to join.
        #[arg(long)]
        foundation: Option<String>,
        /// The user's address.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Invite someone to a project's security team through the server: a newcomer gets a
    /// link by mail to choose their password. An administrator's invitation also adds
    /// them to the committee; a team member may invite committee members only.
    Invite {
        /// The project key.
        #[arg(long)]
        project: String,
        /// Their address.
        #[arg(long)]
        email: String,
        /// The server's base URL.
        #[arg(long, env = "EMBARGO_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An API token (an administrator's, or a team member's).
        #[arg(long, env = "EMBARGO_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// List a project's security team with each member's last activity.
    List {
        /// The project key.
        #[arg(long)]
        project: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs `embargo team …`.
pub async fn team(cmd: TeamCommand, out: &Output) -> Result<(), String> {
    match cmd {
        TeamCommand::Add {
            project,
            foundation,
            user,
            store,
        } => {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let what = match (project, foundation) {
                (Some(project), _) => {
                    let key = parse_key(&project)?;
                    store
                        .add_project_member(&key, &user)
                        .await
                        .map_err(|e| e.to_string())?;
                    format!("{key} security team")
                }
                (None, Some(org)) => {
                    store
                        .add_foundation_member(&org, &user)
                        .await
                        .map_err(|e| e.to_string())?;
                    format!("{org} foundation security team")
                }
                (None, None) => return Err("give --project or --foundation".into()),
            };
            store.close().await;
            out.show(&json!({ "user": user, "team": what }), || {
                format!("added {user} to the {what}")
            });
        }
        TeamCommand::Invite {
            project,
            email,
            url,
            token,
        } => {
            let key = parse_key(&project)?;
            let client = crate::client::Client::from_env(&url, token.as_deref())
                .map_err(|e| e.to_string())?;
            let invited = client
                .call(
                    reqwest::Method::POST,
                    &format!("/api/projects/{key}/invitations"),
                    Some(&json!({ "email": email })),
                )
                .await
                .map_err(|e| e.to_string())?;
            out.show(&invited, || {
                let mut line = format!("{email} is on the {key} security team");
                if invited["added_to_committee"] == true {
                    line.push_str(", added to the committee first");
                }
                if invited["invited_by_mail"] == true {
                    line.push_str("; a link to choose their password is on its way by mail");
                }
                line
            });
        }
        TeamCommand::List { project, store } => {
            let key = parse_key(&project)?;
            let store = store.open().await.map_err(|e| e.to_string())?;
            let members = store
                .project_members(&key)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!(members), || {
                members
                    .iter()
                    .map(|m| {
                        format!(
                            "{}\tlast active {}",
                            m.email,
                            m.last_active_at.as_deref().unwrap_or("never")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

/// `embargo jobs …`.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Counts of pending, done and failed jobs.
    Status {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Send failed jobs, and jobs waiting out a backoff, again now (after the relay's
    /// settings are put right).
    Retry {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enqueue diagnostic probe jobs, to check that running servers pick up jobs exactly once.
    Probe {
        /// How many.
        #[arg(long, default_value_t = 1)]
        count: u32,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs `embargo jobs …`.
pub async fn jobs(cmd: JobsCommand, out: &Output) -> Result<(), String> {
    match cmd {
        JobsCommand::Status { store } => {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let (pending, done, failed) = store.job_counts().await.map_err(|e| e.to_string())?;
            store.close().await;
            out.show(
                &json!({ "pending": pending, "done": done, "failed": failed }),
                || format!("pending {pending}, done {done}, failed {failed}"),
            );
        }
        JobsCommand::Retry { store } => {
            let store = store.open().await.map_err(|e| e.to_string())?;
            let retried = store.retry_jobs().await.map_err(|e| e.to_string())?;
            store.close().await;
            out.show(&json!({ "retried": retried }), || {
                format!("{retried} jobs are due again now")
            });
        }
        JobsCommand::Probe { count, store } => {
            let store = store.open().await.map_err(|e| e.to_string())?;
            for _ in 0..count {
                store
                    .enqueue_job(&embargo_store::Task::Probe)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            store.close().await;
            out.show(&json!({ "enqueued": count }), || {
                format!("enqueued {count} probe jobs")
            });
        }
    }
    Ok(())
}
