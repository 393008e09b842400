//! Intake by IMAP against a real Dovecot started here: messages appended to the mailbox
//! are taken in once, threaded, flagged \Seen; a restart does not take them in again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::{Api, BACKENDS, Backend, Process, TestDb, eventually, seed};

/// Dovecot on 127.0.0.1 and a free port, configured in a folder of its own; it stops
/// when its stdin closes, that is when this is dropped.
pub struct Dovecot {
    child: Child,
    pub port: u16,
    /// The IMAPS port, when started with TLS.
    pub tls_port: Option<u16>,
}

pub const USER: &str = "intake";
pub const PASSWORD: &str = "intake-pass-123";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Dovecot {
    pub fn start(dir: &Path) -> Dovecot {
        Dovecot::start_with(dir, None)
    }

    /// Dovecot offering STARTTLS on its IMAP port and TLS on an IMAPS port, with this
    /// certificate and key (PEM). Plain login stays allowed for the test's own helpers.
    pub fn start_tls(dir: &Path, cert: &Path, key: &Path) -> Dovecot {
        Dovecot::start_with(dir, Some((cert, key)))
    }

    fn start_with(dir: &Path, tls: Option<(&Path, &Path)>) -> Dovecot {
        let port = free_port();
        let tls_port = tls.map(|_| free_port());
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        // Dovecot drops to its own users: they must reach the folder and own the mail.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        if let Some(parent) = dir.parent() {
            let _ = std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755));
        }
        assert!(
            Command::new("chown")
                .args(["-R", "dovecot:dovecot"])
                .arg(dir.join("home"))
                .status()
                .unwrap()
                .success()
        );
        std::fs::write(dir.join("users"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        let d = dir.display();
        let ssl = match tls {
            None => "ssl = no".to_owned(),
            Some((cert, key)) => format!(
                "ssl = yes\nssl_cert = <{}\nssl_key = <{}",
                cert.display(),
                key.display()
            ),
        };
        let imaps = tls_port.unwrap_or(0);
        let conf = format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {d}/run\nstate_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n{ssl}\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             first_valid_uid = 1\ndefault_internal_user = dovecot\ndefault_login_user = dovenull\n\
             mail_location = maildir:{d}/home/%u/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={d}/home/%u\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps}\n  }}\n}}\n"
        );
        let conf_path = dir.join("dovecot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut child = Command::new("sh")
            .args([
                "-c",
                "/usr/sbin/dovecot -F -c \"$1\" & pid=$!; cat >/dev/null; kill $pid; wait $pid",
                "sh",
            ])
            .arg(&conf_path)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Dovecot {
                    child,
                    port,
                    tls_port,
                };
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        drop(child.stdin.take());
        let _ = child.wait();
        panic!(
            "dovecot did not start: {}",
            std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default()
        );
    }

    /// Appends a message over IMAP, with Python's imaplib.
    pub fn append(&self, raw: impl AsRef<[u8]>) {
        let script = format!(
            "import imaplib, sys\nm = imaplib.IMAP4('127.0.0.1', {})\nm.login('{USER}', '{PASSWORD}')\nm.append('INBOX', None, None, sys.stdin.buffer.read())\nm.logout()\n",
            self.port
        );
        let mut child = Command::new("/usr/bin/python3")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(raw.as_ref()).unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// How many messages are not yet \Seen.
    pub fn unseen(&self) -> usize {
        let script = format!(
            "import imaplib\nm = imaplib.IMAP4('127.0.0.1', {})\nm.login('{USER}', '{PASSWORD}')\nm.select('INBOX')\nprint(len(m.search(None, 'UNSEEN')[1][0].split()))\nm.logout()\n",
            self.port
        );
        let out = Command::new("/usr/bin/python3")
            .args(["-c", &script])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn server(db: &TestDb, port: u16) -> Process {
    // The password from a file, as an operator keeps it out of the process list.
    let password_file = db
        .dir
        .path()
        .join(format!("imap-password-{}", rand::random::<u32>()));
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_IMAP_URL",
        format!("imap://{USER}@127.0.0.1:{port}/INBOX"),
    )
    .env("EMBARGO_IMAP_PASSWORD_FILE", &password_file)
    .env("EMBARGO_IMAP_PROJECT", "CLOUDSTACK")
    .env("EMBARGO_IMAP_INTERVAL", "1");
    Process::serve(cmd)
}

async fn imap_intake_from_dovecot(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let mail_dir: PathBuf = db.dir.path().join("dovecot");
    let dovecot = Dovecot::start(&mail_dir);
    dovecot.append("From: ivy@example.org\r\nSubject: Heap overflow in the parser\r\nMessage-ID: <imap1@example.org>\r\n\r\nA long header overflows.\r\n");
    dovecot.append("From: ivy@example.org\r\nSubject: Re: Heap overflow in the parser\r\nMessage-ID: <imap2@example.org>\r\nIn-Reply-To: <imap1@example.org>\r\n\r\nCrash log attached next time.\r\n");
    // The same message delivered twice (a relay's retry adds a header field).
    dovecot.append("Received: from relay2.example.org\r\nFrom: ivy@example.org\r\nSubject: Heap overflow in the parser\r\nMessage-ID: <imap1@example.org>\r\n\r\nA long header overflows.\r\n");

    let mut serve = server(&db, dovecot.port);
    let alice = Api::new(&serve.url, Some(&people.alice));
    eventually(20, "the poll", || async { dovecot.unseen() == 0 }).await;
    let (_, cases) = alice.get("/api/cases").await;
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
    let (_, timeline) = alice.get("/api/cases/CLOUDSTACK-SEC-1/timeline").await;
    let follow_ups = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reporter-message")
        .count();
    assert_eq!(follow_ups, 1);

    // New mail is picked up by the next poll.
    dovecot.append("From: jon@example.org\r\nSubject: Auth bypass\r\nMessage-ID: <imap3@example.org>\r\n\r\nThe token check can be skipped.\r\n");
    eventually(20, "the second poll", || async {
        alice.get("/api/cases").await.1.as_array().unwrap().len() == 2
    })
    .await;

    // A restart, and the mailbox marked unread again: nothing is taken in twice.
    serve.terminate();
    let script = format!(
        "import imaplib\nm = imaplib.IMAP4('127.0.0.1', {})\nm.login('{USER}', '{PASSWORD}')\nm.select('INBOX')\nm.store('1:*', '-FLAGS', '\\\\Seen')\nm.logout()\n",
        dovecot.port
    );
    assert!(
        Command::new("/usr/bin/python3")
            .args(["-c", &script])
            .status()
            .unwrap()
            .success()
    );
    let serve = server(&db, dovecot.port);
    let alice = Api::new(&serve.url, Some(&people.alice));
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (_, cases) = alice.get("/api/cases").await;
    assert_eq!(cases.as_array().unwrap().len(), 2, "taken in once: {cases}");
    drop(serve);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_intake_from_dovecot_sqlite() {
    imap_intake_from_dovecot(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_intake_from_dovecot_postgres() {
    imap_intake_from_dovecot(Backend::Postgres).await;
}

/// A mailbox with poison between good messages: what once made intake fail for ever (a
/// 5,000-character subject over a 2 MB body) is a case, what is over a limit (a header
/// flood) is quarantined, and the poll goes on to the good ones and to later mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_never_stops_the_poll() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        store.close().await;
        let dovecot = Dovecot::start(&db.dir.path().join("dovecot"));
        dovecot.append("From: ivy@example.org\r\nSubject: First good report\r\nMessage-ID: <g1@example.org>\r\n\r\nOne.\r\n");
        let flood: String = (0..6000)
            .map(|i| format!("Received: from relay{i}.example.net by relay.example.net\r\n"))
            .collect();
        dovecot.append(format!(
            "{flood}From: loop@example.net\r\nSubject: looping\r\nMessage-ID: <p1@example.net>\r\n\r\nround and round\r\n"
        ));
        let subject: String = "overflow ".repeat(560);
        let body = "stack frame\r\n".repeat(160_000);
        dovecot.append(format!(
            "From: kai@example.org\r\nSubject: {subject}\r\nMessage-ID: <p2@example.org>\r\n\r\n{body}"
        ));
        dovecot.append("From: jon@example.org\r\nSubject: Second good report\r\nMessage-ID: <g2@example.org>\r\n\r\nTwo.\r\n");

        let serve = server(&db, dovecot.port);
        let alice = Api::new(&serve.url, Some(&people.alice));
        eventually(30, "the poll", || async { dovecot.unseen() == 0 }).await;
        let (_, cases) = alice.get("/api/cases").await;
        assert_eq!(cases.as_array().unwrap().len(), 3, "{cases}");
        let (_, held) = alice.get("/api/projects/CLOUDSTACK/quarantine").await;
        assert_eq!(held.as_array().unwrap().len(), 1, "{held}");
        assert!(
            held[0]["reason"]
                .as_str()
                .unwrap()
                .contains("max_header_bytes")
        );

        dovecot.append("From: lee@example.org\r\nSubject: Later report\r\nMessage-ID: <g3@example.org>\r\n\r\nThree.\r\n");
        eventually(20, "a later message", || async {
            alice.get("/api/cases").await.1.as_array().unwrap().len() == 4
        })
        .await;
        drop(serve);
    }
}

/// Two servers on one PostgreSQL poll one mailbox: one at a time, through a lease in the
/// database, so even mail without a Message-ID is taken in once; when the polling server
/// is killed, the other takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_poll_one_mailbox_once() {
    let db = TestDb::new(Backend::Postgres).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let dovecot = Dovecot::start(&db.dir.path().join("dovecot"));
    let mut first = server(&db, dovecot.port);
    let mut second = server(&db, dovecot.port);
    let alice = Api::new(&first.url, Some(&people.alice));
    for round in 0..3 {
        for n in 0..3 {
            dovecot.append(format!(
                "From: r{n}@example.org\r\nSubject: Report {round}.{n} without a Message-ID\r\n\r\nText.\r\n"
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    }
    eventually(30, "the polls", || async { dovecot.unseen() == 0 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (_, cases) = alice.get("/api/cases").await;
    assert_eq!(
        cases.as_array().unwrap().len(),
        9,
        "each message once: {cases}"
    );

    // The lease holder dies; the other server polls after the lease runs out.
    let holder = db
        .query_text("SELECT holder FROM leases WHERE name LIKE 'imap:%'")
        .await
        .unwrap();
    let pid = holder.split('-').next().unwrap().to_owned();
    let (dead, alive) = if first.child.id().to_string() == pid {
        (&mut first, &second)
    } else {
        (&mut second, &first)
    };
    dead.kill();
    dovecot.append("From: late@example.org\r\nSubject: After the failover\r\n\r\nText.\r\n");
    let alice = Api::new(&alive.url, Some(&people.alice));
    eventually(30, "the other server takes over", || async {
        alice.get("/api/cases").await.1.as_array().unwrap().len() == 10
    })
    .await;
    let now = db
        .query_text("SELECT holder FROM leases WHERE name LIKE 'imap:%'")
        .await
        .unwrap();
    assert_ne!(now, holder);
}
