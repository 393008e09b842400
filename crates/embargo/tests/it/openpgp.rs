//! OpenPGP against real GnuPG, both ways: gpg encrypts and signs reports to the team key
//! that `embargo keys pgp` made (PGP/MIME, inline, cleartext-signed, detached-signed), and
//! Embargo decrypts, checks and shows them; Embargo encrypts its mail to the reporter's key
//! and gpg decrypts it and verifies the team's signature. Undecryptable mail is quarantined.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::mail::Sink;
use crate::support::{Api, Backend, Process, TestDb, eventually, seed};

/// A GnuPG home of its own; its agent is stopped when dropped.
pub(crate) struct Gpg {
    home: PathBuf,
}

impl Gpg {
    pub(crate) fn new(dir: &Path) -> Gpg {
        let home = dir.join("gnupg");
        std::fs::create_dir_all(&home).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        Gpg { home }
    }

    /// Runs gpg with `input` on stdin; returns stdout, panicking with stderr on failure.
    pub(crate) fn run(&self, args: &[&str], input: &[u8]) -> Vec<u8> {
        let (ok, out, err) = self.try_run(args, input);
        assert!(ok, "gpg {args:?} failed: {err}");
        out
    }

    fn try_run(&self, args: &[&str], input: &[u8]) -> (bool, Vec<u8>, String) {
        let mut child = Command::new("gpg")
            .env("GNUPGHOME", &self.home)
            .args([
                "--batch",
                "--yes",
                "--no-tty",
                "--trust-model",
                "always",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gpg (Debian's gnupg)");
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn new_key(&self, uid: &str) {
        self.run(
            &["--quick-gen-key", uid, "future-default", "default", "never"],
            b"",
        );
    }

    pub(crate) fn text(&self, args: &[&str], input: &[u8]) -> String {
        String::from_utf8(self.run(args, input)).unwrap()
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.home)
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

pub(crate) fn cli(db: &TestDb, args: &[&str]) -> String {
    let out = db.command(args).output().unwrap();
    assert!(
        out.status.success(),
        "embargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn pipe(db: &TestDb, project: &str, raw: &str) -> Value {
    let (code, outcome, stderr) = crate::support::intake(db, project, raw.as_bytes(), &[], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    outcome
}

pub(crate) fn pgp_mime(head: &str, armored: &str) -> String {
    format!(
        "{head}MIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\r\n\r\nThis is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n--enc\r\nContent-Type: application/pgp-encrypted\r\nContent-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n--enc\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\nContent-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n{armored}\r\n--enc--\r\n"
    )
}

fn events(timeline: &Value, kind: &str) -> Vec<String> {
    timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .map(|e| e["detail"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The armored block of a PGP/MIME message as the sink received it.
fn armored_part(raw: &str) -> String {
    let start = raw
        .find("-----BEGIN PGP MESSAGE-----")
        .expect("an armored part");
    let end = raw.find("-----END PGP MESSAGE-----").unwrap() + "-----END PGP MESSAGE-----".len();
    raw[start..end].replace("\r\n", "\n")
}

async fn openpgp_both_ways(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;

    // The team key, made by the CLI; its public half is what reporters get.
    let made: Value = serde_json::from_str(&cli(
        &db,
        &[
            "--json",
            "keys",
            "pgp",
            "generate",
            "--project",
            "CLOUDSTACK",
            "--user-id",
            "CloudStack Security <security@cloudstack.example>",
        ],
    ))
    .unwrap();
    let fingerprint = made["fingerprint"].as_str().unwrap().to_owned();
    let again = db
        .command(&[
            "keys",
            "pgp",
            "generate",
            "--project",
            "CLOUDSTACK",
            "--user-id",
            "x",
        ])
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing team key is not replaced silently"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("has a team key already"));
    let team_public = cli(&db, &["keys", "pgp", "export", "--project", "CLOUDSTACK"]);
    assert!(team_public.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    assert!(!team_public.contains("PRIVATE"));

    let gpg = Gpg::new(db.dir.path());
    gpg.run(&["--import"], team_public.as_bytes());
    gpg.new_key("Fay Finder <fay@finder.example>");
    let fay_public = gpg.text(&["--armor", "--export", "fay@finder.example"], b"");
    let listing = gpg.text(
        &["--with-colons", "--fingerprint", "fay@finder.example"],
        b"",
    );
    let fay_fpr = listing
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .unwrap()
        .split(':')
        .nth(9)
        .unwrap()
        .to_owned();

    // 1. A PGP/MIME report, signed and encrypted by gpg, with a proof of concept and the
    //    reporter's key inside.
    let canary = format!("canary{:016x}", rand::random::<u64>());
    let entity = format!(
        "Content-Type: multipart/mixed; boundary=\"inner\"\r\n\r\n--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe console name field runs scripts: {canary}.\r\n--inner\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"poc.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC/w==\r\n--inner\r\nContent-Type: application/pgp-keys; name=\"fay.asc\"\r\nContent-Disposition: attachment; filename=\"fay.asc\"\r\n\r\n{fay_public}\r\n--inner--\r\n"
    );
    let armored = gpg.text(
        &[
            "--armor",
            "--sign",
            "--encrypt",
            "-u",
            "fay@finder.example",
            "-r",
            "security@cloudstack.example",
        ],
        entity.as_bytes(),
    );
    let report = pgp_mime(
        "From: Fay Finder <fay@finder.example>\r\nTo: security@cloudstack.example\r\nSubject: Report\r\nMessage-ID: <pgp1@finder.example>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n",
        &armored,
    );
    assert!(!report.contains(&canary));
    let (code, outcome, log) = crate::support::intake(
        &db,
        "CLOUDSTACK",
        report.as_bytes(),
        &[],
        &[("EMBARGO_LOG", "trace")],
    );
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("message taken in") && !log.contains(&canary),
        "nothing decrypted is logged"
    );
    assert_eq!(outcome["outcome"], "new-case", "{outcome}");
    assert_eq!(outcome["ref"], "CLOUDSTACK-SEC-1");

    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    )
    .env("EMBARGO_MAIL_FROM", "security@cloudstack.example");
    let server = Process::serve(cmd);
    let alice = Api::new(&server.url, Some(&people.alice));

    // Reporters fetch the team key without an account.
    let anonymous = alice.anonymous();
    let response = reqwest::get(format!(
        "{}/api/public/projects/CLOUDSTACK/openpgp-key",
        server.url
    ))
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pgp-keys");
    assert_eq!(response.text().await.unwrap().trim(), team_public.trim());
    let (status, _) = anonymous
        .get("/api/public/projects/OTHER/openpgp-key")
        .await;
    assert_eq!(status, 404, "OTHER has no team key");

    let (_, case) = alice.get("/api/cases/CLOUDSTACK-SEC-1").await;
    assert!(
        case["description"].as_str().unwrap().contains(&canary),
        "decrypted on intake: {case}"
    );
    assert_eq!(
        case["reporter_key"],
        fay_fpr.as_str(),
        "the key that came with it"
    );
    let (_, attachments) = alice.get("/api/cases/CLOUDSTACK-SEC-1/attachments").await;
    let names: Vec<&str> = attachments
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["poc.bin", "fay.asc"]);
    let poc = reqwest::Client::new()
        .get(format!(
            "{}/api/cases/CLOUDSTACK-SEC-1/attachments/{}",
            server.url, attachments[0]["id"]
        ))
        .bearer_auth(&people.alice)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(poc.as_ref(), [0u8, 1, 2, 255], "byte for byte");
    let (_, timeline) = alice.get("/api/cases/CLOUDSTACK-SEC-1/timeline").await;
    let notes = events(&timeline, "openpgp").join("\n");
    assert!(notes.contains("encrypted to the team key"), "{notes}");
    assert!(
        notes.contains(&format!(
            "good signature by Fay Finder <fay@finder.example> (key {fay_fpr})"
        )),
        "{notes}"
    );

    // 2. The acknowledgement and the team's reply go out encrypted to Fay's key, signed by
    //    the team; gpg decrypts them and checks the signature.
    let (status, _) = alice
        .post(
            "/api/cases/CLOUDSTACK-SEC-1/replies",
            json!({ "text": "Confirmed on 4.19; which browser did you use?" }),
        )
        .await;
    assert_eq!(status, 201);
    eventually(20, "the encrypted mail", || async {
        sink.raw_to("fay@finder.example").len() >= 2
    })
    .await;
    let mails = sink.raw_to("fay@finder.example");
    for raw in &mails {
        assert!(raw.contains("multipart/encrypted"), "{raw}");
        assert!(raw.contains("protocol=\"application/pgp-encrypted\""));
        assert!(
            !raw.contains("which browser") && !raw.contains("/reporter/"),
            "no clear text"
        );
        assert!(raw.contains("Subject: "), "{raw}");
    }
    let reply = mails
        .iter()
        .find(|r| r.contains("Subject: Re: [CLOUDSTACK-SEC-1]"))
        .unwrap();
    let (ok, plain, status_text) = gpg.try_run(&["--decrypt"], armored_part(reply).as_bytes());
    assert!(ok, "{status_text}");
    let plain = String::from_utf8(plain).unwrap();
    assert!(
        plain.contains("Confirmed on 4.19; which browser did you use?"),
        "{plain}"
    );
    assert!(
        plain.starts_with("Content-Type: text/plain"),
        "a MIME entity inside: {plain}"
    );
    assert!(
        status_text
            .contains("Good signature from \"CloudStack Security <security@cloudstack.example>\""),
        "{status_text}"
    );
    assert!(
        status_text.contains(&fingerprint[fingerprint.len() - 16..]),
        "{status_text}"
    );
    let ack = mails
        .iter()
        .find(|r| r.contains("We have received"))
        .unwrap();
    let ack_plain = gpg.text(&["--decrypt"], armored_part(ack).as_bytes());
    assert!(
        ack_plain.contains("/reporter/rl_"),
        "the secret link, encrypted"
    );

    // 3. Follow-ups: inline-encrypted, cleartext-signed, PGP/MIME detached-signed; each
    //    threads onto the case and its signature is checked against Fay's known key.
    let inline = gpg.text(
        &["--armor", "--encrypt", "-r", "security@cloudstack.example"],
        "It works in Firefox 140 too.\n".as_bytes(),
    );
    let outcome = pipe(
        &db,
        "CLOUDSTACK",
        &format!(
            "From: fay@finder.example\r\nSubject: Re: [CLOUDSTACK-SEC-1] more\r\nMessage-ID: <pgp2@finder.example>\r\n\r\nDetails below.\r\n\r\n{inline}"
        ),
    );
    assert_eq!(outcome["outcome"], "follow-up", "{outcome}");
    let clear = gpg.text(
        &["--clearsign", "-u", "fay@finder.example"],
        "The embargo date suits me.\n".as_bytes(),
    );
    pipe(
        &db,
        "CLOUDSTACK",
        &format!(
            "From: fay@finder.example\r\nSubject: Re: [CLOUDSTACK-SEC-1] date\r\nMessage-ID: <pgp3@finder.example>\r\n\r\n{clear}"
        ),
    );
    let part = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nPlease credit me as Fay Finder.\r\n";
    let body_part = part.strip_suffix("\r\n").unwrap();
    let signature = gpg.text(
        &["--armor", "--detach-sign", "-u", "fay@finder.example"],
        body_part.as_bytes(),
    );
    pipe(
        &db,
        "CLOUDSTACK",
        &format!(
            "From: fay@finder.example\r\nSubject: Re: [CLOUDSTACK-SEC-1] credit\r\nMessage-ID: <pgp4@finder.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/signed; micalg=pgp-sha512; protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n--sig\r\n{body_part}\r\n--sig\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n{signature}\r\n--sig--\r\n"
        ),
    );
    // The same text, altered in transit: the signature is bad, and said to be.
    pipe(
        &db,
        "CLOUDSTACK",
        &format!(
            "From: fay@finder.example\r\nSubject: Re: [CLOUDSTACK-SEC-1] credit\r\nMessage-ID: <pgp5@finder.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/signed; micalg=pgp-sha512; protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n--sig\r\n{}\r\n--sig\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n{signature}\r\n--sig--\r\n",
            body_part.replace("Fay Finder", "Mallory")
        ),
    );
    let (_, timeline) = alice.get("/api/cases/CLOUDSTACK-SEC-1/timeline").await;
    let messages = events(&timeline, "reporter-message");
    assert!(
        messages.iter().any(|m| m.contains("Details below.")
            && m.contains("It works in Firefox 140 too.")
            && !m.contains("BEGIN PGP")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.trim() == "The embargo date suits me."),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.trim() == "Please credit me as Fay Finder."),
        "{messages:?}"
    );
    let notes = events(&timeline, "openpgp");
    assert_eq!(notes.len(), 5, "{notes:?}");
    assert!(
        notes[1].starts_with("encrypted to the team key") && notes[1].contains("not signed"),
        "{notes:?}"
    );
    assert!(
        notes[2].contains("good signature by Fay Finder"),
        "{notes:?}"
    );
    assert!(
        notes[3].contains("good signature by Fay Finder"),
        "{notes:?}"
    );
    assert!(notes[4].contains("BAD signature"), "{notes:?}");

    // 4. Mail for the team that it cannot decrypt is quarantined, with the reason.
    gpg.new_key("Someone Else <else@example.org>");
    let wrong = gpg.text(
        &["--armor", "--encrypt", "-r", "else@example.org"],
        b"for someone else",
    );
    let outcome = pipe(
        &db,
        "CLOUDSTACK",
        &pgp_mime(
            "From: x@example.net\r\nSubject: hi\r\nMessage-ID: <pgp6@example.net>\r\n",
            &wrong,
        ),
    );
    assert_eq!(outcome["outcome"], "quarantined");
    assert_eq!(
        outcome["reason"],
        "encrypted with OpenPGP, but it cannot be decrypted: it is not encrypted to the team key"
    );
    let to_other = gpg.text(
        &["--armor", "--encrypt", "-r", "security@cloudstack.example"],
        b"to OTHER",
    );
    let outcome = pipe(
        &db,
        "OTHER",
        &pgp_mime(
            "From: x@example.net\r\nSubject: hi\r\nMessage-ID: <pgp7@example.net>\r\n",
            &to_other,
        ),
    );
    assert_eq!(
        outcome["reason"],
        "encrypted with OpenPGP, and the project has no team key"
    );

    // 5. A key made with gpg is imported as OTHER's team key; mail encrypted to it opens,
    //    including the one quarantined before, once released.
    gpg.new_key("Other Security <security@other.example>");
    let secret = gpg.run(
        &["--armor", "--export-secret-keys", "security@other.example"],
        b"",
    );
    let path = db.dir.path().join("other-secret.asc");
    std::fs::write(&path, &secret).unwrap();
    // Before OTHER has the key, mail encrypted to it waits in quarantine.
    let early = gpg.text(
        &["--armor", "--encrypt", "-r", "security@other.example"],
        b"Path traversal in the template upload",
    );
    let outcome = pipe(
        &db,
        "OTHER",
        &pgp_mime(
            "From: z@example.net\r\nSubject: traversal\r\nMessage-ID: <pgp9@example.net>\r\n",
            &early,
        ),
    );
    assert_eq!(
        outcome["reason"],
        "encrypted with OpenPGP, and the project has no team key"
    );
    cli(
        &db,
        &[
            "keys",
            "pgp",
            "import",
            "--project",
            "OTHER",
            path.to_str().unwrap(),
        ],
    );
    let for_other = gpg.text(
        &["--armor", "--encrypt", "-r", "security@other.example"],
        b"SQL injection in the login form",
    );
    let outcome = pipe(
        &db,
        "OTHER",
        &pgp_mime(
            "From: y@example.net\r\nSubject: sqli\r\nMessage-ID: <pgp8@example.net>\r\n",
            &for_other,
        ),
    );
    assert_eq!(outcome["outcome"], "new-case", "{outcome}");
    let bob = Api::new(&server.url, Some(&people.bob));
    let (_, other_case) = bob
        .get(&format!("/api/cases/{}", outcome["ref"].as_str().unwrap()))
        .await;
    assert_eq!(other_case["description"], "SQL injection in the login form");
    // Released from quarantine once the key is there, it opens.
    let (_, held) = bob.get("/api/projects/OTHER/quarantine").await;
    let id = held[0]["id"].as_i64().unwrap();
    let (status, released) = bob
        .post(
            &format!("/api/projects/OTHER/quarantine/{id}/release"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["outcome"], "new-case", "{released}");
    let (_, early_case) = bob
        .get(&format!("/api/cases/{}", released["ref"].as_str().unwrap()))
        .await;
    assert_eq!(
        early_case["description"],
        "Path traversal in the template upload"
    );

    // A bad key for the reporter is refused with the reason.
    let (status, body) = alice
        .patch(
            "/api/cases/CLOUDSTACK-SEC-1",
            json!({ "reporter_key": "not a key" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not a usable OpenPGP public key"),
        "{body}"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openpgp_both_ways_sqlite() {
    openpgp_both_ways(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openpgp_both_ways_postgres() {
    openpgp_both_ways(Backend::Postgres).await;
}
