//! Disclosure end to end: the rehearsal and what blocks it, the schedule, distributors
//! pre-notified, nothing to the lists before the embargo time, each list's announcement
//! once after it (signed, checked with gpg), the case announced; then the archived
//! announcement, the CVE record, CHANGES/NEWS, the public pages, feed, documents and
//! security.txt, each refused before the announcement. And exactly once with two servers
//! on one PostgreSQL, one killed in the middle of sending.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::mail::Sink;
use crate::support::{Api, Backend, Process, Server, TestDb, eventually, seed};

const LISTS: [&str; 3] = [
    "dev@cloudstack.example",
    "users@cloudstack.example",
    "oss-security@lists.example",
];

fn cli(db: &TestDb, args: &[&str]) {
    let out = db.command(args).output().unwrap();
    assert!(
        out.status.success(),
        "embargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The organisation's CNA identity, the project's lists and security.txt contact, and a
/// team key that signs.
pub(crate) fn configure(db: &TestDb) {
    cli(
        db,
        &[
            "org",
            "set",
            "--org",
            "ASF",
            "--cna-org-id",
            "f0158376-9dc2-43b6-827c-5f631a4d8d09",
            "--cna-short-name",
            "apache",
            "--vendor",
            "Apache Software Foundation",
            "--namespace",
            "https://www.apache.org",
        ],
    );
    cli(
        db,
        &[
            "project",
            "disclosure",
            "--project",
            "CLOUDSTACK",
            "--list",
            LISTS[0],
            "--list",
            LISTS[1],
            "--oss-security",
            LISTS[2],
            "--prenotify-days",
            "5",
            "--security-contact",
            "mailto:security@cloudstack.example",
            "--policy-url",
            "https://cloudstack.example/security",
        ],
    );
    cli(
        db,
        &[
            "keys",
            "pgp",
            "generate",
            "--project",
            "CLOUDSTACK",
            "--user-id",
            "CloudStack Security <security@cloudstack.example>",
        ],
    );
}

fn rfc(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A confirmed case with everything a release needs, the embargo `secs` from now.
pub(crate) async fn ready_case(alice: &Api, secs: i64) -> String {
    let (status, case) = alice
        .post("/api/cases", json!({ "project": "CLOUDSTACK", "title": "Console XSS", "description": "internal report text", "reporter": { "email": "fay@finder.example", "name": "Fay" } }))
        .await;
    assert_eq!(status, 201, "{case}");
    let r = case["ref"].as_str().unwrap().to_owned();
    alice
        .moved(&r, json!({ "to": "triage", "reason": "reproducing" }))
        .await;
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    let (status, body) = alice
        .patch(&format!("/api/cases/{r}"), json!({
            "cvss": "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:N",
            "cve_id": "CVE-2026-41234",
            "versions": { "affected": ["4.0.0 through 4.19.1.1"], "fixed": ["4.19.1.2"] },
            "embargo_at": rfc(OffsetDateTime::now_utc() + time::Duration::seconds(secs)),
            "advisory": {
                "title": "Stored XSS in the instance console",
                "description": "The console shows an instance's name without escaping it.",
                "mitigation": "Upgrade to 4.19.1.2.",
                "cwe": "CWE-79",
                "credits": [{ "name": "Fay Finder", "role": "finder" }],
                "products": [{ "package_url": "pkg:maven/org.apache.cloudstack/cloud-server", "ranges": [{ "introduced": "4.0.0", "fixed": "4.19.1.2" }] }]
            }
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    r
}

pub(crate) async fn release(alice: &Api, r: &str) {
    alice.moved(r, json!({ "to": "fixing" })).await;
    alice.fixed_everywhere(r).await;
    alice.moved(r, json!({ "to": "fix-ready" })).await;
    alice.moved(r, json!({ "to": "release-pending" })).await;
}

fn gpg_verify(dir: &Path, key: &str, signed: &str) -> String {
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let run = |args: &[&str], input: &str| {
        use std::io::Write;
        let mut child = Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args(["--batch", "--no-tty"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(run(&["--import"], key).0);
    let (ok, status) = run(&["--verify"], signed);
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--kill", "gpg-agent"])
        .status();
    assert!(ok, "{status}");
    status
}

async fn disclosure_end_to_end(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let erin = store
        .create_user("erin@distro.example", None, false)
        .await
        .unwrap();
    let erin_token = store.create_token(erin.id, "test").await.unwrap().secret;
    store.close().await;
    configure(&db);
    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    )
    .env("EMBARGO_MAIL_FROM", "security@cloudstack.example");
    let server = Process::serve(cmd);
    let alice = Api::new(&server.url, Some(&people.alice));
    let anonymous = alice.anonymous();
    let r = ready_case(&alice, 6).await;

    // Before release-pending the rehearsal says why, and the schedule is refused.
    let (_, plan) = alice
        .post(&format!("/api/cases/{r}/disclosure/rehearsal"), json!({}))
        .await;
    assert_eq!(plan["ready"], false);
    assert!(
        plan["steps"][0]["problem"]
            .as_str()
            .unwrap()
            .starts_with("the case is confirmed"),
        "{plan}"
    );
    let (status, body) = alice
        .post(&format!("/api/cases/{r}/disclosure"), json!({}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("the rehearsal blocks the schedule: step 1 (announcement)"),
        "{body}"
    );

    release(&alice, &r).await;
    let (status, _) = alice
        .post(
            "/api/projects/CLOUDSTACK/distributors",
            json!({ "email": "erin@distro.example" }),
        )
        .await;
    assert!(status.is_success());
    // Vera has an OpenPGP key: her copy is encrypted to it.
    let (status, _) = alice
        .post(
            "/api/projects/CLOUDSTACK/distributors",
            json!({ "email": "vera@vendor.example" }),
        )
        .await;
    assert!(status.is_success());
    let vera_key = embargo_openpgp::TeamKey::generate("Vera <vera@vendor.example>").unwrap();
    let vera_store = db.store().await;
    let vera_id = vera_store
        .user_by_email("vera@vendor.example")
        .await
        .unwrap()
        .id;
    let vera_token = vera_store
        .create_token(vera_id, "vera")
        .await
        .unwrap()
        .secret;
    vera_store.close().await;
    let vera = crate::support::Api::new(&server.url, Some(&vera_token));
    let (status, body) = vera
        .put("/api/me/openpgp-key", json!({ "key": "not a key" }))
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = vera
        .put(
            "/api/me/openpgp-key",
            json!({ "key": vera_key.public().armored().unwrap() }),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = alice
        .post(&format!("/api/cases/{r}/prenotify"), json!({}))
        .await;
    assert!(status.is_success());

    // The rehearsal: every mail with its recipients, the documents, the pages, in order.
    let (_, plan) = alice
        .post(&format!("/api/cases/{r}/disclosure/rehearsal"), json!({}))
        .await;
    assert_eq!(plan["ready"], true, "{plan:#}");
    assert_eq!(plan["scheduled"], false);
    let kinds: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "prenotification",
            "announcement",
            "announcement",
            "announcement",
            "cve-record",
            "osv",
            "csaf",
            "pages",
            "after",
            "after",
            "after",
            "after"
        ]
    );
    assert_eq!(
        plan["steps"][0]["recipients"],
        json!(["erin@distro.example", "vera@vendor.example"])
    );
    let recipients: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "announcement")
        .map(|s| s["recipients"][0].as_str().unwrap())
        .collect();
    assert_eq!(recipients, LISTS);
    assert_eq!(
        plan["steps"][1]["subject"],
        "CVE-2026-41234: Apache CloudStack: Stored XSS in the instance console"
    );
    let record: Value =
        serde_json::from_str(plan["steps"][4]["content"].as_str().unwrap()).unwrap();
    assert_eq!(record["cveMetadata"]["cveId"], "CVE-2026-41234");
    assert!(
        !plan.to_string().contains("internal report text"),
        "the report itself is never published"
    );

    // The announcement, previewed: cleartext-signed with the team key, which gpg verifies.
    let (_, preview) = alice.get(&format!("/api/cases/{r}/announcement")).await;
    assert_eq!(preview["signed"], true);
    let text = preview["text"].as_str().unwrap();
    assert!(
        text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----"),
        "{text}"
    );
    for heading in [
        "Severity:",
        "Affected versions:",
        "Description:",
        "Mitigation:",
        "Credit:",
        "References:",
        "Timeline:",
    ] {
        assert!(text.contains(heading), "{heading}");
    }
    let key = reqwest::get(format!(
        "{}/api/public/projects/CLOUDSTACK/openpgp-key",
        server.url
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let verified = gpg_verify(db.dir.path(), &key, text);
    assert!(
        verified
            .contains("Good signature from \"CloudStack Security <security@cloudstack.example>\""),
        "{verified}"
    );

    // Before the announcement nothing public exists, and what follows it is refused.
    let (status, body) = alice.get(&format!("/api/cases/{r}/changes")).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("CHANGES and NEWS entries come after the announcement")
    );
    let (status, body) = alice.get(&format!("/api/cases/{r}/cve-record")).await;
    assert_eq!(status, 422);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("the CVE record is published after the announcement")
    );
    let (status, body) = alice
        .patch(
            &format!("/api/cases/{r}"),
            json!({ "advisory_url": "https://lists.example/thread/1" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    for path in [
        format!("/advisories/{r}"),
        format!("/advisories/{r}/osv.json"),
        format!("/advisories/{r}/csaf.json"),
        format!("/advisories/{r}/cve.json"),
        format!("/api/public/cases/{r}"),
    ] {
        let (status, _) = anonymous.get(&path).await;
        assert_eq!(status, 404, "{path}");
    }
    let feed = reqwest::get(format!("{}/advisories.atom", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!feed.contains("<entry>"), "{feed}");

    // Scheduled, twice: the same jobs, once.
    let (status, plan) = alice
        .post(&format!("/api/cases/{r}/disclosure"), json!({}))
        .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["scheduled"], true);
    let (status, _) = alice
        .post(&format!("/api/cases/{r}/disclosure"), json!({}))
        .await;
    assert_eq!(status, 200);

    // The distributor hears first; the lists hear nothing before the embargo time.
    eventually(20, "the pre-notification", || async {
        !sink.to("erin@distro.example").is_empty()
    })
    .await;
    let (_, pre) = sink.to("erin@distro.example").remove(0);
    eventually(30, "vera's encrypted copy", || async {
        !sink.raw_to("vera@vendor.example").is_empty()
    })
    .await;
    let vera_raw = sink.raw_to("vera@vendor.example").remove(0);
    assert!(
        vera_raw.contains("-----BEGIN PGP MESSAGE-----"),
        "{vera_raw}"
    );
    assert!(
        !vera_raw.contains("Stored XSS in the instance console"),
        "nothing of the advisory in clear, the subject included"
    );
    assert!(
        vera_raw.contains("encrypted to your key"),
        "the subject says so"
    );
    let armored = &vera_raw[vera_raw.find("-----BEGIN PGP MESSAGE-----").unwrap()
        ..vera_raw.find("-----END PGP MESSAGE-----").unwrap() + "-----END PGP MESSAGE-----".len()];
    let opened = embargo_openpgp::decrypt(
        armored.replace("\r\n", "\n").as_bytes(),
        &vera_key,
        &[],
        1 << 20,
    )
    .unwrap();
    let vera_text = String::from_utf8_lossy(&opened.data);
    assert!(
        vera_text.contains("Mitigation:") && vera_text.contains("/acknowledge/"),
        "vera reads her copy: {vera_text}"
    );
    assert!(
        pre.subject.starts_with("[EMBARGOED until "),
        "{}",
        pre.subject
    );
    assert!(
        pre.text
            .contains("Please acknowledge receipt within 2 day(s)")
    );
    let (status, advisory) = Api::new(&server.url, Some(&erin_token))
        .get(&format!("/api/cases/{r}/advisory"))
        .await;
    assert_eq!(status, 200, "{advisory}");
    // Erin's copy is hers alone: an invisible mark names her if it leaks, and its link
    // acknowledges it.
    let leaked = db.dir.path().join("leaked.txt");
    let excerpt: String = pre
        .text
        .replace("\r\n", "\n")
        .split("\n\n")
        .skip(4)
        .take(3)
        .collect::<Vec<_>>()
        .join("\n\n");
    assert!(
        excerpt.contains('\u{200B}') || excerpt.contains('\u{200C}'),
        "the mark travels with a pasted excerpt"
    );
    std::fs::write(&leaked, &excerpt).unwrap();
    let out = db
        .command(&["--json", "trace", leaked.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits[0]["recipient"], "erin@distro.example");
    assert_eq!(hits[0]["ref"], r.as_str());
    std::fs::write(&leaked, "retyped by hand, no mark").unwrap();
    let out = db
        .command(&["trace", leaked.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "no mark found");
    let link = pre
        .text
        .split("/acknowledge/")
        .nth(1)
        .unwrap()
        .split(|c: char| c.is_whitespace() || c == '\u{2060}')
        .next()
        .unwrap()
        .to_owned();
    let (_, before) = alice.get(&format!("/api/cases/{r}/prenotifications")).await;
    assert!(
        before[0]["acknowledged_at"].is_null() && before[0]["ack_deadline"].is_string(),
        "{before}"
    );
    let page = reqwest::get(format!("{}/acknowledge/{link}", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<form method=\"post\""),
        "fetching the link acknowledges nothing"
    );
    let (_, still) = alice.get(&format!("/api/cases/{r}/prenotifications")).await;
    assert!(still[0]["acknowledged_at"].is_null());
    let done = reqwest::Client::new()
        .post(format!("{}/acknowledge/{link}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let (_, after) = alice.get(&format!("/api/cases/{r}/prenotifications")).await;
    assert_eq!(after[0]["recipient"], "erin@distro.example");
    assert!(
        after[0]["acknowledged_at"].is_string() && after[0]["overdue"] == false,
        "{after}"
    );
    for list in LISTS {
        assert!(
            sink.to(list).is_empty(),
            "{list} heard before the embargo time"
        );
    }
    let embargo_at = time::OffsetDateTime::parse(
        plan["embargo_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    eventually(30, "the announcements", || async {
        LISTS.iter().all(|l| !sink.to(l).is_empty())
    })
    .await;
    assert!(OffsetDateTime::now_utc() >= embargo_at);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for list in LISTS {
        let got = sink.to(list);
        assert_eq!(got.len(), 1, "{list} got the announcement once");
        assert_eq!(
            got[0].1.subject,
            "CVE-2026-41234: Apache CloudStack: Stored XSS in the instance console"
        );
        assert!(got[0].0.contains("-----BEGIN PGP SIGNATURE-----"), "signed");
        assert!(
            matches!(
                got[0].1.protection.signature,
                Some(embargo_openpgp::SignatureCheck::UnknownKey { .. })
            ),
            "a cleartext signature the reader can check"
        );
    }
    eventually(10, "the case announced", || async {
        alice.get(&format!("/api/cases/{r}")).await.1["state"] == "announced"
    })
    .await;
    // The reporter is told, and their page links to the published advisory.
    let (_, link) = alice
        .post(&format!("/api/cases/{r}/reporter-link"), json!({}))
        .await;
    let secret = link["secret"].as_str().unwrap().to_owned();
    let (_, view) = alice
        .anonymous()
        .get(&format!("/api/reporter/{secret}"))
        .await;
    assert!(
        view["thread"]
            .to_string()
            .contains(&format!("{r} is announced")),
        "{view}"
    );
    let page = reqwest::get(format!("{}/reporter/{secret}", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("href=\"/advisories/{r}\"")),
        "{page}"
    );
    // One checklist line per list, each ticked by its own send.
    let (_, items) = alice.get(&format!("/api/cases/{r}/checklist")).await;
    for list in LISTS {
        let line = items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["key"] == format!("announcement:{list}"))
            .cloned()
            .unwrap_or_else(|| panic!("{list} has a line: {items}"));
        assert_eq!(line["status"], "done", "{line}");
        assert_eq!(line["label"], format!("Announcement sent to {list}"));
    }

    // After the announcement, in order: the archived announcement, the CVE record.
    let (status, body) = alice.get(&format!("/api/cases/{r}/cve-record")).await;
    assert_eq!(status, 422);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("record the archived announcement URL first"),
        "{body}"
    );
    let archive = "https://lists.apache.example/thread/abc123";
    let (status, body) = alice
        .patch(
            &format!("/api/cases/{r}"),
            json!({ "advisory_url": archive }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, record) = alice.get(&format!("/api/cases/{r}/cve-record")).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["containers"]["cna"]["references"][0]["url"], archive);
    let (status, entry) = alice.get(&format!("/api/cases/{r}/changes")).await;
    assert_eq!(status, 200);
    assert!(
        entry["changes"]
            .as_str()
            .unwrap()
            .starts_with("- CVE-2026-41234: Stored XSS in the instance console (High)."),
        "{entry}"
    );
    let (_, all) = alice.get("/api/projects/CLOUDSTACK/changes").await;
    assert_eq!(all.as_array().unwrap().len(), 1);

    // The public site.
    let page = reqwest::get(format!("{}/advisories/{r}", server.url))
        .await
        .unwrap();
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Stored XSS in the instance console") && page.contains(archive),
        "{page}"
    );
    // Drawn by the pages' one renderer, which escapes markup (an apostrophe in text
    // needs none).
    assert!(page.contains("an instance's name"), "{page}");
    assert!(
        page.contains("<h2>Mitigation</h2>"),
        "the published sections"
    );
    assert!(!page.contains("internal report text"));
    let index = reqwest::get(format!("{}/advisories", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains(&format!("/advisories/{r}")));
    let feed = reqwest::get(format!("{}/advisories.atom", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(feed.contains(&format!("/advisories/{r}</id>")), "{feed}");
    for (file, field) in [
        ("osv.json", "/aliases/0"),
        ("csaf.json", "/document/tracking/id"),
        ("cve.json", "/cveMetadata/cveId"),
    ] {
        let (status, doc) = anonymous.get(&format!("/advisories/{r}/{file}")).await;
        assert_eq!(status, 200, "{file}");
        assert_eq!(doc.pointer(field).unwrap(), "CVE-2026-41234", "{file}");
    }
    let security = reqwest::get(format!("{}/projects/CLOUDSTACK/security.txt", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        security.starts_with("-----BEGIN PGP SIGNED MESSAGE-----"),
        "{security}"
    );
    assert!(security.contains("Contact: mailto:security@cloudstack.example\n"));
    let expires = security
        .lines()
        .find_map(|l| l.strip_prefix("Expires: "))
        .unwrap();
    let expires =
        OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339).unwrap();
    assert!(
        expires > OffsetDateTime::now_utc()
            && expires < OffsetDateTime::now_utc() + time::Duration::days(366)
    );
    assert!(
        security.contains("Encryption: ")
            && security.contains("Canonical: ")
            && security.contains("Policy: ")
    );
    let well_known = reqwest::get(format!("{}/.well-known/security.txt", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        well_known
            .lines()
            .filter(|l| l.starts_with("Contact: "))
            .count(),
        1,
        "the one project with a contact: {well_known}"
    );
    let project_index = reqwest::get(format!("{}/projects/CLOUDSTACK/advisories", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(project_index.contains(&format!("/advisories/{r}")));
    let other_index = reqwest::get(format!("{}/projects/OTHER/advisories", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !other_index.contains(&format!("/advisories/{r}"))
            && other_index.contains("No advisories yet.")
    );
    let (status, body) = anonymous.get("/projects/OTHER/security.txt").await;
    assert_eq!(status, 422, "no contact, no security.txt: {body}");
    assert!(body["message"].as_str().unwrap().contains("RFC 9116"));

    // The public view, now allowed.
    alice.moved(&r, json!({ "to": "public" })).await;
    let (status, _) = anonymous.get(&format!("/api/public/cases/{r}")).await;
    assert_eq!(status, 200);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disclosure_end_to_end_sqlite() {
    disclosure_end_to_end(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disclosure_end_to_end_postgres() {
    disclosure_end_to_end(Backend::Postgres).await;
}

/// The pid of the process with a TCP connection from local `port` (from `ss`).
fn pid_on_port(port: u16) -> Option<u32> {
    let out = Command::new("ss").args(["-tnpH"]).output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|line| {
            let local = line.split_whitespace().nth(3)?;
            if !local.ends_with(&format!(":{port}")) {
                return None;
            }
            let pid = line.split("pid=").nth(1)?.split(',').next()?;
            pid.parse().ok()
        })
}

/// Two servers on one PostgreSQL; the one sending an announcement is killed in the
/// middle of its SMTP transaction and started again: each list gets the announcement
/// exactly once, and nothing arrives before the embargo time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcements_go_out_exactly_once_across_servers_and_a_kill() {
    let db = TestDb::new(Backend::Postgres).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    configure(&db);
    let sink_dir = db.dir.path().join("sink");
    let sink = Sink::start_delayed(&sink_dir, 1.5);
    let serve = || {
        let mut cmd = db.command(&[]);
        cmd.env(
            "EMBARGO_SMTP_URL",
            format!("smtp://127.0.0.1:{}", sink.port),
        )
        .env("EMBARGO_MAIL_FROM", "security@cloudstack.example")
        .env("EMBARGO_JOB_LEASE", "2");
        Process::serve(cmd)
    };
    let mut servers = vec![serve(), serve()];
    let alice = Api::new(&servers[0].url, Some(&people.alice));
    let r = ready_case(&alice, 5).await;
    release(&alice, &r).await;
    let (status, plan) = alice
        .post(&format!("/api/cases/{r}/disclosure"), json!({}))
        .await;
    assert_eq!(status, 200, "{plan}");
    let embargo_at = OffsetDateTime::parse(
        plan["embargo_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();

    // The first RCPT of a list marks an announcement under way: kill whichever server
    // holds it. (The reporter's acknowledgement goes out before; it is not a list.)
    let marker = || {
        std::fs::read_dir(&sink_dir).ok().and_then(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "port"))
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .find(|m| LISTS.iter().any(|l| m.ends_with(l)))
        })
    };
    eventually(30, "an announcement under way", || async {
        marker().is_some()
    })
    .await;
    assert!(
        OffsetDateTime::now_utc() >= embargo_at,
        "nothing is sent before the embargo time"
    );
    let port: u16 = marker()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let pid = pid_on_port(port).expect("the sending server's connection");
    let victim = servers
        .iter()
        .position(|s| s.child.id() == pid)
        .expect("one of our servers is sending");
    servers[victim].kill();
    servers[victim] = serve();

    eventually(60, "every list's announcement", || async {
        LISTS.iter().all(|l| !sink.to(l).is_empty())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    for list in LISTS {
        assert_eq!(sink.to(list).len(), 1, "{list} got it exactly once");
    }
    let alice = Api::new(&servers[1 - victim].url, Some(&people.alice));
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    assert_eq!(case["state"], "announced");
    drop(servers);
}

/// Going back to fixing cancels the scheduled disclosure: nothing goes out, the plan says
/// it is not scheduled, the timeline says why, and the team can schedule again.
async fn moving_back_to_fixing_cancels_the_schedule(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    configure(&db);
    let server = Server::start(db.store().await).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let r = ready_case(&alice, 3600).await;
    release(&alice, &r).await;
    let (status, plan) = alice
        .post(&format!("/api/cases/{r}/disclosure"), json!({}))
        .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["scheduled"], true);
    alice
        .moved(
            &r,
            json!({ "to": "fixing", "reason": "the fix broke 4.19" }),
        )
        .await;
    let pending = db
        .query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM jobs WHERE kind IN ('announce', 'prenotify') AND done_at IS NULL AND failed_at IS NULL",
        )
        .await;
    assert_eq!(pending.as_deref(), Some("0"), "nothing is left to go out");
    let (_, timeline) = alice.get(&format!("/api/cases/{r}/timeline")).await;
    assert!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "disclosure-cancelled"),
        "{timeline}"
    );
    alice.moved(&r, json!({ "to": "fix-ready" })).await;
    alice.moved(&r, json!({ "to": "release-pending" })).await;
    let (status, plan) = alice
        .post(&format!("/api/cases/{r}/disclosure/rehearsal"), json!({}))
        .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(
        plan["scheduled"], false,
        "the old schedule no longer counts"
    );
    let (status, plan) = alice
        .post(&format!("/api/cases/{r}/disclosure"), json!({}))
        .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["scheduled"], true, "scheduled again");

    // Cancelled from the page, without leaving release-pending: nothing waits, and the
    // page says so; a second cancel is refused (nothing is scheduled).
    let http = crate::web::client();
    let session = crate::web::sign_in_alice(&http, &server.url).await;
    let page = http
        .get(format!("{}/desk/cases/{r}", server.url))
        .header(reqwest::header::COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Cancel the schedule"), "{page}");
    let csrf = crate::web::hidden(&page, "csrf");
    let resp = http
        .post(format!("{}/desk/cases/{r}/unschedule", server.url))
        .header(reqwest::header::COOKIE, &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let pending = db
        .query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM jobs WHERE kind IN ('announce', 'prenotify') AND done_at IS NULL AND failed_at IS NULL",
        )
        .await;
    assert_eq!(pending.as_deref(), Some("0"), "nothing is left to go out");
    let page = http
        .get(format!("{}/desk/cases/{r}?done=unschedule", server.url))
        .header(reqwest::header::COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("The schedule is cancelled"), "{page}");
    assert!(!page.contains("The announcement is scheduled."), "{page}");
    let (status, body) = alice
        .request(
            reqwest::Method::DELETE,
            &format!("/api/cases/{r}/disclosure"),
            None,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, plan) = alice
        .post(&format!("/api/cases/{r}/disclosure"), json!({}))
        .await;
    assert_eq!(status, 200, "{plan}");
    let (status, _) = alice
        .request(
            reqwest::Method::DELETE,
            &format!("/api/cases/{r}/disclosure"),
            None,
        )
        .await;
    assert_eq!(status, 204, "cancelled through the API");
    server.stop().await;
}

#[tokio::test]
async fn moving_back_to_fixing_cancels_the_schedule_sqlite() {
    moving_back_to_fixing_cancels_the_schedule(Backend::Sqlite).await;
}

#[tokio::test]
async fn moving_back_to_fixing_cancels_the_schedule_postgres() {
    moving_back_to_fixing_cancels_the_schedule(Backend::Postgres).await;
}
