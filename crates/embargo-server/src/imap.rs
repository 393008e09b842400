//! Intake by IMAP: the server polls a mailbox, takes in every message it has not read
//! yet (by UID, and by Message-ID against duplicates), then flags it \Seen.
//!
//! Plain IMAP to a server the operator runs (usually on loopback or a private network);
//! TLS is left to that setup.

use std::time::Duration;

use async_imap::Client;
use embargo_mail::Limits;
use embargo_store::{Store, StoreError};
use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio::sync::watch;

/// One polled mailbox.
#[derive(Clone)]
pub struct ImapSettings {
    /// Host of the IMAP server.
    pub host: String,
    /// Its port.
    pub port: u16,
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
}

impl std::fmt::Debug for ImapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Imap({}@{}:{}/{})",
            self.user, self.host, self.port, self.mailbox
        )
    }
}

impl ImapSettings {
    /// Reads `imap://user:password@host:port/MAILBOX`, or `imap://user@host:port/MAILBOX`
    /// with the password given apart (a file or the environment, out of the process list).
    pub fn from_url(
        url: &str,
        project: &str,
        interval: Duration,
    ) -> Result<ImapSettings, ImapError> {
        let bad = || ImapError::BadUrl;
        let rest = url.strip_prefix("imap://").ok_or_else(bad)?;
        let (credentials, location) = rest.rsplit_once('@').ok_or_else(bad)?;
        let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
        let (hostport, mailbox) = location.split_once('/').unwrap_or((location, "INBOX"));
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
            None => (hostport, 143),
        };
        Ok(ImapSettings {
            host: host.to_owned(),
            port,
            user: user.to_owned(),
            password: password.to_owned(),
            mailbox: if mailbox.is_empty() {
                "INBOX".to_owned()
            } else {
                mailbox.to_owned()
            },
            project: project.to_owned(),
            interval,
            limits: Limits::default(),
        })
    }

    fn account(&self) -> String {
        format!("{}@{}:{}/{}", self.user, self.host, self.port, self.mailbox)
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
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "IMAP intake took in messages"),
                // Errors name the step, never message content. The lease is let go, so
                // that a server that can poll (another's settings may be right) takes over.
                Err(e) => {
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
    /// The URL is not an IMAP URL.
    #[error("the IMAP URL must look like imap://user[:password]@host:port/INBOX")]
    BadUrl,
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

/// One poll: every message with a UID above the last one taken in. Returns how many.
pub async fn poll(
    store: &Store,
    settings: &ImapSettings,
    lease: &Lease,
    failures: &mut Failures,
) -> Result<usize, ImapError> {
    let tcp = TcpStream::connect((settings.host.as_str(), settings.port))
        .await
        .map_err(ImapError::Connect)?;
    let mut client = Client::new(tcp);
    client
        .read_response()
        .await
        .map_err(|e| ImapError::Step("reading the greeting", e.to_string()))?
        .ok_or(ImapError::Closed)?;
    let mut session = client
        .login(&settings.user, &settings.password)
        .await
        .map_err(|(e, _)| ImapError::Step("login", e.to_string()))?;
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
