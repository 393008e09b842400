//! Embargo's storage: one code path over SQLite and PostgreSQL (sqlx's `Any` driver),
//! with a per-backend branch only where the SQL differs. Confidential fields are sealed
//! here, and case access is decided here, in `access`, for every case query.

mod access;
mod accounts;
mod address_limits;
mod admin;
mod agreement;
mod attachments;
mod audit;
pub mod backup;
mod bind;
mod case_row;
mod cases;
mod checklist;
mod contexts;
mod cve;
mod digest;
mod disclosure;
mod figure_blocks;
mod findings;
mod fixes;
mod guard;
mod history;
mod intake;
mod intake_log;
mod jobs;
pub mod keys;
mod leases;
mod members;
mod notify_modes;
mod openpgp;
mod operations;
mod outbound;
mod prenotify;
mod protection;
mod quarantine;
mod queue;
mod renders;
mod replies;
mod reseal;
mod review;
mod roles;
mod routing;
pub mod seal;
mod search;
mod signin;
mod speakers;
mod threading;
mod timeline;
mod transition;
mod triage;
mod views;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};
use time::OffsetDateTime;

pub use accounts::{NewToken, SessionInfo, TokenInfo, User};
pub use admin::{DEFAULT_GIVEAWAYS, FirstRun, Member, Organisation, Project, ProjectUpdate};
pub use attachments::AttachmentInfo;
pub use attachments::Upload;
pub use audit::{AuditReport, AuditRow, BadRow, Checkpoint, CheckpointFileError};
pub use case_row::SEALED_CASE_FIELDS;
pub use cases::{CasePatch, CvssInput, NewReport};
pub use cve::{CveContext, CveCredentials, CveReservation, CveUpdate};
pub use disclosure::{
    AnnouncementDue, AnnouncementPreview, ChangesEntry, DisclosurePlan, DisclosureStep,
    PublishedAdvisory, PublishedStamp, advisory_page,
};
pub use embargo_core::cve_record::{CveRecordState, CveState};
pub use findings::{DuplicateProposal, ImportedCase};
pub use fixes::{BranchFix, CaseFile, EvidenceEntry, FixBoard, FixRecord, PATCH_LIMIT};
pub use guard::GuardTerms;
pub use history::{ImportCounts, PublishedRecord};
pub use intake::IntakeOutcome;
pub use intake_log::IntakeEntry;
pub use jobs::{Job, JobCompletion, Task};
pub use members::MemberInvitation;
pub use notify_modes::{NotifyMode, ProjectNotifyMode};
pub use openpgp::TeamPublicKey;
pub use operations::OperationsCounts;
pub use outbound::OutboundMail;
pub use prenotify::{Prenotification, TraceHit};
pub use quarantine::Quarantined;
pub use queue::{Attention, CaseFilter, CasePage, Cursor, OwnerFilter};
pub use replies::FiledReport;
pub use reseal::ResealReport;
pub use review::{MemberActivity, Metrics, Scope};
pub use roles::{TERMS, TERMS_VERSION};
pub use seal::{Keyring, MasterKey, SealError};
pub use signin::{SignInOutcome, TotpSetup};
pub use triage::{TriageView, TriageViews};
pub use views::*;

/// Errors of the storage layer. Messages name what is wrong without quoting content.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist, or the caller may not see it.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with what is stored (a duplicate name, say).
    #[error("{0}")]
    Conflict(String),
    /// The request is not valid for the domain.
    #[error("{0}")]
    Invalid(String),
    /// The lifecycle refused a transition.
    #[error(transparent)]
    Refused(#[from] embargo_core::lifecycle::Refusal),
    /// The checklist refused a mark.
    #[error(transparent)]
    Checklist(#[from] embargo_core::checklist::ChecklistError),
    /// A sealing problem: a missing or wrong key, or a tampered value.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The database failed; the detail is for the log, not for users.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The audit log could not be written, so the content is not handed over.
    #[error("the audit log could not be written: {0}")]
    Audit(String),
    /// Stored data could not be decoded.
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// The caller is not allowed to do this (for non-case resources, e.g. administration).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The database holds data under an older schema, and this command may not migrate
    /// it: the operator decides when (after a backup).
    #[error(
        "the database's schema is older than this release: {0}. Back it up (with the release that wrote it) and start `embargo serve` again, or start it with --migrate; `embargo migrate --dry-run` lists what changes"
    )]
    UpgradePending(String),
}

impl StoreError {
    /// The kind of failure in a few words, for logs and quarantine reasons: never the
    /// detail, which may quote stored or submitted data.
    pub fn category(&self) -> &'static str {
        match self {
            StoreError::NotFound(_) => "something it refers to was not found",
            StoreError::Conflict(_) => "it conflicts with what is stored",
            StoreError::Invalid(_) => "it is not valid as a case",
            StoreError::Refused(_) | StoreError::Checklist(_) => "the procedure refused it",
            StoreError::Seal(_) => "sealing failed",
            StoreError::Database(_) | StoreError::Migrate(_) => "the database refused it",
            StoreError::Audit(_) => "the audit log could not be written",
            StoreError::Corrupt(_) => "stored data it needs is not readable",
            StoreError::Forbidden(_) => "it is not allowed",
            StoreError::UpgradePending(_) => "the database waits for its migrations",
        }
    }

    /// Whether the failure is transient (worth a retry by a mail transfer agent, say): the
    /// database is unreachable, busy, locked, out of space or shutting down. Anything else
    /// would fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(e) => is_transient_sqlx(e),
            StoreError::Migrate(
                sqlx::migrate::MigrateError::Execute(e)
                | sqlx::migrate::MigrateError::ExecuteMigration(e, _),
            ) => is_transient_sqlx(e),
            // Mail waits in the MTA's queue until the operator has migrated.
            StoreError::Audit(_) | StoreError::UpgradePending(_) => true,
            _ => false,
        }
    }
}

fn is_transient_sqlx(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // Extended codes carry the primary one in the low byte: BUSY, LOCKED,
                // NOMEM, IOERR, FULL, CANTOPEN, PROTOCOL.
                code.parse::<i64>()
                    .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 7 | 10 | 13 | 14 | 15))
            } else {
                // PostgreSQL SQLSTATE: connection (08), serialization and deadlock (40001,
                // 40P01), resources (53), operator intervention (57P0x), lock not
                // available (55P03), system errors (58).
                code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57P")
                    || code.starts_with("58")
                    || matches!(code.as_ref(), "40001" | "40P01" | "55P03")
            }
        }
        _ => false,
    }
}

/// Result of a storage operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database to use.
#[derive(Clone)]
pub enum Database {
    /// An SQLite file (created when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl Database {
    /// The database a URL names: `postgres://…` (or `postgresql://…`) or `sqlite://PATH`.
    /// The refusal masks any password in the URL.
    pub fn from_url(url: &str) -> Result<Database> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Database::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            Ok(Database::Sqlite(PathBuf::from(path)))
        } else {
            Err(StoreError::Invalid(format!(
                "unsupported database URL {}: use postgres://… or sqlite://PATH",
                mask_url(url)
            )))
        }
    }
}

impl std::fmt::Debug for Database {
    // A URL may carry a password; only the backend and host-free parts are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            Database::Postgres(url) => write!(f, "Postgres({})", mask_url(url)),
        }
    }
}

/// Hides the password of a database URL.
pub fn mask_url(url: &str) -> String {
    // The query string may carry secrets too (postgres://h/db?password=…).
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &base[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &base[..scheme + 3], &base[at..]),
                None => base.to_owned(),
            }
        }
        _ => base.to_owned(),
    };
    match query {
        None => base,
        Some(query) => {
            let masked: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _))
                        if [
                            "password",
                            "pass",
                            "passwd",
                            "secret",
                            "token",
                            "key",
                            "sslpassword",
                        ]
                        .iter()
                        .any(|s| name.eq_ignore_ascii_case(s)) =>
                    {
                        format!("{name}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{base}?{}", masked.join("&"))
        }
    }
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Given directly (from the environment).
    Given(MasterKey),
    /// A key file; created when the database is new and the file does not exist.
    File(PathBuf),
}

/// The backend in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Embargo's store. Cheap to clone; every clone shares the pool and keys.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where writes go: on SQLite one connection of its own, so that this process's
    /// writers queue in turn for it instead of each sleeping in SQLite's busy handler
    /// (which sleeps up to 100 ms a try, and let a waiting writer lose every race to the
    /// next); on PostgreSQL the pool itself.
    writer: AnyPool,
    backend: Backend,
    keys: std::sync::Arc<Keyring>,
    token_cache: std::sync::Arc<access::TokenCache>,
    audit: std::sync::Arc<audit::AuditWriter>,
    /// The official schemas documents are checked against, where the operator gave them.
    schemas: Option<std::sync::Arc<embargo_formats::schemas::Schemas>>,
    /// Counts the write transactions this process began: what it rendered from the
    /// database before a change is known stale after it.
    writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({:?})", self.backend)
    }
}

/// Current time in the storage representation (Unix milliseconds).
pub(crate) fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Reads the storage representation back.
pub(crate) fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Reads RFC 3339 text back into the storage representation.
pub(crate) fn parse_rfc(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(millis)
}

/// A stored time as RFC 3339 text.
pub(crate) fn rfc(ms: i64) -> String {
    embargo_core::clocks::rfc3339(from_millis(ms))
}

/// Whether opening may migrate a database that already holds data. A new, empty
/// database is always migrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    /// Refuse, naming the pending migrations ([`StoreError::UpgradePending`]).
    Refuse,
    /// Apply them.
    Apply,
}

/// A migration this release carries that the database has not had.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PendingMigration {
    /// Its number.
    pub version: i64,
    /// What it does, in a few words.
    pub description: String,
}

/// Where a database stands against this release's migrations.
#[derive(Debug, Clone, Default)]
pub struct SchemaStatus {
    /// No migration was ever applied: a new database.
    pub new: bool,
    /// The migrations it has not had, oldest first.
    pub pending: Vec<PendingMigration>,
    /// Whether a backup was recorded at the database's current schema in the last day.
    pub fresh_backup: bool,
}

/// How long a backup counts as fresh for an upgrade on start.
pub const FRESH_BACKUP: Duration = Duration::from_secs(24 * 3600);

/// Where the database stands, without changing it.
pub async fn schema_status(database: &Database) -> Result<SchemaStatus> {
    let (pool, backend) = connect_pool(database).await?;
    let status = schema_status_of(&pool, backend).await;
    pool.close().await;
    status
}

async fn applied_versions(pool: &AnyPool) -> Vec<i64> {
    // A new database has no migrations table yet.
    sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
        .fetch_all(pool)
        .await
        .map(|rows| rows.iter().filter_map(|r| r.try_get(0).ok()).collect())
        .unwrap_or_default()
}

async fn schema_status_of(pool: &AnyPool, backend: Backend) -> Result<SchemaStatus> {
    let applied = applied_versions(pool).await;
    let pending = migrator(backend)
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| PendingMigration {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect();
    let since = millis(OffsetDateTime::now_utc()) - FRESH_BACKUP.as_millis() as i64;
    let current = applied.iter().max().copied().unwrap_or(0);
    // Databases from before the backup log have none: not fresh.
    let fresh_backup =
        sqlx::query("SELECT COUNT(*) FROM backup_log WHERE schema_version = $1 AND taken_at >= $2")
            .bind(current)
            .bind(since)
            .fetch_one(pool)
            .await
            .ok()
            .and_then(|r| r.try_get::<i64, _>(0).ok())
            .is_some_and(|n| n > 0);
    Ok(SchemaStatus {
        new: applied.is_empty(),
        pending,
        fresh_backup,
    })
}

impl Store {
    /// Connects, applies the migrations of a new database (refusing to migrate one that
    /// holds data: see [`Store::open_with`]) and loads the data keys.
    pub async fn open(database: &Database, keys: &KeySource) -> Result<Store> {
        Store::open_with(database, keys, Upgrade::Refuse).await
    }

    /// Connects, migrates as `upgrade` allows, and loads the data keys.
    pub async fn open_with(
        database: &Database,
        keys: &KeySource,
        upgrade: Upgrade,
    ) -> Result<Store> {
        let (pool, backend) = connect_with(database, upgrade).await?;
        let keys = load_keys(&pool, keys).await?;
        audit::authenticate_unversioned_head(&pool, keys.audit_key()).await?;
        bind::upgrade(&pool, backend, &keys).await?;
        let writer = match backend {
            Backend::Sqlite => connect_pool_sized(database, 1).await?.0,
            Backend::Postgres => pool.clone(),
        };
        let audit = audit::AuditWriter::start(writer.clone(), backend, *keys.audit_key());
        let store = Store {
            pool,
            writer,
            backend,
            keys: std::sync::Arc::new(keys),
            token_cache: Default::default(),
            audit: std::sync::Arc::new(audit),
            schemas: None,
            writes: Default::default(),
        };
        store.index_unindexed().await?;
        Ok(store)
    }

    /// Checks every published document (in the rehearsal, and on a correction) against
    /// these official schemas too.
    pub fn with_schemas(mut self, schemas: embargo_formats::schemas::Schemas) -> Store {
        self.schemas = Some(std::sync::Arc::new(schemas));
        self
    }

    /// The official schemas documents are checked against, if any.
    pub(crate) fn schemas(&self) -> Option<&embargo_formats::schemas::Schemas> {
        self.schemas.as_deref()
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Whether the database's schema is the one this release expects: its newest applied
    /// migration is this release's newest (a newer release's server may have moved on).
    pub async fn schema_current(&self) -> Result<bool> {
        let applied: Option<i64> =
            sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
        let expected = migrator(self.backend).iter().map(|m| m.version).max();
        Ok(applied == expected)
    }

    /// Records that a backup was taken now, at the database's current schema: a fresh one
    /// lets the next release's server migrate on start.
    pub async fn record_backup(&self) -> Result<()> {
        let version: i64 =
            sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
        sqlx::query("INSERT INTO backup_log (taken_at, schema_version) VALUES ($1, $2)")
            .bind(millis(OffsetDateTime::now_utc()))
            .bind(version)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// The pool writes go through (see [`Store::writer`]'s field).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Starts a transaction that will write; on SQLite it takes the write lock at once,
    /// so that two writers queue instead of failing when one upgrades from reading.
    /// How many write transactions this process has begun: unchanged, nothing this
    /// process could have written has changed (other processes' writes are not counted).
    pub fn write_generation(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    pub(crate) fn keys(&self) -> &Keyring {
        &self.keys
    }
}

/// Creates a directory (and its missing parents) readable by its owner only: the data
/// directory holds the database and the master key.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates the SQLite file with mode 0600 when missing (SQLite gives its WAL and shared
/// memory files the database file's mode), and takes group and other access away from
/// an existing database and its companions. An existing file is never opened here:
/// closing a descriptor of it would drop the POSIX locks this process's SQLite
/// connections hold on it (a second store opened in one process), and let another
/// process write under them.
fn make_private_files(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        match options.open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if let Ok(meta) = std::fs::metadata(&file)
                && meta.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    match options.open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Connects and migrates a new database; one that holds data only with [`Upgrade::Apply`].
pub(crate) async fn connect(database: &Database) -> Result<(AnyPool, Backend)> {
    connect_with(database, Upgrade::Refuse).await
}

async fn connect_with(database: &Database, upgrade: Upgrade) -> Result<(AnyPool, Backend)> {
    let (pool, backend) = connect_pool(database).await?;
    let status = schema_status_of(&pool, backend).await?;
    if !status.pending.is_empty() {
        if !status.new && upgrade == Upgrade::Refuse {
            pool.close().await;
            let names: Vec<String> = status
                .pending
                .iter()
                .map(|m| format!("{:04} {}", m.version, m.description))
                .collect();
            return Err(StoreError::UpgradePending(format!(
                "{} migration(s) pending ({})",
                names.len(),
                names.join(", ")
            )));
        }
        migrator(backend).run(&pool).await?;
    }
    Ok((pool, backend))
}

/// Connects, changing nothing.
async fn connect_pool(database: &Database) -> Result<(AnyPool, Backend)> {
    let connections = match database {
        Database::Sqlite(_) => 8,
        Database::Postgres(_) => 16,
    };
    connect_pool_sized(database, connections).await
}

/// Connects with at most `connections` connections, changing nothing.
async fn connect_pool_sized(database: &Database, connections: u32) -> Result<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let (url, backend) = match database {
        Database::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_private_dir(dir).map_err(|e| {
                    StoreError::Invalid(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            make_private_files(path).map_err(|e| {
                StoreError::Invalid(format!("cannot create {}: {e}", path.display()))
            })?;
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                Backend::Sqlite,
            )
        }
        Database::Postgres(url) => (url.clone(), Backend::Postgres),
    };
    let options: AnyConnectOptions = url.parse()?;
    let pool = AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                match backend {
                    // WAL for concurrent readers; FULL so a commit survives power loss.
                    Backend::Sqlite => {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;").await?;
                    }
                    // Every statement is short. Where the planner's statistics lag (a
                    // table grown fast, autovacuum slow or off) it misjudges one as costly
                    // and compiles it with JIT on each run (bench/scale's filings slowed
                    // sixteenfold at 760,000 cases, each delete of a new case's search
                    // terms compiled anew, until an ANALYZE).
                    Backend::Postgres => {
                        conn.execute("SET jit = off").await?;
                    }
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok((pool, backend))
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The migrations this release carries for a backend.
pub(crate) fn migrator(backend: Backend) -> &'static sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

/// The master key a key source names, creating a key file only if `may_create`.
pub(crate) fn master_key(source: &KeySource, may_create: bool) -> Result<MasterKey> {
    match source {
        KeySource::Given(key) => Ok(key.clone()),
        KeySource::File(path) => match MasterKey::read_file(path) {
            Err(SealError::MasterKeyMissing(_)) if may_create => {
                let key = MasterKey::generate();
                key.create_file(path)?;
                tracing::info!(path = %path.display(), "created a new master key file");
                Ok(key)
            }
            other => Ok(other?),
        },
    }
}

async fn load_keys(pool: &AnyPool, source: &KeySource) -> Result<Keyring> {
    let rows = sqlx::query("SELECT id, wrapped FROM data_keys ORDER BY id")
        .fetch_all(pool)
        .await?;
    if let KeySource::File(path) = source {
        keys::finish_interrupted_rotation(pool, path).await?;
    }
    let master = master_key(source, rows.is_empty())?;
    if rows.is_empty() {
        let key = Keyring::generate_data_key();
        let wrapped = master.wrap(1, &key)?;
        // Two servers starting on one new database race here; the loser adopts the winner's key.
        sqlx::query("INSERT INTO data_keys (id, wrapped, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(wrapped)
            .bind(millis(OffsetDateTime::now_utc()))
            .execute(pool)
            .await?;
    }
    let rows = sqlx::query("SELECT id, wrapped FROM data_keys ORDER BY id")
        .fetch_all(pool)
        .await?;
    let mut keys = Vec::new();
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let wrapped: Vec<u8> = row.try_get("wrapped")?;
        let key_id = u32::try_from(id).map_err(|_| StoreError::Corrupt("data key id".into()))?;
        keys.push((key_id, master.unwrap_key(id, &wrapped)?));
    }
    Keyring::new(keys).ok_or(StoreError::Corrupt("no data keys".into()))
}

/// The default SQLite file inside a data directory.
pub fn sqlite_path(data_dir: &Path) -> PathBuf {
    data_dir.join("embargo.sqlite3")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_password_in_a_url_is_masked() {
        assert_eq!(
            super::mask_url(
                "postgres://app:hunter22@db.example/embargo?sslmode=require&password=hunter23"
            ),
            "postgres://app:***@db.example/embargo?sslmode=require&password=***"
        );
        assert_eq!(
            super::mask_url("sqlite:///var/lib/embargo.db"),
            "sqlite:///var/lib/embargo.db"
        );
    }

    #[test]
    fn database_urls_hide_their_password() {
        assert_eq!(
            super::mask_url("postgres://app:s3cret@db:5432/e"),
            "postgres://app:***@db:5432/e"
        );
        assert_eq!(super::mask_url("postgres://db/e"), "postgres://db/e");
        let dbg = format!(
            "{:?}",
            super::Database::Postgres("postgres://a:pw@h/d".into())
        );
        assert!(!dbg.contains("pw"), "{dbg}");
    }
}
