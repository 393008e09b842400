//! Mail over TLS with authentication, against real servers on loopback with a CA made
//! here: aiosmtpd with STARTTLS or implicit TLS and AUTH, Dovecot with STARTTLS and
//! IMAPS. The failures an operator meets on the first day (a wrong password, a
//! certificate nobody trusts, a server that does not offer TLS) each say what is wrong
//! in the log, never send or log in without TLS, and lose no mail.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::imap::{Dovecot, PASSWORD, USER};
use crate::mail::Sink;
use crate::support::{Api, Backend, Process, TestDb, eventually, seed};

/// A CA and one server certificate for 127.0.0.1 and localhost, made with openssl.
pub struct TestCa {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    pub fn new(dir: &Path) -> TestCa {
        std::fs::create_dir_all(dir).unwrap();
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=Embargo test CA"];
        ca.extend(ec);
        ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
        run(&ca);
        let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
        csr.extend(ec);
        csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
        run(&csr);
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ]);
        // Dovecot's login processes read the key after dropping privileges.
        use std::os::unix::fs::PermissionsExt;
        for f in ["server.pem", "server.key", "ca.pem"] {
            std::fs::set_permissions(dir.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        TestCa {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        }
    }
}

const RELAY_USER: &str = "embargo";
const RELAY_PASSWORD: &str = "relay-pass-5k2q";

fn file_report(db: &TestDb, from: &str, id: &str) {
    let raw = format!(
        "From: {from}\r\nTo: security@cloudstack.example\r\nSubject: Token leak\r\nMessage-ID: <{id}>\r\n\r\nThe API leaks tokens.\r\n"
    );
    let (code, _, stderr) = crate::support::intake(db, "CLOUDSTACK", raw.as_bytes(), &[], &[]);
    assert_eq!(code, Some(0), "{stderr}");
}

/// `embargo serve` with this relay, logging to a file of its own.
fn serve(db: &TestDb, url: &str, env: &[(&str, &str)], log: &Path) -> Process {
    let mut cmd = db.command(&[]);
    cmd.env("EMBARGO_SMTP_URL", url)
        .env("EMBARGO_MAIL_FROM", "security@cloudstack.example")
        .envs(env.iter().copied());
    Process::serve_logged(cmd, log)
}

/// Runs a server that cannot send, until its log says why; returns the log.
async fn failing(db: &TestDb, url: &str, env: &[(&str, &str)], name: &str) -> String {
    let log = db.dir.path().join(format!("{name}.log"));
    let mut server = serve(db, url, env, &log);
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    for _ in 0..300 {
        if read().contains("sending mail failed") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    server.terminate();
    let text = read();
    assert!(text.contains("sending mail failed"), "{name}: {text}");
    assert!(
        !text.contains(RELAY_PASSWORD) && !text.contains("wrong-pass-7"),
        "no password in the log: {text}"
    );
    text
}

/// Waits for mail to `address` at the sink; on a timeout, shows the server's log.
async fn delivered(sink: &Sink, address: &str, log: &Path) {
    for _ in 0..300 {
        if !sink.raw_to(address).is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "no mail to {address}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_relay_over_tls_with_auth() {
    let db = TestDb::new(Backend::Sqlite).await;
    let store = db.store().await;
    seed(&store).await;
    store.close().await;
    let ca = TestCa::new(&db.dir.path().join("tls"));
    let (cert, key) = (ca.cert.display().to_string(), ca.key.display().to_string());
    let auth = format!("{RELAY_USER}:{RELAY_PASSWORD}");
    let starttls = Sink::start_with(
        &db.dir.path().join("starttls"),
        &[
            ("SINK_TLS", "starttls"),
            ("SINK_CERT", &cert),
            ("SINK_KEY", &key),
            ("SINK_AUTH", &auth),
        ],
    );
    let plain = Sink::start(&db.dir.path().join("plain"));
    let password_file = db.dir.path().join("smtp-password");
    std::fs::write(&password_file, format!("{RELAY_PASSWORD}\n")).unwrap();
    let wrong_file = db.dir.path().join("smtp-wrong");
    std::fs::write(&wrong_file, "wrong-pass-7\n").unwrap();
    let ca_file = ca.ca.display().to_string();
    let starttls_url = format!(
        "smtp://{RELAY_USER}@127.0.0.1:{}?tls=required",
        starttls.port
    );

    file_report(
        &db,
        "Fay Finder <fay@finder.example>",
        "tls1@finder.example",
    );

    // A wrong password: the relay refuses AUTH, and the log says so.
    let log = failing(
        &db,
        &starttls_url,
        &[
            ("EMBARGO_SMTP_PASSWORD_FILE", wrong_file.to_str().unwrap()),
            ("EMBARGO_SMTP_CA_FILE", &ca_file),
        ],
        "wrong-password",
    )
    .await;
    assert!(log.contains("authentication refused"), "{log}");

    // The relay's certificate is signed by a CA nobody said to trust.
    let log = failing(
        &db,
        &starttls_url,
        &[(
            "EMBARGO_SMTP_PASSWORD_FILE",
            password_file.to_str().unwrap(),
        )],
        "untrusted",
    )
    .await;
    assert!(
        log.contains("TLS failed") && log.contains("trusted"),
        "{log}"
    );

    // A relay that offers no STARTTLS (as a stripping attacker would make it look):
    // Embargo does not fall back to plain text with the password.
    let log = failing(
        &db,
        &format!("smtp://{RELAY_USER}@127.0.0.1:{}?tls=required", plain.port),
        &[
            (
                "EMBARGO_SMTP_PASSWORD_FILE",
                password_file.to_str().unwrap(),
            ),
            ("EMBARGO_SMTP_CA_FILE", &ca_file),
        ],
        "downgrade",
    )
    .await;
    assert!(log.contains("STARTTLS"), "{log}");
    assert!(starttls.raw().is_empty() && plain.raw().is_empty());

    // Put right, and the waiting acknowledgement goes out once, over TLS, logged in.
    let out = db.command(&["--json", "jobs", "retry"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let retried: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(retried["retried"].as_u64().unwrap() >= 1, "{retried}");
    let mut server = serve(
        &db,
        &starttls_url,
        &[
            (
                "EMBARGO_SMTP_PASSWORD_FILE",
                password_file.to_str().unwrap(),
            ),
            ("EMBARGO_SMTP_CA_FILE", &ca_file),
        ],
        &db.dir.path().join("starttls.log"),
    );
    delivered(
        &starttls,
        "fay@finder.example",
        &db.dir.path().join("starttls.log"),
    )
    .await;
    server.terminate();
    let sent = starttls.raw_to("fay@finder.example");
    assert_eq!(sent.len(), 1, "sent once");
    assert!(
        sent[0].contains("X-Sink-Tls: yes\r\nX-Sink-Auth: embargo\r\n"),
        "{}",
        sent[0]
    );

    // `embargo config check` tries the relay as sending would: logged in over TLS, or
    // the reason it cannot be.
    let check = |password: &Path| {
        let out = db
            .command(&["--json", "config", "check"])
            .env("EMBARGO_SMTP_URL", &starttls_url)
            .env("EMBARGO_SMTP_PASSWORD_FILE", password)
            .env("EMBARGO_SMTP_CA_FILE", &ca_file)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), report)
    };
    let (code, report) = check(&password_file);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["checks"][1]["check"], "smtp");
    assert_eq!(report["checks"][1]["ok"], true, "{report}");
    let (code, report) = check(&wrong_file);
    assert_eq!(code, Some(1), "{report}");
    let error = report["checks"][1]["error"].as_str().unwrap();
    assert!(error.contains("authentication refused"), "{report}");
    assert!(!report.to_string().contains("wrong-pass-7"));

    // Implicit TLS (smtps://), the password from the environment.
    let implicit = Sink::start_with(
        &db.dir.path().join("implicit"),
        &[
            ("SINK_TLS", "implicit"),
            ("SINK_CERT", &cert),
            ("SINK_KEY", &key),
            ("SINK_AUTH", &auth),
        ],
    );
    file_report(&db, "Gil Gray <gil@finder.example>", "tls2@finder.example");
    let _server = serve(
        &db,
        &format!("smtps://{RELAY_USER}@127.0.0.1:{}", implicit.port),
        &[
            ("EMBARGO_SMTP_PASSWORD", RELAY_PASSWORD),
            ("EMBARGO_SMTP_CA_FILE", &ca_file),
        ],
        &db.dir.path().join("implicit.log"),
    );
    delivered(
        &implicit,
        "gil@finder.example",
        &db.dir.path().join("implicit.log"),
    )
    .await;
    let sent = implicit.raw_to("gil@finder.example");
    assert!(sent[0].contains("X-Sink-Tls: yes\r\nX-Sink-Auth: embargo\r\n"));
}

/// Settings that would put a password on the network in clear, or that cannot work,
/// stop the server at start with a message that names the problem and not the secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_or_broken_relay_settings_are_refused_at_start() {
    let db = TestDb::new(Backend::Sqlite).await;
    let missing_ca = db.dir.path().join("no-such-ca.pem");
    let empty_ca = db.dir.path().join("empty-ca.pem");
    std::fs::write(&empty_ca, "not a certificate\n").unwrap();
    for (url, env, says) in [
        (
            "smtp://embargo:hunter2-x@relay.example.org?tls=none",
            vec![],
            "in clear",
        ),
        (
            "smtp://embargo@relay.example.org?tls=opportunistic",
            vec![("EMBARGO_SMTP_PASSWORD", "hunter2-x")],
            "in clear",
        ),
        ("smtp://embargo@relay.example.org", vec![], "no password"),
        ("smtps://relay.example.org?tls=none", vec![], "always TLS"),
        (
            "smtps://relay.example.org",
            vec![("EMBARGO_SMTP_CA_FILE", missing_ca.to_str().unwrap())],
            "no-such-ca.pem",
        ),
        (
            "smtps://relay.example.org",
            vec![("EMBARGO_SMTP_CA_FILE", empty_ca.to_str().unwrap())],
            "no PEM certificate",
        ),
    ] {
        let out = db
            .command(&["serve", "--listen", "127.0.0.1:0"])
            .env("EMBARGO_SMTP_URL", url)
            .envs(env)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url} must be refused");
        assert!(stderr.contains(says), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2-x"), "{url}: {stderr}");
    }
}

/// `embargo serve` polling this mailbox URL, logging to a file.
fn poller(db: &TestDb, url: &str, ca: Option<&Path>, log: &Path) -> Process {
    let password_file = db.dir.path().join("imap-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let mut cmd = db.command(&[]);
    cmd.env("EMBARGO_IMAP_URL", url)
        .env("EMBARGO_IMAP_PASSWORD_FILE", &password_file)
        .env("EMBARGO_IMAP_PROJECT", "CLOUDSTACK")
        .env("EMBARGO_IMAP_INTERVAL", "1");
    if let Some(ca) = ca {
        cmd.env("EMBARGO_IMAP_CA_FILE", ca);
    }
    Process::serve_logged(cmd, log)
}

/// Waits until a poller's log says its poll failed; returns the log.
async fn poll_failed(log: &Path, what: &str) -> String {
    eventually(30, what, || async {
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains("IMAP poll failed")
    })
    .await;
    std::fs::read_to_string(log).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_intake_over_tls() {
    let db = TestDb::new(Backend::Sqlite).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let ca = TestCa::new(&db.dir.path().join("tls"));
    let dovecot = Dovecot::start_tls(&db.dir.path().join("dovecot"), &ca.cert, &ca.key);
    let imaps_port = dovecot.tls_port.unwrap();
    dovecot.append("From: ivy@example.org\r\nSubject: Heap overflow\r\nMessage-ID: <imaps1@example.org>\r\n\r\nA long header overflows.\r\n");

    // A certificate nobody said to trust: no login, the message stays unread.
    let log = db.dir.path().join("untrusted.log");
    let mut server = poller(
        &db,
        &format!("imaps://{USER}@127.0.0.1:{imaps_port}/INBOX"),
        None,
        &log,
    );
    let text = poll_failed(&log, "the untrusted poll").await;
    server.kill();
    assert!(text.contains("TLS") && text.contains("trusted"), "{text}");
    assert!(!text.contains(PASSWORD));
    assert_eq!(dovecot.unseen(), 1);

    // A server that does not offer STARTTLS: no login in plain text.
    let plain = Dovecot::start(&db.dir.path().join("dovecot-plain"));
    let log = db.dir.path().join("downgrade.log");
    let mut server = poller(
        &db,
        &format!("imap://{USER}@127.0.0.1:{}/INBOX?tls=required", plain.port),
        Some(&ca.ca),
        &log,
    );
    let text = poll_failed(&log, "the downgraded poll").await;
    server.kill();
    assert!(text.contains("refused STARTTLS"), "{text}");

    // IMAPS with the CA: the report is taken in.
    let log = db.dir.path().join("imaps.log");
    let server = poller(
        &db,
        &format!("imaps://{USER}@127.0.0.1:{imaps_port}/INBOX"),
        Some(&ca.ca),
        &log,
    );
    let alice = Api::new(&server.url, Some(&people.alice));
    eventually(30, "the IMAPS poll", || async { dovecot.unseen() == 0 }).await;
    let (_, cases) = alice.get("/api/cases").await;
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
    drop(server);

    // STARTTLS on the IMAP port.
    dovecot.append("From: jon@example.org\r\nSubject: Auth bypass\r\nMessage-ID: <imaps2@example.org>\r\n\r\nThe token check can be skipped.\r\n");
    let log = db.dir.path().join("starttls.log");
    let server = poller(
        &db,
        &format!(
            "imap://{USER}@127.0.0.1:{}/INBOX?tls=required",
            dovecot.port
        ),
        Some(&ca.ca),
        &log,
    );
    let alice = Api::new(&server.url, Some(&people.alice));
    let checked = |url: String, ca: Option<&Path>| {
        let password_file = db.dir.path().join("imap-password");
        let mut cmd = db.command(&["--json", "config", "check"]);
        cmd.env("EMBARGO_IMAP_URL", url)
            .env("EMBARGO_IMAP_PASSWORD_FILE", &password_file)
            .env("EMBARGO_IMAP_PROJECT", "CLOUDSTACK");
        if let Some(ca) = ca {
            cmd.env("EMBARGO_IMAP_CA_FILE", ca);
        }
        let out = cmd.output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["checks"][2].clone()
    };
    let imap = checked(
        format!("imaps://{USER}@127.0.0.1:{imaps_port}/INBOX"),
        Some(&ca.ca),
    );
    assert_eq!(imap["ok"], true, "{imap}");
    let imap = checked(format!("imaps://{USER}@127.0.0.1:{imaps_port}/INBOX"), None);
    assert!(
        imap["error"].as_str().unwrap().contains("trusted"),
        "{imap}"
    );
    eventually(30, "the STARTTLS poll", || async {
        alice.get("/api/cases").await.1.as_array().unwrap().len() == 2
    })
    .await;
    assert_eq!(dovecot.unseen(), 0);
}
