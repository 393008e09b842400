//! `embargo serve`.

use std::net::SocketAddr;

use clap::Args;
use tokio::sync::watch;

use crate::config::{LimitArgs, StoreArgs};

/// Options of `embargo serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "EMBARGO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// SMTP relay for mail out; without it mail waits. smtp://127.0.0.1:25 (the local
    /// MTA), smtps://user@relay:465 (TLS), smtp://user@relay:587 (STARTTLS required;
    /// ?tls=opportunistic or ?tls=none to relax it).
    #[arg(long, env = "EMBARGO_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The relay's password, read from this file; EMBARGO_SMTP_PASSWORD gives it from
    /// the environment. Used when the URL names a user but no password.
    #[arg(long, env = "EMBARGO_SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<std::path::PathBuf>,
    /// PEM certificates trusted for the relay besides Mozilla's roots (a private CA).
    #[arg(long, env = "EMBARGO_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<std::path::PathBuf>,
    /// The address mail comes from.
    #[arg(long, env = "EMBARGO_MAIL_FROM", default_value = "security@localhost")]
    pub mail_from: String,
    /// The server's public base URL, for links in mail (default: the listen address).
    #[arg(long, env = "EMBARGO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A mailbox to poll for reports: imaps://user@host:993/INBOX, imap://user@host/INBOX
    /// (STARTTLS required), or imap://user@127.0.0.1:143/INBOX (plain on loopback).
    #[arg(
        long,
        env = "EMBARGO_IMAP_URL",
        hide_env_values = true,
        requires = "imap_project"
    )]
    pub imap_url: Option<String>,
    /// The IMAP password, read from this file (kept out of the process list); used when
    /// the URL carries none. EMBARGO_IMAP_PASSWORD gives it from the environment.
    #[arg(long, env = "EMBARGO_IMAP_PASSWORD_FILE")]
    pub imap_password_file: Option<std::path::PathBuf>,
    /// PEM certificates trusted for the IMAP server besides Mozilla's roots.
    #[arg(long, env = "EMBARGO_IMAP_CA_FILE")]
    pub imap_ca_file: Option<std::path::PathBuf>,
    /// The project the polled mailbox's mail is for.
    #[arg(long, env = "EMBARGO_IMAP_PROJECT")]
    pub imap_project: Option<String>,
    /// Seconds between polls.
    #[arg(long, env = "EMBARGO_IMAP_INTERVAL", default_value_t = 60)]
    pub imap_interval: u64,
    /// Seconds a job claimed by a server that then died waits before another server
    /// takes it over (announcements included).
    #[arg(long, env = "EMBARGO_JOB_LEASE", default_value_t = 60)]
    pub job_lease: u64,
    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose forwarded client
    /// address (`Forwarded`, `X-Forwarded-For`) the per-address limits believe.
    #[arg(long, env = "EMBARGO_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxy: Vec<String>,
    /// Append an authenticated checkpoint of the audit chain to this file every
    /// --audit-checkpoint-interval seconds and at shutdown; keep it off this machine's
    /// database (`embargo audit verify --checkpoints` holds the log to it).
    #[arg(long, env = "EMBARGO_AUDIT_CHECKPOINTS")]
    pub audit_checkpoints: Option<std::path::PathBuf>,
    /// Seconds between audit checkpoints.
    #[arg(long, env = "EMBARGO_AUDIT_CHECKPOINT_INTERVAL", default_value_t = 300)]
    pub audit_checkpoint_interval: u64,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub store: StoreArgs,
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

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> Result<(), String> {
    let store = args.store.open().await.map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Scripts and tests read this line to find the port when listening on port 0.
    println!("embargo listening on http://{addr}");
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
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let mailer = match &args.smtp_url {
        Some(url) => Some(
            embargo_server::mail::Mailer::new(&embargo_server::mail::MailSettings {
                smtp_url: url.clone(),
                password: secret(args.smtp_password_file.as_deref(), "EMBARGO_SMTP_PASSWORD")?,
                ca_file: args.smtp_ca_file.clone(),
                from: args.mail_from.clone(),
                public_url: public_url.clone(),
            })
            .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let imap = match (&args.imap_url, &args.imap_project) {
        (Some(url), Some(project)) => {
            let mut settings = embargo_server::imap::ImapSettings::from_url(
                url,
                project,
                std::time::Duration::from_secs(args.imap_interval.max(1)),
            )
            .map_err(|e| e.to_string())?;
            if settings.password.is_empty() {
                settings.password =
                    secret(args.imap_password_file.as_deref(), "EMBARGO_IMAP_PASSWORD")?
                        .unwrap_or_default();
            }
            if let Some(ca) = &args.imap_ca_file {
                settings.trust_ca_file(ca).map_err(|e| e.to_string())?;
            }
            settings.limits = args.limits.limits();
            Some(settings)
        }
        _ => None,
    };
    let services = embargo_server::Services {
        runner,
        mailer,
        imap,
        public_url,
        job_lease: std::time::Duration::from_secs(args.job_lease.clamp(1, 3600)),
        trusted_proxies: trusted_proxies(&args.trusted_proxy)?,
        intake_limits: args.limits.limits(),
    };
    let checkpointer = args.audit_checkpoints.clone().map(|file| {
        tokio::spawn(checkpoints(
            store.clone(),
            file,
            std::time::Duration::from_secs(args.audit_checkpoint_interval.max(1)),
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
fn secret(file: Option<&std::path::Path>, variable: &str) -> Result<Option<String>, String> {
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
                .map_err(|_| format!("--trusted-proxy {p}: not an address or CIDR range"))
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
