//! Intake by IMAP against a real Dovecot started here: messages appended to the mailbox
//! are taken in once, threaded, flagged \Seen; a restart does not take them in again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::{Api, Backend, Process, TestDb, eventually, seed};

/// Dovecot on 127.0.0.1 and a free port, configured in a folder of its own; it stops
/// when its stdin closes, that is when this is dropped.
struct Dovecot {
    child: Child,
    port: u16,
}

const USER: &str = "intake";
const PASSWORD: &str = "intake-pass-123";

impl Dovecot {
    fn start(dir: &Path) -> Dovecot {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
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
        let conf = format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {d}/run\nstate_dir = {d}/state\n\
             log_path = {d}/dovecot.log\nssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             first_valid_uid = 1\ndefault_internal_user = dovecot\ndefault_login_user = dovenull\n\
             mail_location = maildir:{d}/home/%u/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={d}/home/%u\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n"
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
                return Dovecot { child, port };
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
    fn append(&self, raw: &str) {
        let script = format!(
            "import imaplib, sys\nm = imaplib.IMAP4('127.0.0.1', {})\nm.login('{USER}', '{PASSWORD}')\nm.append('INBOX', None, None, sys.stdin.buffer.read())\nm.logout()\n",
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

    /// How many messages are not yet \Seen.
    fn unseen(&self) -> usize {
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
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_IMAP_URL",
        format!("imap://{USER}:{PASSWORD}@127.0.0.1:{port}/INBOX"),
    )
    .env("EMBARGO_IMAP_PROJECT", "CLOUDSTACK")
    .env("EMBARGO_IMAP_INTERVAL", "1");
    Process::serve(cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_intake_from_dovecot() {
    let db = TestDb::new(Backend::Sqlite).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let mail_dir: PathBuf = db.dir.path().join("dovecot");
    let dovecot = Dovecot::start(&mail_dir);
    dovecot.append("From: ivy@example.org\r\nSubject: Heap overflow in the parser\r\nMessage-ID: <imap1@example.org>\r\n\r\nA long header overflows.\r\n");
    dovecot.append("From: ivy@example.org\r\nSubject: Re: Heap overflow in the parser\r\nMessage-ID: <imap2@example.org>\r\nIn-Reply-To: <imap1@example.org>\r\n\r\nCrash log attached next time.\r\n");
    dovecot.append("From: ivy@example.org\r\nSubject: Heap overflow in the parser\r\nMessage-ID: <imap1@example.org>\r\n\r\nThe same message, delivered twice.\r\n");

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
