//! Mail out through a real SMTP server (aiosmtpd, started here): the acknowledgement of a
//! report that came in by mail, the team's message to the reporter, their threading
//! headers, and the reporter's reply threading back onto the case.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use embargo_mail::{Inbound, Limits};
use serde_json::{Value, json};

use crate::support::{Api, Backend, Process, TestDb, eventually, seed};

/// The SMTP sink; it stops when its stdin closes, that is when this is dropped.
pub struct Sink {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Sink {
    pub fn start(dir: &Path) -> Sink {
        Sink::start_delayed(dir, 0.0)
    }

    /// A sink that holds each RCPT for `delay` seconds, after writing the client's port.
    pub fn start_delayed(dir: &Path, delay: f64) -> Sink {
        Sink::start_with(dir, &[("SINK_RCPT_DELAY", &delay.to_string())])
    }

    /// A relay that refuses every recipient, quoting the address in its reply.
    pub fn start_rejecting(dir: &Path) -> Sink {
        Sink::start_with(dir, &[("SINK_REJECT", "1")])
    }

    pub fn start_with(dir: &Path, env: &[(&str, &str)]) -> Sink {
        std::fs::create_dir_all(dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/smtp_sink.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(dir)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3-aiosmtpd (scripts/test installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Sink {
            child,
            port: line.trim().parse().expect("the sink's port"),
            dir: dir.to_owned(),
        }
    }

    /// The messages whose envelope went to `address`.
    pub fn to(&self, address: &str) -> Vec<(String, Inbound)> {
        let prefix = format!("X-Envelope-To: {address}\r\n");
        self.messages()
            .into_iter()
            .filter(|(raw, _)| raw.starts_with(&prefix))
            .collect()
    }

    /// Every message readable without keys (encrypted ones are in `raw_to`).
    pub fn messages(&self) -> Vec<(String, Inbound)> {
        self.raw()
            .into_iter()
            .filter_map(|raw| {
                let text = String::from_utf8_lossy(&raw).to_string();
                match Inbound::parse(&raw, &Limits::default()) {
                    Ok(inbound) => Some((text, inbound)),
                    Err(embargo_mail::Unusable::NoTeamKey) => None,
                    Err(e) => panic!("the sink holds an unreadable message: {e}"),
                }
            })
            .collect()
    }

    /// Every message as received, oldest first, unparsed (encrypted ones included).
    pub fn raw(&self) -> Vec<Vec<u8>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    /// The messages whose envelope went to `address`, as received.
    pub fn raw_to(&self, address: &str) -> Vec<String> {
        let prefix = format!("X-Envelope-To: {address}\r\n");
        self.raw()
            .into_iter()
            .map(|r| String::from_utf8_lossy(&r).into_owned())
            .filter(|r| r.starts_with(&prefix))
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn pipe(db: &TestDb, raw: &str) -> Value {
    let (code, outcome, stderr) =
        crate::support::intake(db, "CLOUDSTACK", raw.as_bytes(), &[], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    outcome
}

async fn mail_round_trip(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    )
    .env("EMBARGO_MAIL_FROM", "security@cloudstack.example")
    .env("EMBARGO_PUBLIC_URL", "https://embargo.example");
    let server = Process::serve(cmd);
    // The project's own acknowledgement text opens the mail.
    let lead = Api::new(&server.url, Some(&people.alice));
    let (status, body) = lead
        .put(
            "/api/projects/CLOUDSTACK/responses/acknowledgement",
            json!({ "text": "The CloudStack security team thanks you for {ref}." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // The report carries a canary: it must reach no log line and no mail.
    let canary = format!("canary{:016x}", rand::random::<u64>());
    let report = format!(
        "From: Fay Finder <fay@finder.example>\r\nTo: security@cloudstack.example\r\nSubject: Token leak {canary}\r\nMessage-ID: <rep1@finder.example>\r\n\r\nThe API leaks tokens in error pages: {canary}.\r\n"
    );
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
        "the trace log holds no content"
    );
    assert_eq!(outcome["ref"], "CLOUDSTACK-SEC-1");
    eventually(20, "the acknowledgement", || async {
        !sink.to("fay@finder.example").is_empty()
    })
    .await;
    let (raw, ack) = sink.to("fay@finder.example").remove(0);
    assert!(
        raw.starts_with("X-Envelope-To: fay@finder.example"),
        "{raw}"
    );
    assert_eq!(
        ack.subject,
        "[CLOUDSTACK-SEC-1] We have received your security report"
    );
    assert_eq!(ack.from_email, "security@cloudstack.example");
    assert_eq!(
        ack.thread_ids,
        ["rep1@finder.example"],
        "threads under the report"
    );
    assert!(
        ack.text.contains("https://embargo.example/reporter/rl_"),
        "{}",
        ack.text
    );
    assert!(
        ack.text
            .starts_with("The CloudStack security team thanks you for CLOUDSTACK-SEC-1."),
        "{}",
        ack.text
    );
    // What happens next, by the acknowledgement clock's date (three days by default).
    let (_, case) = lead.get("/api/cases/CLOUDSTACK-SEC-1").await;
    let received = time::OffsetDateTime::parse(
        case["received_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let by = (received + time::Duration::days(3)).date();
    assert!(
        ack.text.contains(&format!(
            "By {by}, a member of the security team reads your report"
        )),
        "{}",
        ack.text
    );
    assert!(
        !raw.contains("leaks tokens") && !raw.contains(&canary),
        "the report is not repeated in mail"
    );
    let ack_id = ack.message_id.clone().unwrap();
    let alice = Api::new(&server.url, Some(&people.alice));
    let (_, case) = alice.get("/api/cases/CLOUDSTACK-SEC-1").await;
    assert!(
        case["acknowledged_at"].is_string(),
        "the acknowledgement clock stopped: {case}"
    );

    // The reporter's link from the mail opens their case.
    let link = ack
        .text
        .split("/reporter/")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let (status, view) = alice
        .anonymous()
        .get(&format!("/api/reporter/{link}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(view["ref"], "CLOUDSTACK-SEC-1");

    // The team writes to the reporter: the mail answers the thread.
    alice
        .moved("CLOUDSTACK-SEC-1", json!({ "to": "invalid", "message_to_reporter": "We could not reproduce this; which version?" }))
        .await;
    eventually(20, "the team's message", || async {
        sink.to("fay@finder.example").len() >= 2
    })
    .await;
    let (_, reply) = sink.to("fay@finder.example").remove(1);
    assert_eq!(reply.subject, "Re: [CLOUDSTACK-SEC-1] Your security report");
    assert!(
        reply
            .text
            .contains("We could not reproduce this; which version?")
    );
    assert_eq!(
        reply.thread_ids[0], ack_id,
        "In-Reply-To: the last message of the thread"
    );
    assert!(
        reply.thread_ids.contains(&"rep1@finder.example".to_owned()),
        "References: the whole thread"
    );

    // The reporter answers our mail: it threads back onto the case.
    let answer = format!(
        "From: fay@finder.example\r\nSubject: Re: Your security report\r\nMessage-ID: <rep2@finder.example>\r\nIn-Reply-To: <{}>\r\n\r\nVersion 4.19.0.\r\n",
        reply.message_id.clone().unwrap()
    );
    let outcome = pipe(&db, &answer);
    assert_eq!(outcome["outcome"], "follow-up");
    assert_eq!(outcome["ref"], "CLOUDSTACK-SEC-1");

    // Nothing was sent twice.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sink.to("fay@finder.example").len(), 2);
    for (raw, _) in sink.messages() {
        assert!(!raw.contains(&canary), "no mail repeats the report");
    }
    // The team heard of the new report, and of the reporter's answer, by reference only.
    eventually(20, "the team's notice of the answer", || async {
        sink.to("alice@example.org").len() >= 2
    })
    .await;
    let told = sink.to("alice@example.org");
    assert_eq!(told.len(), 2);
    assert_eq!(
        told[0].1.subject,
        "[CLOUDSTACK-SEC-1] New report for CLOUDSTACK"
    );
    assert_eq!(
        told[1].1.subject,
        "[CLOUDSTACK-SEC-1] New message on a CLOUDSTACK case"
    );
    assert!(!told[1].1.text.contains("4.19.0"), "{}", told[1].1.text);
    assert!(
        sink.to("bob@example.org").is_empty(),
        "another project's team is not told"
    );

    // Confirmed: the foundation team is told.
    alice
        .moved(
            "CLOUDSTACK-SEC-1",
            json!({ "to": "triage", "reason": "reproduced on 4.19.0" }),
        )
        .await;
    alice
        .moved("CLOUDSTACK-SEC-1", json!({ "to": "confirmed" }))
        .await;
    eventually(20, "the foundation's notice", || async {
        !sink.to("fiona@example.org").is_empty()
    })
    .await;
    let notice = sink.to("fiona@example.org").remove(0).1;
    assert_eq!(
        notice.subject,
        "[CLOUDSTACK-SEC-1] CLOUDSTACK confirmed a vulnerability"
    );
    let (_, timeline) = alice.get("/api/cases/CLOUDSTACK-SEC-1/timeline").await;
    let sent = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "mail-sent")
        .count();
    assert_eq!(sent, 2);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_round_trip_sqlite() {
    mail_round_trip(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_round_trip_postgres() {
    mail_round_trip(Backend::Postgres).await;
}

/// The public form files a report without an account and the reporter is acknowledged;
/// the team answers with an edited canned response, mailed and shown on the reporter's page.
async fn form_report_canned_reply_and_limits(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    )
    .env("EMBARGO_MAIL_FROM", "security@cloudstack.example");
    let server = Process::serve(cmd);
    let anonymous = Api::new(&server.url, None);
    let alice = Api::new(&server.url, Some(&people.alice));

    let form = json!({ "title": "SSRF in the template downloader", "description": "Give it http://169.254.169.254/.", "email": "grace@example.net", "name": "Grace" });
    let (status, filed) = anonymous
        .post("/api/public/projects/CLOUDSTACK/reports", form.clone())
        .await;
    assert_eq!(status, 201, "{filed}");
    let reference = filed["ref"].as_str().unwrap().to_owned();
    let secret = filed["secret"].as_str().unwrap().to_owned();
    let (_, view) = anonymous.get(&format!("/api/reporter/{secret}")).await;
    assert_eq!(view["ref"], reference.as_str());
    eventually(20, "the acknowledgement", || async {
        !sink.to("grace@example.net").is_empty()
    })
    .await;
    assert!(
        sink.to("grace@example.net")[0]
            .0
            .starts_with("X-Envelope-To: grace@example.net")
    );
    let (_, case) = alice.get(&format!("/api/cases/{reference}")).await;
    assert_eq!(case["channel"], "web-form");
    assert_eq!(case["reporter"]["name"], "Grace");

    // Canned responses: the defaults, one made the project's own, then edited and sent.
    let (_, canned) = alice.get("/api/projects/CLOUDSTACK/responses").await;
    assert_eq!(canned.as_array().unwrap().len(), 6);
    let (status, canned) = alice
        .put(
            "/api/projects/CLOUDSTACK/responses/needs-more-info",
            json!({ "text": "For {ref}, which version do you run?" }),
        )
        .await;
    assert_eq!(status, 200);
    let text = canned
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "needs-more-info")
        .unwrap()["text"]
        .as_str()
        .unwrap()
        .replace("{ref}", &reference);
    let (status, _) = alice
        .post(
            &format!("/api/cases/{reference}/replies"),
            json!({ "text": format!("{text} Thanks, Grace.") }),
        )
        .await;
    assert_eq!(status, 201);
    eventually(20, "the reply", || async {
        sink.to("grace@example.net").len() >= 2
    })
    .await;
    let (_, reply) = sink.to("grace@example.net").remove(1);
    assert!(
        reply.text.contains(&format!(
            "For {reference}, which version do you run? Thanks, Grace."
        )),
        "{}",
        reply.text
    );
    let (_, view) = anonymous.get(&format!("/api/reporter/{secret}")).await;
    assert_eq!(
        view["thread"].as_array().unwrap().last().unwrap()["from"],
        "team"
    );

    // A bot fills the hidden field; then one address files too many.
    let mut bot = form.clone();
    bot["website"] = json!("http://spam.example");
    let (status, _) = anonymous
        .post("/api/public/projects/CLOUDSTACK/reports", bot)
        .await;
    assert_eq!(status, 400);
    let mut last = 0;
    for _ in 0..embargo_server::limiter::MAX_REPORTS {
        last = anonymous
            .post(
                "/api/public/projects/CLOUDSTACK/reports",
                json!({ "title": "again", "description": "x" }),
            )
            .await
            .0
            .as_u16();
    }
    assert_eq!(last, 429);
    let (status, _) = anonymous
        .post(
            "/api/public/projects/NOPE/reports",
            json!({ "title": "x", "description": "x" }),
        )
        .await;
    assert_eq!(status, 429, "the limit holds whatever the project");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_report_canned_reply_and_limits_sqlite() {
    form_report_canned_reply_and_limits(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_report_canned_reply_and_limits_postgres() {
    form_report_canned_reply_and_limits(Backend::Postgres).await;
}

/// The daily digest tells each team which clocks are overdue, by reference only; the
/// next one is scheduled once.
async fn daily_digest(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    let alice_viewer = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    let report = embargo_store::NewReport {
        project: "CLOUDSTACK".parse().unwrap(),
        title: "Digest canary title".into(),
        description: "details".into(),
        reporter: Default::default(),
        channel: embargo_core::case::Channel::Api,
    };
    store.create_case(&alice_viewer, report).await.unwrap();
    store.close().await;
    // Received ten days ago: the acknowledgement clock is overdue.
    let ten_days =
        (time::OffsetDateTime::now_utc() - time::Duration::days(10)).unix_timestamp() * 1000;
    db.execute(
        "UPDATE cases SET received_at = $1, last_activity_at = $1",
        &[ten_days],
    )
    .await;
    let store = db.store().await;
    store
        .enqueue_job(&embargo_store::Task::Digest {
            on: Some("test".into()),
        })
        .await
        .unwrap();
    store.close().await;

    let sink = Sink::start(&db.dir.path().join("sink"));
    let mut cmd = db.command(&[]);
    cmd.env(
        "EMBARGO_SMTP_URL",
        format!("smtp://127.0.0.1:{}", sink.port),
    );
    let server = Process::serve(cmd);
    eventually(20, "the digest", || async {
        !sink.to("alice@example.org").is_empty()
    })
    .await;
    let (raw, digest) = sink.to("alice@example.org").remove(0);
    assert_eq!(
        digest.subject,
        "[CLOUDSTACK] Daily digest: 1 case(s) need attention"
    );
    assert!(
        digest
            .text
            .contains("CLOUDSTACK-SEC-1 (reported): acknowledgement OVERDUE"),
        "{}",
        digest.text
    );
    assert!(!raw.contains("Digest canary title"), "references only");
    assert!(
        sink.to("bob@example.org").is_empty(),
        "nothing is due in bob's project"
    );
    // The mail reaches the sink before the job's completion commits: stop the server
    // only once it has (a kill in between leaves the job to be sent again, by design).
    let pending = || async {
        db.query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM jobs WHERE kind = 'digest' AND done_at IS NULL",
        )
        .await
    };
    eventually(20, "the digest's completion", || async {
        pending().await.as_deref() == Some("1")
    })
    .await;
    drop(server);
    let scheduled = pending().await;
    assert_eq!(scheduled.as_deref(), Some("1"), "the next digest, once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_digest_sqlite() {
    daily_digest(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_digest_postgres() {
    daily_digest(Backend::Postgres).await;
}

/// An invitation goes to the invitee alone: its secret is in their mail, never in what the
/// inviter sees, and with it the invitee (and only someone who holds it) accepts the terms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_goes_to_the_invitee_alone() {
    for backend in crate::support::BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        store.close().await;
        let sink = Sink::start(&db.dir.path().join("sink"));
        let mut cmd = db.command(&[]);
        cmd.env(
            "EMBARGO_SMTP_URL",
            format!("smtp://127.0.0.1:{}", sink.port),
        );
        let server = Process::serve(cmd);
        let alice = crate::support::Api::new(&server.url, Some(&people.alice));
        let r = alice.report("CLOUDSTACK", "Invitation scenario").await;
        let (status, invitation) = alice
            .post(
                &format!("/api/cases/{r}/collaborators"),
                serde_json::json!({ "email": "newcomer@example.org" }),
            )
            .await;
        assert_eq!(status, 201, "{invitation}");
        assert!(invitation.get("secret").is_none(), "{invitation}");
        eventually(20, "the invitation mail", || async {
            !sink.to("newcomer@example.org").is_empty()
        })
        .await;
        let (_, mail) = sink.to("newcomer@example.org").remove(0);
        assert!(mail.subject.contains(&r), "{}", mail.subject);
        let secret = mail
            .text
            .split(['/', ' ', '\n'])
            .find(|w| w.starts_with("inv_"))
            .expect("the secret in the mail's link")
            .trim()
            .to_owned();
        let anonymous = alice.anonymous();
        let (status, accepted) = anonymous
            .post(
                "/api/invitations/accept",
                serde_json::json!({ "secret": secret, "accept_terms": true, "password": "newcomer password 1" }),
            )
            .await;
        assert_eq!(status, 200, "{accepted}");
        assert_eq!(accepted["ref"], r.as_str());
        drop(server);
    }
}
