//! Intake under attack and at its limits, as an MTA runs it: long reports are kept whole,
//! decompression bombs (inside OpenPGP made by real gpg, and as attachments) and a MIME
//! tree 1,000 deep are quarantined with the limit named while `embargo intake` stays
//! under 256 MB of memory (measured), random and mangled input always exits 0 or 75, and
//! a third party who answers a case's thread is never taken for its reporter.

use std::path::{Path, PathBuf};
use std::process::Command;

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::openpgp::{Gpg, cli, pgp_mime};
use crate::support::{Api, BACKENDS, Backend, Server, TestDb, seed};

/// What one `embargo intake` run did, with its peak resident memory.
struct Measured {
    code: i64,
    outcome: Value,
    maxrss_mb: f64,
    stderr: String,
}

/// Pipes `raw` into `embargo intake` under `tests/tools/maxrss.py`, which reads the
/// finished child's peak resident memory from getrusage.
fn intake_measured(db: &TestDb, raw: &[u8], extra: &[&str]) -> Measured {
    let input = db
        .dir
        .path()
        .join(format!("in-{:x}.eml", rand::random::<u64>()));
    std::fs::write(&input, raw).unwrap();
    let mut args = vec!["--json", "intake", "--project", "CLOUDSTACK"];
    args.extend_from_slice(extra);
    let inner = db.command(&args);
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/maxrss.py");
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(tool).arg(&input).arg(inner.get_program());
    cmd.args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("maxrss.py: {}", String::from_utf8_lossy(&out.stderr)));
    std::fs::remove_file(&input).ok();
    Measured {
        code: report["code"].as_i64().unwrap(),
        outcome: serde_json::from_str(report["stdout"].as_str().unwrap()).unwrap_or(Value::Null),
        maxrss_mb: report["maxrss_kb"].as_f64().unwrap() / 1024.0,
        stderr: report["stderr"].as_str().unwrap().to_owned(),
    }
}

/// 300 MB of zeros (50 MB for BZip2, which gpg compresses slowly) encrypted by gpg to the
/// team key with `algo` compression: a few hundred kilobytes of armor.
fn gpg_bomb(gpg_home: &Path, algo: &str) -> String {
    let size = if algo == "bzip2" {
        50_000_000
    } else {
        300_000_000
    };
    let out = Command::new("sh")
        .args([
            "-c",
            "head -c \"$1\" /dev/zero | gpg --batch --no-tty --trust-model always --armor --encrypt -r security@cloudstack.example --compress-algo \"$2\" -z 9",
            "sh",
            &size.to_string(),
            algo,
        ])
        .env("GNUPGHOME", gpg_home)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gpg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// 300 MB of zeros as a gzip file and as a zip archive, made by Python's standard library.
fn archive_bomb(dir: &Path, kind: &str) -> Vec<u8> {
    let path = dir.join(format!("bomb.{kind}"));
    let script = match kind {
        "gz" => {
            "import gzip,sys\nopen(sys.argv[1],'wb').write(gzip.compress(bytes(300_000_000), 9))"
        }
        _ => {
            "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED) as z: z.writestr('zeros.bin', bytes(300_000_000))"
        }
    };
    let status = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(path).unwrap()
}

fn with_attachment(name: &str, ctype: &str, bytes: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: Mallory <mallory@example.net>\r\nTo: security@cloudstack.example\r\nSubject: logs attached\r\nMessage-ID: <{name}@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe crash logs are attached.\r\n--b\r\nContent-Type: {ctype}\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

/// A MIME tree `depth` multiparts deep.
fn deep_mime(depth: usize) -> Vec<u8> {
    let mut raw =
        b"From: Mallory <mallory@example.net>\r\nSubject: deep\r\nMessage-ID: <deep@example.net>\r\nMIME-Version: 1.0\r\n"
            .to_vec();
    for level in 0..depth {
        raw.extend(
            format!("Content-Type: multipart/mixed; boundary=\"d{level}\"\r\n\r\n--d{level}\r\n")
                .as_bytes(),
        );
    }
    raw.extend(b"Content-Type: text/plain\r\n\r\nat the bottom\r\n");
    for level in (0..depth).rev() {
        raw.extend(format!("--d{level}--\r\n").as_bytes());
    }
    raw
}

const MAX_RSS_MB: f64 = 256.0;

async fn bombs(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    store.close().await;
    cli(
        &db,
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
    let team_public = cli(&db, &["keys", "pgp", "export", "--project", "CLOUDSTACK"]);
    let gpg = Gpg::new(db.dir.path());
    gpg.run(&["--import"], team_public.as_bytes());
    let home = db.dir.path().join("gnupg");

    let head = |id: &str| {
        format!(
            "From: Mallory <mallory@example.net>\r\nTo: security@cloudstack.example\r\nSubject: report\r\nMessage-ID: <{id}@example.net>\r\n"
        )
    };
    let mut cases: Vec<(String, Vec<u8>, Option<&str>)> = Vec::new();
    for (algo, reason) in [
        ("zlib", "over the limit max_decompressed_bytes"),
        ("zip", "over the limit max_decompressed_bytes"),
        ("bzip2", "BZip2"),
    ] {
        let armored = gpg_bomb(&home, algo);
        assert!(armored.len() < 2_000_000, "{algo}: {} bytes", armored.len());
        cases.push((
            format!("OpenPGP {algo} bomb"),
            pgp_mime(&head(algo), &armored).into_bytes(),
            Some(reason),
        ));
    }
    let gz = archive_bomb(db.dir.path(), "gz");
    let zip = archive_bomb(db.dir.path(), "zip");
    cases.push((
        "gzip attachment".into(),
        with_attachment("crash.log.gz", "application/gzip", &gz),
        None,
    ));
    cases.push((
        "zip attachment".into(),
        with_attachment("crash-logs.zip", "application/zip", &zip),
        None,
    ));
    // A thousand nested multiparts are a thousand parts too: counted before parsing.
    cases.push((
        "MIME tree 1,000 deep".into(),
        deep_mime(1000),
        Some("over the limit max_mime_parts"),
    ));
    cases.push((
        "MIME tree 100 deep".into(),
        deep_mime(100),
        Some("over the limit max_mime_depth"),
    ));
    // A chain of 100,000 forwarded messages: as is, and hidden in a base64 part where no
    // scan of the raw bytes sees it (the parsed chain is never dropped level by level,
    // which would overflow the stack).
    let chain = b"Content-Type: message/rfc822\r\n\r\n".repeat(100_000);
    let mut plain = b"From: Mallory <mallory@example.net>\r\nSubject: chain\r\nMessage-ID: <chain@example.net>\r\nMIME-Version: 1.0\r\n".to_vec();
    plain.extend_from_slice(&chain);
    cases.push((
        "100,000 forwarded messages deep".into(),
        plain,
        Some("over the limit max_header_fields"),
    ));
    cases.push((
        "100,000 forwarded messages deep, base64".into(),
        with_attachment("chain.eml", "message/rfc822", &chain),
        Some("over the limit max_header_fields"),
    ));

    for (what, raw, reason) in &cases {
        let run = intake_measured(&db, raw, &[]);
        assert_eq!(run.code, 0, "{what}: {}", run.stderr);
        assert!(
            run.maxrss_mb < MAX_RSS_MB,
            "{what}: peak resident memory {:.0} MB",
            run.maxrss_mb
        );
        match reason {
            Some(reason) => {
                assert_eq!(
                    run.outcome["outcome"], "quarantined",
                    "{what}: {}",
                    run.outcome
                );
                let got = run.outcome["reason"].as_str().unwrap();
                assert!(got.contains(reason), "{what}: {got}");
            }
            // Embargo never expands an attachment: it is kept byte for byte as sent.
            None => assert_eq!(
                run.outcome["outcome"], "new-case",
                "{what}: {}",
                run.outcome
            ),
        }
        eprintln!(
            "{what}: {} bytes in, peak {:.0} MB",
            raw.len(),
            run.maxrss_mb
        );
    }
    let store = db.store().await;
    let alice = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    let case: embargo_core::reference::CaseRef = "CLOUDSTACK-SEC-1".parse().unwrap();
    let files = store.attachments(&alice, &case).await.unwrap();
    let (_, kept) = store.attachment(&alice, &case, files[0].id).await.unwrap();
    assert_eq!(kept, gz, "the gzip file is kept as sent, not expanded");
    let held = store
        .quarantined(&alice, &"CLOUDSTACK".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(held.len(), 7, "each bomb is kept in quarantine");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bombs_are_quarantined_in_bounded_memory_sqlite() {
    bombs(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bombs_are_quarantined_in_bounded_memory_postgres() {
    bombs(Backend::Postgres).await;
}

/// A 5,000-character subject, folded into RFC 2047 words as mail clients write it.
fn long_subject() -> String {
    (0..5000)
        .map(|i| ['a', 'é', '界', 'b', ' '][i % 5])
        .collect()
}

fn folded_subject(subject: &str) -> String {
    use base64::Engine;
    let chars: Vec<char> = subject.chars().collect();
    let words: Vec<String> = chars
        .chunks(12)
        .map(|c| {
            let s: String = c.iter().collect();
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
            )
        })
        .collect();
    words.join("\r\n ")
}

fn long_report(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Lena Long <lena@example.net>\r\nTo: security@cloudstack.example\r\nSubject: {}\r\nMessage-ID: <long@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}",
        folded_subject(subject)
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_reports_are_kept_whole() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        let subject = long_subject();
        let line = "The overflow in the template parser repeats here, with its stack trace. ü\n";
        let body: String = line.repeat(2_000_000 / line.len() + 1);
        assert!(body.len() > 2_000_000);
        let raw = long_report(&subject, &body);
        let (code, outcome, stderr) = crate::support::intake(&db, "CLOUDSTACK", &raw, &[], &[]);
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(outcome["outcome"], "new-case", "{outcome}");

        // Over the message limit, the same mail is kept whole in quarantine.
        let small = ["--max-message-bytes", "1000000"];
        let mut again = raw.clone();
        again.extend_from_slice(b"\n");
        let again = String::from_utf8(again)
            .unwrap()
            .replace("<long@example.net>", "<long2@example.net>");
        let (code, outcome, _) =
            crate::support::intake(&db, "CLOUDSTACK", again.as_bytes(), &small, &[]);
        assert_eq!(code, Some(0));
        assert_eq!(
            outcome["reason"],
            "over the limit max_message_bytes (1000000)"
        );

        let server = Server::start(store.clone()).await;
        let alice = Api::new(&server.url, Some(&people.alice));
        let (status, case) = alice.get("/api/cases/CLOUDSTACK-SEC-1").await;
        assert_eq!(status, 200);
        let title = case["title"].as_str().unwrap();
        assert!(title.ends_with("… (subject cut)"), "{title}");
        assert!(title.chars().count() < 250);
        let description = case["description"].as_str().unwrap();
        assert_eq!(
            description,
            format!("Subject (in full): {}\n\n{}", subject.trim(), body.trim()),
            "the subject and the 2 MB text are kept whole"
        );
        let (_, held) = alice.get("/api/projects/CLOUDSTACK/quarantine").await;
        assert_eq!(held[0]["size"].as_u64().unwrap() as usize, again.len());

        // And the page shows them whole too.
        let http = crate::web::client();
        let session = crate::web::sign_in_alice(&http, &server.url).await;
        let page = http
            .get(format!("{}/desk/cases/CLOUDSTACK-SEC-1", server.url))
            .header(reqwest::header::COOKIE, session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(subject.trim()),
            "the whole subject on the page"
        );
        assert!(page.matches("stack trace. ü").count() >= body.matches("stack trace. ü").count());
        server.stop().await;
        store.close().await;
    }
}

/// Random bytes, and corpus messages mangled the ways transport and attackers mangle mail.
fn mangled(rng: &mut rand::rngs::StdRng, corpus: &[Vec<u8>]) -> Vec<u8> {
    match rng.gen_range(0..6) {
        0 => (0..rng.gen_range(0..2000))
            .map(|_| rng.r#gen::<u8>())
            .collect(),
        choice => {
            let mut m = corpus[rng.gen_range(0..corpus.len())].clone();
            for _ in 0..rng.gen_range(1..20) {
                if m.is_empty() {
                    break;
                }
                let at = rng.gen_range(0..m.len());
                match choice {
                    1 => m[at] = rng.r#gen(),
                    2 => m.truncate(at),
                    3 => {
                        let piece: &[u8] = [
                            b"\r\n".as_slice(),
                            b"\0",
                            b"\r\n\r\n",
                            b"--",
                            b"=?utf-8?b?",
                            b"\x1b[2J",
                            b"Content-Type: multipart/mixed; boundary=x\r\n",
                            b"\xff\xfe",
                        ][rng.gen_range(0..8)];
                        m.splice(at..at, piece.iter().copied());
                    }
                    4 => {
                        let end = (at + rng.gen_range(1..200)).min(m.len());
                        let copy = m[at..end].to_vec();
                        m.splice(at..at, copy);
                    }
                    _ => {
                        let end = (at + rng.gen_range(1..200)).min(m.len());
                        m.drain(at..end);
                    }
                }
            }
            m
        }
    }
}

fn world_corpus() -> Vec<Vec<u8>> {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus-world");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Any bytes on stdin: exit 0 (stored or quarantined), never a panic, never 75 (the
/// database is up). EMBARGO_FUZZ_CASES runs longer; inputs that once failed are kept in
/// `tests/corpus-regressions` and run every time.
async fn any_input_is_stored_or_quarantined(backend: Backend) {
    let cases: usize = std::env::var("EMBARGO_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let seed_value: u64 = std::env::var("EMBARGO_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    store.close().await;
    let corpus = world_corpus();
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus-regressions");
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(&regressions)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| std::fs::read(e.path()).unwrap()))
                .collect()
        })
        .unwrap_or_default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed_value);
    inputs.extend((0..cases).map(|_| mangled(&mut rng, &corpus)));
    for (i, raw) in inputs.iter().enumerate() {
        let (code, outcome, stderr) = crate::support::intake(&db, "CLOUDSTACK", raw, &[], &[]);
        if code != Some(0) || stderr.contains("panicked") {
            let keep = db.dir.path().join("failing.eml");
            std::fs::write(&keep, raw).unwrap();
            panic!(
                "input {i} (seed {seed_value}) exited {code:?}: {stderr}\n{outcome}\nkept at {}",
                keep.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_input_is_stored_or_quarantined_sqlite() {
    any_input_is_stored_or_quarantined(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_input_is_stored_or_quarantined_postgres() {
    any_input_is_stored_or_quarantined(Backend::Postgres).await;
}

/// A third party who answers a case's thread, or guesses its reference, is shown to the
/// team as such; the team accepts one as a co-reporter and moves another to quarantine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_parties_are_told_apart_from_the_reporter() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        let pipe = |raw: String| {
            let (code, outcome, stderr) =
                crate::support::intake(&db, "CLOUDSTACK", raw.as_bytes(), &[], &[]);
            assert_eq!(code, Some(0), "{stderr}");
            outcome
        };
        pipe("From: Fay Finder <fay@finder.example>\r\nSubject: XSS in the console\r\nMessage-ID: <r1@finder.example>\r\n\r\nThe name field runs scripts.\r\n".into());
        let colleague = pipe("From: Cole <cole@finder.example>\r\nSubject: Re: XSS in the console\r\nMessage-ID: <c1@finder.example>\r\nIn-Reply-To: <r1@finder.example>\r\n\r\nI can confirm it on 4.19 too.\r\n".into());
        assert_eq!(
            colleague,
            json!({"outcome": "third-party", "ref": "CLOUDSTACK-SEC-1"})
        );
        let stranger = pipe("From: Eve <eve@evil.example>\r\nSubject: [CLOUDSTACK-SEC-1] please send me the proof of concept\r\nMessage-ID: <e1@evil.example>\r\n\r\nI am the reporter, send the PoC here.\r\n".into());
        assert_eq!(stranger["outcome"], "third-party");
        let own = pipe("From: FAY@finder.example\r\nSubject: Re: XSS\r\nMessage-ID: <r2@finder.example>\r\nReferences: <r1@finder.example>\r\n\r\nAlso the description field.\r\n".into());
        assert_eq!(own["outcome"], "follow-up");

        let server = Server::start(store.clone()).await;
        let alice = Api::new(&server.url, Some(&people.alice));
        let (_, timeline) = alice.get("/api/cases/CLOUDSTACK-SEC-1/timeline").await;
        let third: Vec<&Value> = timeline
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "third-party-message")
            .collect();
        assert_eq!(third.len(), 2);
        assert!(
            third[0]["detail"]
                .as_str()
                .unwrap()
                .starts_with("From Cole <cole@finder.example>:")
        );
        let (cole, eve) = (
            third[0]["id"].as_i64().unwrap(),
            third[1]["id"].as_i64().unwrap(),
        );

        // The reporter sees their own words, never a third party's.
        let link = store
            .reporter_link(
                &store
                    .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
                    .await
                    .unwrap(),
                &"CLOUDSTACK-SEC-1".parse().unwrap(),
            )
            .await
            .unwrap();
        let view = store.reporter_view(&link).await.unwrap();
        assert_eq!(
            view.thread.len(),
            2,
            "the report and the reporter's follow-up"
        );
        assert!(
            view.thread
                .iter()
                .all(|m| !m.text.contains("PoC") && !m.text.contains("confirm"))
        );

        // Another project's member learns nothing; the team decides.
        let bob = Api::new(&server.url, Some(&people.bob));
        let (status, _) = bob
            .post(
                &format!("/api/cases/CLOUDSTACK-SEC-1/messages/{cole}/accept-sender"),
                json!({}),
            )
            .await;
        assert_eq!(status, 404);
        let (status, _) = bob.get("/api/projects/CLOUDSTACK/intake").await;
        assert_eq!(status, 404);
        let (status, accepted) = alice
            .post(
                &format!("/api/cases/CLOUDSTACK-SEC-1/messages/{cole}/accept-sender"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{accepted}");
        assert_eq!(accepted["email"], "cole@finder.example");
        let (status, _) = alice
            .post(
                &format!("/api/cases/CLOUDSTACK-SEC-1/messages/{eve}/quarantine"),
                json!({}),
            )
            .await;
        assert_eq!(status, 204);
        let (status, _) = alice
            .post(
                &format!("/api/cases/CLOUDSTACK-SEC-1/messages/{eve}/accept-sender"),
                json!({}),
            )
            .await;
        assert_eq!(status, 404, "a message moved out is no longer on the case");

        let again = pipe("From: Cole <cole@finder.example>\r\nSubject: Re: XSS\r\nMessage-ID: <c2@finder.example>\r\nIn-Reply-To: <r1@finder.example>\r\n\r\nA second proof.\r\n".into());
        assert_eq!(
            again["outcome"], "follow-up",
            "an accepted co-reporter speaks for the reporter"
        );
        let (_, timeline) = alice.get("/api/cases/CLOUDSTACK-SEC-1/timeline").await;
        let text = timeline.to_string();
        assert!(
            !text.contains("send the PoC here"),
            "the quarantined text left the case"
        );
        let (_, held) = alice.get("/api/projects/CLOUDSTACK/quarantine").await;
        assert!(
            held.to_string().contains("moved to quarantine from a case"),
            "{held}"
        );
        assert!(
            !held.to_string().contains("CLOUDSTACK-SEC-1"),
            "no reference in a reason administrators see"
        );

        let (_, log) = alice.get("/api/projects/CLOUDSTACK/intake?limit=2").await;
        let log = log.as_array().unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0]["classification"], "follow-up");
        let (_, older) = alice
            .get(&format!(
                "/api/projects/CLOUDSTACK/intake?before={}",
                log[1]["id"]
            ))
            .await;
        let classes: Vec<&str> = older
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["classification"].as_str().unwrap())
            .collect();
        assert_eq!(
            classes,
            ["follow-up", "third-party", "third-party", "report"]
        );
        server.stop().await;
        store.close().await;
    }
}

/// Who speaks, forwards and duplicates, tried as an attacker would: Reply-To without the
/// reporter's From, a stranger's "forward" of somebody's report, a squatted Message-ID,
/// one report sent to two desks, a subject-only reply, and a message moved to quarantine
/// by the team and released again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn senders_forwards_and_duplicates_are_judged_by_what_proves_them() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let people = seed(&store).await;
        let pipe_to = |project: &str, raw: &str| {
            let (code, outcome, stderr) =
                crate::support::intake(&db, project, raw.as_bytes(), &[], &[]);
            assert_eq!(code, Some(0), "{stderr}");
            outcome
        };
        let pipe = |raw: &str| pipe_to("CLOUDSTACK", raw);
        pipe(
            "From: Fay Finder <fay@finder.example>\r\nSubject: XSS in the console\r\nMessage-ID: <r1@finder.example>\r\n\r\nThe name field runs scripts.\r\n",
        );
        // Reply-To proves nothing: without the reporter's From, it is a third party's.
        let reply_to = pipe(
            "From: Someone\r\nReply-To: fay@finder.example\r\nSubject: [CLOUDSTACK-SEC-1] update\r\nMessage-ID: <rt@evil.example>\r\n\r\nNew details.\r\n",
        );
        assert_eq!(reply_to["outcome"], "third-party", "{reply_to}");
        // A reply with only a subject still belongs to its thread; alone it opens nothing.
        let thanks = pipe(
            "From: fay@finder.example\r\nSubject: Re: [CLOUDSTACK-SEC-1] thanks, confirmed\r\nMessage-ID: <r3@finder.example>\r\n\r\n",
        );
        assert_eq!(thanks["outcome"], "follow-up", "{thanks}");
        let alone = pipe(
            "From: fay@finder.example\r\nSubject: just a subject\r\nMessage-ID: <r4@finder.example>\r\n\r\n",
        );
        assert_eq!(alone["outcome"], "quarantined", "{alone}");
        // A stranger's "forward" of someone else's report is the stranger's own report.
        let fake = pipe(
            "From: Eve <eve@evil.example>\r\nSubject: Fwd: RCE in the agent\r\nMessage-ID: <f1@evil.example>\r\n\r\n---------- Forwarded message ---------\r\nFrom: Victim <victim@example.net>\r\nSubject: RCE in the agent\r\n\r\nThe agent runs what it is sent.\r\n",
        );
        let alice = store
            .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
            .await
            .unwrap();
        let fake_case: embargo_core::reference::CaseRef =
            fake["ref"].as_str().unwrap().parse().unwrap();
        let credited = store.case(&alice, &fake_case).await.unwrap();
        assert_eq!(credited.reporter.email.as_deref(), Some("eve@evil.example"));
        // The same report sent to two desks reaches both; the same delivery twice, once.
        let twice = "From: Ian <ian@example.net>\r\nSubject: Two desks\r\nMessage-ID: <both@example.net>\r\n\r\nSent to both projects.\r\n";
        assert_eq!(pipe(twice)["outcome"], "new-case");
        assert_eq!(pipe_to("OTHER", twice)["outcome"], "new-case");
        assert_eq!(pipe(twice)["outcome"], "duplicate");
        // Whoever learnt a Message-ID first cannot bury the report under it.
        let squatter = pipe(
            "From: eve@evil.example\r\nSubject: placeholder\r\nMessage-ID: <real@finder.example>\r\n\r\nnothing\r\n",
        );
        assert_eq!(squatter["outcome"], "new-case");
        let real = pipe(
            "From: fay@finder.example\r\nSubject: The real report\r\nMessage-ID: <real@finder.example>\r\n\r\nThe real text.\r\n",
        );
        assert_eq!(real["outcome"], "new-case", "{real}");
        // Redelivered bytes stay one quarantine entry.
        let junk = "From: x@example.net\r\nX-Spam-Flag: YES\r\nSubject: win\r\n\r\nwin\r\n";
        assert_eq!(pipe(junk)["outcome"], "quarantined");
        assert_eq!(pipe(junk)["outcome"], "duplicate");

        // Moved to quarantine by the team, then released: back on the case, not lost as a
        // duplicate of itself.
        let server = Server::start(store.clone()).await;
        let api = Api::new(&server.url, Some(&people.alice));
        let (_, timeline) = api.get("/api/cases/CLOUDSTACK-SEC-1/timeline").await;
        let event = timeline
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "third-party-message")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (status, _) = api
            .post(
                &format!("/api/cases/CLOUDSTACK-SEC-1/messages/{event}/quarantine"),
                json!({}),
            )
            .await;
        assert_eq!(status, 204);
        let (_, held) = api.get("/api/projects/CLOUDSTACK/quarantine").await;
        let moved = held
            .as_array()
            .unwrap()
            .iter()
            .find(|q| {
                q["reason"]
                    .as_str()
                    .unwrap()
                    .contains("moved to quarantine")
            })
            .unwrap()["id"]
            .clone();
        let (status, back) = api
            .post(
                &format!("/api/projects/CLOUDSTACK/quarantine/{moved}/release"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{back}");
        assert_eq!(
            back,
            json!({"outcome": "third-party", "ref": "CLOUDSTACK-SEC-1"})
        );
        server.stop().await;
        store.close().await;
    }
}
