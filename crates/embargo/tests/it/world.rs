//! Mail as the world sends it: the corpus in `tests/corpus-world` (78 messages written for
//! these tests after what real clients and servers write: Thunderbird, Outlook, Gmail,
//! Apple Mail, mutt, docomo, QQ Mail, Naver, Lotus Notes, bots and mail systems), in every
//! charset reporters use, with forwards, third parties, auto-replies, bounces, over-limit
//! and broken MIME. Each message is piped to `embargo intake` as an MTA does, exits 0, and
//! lands where `expected.json` says, with its subject, sender and text decoded exactly.

use std::path::{Path, PathBuf};

use embargo_core::reference::CaseRef;
use serde_json::Value;

use crate::support::{Backend, TestDb, seed};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus-world")
}

/// The limits the manifest was written for.
const LIMITS: [&str; 10] = [
    "--attachment-limit",
    "4096",
    "--max-message-bytes",
    "4194304",
    "--max-header-bytes",
    "65536",
    "--max-mime-depth",
    "20",
    "--max-mime-parts",
    "200",
];

fn text(entry: &Value, key: &str) -> Option<String> {
    entry[key].as_str().map(str::to_owned)
}

async fn world_corpus(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("expected.json")).unwrap())
            .unwrap();
    assert!(manifest.len() >= 60, "at least 60 messages");
    // Those who forward reports to the desk are on the project's team: only the team's
    // forwards are credited to their original senders.
    let key: embargo_core::reference::ProjectKey = "CLOUDSTACK".parse().unwrap();
    let forwarders: std::collections::BTreeSet<String> = manifest
        .iter()
        .filter_map(|e| text(e, "forwarder"))
        .collect();
    for email in &forwarders {
        store.create_user(email, None, false).await.unwrap();
        store
            .add_committee_members(&key, std::slice::from_ref(email))
            .await
            .unwrap();
        store.add_project_member(&key, email).await.unwrap();
    }
    for entry in &manifest {
        let file = entry["file"].as_str().unwrap();
        let raw = std::fs::read(corpus().join(file)).unwrap();
        let project = entry["project"].as_str().unwrap();
        let (code, outcome, stderr) = crate::support::intake(&db, project, &raw, &LIMITS, &[]);
        assert_eq!(code, Some(0), "{file}: {stderr}");
        assert_eq!(outcome["outcome"], entry["outcome"], "{file}: {outcome}");
        match entry["outcome"].as_str().unwrap() {
            "new-case" => {
                assert_eq!(outcome["kind"], entry["kind"], "{file}: {outcome}");
                assert_eq!(outcome["ref"], entry["ref"], "{file}: {outcome}");
            }
            "follow-up" | "third-party" => {
                assert_eq!(outcome["ref"], entry["ref"], "{file}: {outcome}")
            }
            "kept" => {
                assert_eq!(outcome["kind"], entry["kind"], "{file}: {outcome}");
                assert_eq!(outcome["ref"], entry["ref"], "{file}: {outcome}");
            }
            "quarantined" => {
                let reason = outcome["reason"].as_str().unwrap();
                let want = entry["reason"].as_str().unwrap();
                assert!(reason.contains(want), "{file}: {reason} (want {want})");
            }
            _ => {}
        }
    }

    // What the team reads, decoded exactly.
    let alice = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    for entry in &manifest {
        let file = entry["file"].as_str().unwrap();
        let Some(reference) = text(entry, "ref") else {
            continue;
        };
        let case_ref: CaseRef = reference.parse().unwrap();
        let wanted: Vec<String> = entry["body_contains"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        match entry["outcome"].as_str().unwrap() {
            "new-case" => {
                let case = store.case(&alice, &case_ref).await.unwrap();
                if let Some(title) = text(entry, "title") {
                    assert_eq!(case.title, title, "{file}");
                }
                if entry.get("from_name").is_some() {
                    assert_eq!(case.reporter.name, text(entry, "from_name"), "{file}");
                }
                if let Some(email) = text(entry, "from_email") {
                    assert_eq!(
                        case.reporter.email.as_deref(),
                        Some(email.as_str()),
                        "{file}"
                    );
                }
                for w in &wanted {
                    assert!(
                        case.description.contains(w),
                        "{file}: no {w:?} in the report"
                    );
                }
                if let Some(forwarder) = text(entry, "forwarder") {
                    let timeline = store.timeline(&alice, &case_ref).await.unwrap();
                    assert!(
                        timeline.iter().any(|e| e.kind.as_str() == "forwarded"
                            && e.detail.as_deref().unwrap_or_default().contains(&forwarder)),
                        "{file}: the forwarder is on the timeline"
                    );
                }
            }
            kind @ ("follow-up" | "third-party") => {
                let event = if kind == "follow-up" {
                    "reporter-message"
                } else {
                    "third-party-message"
                };
                let timeline = store.timeline(&alice, &case_ref).await.unwrap();
                for w in &wanted {
                    assert!(
                        timeline.iter().any(|e| e.kind.as_str() == event
                            && e.detail.as_deref().unwrap_or_default().contains(w)),
                        "{file}: no {event} with {w:?}"
                    );
                }
            }
            _ => {}
        }
    }

    // The reporter's page shows their own thread, never a third party's words.
    for entry in manifest.iter().filter(|e| e["outcome"] == "third-party") {
        let reference: CaseRef = entry["ref"].as_str().unwrap().parse().unwrap();
        let link = store.reporter_link(&alice, &reference).await.unwrap();
        let view = store.reporter_view(&link).await.unwrap();
        for w in entry["body_contains"].as_array().unwrap() {
            let w = w.as_str().unwrap();
            assert!(
                view.thread.iter().all(|m| !m.text.contains(w)),
                "{reference}: a third party's text on the reporter's page"
            );
        }
    }

    // The intake log names every message, newest first, in pages.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store.intake_log(&alice, &key, before, 25).await.unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(|e| e.id);
        seen.extend(page);
    }
    let to_cloudstack = manifest
        .iter()
        .filter(|e| e["project"] == "CLOUDSTACK")
        .count();
    assert_eq!(seen.len(), to_cloudstack, "one log entry per message");
    let count = |c: &str| seen.iter().filter(|e| e.classification == c).count();
    assert_eq!(count("duplicate"), 1);
    assert_eq!(count("third-party"), 3);
    assert_eq!(count("bounce"), 3);
    assert!(seen.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn world_corpus_lands_where_it_should_sqlite() {
    world_corpus(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn world_corpus_lands_where_it_should_postgres() {
    world_corpus(Backend::Postgres).await;
}
