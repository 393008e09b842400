//! The audit log: every read of confidential content by a person is appended before the
//! content is handed over, as a keyed hash chain that `verify_audit` walks.
//!
//! Each row's mac is HMAC-SHA256, under a key derived from the first data key (so it is
//! never in the database and survives master-key rotation), over the previous row's mac
//! and the row's own fields. Someone with write access to the database alone can neither
//! alter, delete nor reorder rows, nor forge new ones, without `verify_audit` noticing.
//!
//! Reads are many and each needs a write, so appends are group-committed: one writer
//! task per store takes whatever entries are waiting, chains them in one transaction, and
//! only then lets the waiting reads proceed.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use embargo_core::access::Viewer;
use embargo_core::reference::CaseRef;

use crate::{Backend, Result, Store, StoreError, millis};

/// What part of a case was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The case itself: title, report, reporter, scores, advisory draft.
    Case,
    /// Its title and summary, as shown in a list.
    Summary,
    /// Its timeline, with notes and reasons.
    Timeline,
    /// Its checklist, with notes.
    Checklist,
    /// Its advisory draft, fix and embargo date (what distributors see).
    Advisory,
    /// Its attachments.
    Attachments,
    /// Its fix records, private patches and testing evidence.
    Fixes,
    /// The reporter's secret link, handed to a team member to pass on.
    ReporterLink,
    /// The external thread, read by the reporter through their link.
    ExternalThread,
    /// Its reference, CVE ID and sensitive terms, for a deny list the team exported.
    GuardTerms,
}

impl Read {
    fn as_str(self) -> &'static str {
        match self {
            Read::Case => "case",
            Read::Summary => "summary",
            Read::Timeline => "timeline",
            Read::Checklist => "checklist",
            Read::Advisory => "advisory",
            Read::Attachments => "attachments",
            Read::Fixes => "fixes",
            Read::ReporterLink => "reporter-link",
            Read::ExternalThread => "external-thread",
            Read::GuardTerms => "guard terms",
        }
    }
}

/// One read to append.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    actor_id: i64,
    case_id: i64,
    what: std::borrow::Cow<'static, str>,
    via: &'static str,
    /// The cases a list showed, as `,12,13,`: one row for the page.
    cases: Option<String>,
}

impl Entry {
    pub(crate) fn new(viewer: &Viewer, case_id: i64, what: Read) -> Entry {
        Entry {
            actor_id: viewer.user_id,
            case_id,
            what: what.as_str().into(),
            via: viewer.via.as_str(),
            cases: None,
        }
    }

    /// A read of several cases at once (a page of a list): one row naming them all.
    pub(crate) fn listed(viewer: &Viewer, case_ids: &[i64], what: Read) -> Vec<Entry> {
        match case_ids {
            [] => Vec::new(),
            [one] => vec![Entry::new(viewer, *one, what)],
            many => vec![Entry {
                cases: Some(format!(
                    ",{},",
                    many.iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                )),
                ..Entry::new(viewer, 0, what)
            }],
        }
    }

    /// A read of many cases at once (a period's figures): rows naming them all, runs of
    /// consecutive ids as `first-last` (`,12,20-4000,`), a thousand runs a row, so that a
    /// year of a busy project is a row or two rather than a name a case.
    pub(crate) fn counted(viewer: &Viewer, case_ids: &mut [i64], what: Read) -> Vec<Entry> {
        let runs = runs_of(case_ids);
        if let [(first, last)] = runs[..]
            && first == last
        {
            return vec![Entry::new(viewer, first, what)];
        }
        runs.chunks(1000)
            .map(|some| Entry {
                cases: Some(named_runs(some)),
                ..Entry::new(viewer, 0, what)
            })
            .collect()
    }

    /// A read by the case's reporter, through their secret link: no account, so no actor.
    pub(crate) fn by_reporter(case_id: i64, what: Read) -> Entry {
        Entry {
            actor_id: 0,
            case_id,
            what: what.as_str().into(),
            via: "reporter-link",
            cases: None,
        }
    }

    /// A change to who may do what, or to keys and settings: membership, roles, grants,
    /// keys, configuration. In the same chain as the reads, so it cannot be dropped
    /// unnoticed either. `what` names the change, never case content.
    pub(crate) fn change(actor_id: Option<i64>, what: String) -> Entry {
        Entry {
            actor_id: actor_id.unwrap_or(0),
            case_id: 0,
            what: what.into(),
            via: "change",
            cases: None,
        }
    }
}

/// A row of the audit log as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When, RFC 3339.
    pub at: String,
    /// The reader's address.
    pub actor: Option<String>,
    /// The case read, by reference.
    pub case: Option<String>,
    /// What was read.
    pub what: String,
    /// How: api, web or cli.
    pub via: String,
    /// For a page of a list, how many cases it showed (the row names them all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed: Option<usize>,
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditReport {
    /// Rows checked.
    pub rows: i64,
    /// The first row that is not as it was written, and why; `None` when all is intact.
    pub first_bad: Option<BadRow>,
}

/// Where the chain breaks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BadRow {
    /// The row's position (for a deletion, the first missing position).
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}

type AuditKey = [u8; 32];
type Reply = oneshot::Sender<std::result::Result<(), String>>;

/// The handle reads use to append; the writer task ends when the last handle is dropped.
#[derive(Debug)]
pub(crate) struct AuditWriter {
    queue: mpsc::UnboundedSender<(Vec<Entry>, Reply)>,
}

/// Most entries chained in one transaction.
const BATCH: usize = 512;

impl AuditWriter {
    pub(crate) fn start(pool: AnyPool, backend: Backend, key: AuditKey) -> AuditWriter {
        let (queue, mut waiting) = mpsc::unbounded_channel::<(Vec<Entry>, Reply)>();
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut batch = vec![first];
                let mut count = batch[0].0.len();
                while count < BATCH {
                    match waiting.try_recv() {
                        Ok(next) => {
                            count += next.0.len();
                            batch.push(next);
                        }
                        Err(_) => break,
                    }
                }
                let entries: Vec<&Entry> = batch.iter().flat_map(|(e, _)| e).collect();
                let outcome = append(&pool, backend, &key, &entries)
                    .await
                    .map_err(|e| e.to_string());
                if let Err(e) = &outcome {
                    tracing::error!(error = %e, entries = entries.len(), "the audit log could not be written");
                }
                for (_, reply) in batch {
                    let _ = reply.send(outcome.clone());
                }
            }
        });
        AuditWriter { queue }
    }

    async fn record(&self, entries: Vec<Entry>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let (reply, done) = oneshot::channel();
        self.queue
            .send((entries, reply))
            .map_err(|_| StoreError::Audit("the audit writer has stopped".into()))?;
        done.await
            .map_err(|_| StoreError::Audit("the audit writer has stopped".into()))?
            .map_err(StoreError::Audit)
    }
}

fn hmac(key: &[u8]) -> Result<Hmac<Sha256>> {
    // HMAC takes keys of any length; the error cannot happen for our 32-byte keys.
    <Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|_| StoreError::Corrupt("audit key length".into()))
}

fn link(key: &AuditKey, prev: &[u8], row: &AuditFields<'_>) -> Result<Vec<u8>> {
    let mut mac = hmac(key)?;
    mac.update(&(prev.len() as u64).to_be_bytes());
    mac.update(prev);
    mac.update(&row.seq.to_be_bytes());
    mac.update(&row.at.to_be_bytes());
    mac.update(&row.actor_id.to_be_bytes());
    mac.update(&row.case_id.to_be_bytes());
    for text in [row.what, row.via] {
        mac.update(&(text.len() as u64).to_be_bytes());
        mac.update(text.as_bytes());
    }
    // Rows about one case (all rows before lists were compacted) link as they always did.
    if let Some(cases) = row.cases {
        mac.update(b"cases");
        mac.update(&(cases.len() as u64).to_be_bytes());
        mac.update(cases.as_bytes());
    }
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The head's own MAC: a writer to the database cannot set the head to a row of its
/// choosing (only to a head it copied from an older state, which checkpoints catch).
fn head_auth(key: &AuditKey, seq: i64, mac: &[u8]) -> Result<Vec<u8>> {
    let mut h = hmac(key)?;
    h.update(b"embargo audit head v1\0");
    h.update(&seq.to_be_bytes());
    h.update(mac);
    Ok(h.finalize().into_bytes().to_vec())
}

/// A head written before heads were authenticated (or restored from such a backup) is
/// authenticated as it stands, once, with a warning in the log. Whoever can write to the
/// database could clear it to have it re-authenticated: the checkpoints kept outside the
/// database are what catches a rewound log.
pub(crate) async fn authenticate_unversioned_head(pool: &AnyPool, key: &AuditKey) -> Result<()> {
    let head = sqlx::query("SELECT seq, mac FROM audit_head WHERE id = 1 AND auth IS NULL")
        .fetch_optional(pool)
        .await?;
    if let Some(head) = head {
        let seq: i64 = head.try_get("seq")?;
        let mac: Vec<u8> = head.try_get("mac")?;
        sqlx::query("UPDATE audit_head SET auth = $1 WHERE id = 1 AND auth IS NULL")
            .bind(head_auth(key, seq, &mac)?)
            .execute(pool)
            .await?;
        if seq > 0 {
            tracing::warn!(
                seq,
                "the audit head had no authentication; it is authenticated as it stands"
            );
        }
    }
    Ok(())
}

/// A checkpoint's MAC, over where the chain stood and when.
fn checkpoint_mac(key: &AuditKey, seq: i64, mac: &[u8], at: &str) -> Result<Vec<u8>> {
    let mut h = hmac(key)?;
    h.update(b"embargo audit checkpoint v1\0");
    h.update(&seq.to_be_bytes());
    h.update(&(mac.len() as u64).to_be_bytes());
    h.update(mac);
    h.update(at.as_bytes());
    Ok(h.finalize().into_bytes().to_vec())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    text.len()
        .is_multiple_of(2)
        .then(|| {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
                .collect()
        })
        .flatten()
}

/// Where the chain stood at a moment, authenticated: written out of the database
/// (`embargo audit checkpoint`, or by the server every few minutes) so that deleting or
/// rewinding the newest rows, head and all, contradicts it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// The last row then.
    pub seq: i64,
    /// That row's link, hex.
    pub mac: String,
    /// When, RFC 3339.
    pub at: String,
    /// The checkpoint's own MAC, hex.
    pub sig: String,
}

/// Why a checkpoint file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointFileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A line is not a checkpoint.
    #[error("{path} line {line}: not a checkpoint ({reason})")]
    NotACheckpoint {
        /// The file.
        path: String,
        /// The line, from 1.
        line: usize,
        /// Why.
        reason: String,
    },
}

impl Checkpoint {
    /// Appends this checkpoint to a file of JSON lines (created owner-only), and syncs it.
    pub fn append_to(
        &self,
        path: &std::path::Path,
    ) -> std::result::Result<(), CheckpointFileError> {
        use std::io::Write;
        let io = |source| CheckpointFileError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let line = serde_json::to_string(self).map_err(|e| io(std::io::Error::other(e)))?;
        options
            .open(path)
            .and_then(|mut f| writeln!(f, "{line}").and_then(|()| f.sync_all()))
            .map_err(io)
    }

    /// Reads a file of checkpoints, one JSON line each.
    pub fn read_file(
        path: &std::path::Path,
    ) -> std::result::Result<Vec<Checkpoint>, CheckpointFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| CheckpointFileError::Io {
            path: shown.clone(),
            source,
        })?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| {
                serde_json::from_str(l).map_err(|e| CheckpointFileError::NotACheckpoint {
                    path: shown.clone(),
                    line: n + 1,
                    reason: e.to_string(),
                })
            })
            .collect()
    }
}

struct AuditFields<'a> {
    seq: i64,
    at: i64,
    actor_id: i64,
    case_id: i64,
    what: &'a str,
    via: &'a str,
    cases: Option<&'a str>,
}

async fn append(
    pool: &AnyPool,
    backend: Backend,
    key: &AuditKey,
    entries: &[&Entry],
) -> Result<()> {
    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    };
    // The head row serialises appenders across processes sharing one database.
    let head_sql = match backend {
        Backend::Sqlite => "SELECT seq, mac FROM audit_head WHERE id = 1",
        Backend::Postgres => "SELECT seq, mac FROM audit_head WHERE id = 1 FOR UPDATE",
    };
    let head = sqlx::query(head_sql).fetch_one(&mut *tx).await?;
    let mut seq: i64 = head.try_get("seq")?;
    let mut prev: Vec<u8> = head.try_get("mac")?;
    let at = millis(OffsetDateTime::now_utc());
    let mut macs = Vec::with_capacity(entries.len());
    for entry in entries {
        seq += 1;
        let fields = AuditFields {
            seq,
            at,
            actor_id: entry.actor_id,
            case_id: entry.case_id,
            what: &entry.what,
            via: entry.via,
            cases: entry.cases.as_deref(),
        };
        prev = link(key, &prev, &fields)?;
        macs.push(prev.clone());
    }
    // One statement for the batch: on SQLite every statement is a trip to the
    // connection's thread, and the batch is what keeps audited reads fast.
    let first = seq - entries.len() as i64 + 1;
    let values = (0..entries.len())
        .map(|i| {
            let b = i * 8;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO audit_log (seq, at, actor_id, case_id, what, via, mac, cases) VALUES {values}"
    );
    let mut insert = sqlx::query(&sql);
    for ((i, entry), mac) in entries.iter().enumerate().zip(macs) {
        insert = insert
            .bind(first + i as i64)
            .bind(at)
            .bind(entry.actor_id)
            .bind(entry.case_id)
            .bind(entry.what.to_string())
            .bind(entry.via)
            .bind(mac)
            .bind(entry.cases.clone());
    }
    insert.execute(&mut *tx).await?;
    let auth = head_auth(key, seq, &prev)?;
    sqlx::query("UPDATE audit_head SET seq = $1, mac = $2, auth = $3 WHERE id = 1")
        .bind(seq)
        .bind(prev)
        .bind(auth)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Rows read per query while verifying, so that a long log is walked in bounded memory.
const PAGE: i64 = 5_000;

impl Store {
    /// Appends reads to the audit log; returns once they are committed.
    pub(crate) async fn audit(&self, entries: Vec<Entry>) -> Result<()> {
        self.audit.record(entries).await
    }

    /// Where the chain stands now, as a checkpoint to keep outside the database.
    pub async fn audit_checkpoint(&self) -> Result<Checkpoint> {
        let head = sqlx::query("SELECT seq, mac FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let seq: i64 = head.try_get("seq")?;
        let mac: Vec<u8> = head.try_get("mac")?;
        let at = crate::rfc(millis(OffsetDateTime::now_utc()));
        Ok(Checkpoint {
            sig: hex(&checkpoint_mac(self.keys().audit_key(), seq, &mac, &at)?),
            seq,
            mac: hex(&mac),
            at,
        })
    }

    /// Records a change (membership, roles, keys, settings) in the audit chain.
    pub(crate) async fn audit_change(&self, actor: Option<i64>, what: String) -> Result<()> {
        self.audit(vec![Entry::change(actor, what)]).await
    }

    /// Walks the whole chain and names the first row that is not as written, then holds
    /// it to each checkpoint: a checkpoint whose row is gone or different means rows were
    /// deleted or rewound. `progress` is called with the number of rows checked so far.
    pub async fn verify_audit_against(
        &self,
        checkpoints: &[Checkpoint],
        progress: impl FnMut(i64),
    ) -> Result<AuditReport> {
        let report = self.verify_audit(progress).await?;
        if report.first_bad.is_some() {
            return Ok(report);
        }
        let key = self.keys().audit_key();
        for (n, cp) in checkpoints.iter().enumerate() {
            let mac = unhex(&cp.mac);
            let authentic = match (&mac, unhex(&cp.sig)) {
                (Some(mac), Some(sig)) => checkpoint_mac(key, cp.seq, mac, &cp.at)? == sig,
                _ => false,
            };
            if !authentic {
                return Err(StoreError::Invalid(format!(
                    "checkpoint {} is not authentic: it was altered or made with other keys",
                    n + 1
                )));
            }
            if cp.seq == 0 {
                continue;
            }
            if cp.seq > report.rows {
                return Ok(bad(
                    report.rows,
                    report.rows + 1,
                    &format!(
                        "is missing: the log ends at row {}, but the checkpoint of {} recorded row {} (rows were deleted or the log rewound)",
                        report.rows, cp.at, cp.seq
                    ),
                ));
            }
            let row = sqlx::query("SELECT mac FROM audit_log WHERE seq = $1")
                .bind(cp.seq)
                .fetch_optional(&self.pool)
                .await?;
            let stored: Option<Vec<u8>> = row.map(|r| r.try_get("mac")).transpose()?;
            if stored.as_deref() != mac.as_deref() {
                return Ok(bad(
                    report.rows,
                    cp.seq,
                    &format!("differs from the checkpoint of {}", cp.at),
                ));
            }
        }
        Ok(report)
    }

    /// Walks the whole chain and names the first row that is not as written.
    /// `progress` is called with the number of rows checked so far.
    pub async fn verify_audit(&self, mut progress: impl FnMut(i64)) -> Result<AuditReport> {
        let key = self.keys().audit_key();
        let mut prev: Vec<u8> = Vec::new();
        let mut expected = 1i64;
        let mut checked = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor_id, case_id, what, via, mac, cases FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
            )
            .bind(expected)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let seq: i64 = row.try_get("seq")?;
                if seq != expected {
                    return Ok(bad(checked, expected, "is missing: the row was deleted"));
                }
                let what: String = row.try_get("what")?;
                let via: String = row.try_get("via")?;
                let cases: Option<String> = row.try_get("cases")?;
                let fields = AuditFields {
                    seq,
                    at: row.try_get("at")?,
                    actor_id: row.try_get("actor_id")?,
                    case_id: row.try_get("case_id")?,
                    what: &what,
                    via: &via,
                    cases: cases.as_deref(),
                };
                let mac: Vec<u8> = row.try_get("mac")?;
                if link(key, &prev, &fields)? != mac {
                    return Ok(bad(
                        checked,
                        seq,
                        "does not match its link: it was altered, moved, or a row before it was replaced",
                    ));
                }
                prev = mac;
                expected += 1;
                checked += 1;
            }
            progress(checked);
        }
        let head = sqlx::query("SELECT seq, mac, auth FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let head_seq: i64 = head.try_get("seq")?;
        let head_mac: Vec<u8> = head.try_get("mac")?;
        let auth: Option<Vec<u8>> = head.try_get("auth")?;
        if head_seq > 0 && auth != Some(head_auth(key, head_seq, &head_mac)?) {
            return Ok(bad(
                checked,
                head_seq,
                "is what the head names, but the head is not authentic: it was set by hand",
            ));
        }
        if head_seq != expected - 1 || head_mac != prev {
            let first_missing = expected;
            return Ok(bad(
                checked,
                first_missing,
                "is missing: rows at the end of the log were deleted (the head records more)",
            ));
        }
        Ok(AuditReport {
            rows: checked,
            first_bad: None,
        })
    }

    /// The newest `limit` audit rows, of one case (its own, the list pages that showed
    /// it and the figures that counted it) or of all, oldest first.
    pub async fn audit_rows(&self, case: Option<&CaseRef>, limit: i64) -> Result<Vec<AuditRow>> {
        let select = "SELECT a.seq, a.at, u.email, p.key, c.number, a.what, a.via, a.cases FROM audit_log a \
             LEFT JOIN users u ON u.id = a.actor_id LEFT JOIN cases c ON c.id = a.case_id \
             LEFT JOIN projects p ON p.id = c.project_id";
        let rows = match case {
            Some(r) => {
                let id: Option<i64> = sqlx::query(
                    "SELECT c.id FROM cases c JOIN projects p ON p.id = c.project_id WHERE p.key = $1 AND c.number = $2",
                )
                .bind(r.project.as_str())
                .bind(r.number)
                .fetch_optional(&self.pool)
                .await?
                .map(|row| row.try_get("id"))
                .transpose()?;
                let Some(id) = id else {
                    return Ok(Vec::new());
                };
                let mut rows = sqlx::query(&format!(
                    "{select} WHERE a.case_id = $1 OR a.cases LIKE $2 ORDER BY a.seq DESC LIMIT $3"
                ))
                .bind(id)
                .bind(format!("%,{id},%"))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                // Rows naming runs of cases (figures read) are matched here, not by SQL.
                for row in sqlx::query(&format!(
                    "{select} WHERE a.cases LIKE '%-%' ORDER BY a.seq DESC"
                ))
                .fetch_all(&self.pool)
                .await?
                {
                    let cases: Option<String> = row.try_get("cases")?;
                    if cases.as_deref().is_some_and(|c| names(c, id)) {
                        rows.push(row);
                    }
                }
                rows
            }
            None => {
                sqlx::query(&format!("{select} ORDER BY a.seq DESC LIMIT $1"))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        let mut out = rows
            .iter()
            .map(|row| {
                let key: Option<String> = row.try_get("key")?;
                let number: Option<i64> = row.try_get("number")?;
                // Checked: the text is the database's, and may be anything.
                let listed = row.try_get::<Option<String>, _>("cases")?.map(|c| {
                    runs(&c)
                        .map(|(first, last)| {
                            last.checked_sub(first)
                                .and_then(|n| usize::try_from(n).ok())
                                .map_or(0, |n| n.saturating_add(1))
                        })
                        .fold(0usize, usize::saturating_add)
                });
                Ok(AuditRow {
                    seq: row.try_get("seq")?,
                    at: crate::rfc(row.try_get("at")?),
                    actor: row.try_get("email")?,
                    case: key
                        .zip(number)
                        .map(|(k, n)| embargo_core::reference::case_reference(&k, n))
                        .or_else(|| listed.and(case).map(CaseRef::to_string)),
                    what: row.try_get("what")?,
                    via: row.try_get("via")?,
                    listed,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Newest first, each once (a row may match both ways), then oldest first.
        out.sort_by_key(|row: &AuditRow| std::cmp::Reverse(row.seq));
        out.dedup_by_key(|row| row.seq);
        out.truncate(usize::try_from(limit).unwrap_or(0));
        out.reverse();
        Ok(out)
    }
}

/// Runs of consecutive ids, in order, each id once.
fn runs_of(ids: &mut [i64]) -> Vec<(i64, i64)> {
    ids.sort_unstable();
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &id in ids.iter() {
        match runs.last_mut() {
            Some((_, last)) if id == *last + 1 => *last = id,
            Some((_, last)) if id == *last => {}
            _ => runs.push((id, id)),
        }
    }
    runs
}

/// How a row names runs of cases: `,12,20-4000,`.
fn named_runs(runs: &[(i64, i64)]) -> String {
    let named = runs
        .iter()
        .map(|&(first, last)| {
            if first == last {
                first.to_string()
            } else {
                format!("{first}-{last}")
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    format!(",{named},")
}

/// The runs of case ids a row names (`,12,20-4000,`): each a single id or `first-last`.
fn runs(cases: &str) -> impl Iterator<Item = (i64, i64)> + '_ {
    cases.split(',').filter_map(|item| {
        let (first, last) = item.split_once('-').unwrap_or((item, item));
        Some((first.parse().ok()?, last.parse().ok()?))
    })
}

/// Whether a row's cases name `id`.
fn names(cases: &str, id: i64) -> bool {
    runs(cases).any(|(first, last)| (first..=last).contains(&id))
}

fn bad(rows: i64, seq: i64, reason: &str) -> AuditReport {
    AuditReport {
        rows,
        first_bad: Some(BadRow {
            seq,
            reason: format!("row {seq} {reason}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_cases_are_named_and_read_back() {
        let mut ids = vec![20, 12, 21, 22, 40, 41, 12, 7];
        let runs = runs_of(&mut ids);
        assert_eq!(runs, vec![(7, 7), (12, 12), (20, 22), (40, 41)]);
        let named = named_runs(&runs);
        assert_eq!(named, ",7,12,20-22,40-41,");
        assert_eq!(super::runs(&named).collect::<Vec<_>>(), runs);
        for id in [7, 12, 20, 21, 22, 40, 41] {
            assert!(names(&named, id), "{id} is named");
        }
        for id in [8, 19, 23, 42, 2, -21] {
            assert!(!names(&named, id), "{id} is not named");
        }
        // A list page's row (single ids) reads the same way.
        assert_eq!(
            super::runs(",5,9,").collect::<Vec<_>>(),
            vec![(5, 5), (9, 9)]
        );
        // Nonsense is skipped, not trusted.
        assert_eq!(super::runs(",x,3-,-,7-y,").count(), 0);
    }
}
