//! Test fixtures: databases on both backends, an in-process server, the real binary,
//! and a small JSON client.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use embargo_store::{Database, KeySource, MasterKey, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn pg_admin_url() -> String {
    std::env::var("EMBARGO_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The backup key pair every test's commands use: (identity, recipient), made once per
/// test process in a folder of its own.
pub fn backup_keys() -> &'static (PathBuf, PathBuf) {
    static KEYS: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let key = embargo_openpgp::TeamKey::generate("Embargo test backups").unwrap();
        let identity = dir.join("backup-identity.asc");
        let recipient = dir.join("backup-recipient.asc");
        std::fs::write(&identity, key.armored_secret().unwrap()).unwrap();
        std::fs::write(&recipient, key.public().armored().unwrap()).unwrap();
        (identity, recipient)
    })
}

/// A fresh database on one backend, removed when dropped.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub pg_name: Option<String>,
    pub key: MasterKey,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let pg_name = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let name = format!("embargo_test_{:016x}", rand::random::<u64>());
                let mut conn = sqlx::PgConnection::connect(&pg_admin_url())
                    .await
                    .expect("PostgreSQL must be running for the tests");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.ok();
                Some(name)
            }
        };
        TestDb {
            dir,
            pg_name,
            key: MasterKey::generate(),
        }
    }

    pub fn database(&self) -> Database {
        match &self.pg_name {
            None => Database::Sqlite(embargo_store::sqlite_path(self.dir.path())),
            Some(name) => {
                let admin = pg_admin_url();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Database::Postgres(format!("{base}/{name}"))
            }
        }
    }

    /// Runs one statement on the database directly (to set times in the past, say).
    pub async fn execute(&self, statement: &str, args: &[i64]) {
        sqlx::any::install_default_drivers();
        let url = match self.database() {
            Database::Sqlite(path) => format!("sqlite://{}", path.display()),
            Database::Postgres(url) => url,
        };
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        let mut query = sqlx::query(statement);
        for arg in args {
            query = query.bind(*arg);
        }
        query.execute(&mut conn).await.unwrap();
        conn.close().await.ok();
    }

    /// The first column of the first row of a query, as text (for a test's look inside).
    pub async fn query_text(&self, statement: &str) -> Option<String> {
        sqlx::any::install_default_drivers();
        let url = match self.database() {
            Database::Sqlite(path) => format!("sqlite://{}", path.display()),
            Database::Postgres(url) => url,
        };
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        let row = sqlx::query(statement)
            .fetch_optional(&mut conn)
            .await
            .unwrap();
        conn.close().await.ok();
        row.and_then(|r| sqlx::Row::try_get::<String, _>(&r, 0).ok())
    }

    /// Whether any value of a table's bytes column holds `text` in clear (a look for a
    /// leak into a sealed column).
    pub async fn bytes_hold(&self, table: &str, column: &str, text: &str) -> bool {
        let sql = match self.pg_name {
            None => format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM {table} WHERE instr({column}, CAST('{text}' AS BLOB)) > 0"
            ),
            Some(_) => format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM {table} WHERE position(convert_to('{text}', 'UTF8') in {column}) > 0"
            ),
        };
        self.query_text(&sql).await.as_deref() != Some("0")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    pub async fn store(&self) -> Store {
        Store::open(&self.database(), &KeySource::Given(self.key.clone()))
            .await
            .unwrap()
    }

    /// Arguments and environment that make the binary use this database and key.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_embargo"));
        cmd.args(args)
            .env("EMBARGO_DATA", self.data_dir())
            .env("EMBARGO_MASTER_KEY", self.key.to_base64())
            .env("EMBARGO_LOG", "info")
            .env("EMBARGO_BACKUP_IDENTITY_FILE", &backup_keys().0)
            .env("EMBARGO_BACKUP_RECIPIENT_FILE", &backup_keys().1)
            .env_remove("EMBARGO_DATABASE_URL")
            .env_remove("EMBARGO_MASTER_KEY_FILE");
        if let Database::Postgres(url) = self.database() {
            cmd.env("EMBARGO_DATABASE_URL", url);
        }
        cmd
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Drop runs outside any runtime guarantee, so use a private one on a thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// People and projects most tests need.
pub struct Seed {
    pub admin: String,
    /// On the CLOUDSTACK security team.
    pub alice: String,
    /// On the OTHER project's security team only.
    pub bob: String,
    /// On the ASF foundation security team.
    pub fiona: String,
    /// Alice's password, for session sign-in.
    pub alice_password: &'static str,
}

pub async fn seed(store: &Store) -> Seed {
    store.create_org("ASF").await.unwrap();
    let cloudstack = "CLOUDSTACK".parse().unwrap();
    let other = "OTHER".parse().unwrap();
    store
        .create_project(
            "ASF",
            &cloudstack,
            "Apache CloudStack",
            &["4.18".to_owned(), "4.19".to_owned()],
        )
        .await
        .unwrap();
    store
        .create_project("ASF", &other, "Other", &[])
        .await
        .unwrap();
    let admin = store
        .create_user("admin@example.org", None, true)
        .await
        .unwrap();
    let alice = store
        .create_user("alice@example.org", Some("alice password 123"), false)
        .await
        .unwrap();
    let bob = store
        .create_user("bob@example.org", None, false)
        .await
        .unwrap();
    let fiona = store
        .create_user("fiona@example.org", None, false)
        .await
        .unwrap();
    store
        .add_committee_members(&cloudstack, &["alice@example.org".to_owned()])
        .await
        .unwrap();
    store
        .add_committee_members(&other, &["bob@example.org".to_owned()])
        .await
        .unwrap();
    store
        .add_project_member(&cloudstack, "alice@example.org")
        .await
        .unwrap();
    store
        .add_project_member(&other, "bob@example.org")
        .await
        .unwrap();
    store
        .add_foundation_member("ASF", "fiona@example.org")
        .await
        .unwrap();
    let token = |id| async move { store.create_token(id, "test").await.unwrap().secret };
    Seed {
        admin: token(admin.id).await,
        alice: token(alice.id).await,
        bob: token(bob.id).await,
        fiona: token(fiona.id).await,
        alice_password: "alice password 123",
    }
}

/// Records, through the store, the fix as merged on every branch and testing evidence.
pub async fn fix_everywhere(
    store: &Store,
    viewer: &embargo_core::access::Viewer,
    r: &embargo_core::reference::CaseRef,
) {
    let board = store.fixes(viewer, r).await.unwrap();
    for (i, b) in board.branches.iter().enumerate() {
        let detail = embargo_core::fix::FixDetail {
            commit: Some(format!("{:07x}", 0xa1b2c3d + i)),
            ..Default::default()
        };
        store
            .record_fix(
                viewer,
                r,
                &b.branch,
                embargo_core::fix::FixStage::Merged,
                &detail,
            )
            .await
            .unwrap();
    }
    let evidence = embargo_core::fix::TestingEvidence {
        text: "tested".into(),
        links: vec![],
    };
    store
        .record_testing(viewer, r, &evidence, &[])
        .await
        .unwrap();
}

/// The server running in this process on a free loopback port.
pub struct Server {
    pub url: String,
    stop: watch::Sender<bool>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub async fn start(store: Store) -> Server {
        Server::start_at(store, None).await
    }

    /// A server whose public address (for links and documents) is `public_url`, not its
    /// own: two servers in turn, as behind one name.
    pub async fn start_at(store: Store, public_url: Option<&str>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let public_url = public_url.unwrap_or(&url).to_owned();
        let (stop, shutdown) = watch::channel(false);
        let handle = tokio::spawn(async move {
            let services = embargo_server::Services::plain("test-runner".into(), public_url);
            embargo_server::serve_with(listener, store, services, shutdown)
                .await
                .unwrap();
        });
        Server {
            url,
            stop,
            handle: Some(handle),
        }
    }

    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(handle) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// `embargo serve` as a child process, killed when dropped.
pub struct Process {
    pub child: Child,
    pub url: String,
}

impl Process {
    /// Starts `embargo serve` on a free port and waits for its listening line.
    pub fn serve(mut cmd: Command) -> Process {
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        Process::start(cmd)
    }

    /// Starts `embargo serve` on a free port with its log written to `log`.
    pub fn serve_logged(mut cmd: Command, log: &std::path::Path) -> Process {
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        let file = std::fs::File::create(log).unwrap();
        Process::launch(cmd, Stdio::from(file))
    }

    /// Starts a prepared command that runs `embargo serve`.
    pub fn start(cmd: Command) -> Process {
        Process::launch(cmd, Stdio::null())
    }

    fn launch(mut cmd: Command, stderr: Stdio) -> Process {
        cmd.stdout(Stdio::piped()).stderr(stderr);
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("embargo listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Process { child, url }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the server to stop (SIGTERM) and waits.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A JSON client for one base URL and (optional) token.
#[derive(Clone)]
pub struct Api {
    pub url: String,
    pub token: Option<String>,
    http: reqwest::Client,
}

impl Api {
    pub fn new(url: &str, token: Option<&str>) -> Api {
        Api {
            url: url.to_owned(),
            token: token.map(str::to_owned),
            http: reqwest::Client::new(),
        }
    }

    pub fn as_user(&self, token: &str) -> Api {
        Api::new(&self.url, Some(token))
    }

    pub fn anonymous(&self) -> Api {
        Api::new(&self.url, None)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PUT, path, Some(body)).await
    }

    /// Files a report and returns its reference.
    pub async fn report(&self, project: &str, title: &str) -> String {
        let (status, case) = self
            .post("/api/cases", json!({ "project": project, "title": title, "description": "details", "reporter": { "email": "finder@example.net" } }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{case}");
        case["ref"].as_str().unwrap().to_owned()
    }

    /// Records the fix as merged on every branch of the case and testing evidence, as
    /// fix-ready requires; for tests about what comes after.
    pub async fn fixed_everywhere(&self, reference: &str) {
        let (status, board) = self.get(&format!("/api/cases/{reference}/fixes")).await;
        assert_eq!(status, StatusCode::OK, "{board}");
        for (i, b) in board["branches"].as_array().unwrap().iter().enumerate() {
            let (status, body) = self
                .put(
                    &format!("/api/cases/{reference}/fixes"),
                    json!({ "branch": b["branch"], "stage": "merged", "commit": format!("{:07x}", 0xa1b2c3d + i) }),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (status, body) = self
            .post(
                &format!("/api/cases/{reference}/testing"),
                json!({ "text": "the regression test fails before the fix and passes after" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// A new secret link for the case's reporter (the team's call), its secret part.
    pub async fn reporter_secret(&self, reference: &str) -> String {
        let (status, link) = self
            .post(&format!("/api/cases/{reference}/reporter-link"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{link}");
        link["secret"]
            .as_str()
            .unwrap_or_else(|| panic!("{link}"))
            .to_owned()
    }

    /// Moves a case and expects success.
    pub async fn moved(&self, reference: &str, body: Value) -> Value {
        let (status, case) = self
            .post(&format!("/api/cases/{reference}/transitions"), body)
            .await;
        assert_eq!(status, StatusCode::OK, "{case}");
        case
    }
}

/// Waits until `check` holds, polling; fails the test after `secs`.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Both backends, for tests written once.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// Pipes one message into `embargo intake` as an MTA alias does; returns the exit code,
/// the JSON outcome and what it wrote to stderr. `env` adds variables (a log filter).
pub fn intake(
    db: &TestDb,
    project: &str,
    raw: &[u8],
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, Value, String) {
    use std::io::Write;
    let mut args = vec!["--json", "intake", "--project", project];
    args.extend_from_slice(extra);
    let mut cmd = db.command(&args);
    cmd.envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Runs a CLI command against a running server as the holder of `token`, expecting
/// success; returns its `--json` output.
pub fn cli_json(db: &TestDb, url: &str, token: &str, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = db
        .command(&all)
        .env("EMBARGO_URL", url)
        .env("EMBARGO_TOKEN", token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "embargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The references of a list of cases, as the API answers it.
pub fn refs(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|c| c["ref"].as_str().unwrap().to_owned())
        .collect()
}
