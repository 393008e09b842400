//! Intake behind a real Postfix (Debian's package) on loopback, set up as the README tells
//! operators: an alias that pipes each message to `embargo intake`. Mail submitted over
//! SMTP becomes cases and the queue empties; while the database is unreachable or locked,
//! intake exits 75, Postfix defers, and delivers once the database is back.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::{Backend, TestDb, eventually, seed};

/// A Postfix master of its own (configuration, queue and log in a folder), listening on
/// 127.0.0.1 and a free port; it stops when its stdin closes, that is when dropped.
struct Postfix {
    child: Child,
    dir: PathBuf,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Debian's master.cf, with smtpd on our address and no service chrooted.
fn master_cf(port: u16) -> String {
    let stock = std::fs::read_to_string("/etc/postfix/master.cf").expect("Debian's postfix");
    stock
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let service = !line.starts_with(['#', ' ', '\t']) && fields.len() >= 8;
            if !service {
                return line.to_owned();
            }
            let mut fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
            fields[4] = "n".into();
            if fields[0] == "smtp" && fields[1] == "inet" {
                fields[0] = format!("127.0.0.1:{port}");
            }
            fields.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Postfix {
    /// Starts Postfix with `security@embargo.test` piped to `command`.
    fn start(dir: &Path, command: &str) -> Postfix {
        let port = free_port();
        let d = dir.display();
        for sub in ["queue", "data"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        run(Command::new("chown").arg("postfix").arg(dir.join("data")));
        let main = format!(
            "compatibility_level = 3.6\nqueue_directory = {d}/queue\ndata_directory = {d}/data\n\
             mail_owner = postfix\nsetgid_group = postdrop\n\
             myhostname = embargo.test\nmydomain = embargo.test\nmyorigin = embargo.test\nmydestination = embargo.test\n\
             inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmynetworks = 127.0.0.0/8\n\
             alias_maps = hash:{d}/aliases\nalias_database = hash:{d}/aliases\n\
             maillog_file = {d}/maillog\nmaillog_file_prefixes = {d}\ndefault_privs = nobody\n\
             default_transport = error:no mail leaves this test\nbiff = no\nsmtputf8_enable = yes\n\
             minimal_backoff_time = 2s\nqueue_run_delay = 2s\n"
        );
        std::fs::write(dir.join("main.cf"), main).unwrap();
        std::fs::write(dir.join("master.cf"), master_cf(port)).unwrap();
        std::fs::write(dir.join("aliases"), format!("security: \"|{command}\"\n")).unwrap();
        run(Command::new("postalias")
            .arg("-c")
            .arg(dir)
            .arg(dir.join("aliases")));
        run(Command::new("postfix").arg("-c").arg(dir).arg("check"));
        let mut child = Command::new("sh")
            .args([
                "-c",
                "/usr/lib/postfix/sbin/master -c \"$1\" -d & pid=$!; cat >/dev/null; kill $pid; wait $pid",
                "sh",
            ])
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Postfix {
                    child,
                    dir: dir.to_owned(),
                    port,
                };
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        drop(child.stdin.take());
        let _ = child.wait();
        panic!(
            "postfix did not start: {}",
            std::fs::read_to_string(dir.join("maillog")).unwrap_or_default()
        );
    }

    /// Submits a message over SMTP, with Python's smtplib.
    fn submit(&self, raw: &str) {
        let script = format!(
            "import smtplib, sys\ns = smtplib.SMTP('127.0.0.1', {})\ns.sendmail('reporter@finder.example', ['security@embargo.test'], sys.stdin.buffer.read())\ns.quit()\n",
            self.port
        );
        let mut child = Command::new("/usr/bin/python3")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(raw.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// The messages in Postfix's queue.
    fn queued(&self) -> usize {
        let out = Command::new("postqueue")
            .arg("-c")
            .arg(&self.dir)
            .arg("-j")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    }

    fn flush(&self) {
        run(Command::new("postqueue").arg("-c").arg(&self.dir).arg("-f"));
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("maillog")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// A TCP relay to PostgreSQL that can be cut: while down, it drops every connection.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start() -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let state = up.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !state.load(Ordering::SeqCst) {
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Relay { port, up, task }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn report(n: usize, subject: &str) -> String {
    format!(
        "From: Reporter <reporter@finder.example>\r\nTo: security@embargo.test\r\nSubject: {subject}\r\nMessage-ID: <pf{n}@finder.example>\r\n\r\nReport number {n}.\r\n"
    )
}

async fn cases(db: &TestDb) -> usize {
    db.query_text("SELECT CAST(COUNT(*) AS TEXT) FROM cases")
        .await
        .unwrap()
        .parse()
        .unwrap()
}

async fn behind_postfix(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    store.close().await;
    // As an operator sets it up: the data directory holds the master key, readable by
    // the user Postfix runs the alias command as.
    let data = db.data_dir();
    db.key.create_file(&data.join("master.key")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(db.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    run(Command::new("chown").args(["-R", "nobody"]).arg(&data));
    let relay = Relay::start().await;
    let bin = env!("CARGO_BIN_EXE_embargo");
    let command = match db.pg_name.as_deref() {
        None => format!(
            "{bin} intake --project CLOUDSTACK --data {}",
            data.display()
        ),
        Some(name) => format!(
            "{bin} intake --project CLOUDSTACK --data {} --database-url postgres://postgres@127.0.0.1:{}/{name}",
            data.display(),
            relay.port
        ),
    };
    let postfix = Postfix::start(&db.dir.path().join("postfix"), &command);

    postfix.submit(&report(1, "XSS in the console"));
    postfix.submit(&report(2, &"a very long subject ".repeat(300)));
    postfix.submit(&report(3, "SQL injection in the events API"));
    eventually(60, "Postfix delivers to intake", || async {
        postfix.queued() == 0 && cases(&db).await == 3
    })
    .await;

    // The database goes away: intake answers 75, Postfix keeps the message and defers.
    let hold = match backend {
        Backend::Postgres => {
            relay.up.store(false, Ordering::SeqCst);
            None
        }
        Backend::Sqlite => {
            use sqlx::Connection;
            let path = embargo_store::sqlite_path(&data);
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut conn)
                .await
                .unwrap();
            Some(conn)
        }
    };
    postfix.submit(&report(4, "Report sent while the database was away"));
    eventually(60, "Postfix defers", || async {
        postfix.log().contains("status=deferred")
    })
    .await;
    assert_eq!(postfix.queued(), 1, "the message waits in Postfix's queue");
    assert!(
        !postfix.log().contains("status=bounced"),
        "nothing is bounced"
    );

    // Back: the queue is flushed and the report arrives once.
    match hold {
        Some(mut conn) => {
            sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
            drop(conn);
        }
        None => relay.up.store(true, Ordering::SeqCst),
    }
    postfix.flush();
    eventually(60, "Postfix delivers the deferred message", || async {
        postfix.queued() == 0 && cases(&db).await == 4
    })
    .await;
    assert!(
        !postfix.log().contains("status=bounced"),
        "nothing is bounced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_alias_delivers_and_defers_sqlite() {
    behind_postfix(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_alias_delivers_and_defers_postgres() {
    behind_postfix(Backend::Postgres).await;
}
