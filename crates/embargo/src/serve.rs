//! `embargo serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use tokio::sync::watch;

use crate::settings::Settings;
use crate::store_args::{LimitArgs, StoreArgs};

/// Options of `embargo serve`; each may also come from the configuration file, and
/// the defaults are in `embargo config example`.
#[derive(Debug, Args, Serialize)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "EMBARGO_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// Serve Prometheus metrics at /metrics on this address, apart from the site
    /// (keep it private: e.g. 127.0.0.1:9187).
    #[arg(long, env = "EMBARGO_METRICS_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<SocketAddr>,
    /// Log format: text, or json (one object per line, for a log collector)
    /// [default: text].
    #[arg(long, env = "EMBARGO_LOG_FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    /// SMTP relay for mail out; without it mail waits. smtp://127.0.0.1:25 (the local
    /// MTA), smtps://user@relay:465 (TLS), smtp://user@relay:587 (STARTTLS required;
    /// ?tls=opportunistic or ?tls=none to relax it).
    #[arg(long, env = "EMBARGO_SMTP_URL", hide_env_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    /// The relay's password, read from this file; EMBARGO_SMTP_PASSWORD gives it from
    /// the environment. Used when the URL names a user but no password.
    #[arg(long, env = "EMBARGO_SMTP_PASSWORD_FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_password_file: Option<PathBuf>,
    /// PEM certificates trusted for the relay besides Mozilla's roots (a private CA).
    #[arg(long, env = "EMBARGO_SMTP_CA_FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_ca_file: Option<PathBuf>,
    /// The address mail comes from [default: security@localhost].
    #[arg(long, env = "EMBARGO_MAIL_FROM")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_from: Option<String>,
    /// The server's public base URL, for links in mail (default: the listen address).
    #[arg(long, env = "EMBARGO_PUBLIC_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// A mailbox to poll for reports: imaps://user@host:993/INBOX, imap://user@host/INBOX
    /// (STARTTLS required), or imap://user@127.0.0.1:143/INBOX (plain on loopback).
    #[arg(long, env = "EMBARGO_IMAP_URL", hide_env_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imap_url: Option<String>,
    /// The IMAP password, read from this file (kept out of the process list); used when
    /// the URL carries none. EMBARGO_IMAP_PASSWORD gives it from the environment.
    #[arg(long, env = "EMBARGO_IMAP_PASSWORD_FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imap_password_file: Option<PathBuf>,
    /// PEM certificates trusted for the IMAP server besides Mozilla's roots.
    #[arg(long, env = "EMBARGO_IMAP_CA_FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imap_ca_file: Option<PathBuf>,
    /// The project the polled mailbox's mail is for.
    #[arg(long, env = "EMBARGO_IMAP_PROJECT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imap_project: Option<String>,
    /// Seconds between polls [default: 60].
    #[arg(long, env = "EMBARGO_IMAP_INTERVAL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imap_interval: Option<u64>,
    /// Seconds a job claimed by a server that then died waits before another server
    /// takes it over (announcements included) [default: 60].
    #[arg(long, env = "EMBARGO_JOB_LEASE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_lease: Option<u64>,
    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose forwarded client
    /// address (`Forwarded`, `X-Forwarded-For`) the per-address limits believe.
    #[arg(long, env = "EMBARGO_TRUSTED_PROXIES", value_delimiter = ',')]
    #[serde(rename = "trusted_proxies", skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxy: Vec<String>,
    /// Append an authenticated checkpoint of the audit chain to this file every
    /// --audit-checkpoint-interval seconds and at shutdown; keep it off this machine's
    /// database (`embargo audit verify --checkpoints` holds the log to it).
    #[arg(long, env = "EMBARGO_AUDIT_CHECKPOINTS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_checkpoints: Option<PathBuf>,
    /// Seconds between audit checkpoints [default: 300].
    #[arg(long, env = "EMBARGO_AUDIT_CHECKPOINT_INTERVAL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_checkpoint_interval: Option<u64>,
    /// A folder of the formats' official JSON schemas (cve5.json, osv.json, csaf.json
    /// with FIRST's cvss-v2.0.json, cvss-v3.0.json and cvss-v3.1.json): the rehearsal and
    /// corrections check each document against them too.
    #[arg(long, env = "EMBARGO_DOCUMENT_SCHEMAS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_schemas: Option<PathBuf>,
    /// Apply the database's pending migrations on start even without a fresh backup
    /// (one recorded by `embargo backup` in the last day at the current schema).
    #[arg(long, env = "EMBARGO_MIGRATE")]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub migrate: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    #[serde(flatten)]
    pub store: StoreArgs,
}

/// Opens the store for a server: a database with pending migrations is migrated only
/// after a fresh backup or with `--migrate`, saying what changes; otherwise the server
/// does not start, and says how to proceed.
async fn open_for_serving(settings: &Settings) -> Result<embargo_store::Store, String> {
    let database = crate::store_args::database(settings).map_err(|e| e.to_string())?;
    let status = embargo_store::schema_status(&database)
        .await
        .map_err(|e| e.to_string())?;
    let upgrade = if !status.new && !status.pending.is_empty() {
        if !(settings.migrate || status.fresh_backup) {
            return Err(embargo_store::StoreError::UpgradePending(format!(
                "{} migration(s) pending and no backup recorded at this schema in the last day",
                status.pending.len()
            ))
            .to_string());
        }
        let why = match settings.migrate {
            true => "--migrate",
            false => "a backup of the last day",
        };
        for m in &status.pending {
            tracing::info!(version = m.version, description = %m.description, reason = why, "applying migration");
        }
        embargo_store::Upgrade::Apply
    } else {
        embargo_store::Upgrade::Refuse
    };
    let keys = crate::store_args::key_source(settings).map_err(|e| e.to_string())?;
    embargo_store::Store::open_with(&database, &keys, upgrade)
        .await
        .map_err(|e| e.to_string())
}

/// Options of `embargo health`.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The server's base URL.
    #[arg(long, env = "EMBARGO_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
}

/// Asks a running server whether it is ready (`/readyz`): for a container's healthcheck
/// or a monitoring script. `Ok(false)` when it is not.
pub async fn health(args: HealthArgs, out: &crate::Output) -> Result<bool, String> {
    let url = format!("{}/readyz", args.url.trim_end_matches('/'));
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let ready = response.status().is_success();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    out.show(&body, || match ready {
        true => "ready".to_owned(),
        false => format!(
            "not ready: {}",
            body["reason"].as_str().unwrap_or("no answer")
        ),
    });
    Ok(ready)
}

/// Writes audit checkpoints until shutdown, and one more then.
async fn checkpoints(
    store: embargo_store::Store,
    file: std::path::PathBuf,
    every: std::time::Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(every) => false,
            _ = shutdown.changed() => true,
        };
        match store.audit_checkpoint().await {
            Ok(checkpoint) => {
                if let Err(e) = checkpoint.append_to(&file) {
                    tracing::error!(error = %e, "the audit checkpoint could not be written");
                }
            }
            Err(e) => tracing::error!(
                error = e.category(),
                "the audit checkpoint could not be taken"
            ),
        }
        if stopping || *shutdown.borrow() {
            break;
        }
    }
}

/// The mail sender the settings describe, if any.
pub fn mailer(
    settings: &Settings,
    public_url: &str,
) -> Result<Option<embargo_server::mail::Mailer>, String> {
    let Some(url) = &settings.smtp_url else {
        return Ok(None);
    };
    embargo_server::mail::Mailer::new(&embargo_server::mail::MailSettings {
        smtp_url: url.clone(),
        password: secret(
            settings.smtp_password_file.as_deref(),
            "EMBARGO_SMTP_PASSWORD",
        )?,
        ca_file: settings.smtp_ca_file.clone(),
        from: settings.mail_from.clone(),
        public_url: public_url.to_owned(),
    })
    .map(Some)
    .map_err(|e| e.to_string())
}

/// The polled mailbox the settings describe, if any.
pub fn mailbox(settings: &Settings) -> Result<Option<embargo_server::imap::ImapSettings>, String> {
    let (url, project) = match (&settings.imap_url, &settings.imap_project) {
        (Some(url), Some(project)) => (url, project),
        (Some(_), None) => {
            return Err(
                "imap_url needs imap_project: the project whose reports the mailbox receives"
                    .into(),
            );
        }
        _ => return Ok(None),
    };
    let mut imap = embargo_server::imap::ImapSettings::from_url(
        url,
        project,
        std::time::Duration::from_secs(settings.imap_interval.max(1)),
    )
    .map_err(|e| e.to_string())?;
    if imap.password.is_empty() {
        imap.password = secret(
            settings.imap_password_file.as_deref(),
            "EMBARGO_IMAP_PASSWORD",
        )?
        .unwrap_or_default();
    }
    if let Some(ca) = &settings.imap_ca_file {
        imap.trust_ca_file(ca).map_err(|e| e.to_string())?;
    }
    imap.limits = settings.limits();
    Ok(Some(imap))
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> Result<(), String> {
    let settings = crate::settings::resolve(&args)?;
    let mut store = open_for_serving(&settings).await?;
    if let Some(dir) = &settings.document_schemas {
        let schemas = embargo_formats::schemas::Schemas::load(dir).map_err(|e| e.to_string())?;
        tracing::info!(schemas = ?schemas, "documents are checked against the official schemas");
        store = store.with_schemas(schemas);
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let metrics = match settings.metrics_listen {
        Some(at) => Some(
            tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| format!("cannot listen on {at} for metrics: {e}"))?,
        ),
        None => None,
    };
    // Scripts and tests read these lines to find the ports when listening on port 0.
    // Written without println!, which would panic once nobody reads the pipe.
    {
        use std::io::Write;
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "embargo listening on http://{addr}");
        if let Some(Ok(at)) = metrics.as_ref().map(|m| m.local_addr()) {
            let _ = writeln!(stdout, "embargo metrics on http://{at}/metrics");
        }
        let _ = stdout.flush();
    }
    let (stop, shutdown) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    // Unique across hosts too (every container's server may be pid 1 on the same port):
    // the standard library's per-process random hash keys make a random suffix.
    let nonce = {
        use std::hash::{BuildHasher, Hasher};
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    };
    let runner = format!("{}-{}-{nonce:016x}", std::process::id(), addr.port());
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    // Nobody can sign in yet: a one-time link on the console creates the first
    // administrator. It goes to the console only, never to the log.
    let setup = std::sync::Arc::new(embargo_server::setup::SetupLink::default());
    if !store.has_users().await.map_err(|e| e.to_string())? {
        use std::io::Write;
        let secret = setup.issue();
        let _ = writeln!(
            std::io::stderr(),
            "Nobody can sign in yet. Within the hour, open {}/setup/{secret} to create the first administrator, organisation and project (or run `embargo init`).",
            public_url.trim_end_matches('/')
        );
    }
    let services = embargo_server::Services {
        setup,
        runner,
        mailer: mailer(&settings, &public_url)?,
        imap: mailbox(&settings)?,
        public_url,
        job_lease: std::time::Duration::from_secs(settings.job_lease.clamp(1, 3600)),
        trusted_proxies: trusted_proxies(&settings.trusted_proxies)?,
        intake_limits: settings.limits(),
        metrics,
    };
    let checkpointer = settings.audit_checkpoints.clone().map(|file| {
        tokio::spawn(checkpoints(
            store.clone(),
            file,
            std::time::Duration::from_secs(settings.audit_checkpoint_interval.max(1)),
            shutdown.clone(),
        ))
    });
    embargo_server::serve_with(listener, store.clone(), services, shutdown)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(task) = checkpointer {
        let _ = task.await;
    }
    store.close().await;
    Ok(())
}

/// A secret from its file, else from the environment variable, else none; never from
/// argv, where every user of the machine reads it.
pub fn secret(file: Option<&std::path::Path>, variable: &str) -> Result<Option<String>, String> {
    match (file, std::env::var(variable)) {
        (Some(file), _) => Ok(Some(
            std::fs::read_to_string(file)
                .map_err(|e| format!("{}: {e}", file.display()))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        )),
        (None, Ok(value)) => Ok(Some(value)),
        (None, Err(_)) => Ok(None),
    }
}

/// `10.0.0.0/8`, `192.0.2.7` or `::1`: a single address is a range of one.
fn trusted_proxies(given: &[String]) -> Result<Vec<ipnet::IpNet>, String> {
    given
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("trusted proxy {p}: not an address or CIDR range"))
        })
        .collect()
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
