//! Intake by IMAP: the server polls a mailbox, takes in every message it has not read
//! yet (by UID, and by Message-ID against duplicates), then flags it \Seen.
//!
//! The server is reached over IMAPS, with STARTTLS, or in plain on loopback (see
//! [`Endpoint::parse`]); the password comes from a file or the environment.

use std::sync::Arc;
use std::time::Duration;

use async_imap::{Client, Session};
use embargo_mail::Limits;
use embargo_store::{Store, StoreError};
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::rustls;

use crate::mail_endpoint::{Endpoint, EndpointError, Protocol, Security, client_config};

/// One polled mailbox.
#[derive(Clone)]
pub struct ImapSettings {
    /// The server, its login and how the connection is protected.
    pub server: Endpoint,
    /// The login.
    pub user: String,
    /// The password.
    pub password: String,
    /// The mailbox, e.g. INBOX.
    pub mailbox: String,
    /// The project its mail is for.
    pub project: String,
    /// Time between polls.
    pub interval: Duration,
    /// The limits of intake.
    pub limits: Limits,
    /// The TLS client (Mozilla's roots and the operator's CA).
    tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for ImapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Imap({:?}/{})", self.server, self.mailbox)
    }
}

impl ImapSettings {
    /// Reads `imaps://user@host:port/MAILBOX` (or `imap://…`, STARTTLS; plain only to
    /// loopback or with `tls=none`). The password is best given apart (a file or the
    /// environment, out of the process list); one in the URL is still taken.
    pub fn from_url(
        url: &str,
        project: &str,
        interval: Duration,
    ) -> Result<ImapSettings, ImapError> {
        let server = Endpoint::parse(url, Protocol::Imap)?;
        let user = server.user.clone().ok_or(ImapError::BadUrl)?;
        Ok(ImapSettings {
            user,
            password: server.password.clone().unwrap_or_default(),
            mailbox: if server.path.is_empty() {
                "INBOX".to_owned()
            } else {
                server.path.clone()
            },
            project: project.to_owned(),
            interval,
            limits: Limits::default(),
            tls: client_config(&[])?,
            server,
        })
    }

    /// Trusts the certificates of a PEM file besides Mozilla's roots.
    pub fn trust_ca_file(&mut self, path: &std::path::Path) -> Result<(), ImapError> {
        let extra = crate::mail_endpoint::read_ca_file(path)?;
        self.tls = client_config(&extra)?;
        Ok(())
    }

    fn account(&self) -> String {
        format!(
            "{}@{}:{}/{}",
            self.user, self.server.host, self.server.port, self.mailbox
        )
    }
}

/// Polls until `shutdown` turns true. Of several servers on one database, one polls a
/// mailbox at a time: the one holding its lease, renewed before each message, which
/// another takes over when the holder stops renewing it.
pub async fn run(
    store: Store,
    settings: ImapSettings,
    runner: String,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(mailbox = ?settings, "IMAP intake started");
    let lease = Lease {
        name: format!("imap:{}", settings.account()),
        holder: runner,
        length: settings.interval * 2 + Duration::from_secs(5),
    };
    let mut failures = Failures::default();
    loop {
        match store
            .take_lease(&lease.name, &lease.holder, lease.length)
            .await
        {
            Ok(true) => match poll(&store, &settings, &lease, &mut failures).await {
                Ok(0) => crate::metrics::record_poll("ok"),
                Ok(n) => {
                    crate::metrics::record_poll("ok");
                    tracing::info!(messages = n, "IMAP intake took in messages");
                }
                // Errors name the step, never message content. The lease is let go, so
                // that a server that can poll (another's settings may be right) takes over.
                Err(e) => {
                    crate::metrics::record_poll("failed");
                    tracing::warn!(error = %e, "IMAP poll failed");
                    if let Err(e) = store.release_lease(&lease.name, &lease.holder).await {
                        tracing::warn!(error = e.category(), "IMAP lease could not be let go");
                    }
                }
            },
            Ok(false) => tracing::debug!("another server polls this mailbox"),
            Err(e) => tracing::warn!(error = e.category(), "IMAP lease could not be taken"),
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.interval) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
}

/// The lease that makes one server of many the poller.
pub struct Lease {
    name: String,
    holder: String,
    length: Duration,
}

/// Messages that could not be taken in, by UID, and how often. Intake quarantines what
/// it cannot use, so a failure here is the desk's (or the database's), not the message's:
/// the poll stops and tries again. Only a message that keeps failing on its own, while
/// later ones would go in, is passed after a few polls, left unread in the mailbox.
#[derive(Default)]
pub struct Failures(std::collections::HashMap<u32, u32>);

/// Polls a message may fail before it is passed.
const PASS_AFTER: u32 = 3;

/// Why a poll stopped or settings were refused; each names the step, never a message's
/// content.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The URL names no login.
    #[error("the IMAP URL must name the login: imaps://user@host:port/INBOX")]
    BadUrl,
    /// The URL or CA file is unusable.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// TLS could not be set up: an untrusted certificate, a wrong name, or a server that
    /// does not offer STARTTLS (a downgrade is refused, never followed).
    #[error("TLS: {0}")]
    Tls(String),
    /// The server could not be reached.
    #[error("connecting: {0}")]
    Connect(std::io::Error),
    /// The server closed the connection before greeting.
    #[error("the server closed the connection")]
    Closed,
    /// A step of the IMAP conversation failed.
    #[error("{0}: {1}")]
    Step(&'static str, String),
    /// A message could not be taken in (yet).
    #[error("UID {uid}: {why}")]
    Message {
        /// Its UID.
        uid: u32,
        /// Why, by category.
        why: String,
    },
    /// The store refused or failed.
    #[error("store: {}", .0.category())]
    Store(#[from] StoreError),
}

/// A connection to the IMAP server, in plain text or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

/// Connects, takes up TLS as the settings say, and logs in.
async fn connect(settings: &ImapSettings) -> Result<Session<Box<dyn Io>>, ImapError> {
    let tcp = TcpStream::connect((settings.server.host.as_str(), settings.server.port))
        .await
        .map_err(ImapError::Connect)?;
    let stream: Box<dyn Io> = match settings.server.security {
        Security::Implicit => Box::new(handshake(settings, tcp).await?),
        Security::StartTls => {
            let mut client = greeted(Client::new(tcp)).await?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| {
                    ImapError::Tls(format!(
                        "the server refused STARTTLS ({e}); Embargo does not log in without TLS"
                    ))
                })?;
            let tls = handshake(settings, client.into_inner()).await?;
            // After STARTTLS the server sends no second greeting.
            return log_in(Client::new(Box::new(tls) as Box<dyn Io>), settings).await;
        }
        Security::Plain | Security::Opportunistic => Box::new(tcp),
    };
    log_in(greeted(Client::new(stream)).await?, settings).await
}

/// Connects, logs in and selects the mailbox, then logs out: for `embargo config check`.
/// Returns how many messages the mailbox holds.
pub async fn check(settings: &ImapSettings) -> Result<u32, ImapError> {
    let mut session = connect(settings).await?;
    let mailbox = session
        .select(&settings.mailbox)
        .await
        .map_err(|e| ImapError::Step("select", e.to_string()))?;
    let _ = session.logout().await;
    Ok(mailbox.exists)
}

/// One poll: every message with a UID above the last one taken in. Returns how many.
pub async fn poll(
    store: &Store,
    settings: &ImapSettings,
    lease: &Lease,
    failures: &mut Failures,
) -> Result<usize, ImapError> {
    let session = connect(settings).await?;
    take_in(store, settings, lease, failures, session).await
}

/// The TLS handshake, the certificate checked against the server's name.
async fn handshake(
    settings: &ImapSettings,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
    let name = rustls::pki_types::ServerName::try_from(settings.server.host.clone())
        .map_err(|e| ImapError::Tls(format!("{}: {e}", settings.server.host)))?;
    tokio_rustls::TlsConnector::from(settings.tls.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| {
            ImapError::Tls(format!(
                "{e}; is the server's certificate trusted (a CA file for a private server)?"
            ))
        })
}

async fn greeted<T: Io>(mut client: Client<T>) -> Result<Client<T>, ImapError> {
    client
        .read_response()
        .await
        .map_err(|e| ImapError::Step("reading the greeting", e.to_string()))?
        .ok_or(ImapError::Closed)?;
    Ok(client)
}

async fn log_in<T: Io>(
    client: Client<T>,
    settings: &ImapSettings,
) -> Result<Session<T>, ImapError> {
    client
        .login(&settings.user, &settings.password)
        .await
        .map_err(|(e, _)| ImapError::Step("login", e.to_string()))
}

/// Takes in the new messages of the mailbox.
async fn take_in(
    store: &Store,
    settings: &ImapSettings,
    lease: &Lease,
    failures: &mut Failures,
    mut session: Session<Box<dyn Io>>,
) -> Result<usize, ImapError> {
    let mailbox = session
        .select(&settings.mailbox)
        .await
        .map_err(|e| ImapError::Step("select", e.to_string()))?;
    let validity = i64::from(mailbox.uid_validity.unwrap_or(0));
    let account = settings.account();
    let last = store.imap_last_uid(&account, validity).await?;
    let mut uids: Vec<u32> = session
        .uid_search(format!("UID {}:*", last + 1))
        .await
        .map_err(|e| ImapError::Step("search", e.to_string()))?
        .into_iter()
        // "n:*" always matches the newest message, even one already taken in.
        .filter(|uid| i64::from(*uid) > last)
        .collect();
    uids.sort_unstable();
    let mut taken = 0;
    for uid in uids {
        let body = {
            let mut fetches = session
                .uid_fetch(uid.to_string(), "BODY.PEEK[]")
                .await
                .map_err(|e| ImapError::Step("fetch", e.to_string()))?;
            let mut body = None;
            while let Some(fetch) = fetches.next().await {
                let fetch = fetch.map_err(|e| ImapError::Step("fetch", e.to_string()))?;
                if let Some(b) = fetch.body() {
                    body = Some(b.to_vec());
                }
            }
            body
        };
        // Still ours? A slow poll must not overlap another server's.
        if !store
            .take_lease(&lease.name, &lease.holder, lease.length)
            .await?
        {
            break;
        }
        let outcome = match body {
            Some(raw) => store
                .intake(&settings.project, &raw, &settings.limits)
                .await
                .map(|_| ())
                .map_err(|e| (e.is_transient(), e.category().to_owned())),
            None => Err((true, "the server sent no message body".to_owned())),
        };
        match outcome {
            Ok(()) => {
                taken += 1;
                failures.0.remove(&uid);
            }
            Err((transient, why)) => {
                let count = failures.0.entry(uid).or_default();
                *count += 1;
                if transient || *count < PASS_AFTER {
                    // Stop here: this message and the ones after it are taken next time.
                    return Err(ImapError::Message { uid, why });
                }
                tracing::error!(
                    uid,
                    error = %why,
                    "a message failed {PASS_AFTER} polls and is passed; it stays unread in the mailbox"
                );
                failures.0.remove(&uid);
                store
                    .set_imap_last_uid(&account, validity, i64::from(uid))
                    .await?;
                continue;
            }
        }
        store
            .set_imap_last_uid(&account, validity, i64::from(uid))
            .await?;
        let mut flagged = session
            .uid_store(uid.to_string(), "+FLAGS (\\Seen)")
            .await
            .map_err(|e| ImapError::Step("flag", e.to_string()))?;
        while flagged.next().await.is_some() {}
    }
    let _ = session.logout().await;
    Ok(taken)
}
