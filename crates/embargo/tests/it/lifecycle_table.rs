//! The lifecycle table in core is the one description of what a move does: every state's
//! effects are declared there and carried out as declared, and no code path but the
//! store's transition module changes `cases.state`.

use std::path::{Path, PathBuf};

use embargo_core::checklist;
use embargo_core::lifecycle::{ALL_STATES, on_entry};
use serde_json::json;

use crate::support::{Api, Backend, Server, TestDb, seed};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("tests") && !path.ends_with("node_modules") {
                sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs" || e == "sql") {
            out.push(path);
        }
    }
}

/// Each SQL text in `text` that writes to `cases` (an UPDATE, or an INSERT), with the
/// columns it sets.
fn writes_to_cases(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut found = Vec::new();
    for start in ["update cases ", "update cases\n", "insert into cases "] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(start) {
            let begin = from + at;
            // To the end of the string literal or statement.
            let end = lower[begin..]
                .find(['"', ';'])
                .map_or(lower.len(), |e| begin + e);
            let statement = &lower[begin..end];
            let set = statement.split(" where ").next().unwrap_or(statement);
            found.push(set.to_owned());
            from = end;
        }
    }
    found
}

fn sets_state(set: &str) -> bool {
    set.match_indices("state").any(|(at, _)| {
        let before = set[..at].chars().next_back();
        let after = set[at + "state".len()..].trim_start();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && (after.starts_with('=') || after.starts_with(',') || after.starts_with(')'))
    })
}

#[test]
fn only_the_transition_module_changes_a_case_state() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    sources(&crates, &mut files);
    assert!(files.len() > 50, "the sources were found");
    let mut offenders = Vec::new();
    let mut transition_writes = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.to_string_lossy().replace('\\', "/");
        for set in writes_to_cases(&text) {
            if !sets_state(&set) {
                continue;
            }
            if name.ends_with("embargo-store/src/transition.rs") {
                transition_writes += 1;
            } else if name.ends_with("embargo-store/src/cases.rs") && set.starts_with("insert") {
                // A new case starts in `reported`: creation, not a move.
                assert!(set.contains("'reported'") || text.contains("State::Reported"));
            } else {
                offenders.push(format!("{name}: {set}"));
            }
        }
    }
    assert_eq!(transition_writes, 1, "the one UPDATE of cases.state");
    assert!(
        offenders.is_empty(),
        "cases.state changed outside the transition module: {offenders:#?}"
    );
}

#[test]
fn no_query_lists_states_by_hand() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    sources(&crates, &mut files);
    let names: Vec<String> = ALL_STATES
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let mut by_hand = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap().to_lowercase();
        for marker in ["state in (", "state not in ("] {
            for (at, _) in text.match_indices(marker) {
                let list = &text[at + marker.len()..];
                let list = &list[..list.find(')').unwrap_or(list.len())];
                if names.iter().any(|n| list.contains(n.as_str())) {
                    by_hand.push(format!("{}: {marker}{list})", file.display()));
                }
            }
        }
    }
    assert!(
        by_hand.is_empty(),
        "state lists belong to the lifecycle (case_row::state_in): {by_hand:#?}"
    );
}

#[test]
fn every_state_declares_its_effects_in_the_table() {
    let items = checklist::items(&["4.18".to_owned()], &[]);
    let mut ticked_by_moves = Vec::new();
    for state in ALL_STATES {
        let entry = on_entry(state);
        for mark in entry.marks {
            let def = items
                .iter()
                .find(|i| i.key == *mark)
                .unwrap_or_else(|| panic!("{state}: {mark} is not a checklist item"));
            assert!(def.automatic, "{state} ticks {mark}, declared manual");
            ticked_by_moves.push(*mark);
        }
        if let Some(stamp) = entry.stamp {
            assert!(stamp.column().ends_with("_at"), "{state}");
        }
        // A state whose entry tells the reporter is one that closes the report.
        assert_eq!(
            entry.mails_reporter,
            !state.is_open() && state != embargo_core::lifecycle::State::Closed,
            "{state}"
        );
    }
    // Every item Embargo ticks is ticked by a move, or by the action named here.
    let by_actions = [
        checklist::FOUNDATION_NOTIFIED,
        checklist::CVSS,
        checklist::CVE_RESERVED,
        checklist::ADVISORY,
        checklist::DISTRIBUTORS_NOTIFIED,
        checklist::EMBARGO_AGREED,
        checklist::TESTING,
    ];
    for item in items.iter().filter(|i| i.automatic) {
        // Each branch's fix line follows its fix records.
        let by_fix_records = item.key.starts_with("fix:");
        assert!(
            ticked_by_moves.contains(&item.key.as_str())
                || by_actions.contains(&item.key.as_str())
                || by_fix_records,
            "{} is automatic but nothing declares what ticks it",
            item.key
        );
    }
}

/// A case walked through every state: the database holds exactly what the table says
/// each entry does (times, marks, jobs), for a person's moves.
async fn the_table_is_carried_out(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let r = alice.report("CLOUDSTACK", "Walked through the table").await;
    let number = r.rsplit('-').next().unwrap().to_owned();
    let count = |sql: String| {
        let db = &db;
        async move {
            db.query_text(&format!("SELECT CAST(({sql}) AS TEXT)"))
                .await
                .unwrap()
                .parse::<i64>()
                .unwrap()
        }
    };
    let case_id = format!("(SELECT id FROM cases WHERE number = {number})");
    let embargo = (time::OffsetDateTime::now_utc() + time::Duration::hours(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let path = [
        json!({ "to": "invalid", "message_to_reporter": "Works as documented." }),
        json!({ "to": "triage", "reason": "a new proof of concept" }),
        json!({ "to": "confirmed" }),
        json!({ "to": "fixing" }),
        json!({ "to": "fix-ready" }),
        json!({ "to": "release-pending" }),
        json!({ "to": "announced", "override_reason": "exploited in the wild",
                "not_sent_reason": "announced on the lists by hand" }),
        json!({ "to": "public" }),
        json!({ "to": "closed", "retrospective": "Escape by default.",
                "retrospective_details": { "root_cause": "output-encoding", "found_by": "external-report", "cwe": "CWE-79", "introduced": "4.0.0", "prevention": "Escape by default." } }),
    ];
    for step in path {
        let to = step["to"].as_str().unwrap();
        if to == "fix-ready" {
            alice.fixed_everywhere(&r).await;
        }
        if to == "release-pending" {
            let (status, body) = alice
                .patch(
                    &format!("/api/cases/{r}"),
                    json!({ "cvss": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                            "cve_id": "CVE-2026-10002",
                            "versions": { "affected": ["4.18.0"], "fixed": ["4.18.1"] },
                            "advisory": { "title": "t", "description": "d", "mitigation": "m" },
                            "embargo_at": embargo }),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
        let state: embargo_core::lifecycle::State = to.parse().unwrap();
        let entry = on_entry(state);
        let jobs = |kind: &str| {
            format!(
                "SELECT COUNT(*) FROM jobs WHERE kind = '{kind}' AND payload LIKE '%\"case_id\":' || {case_id} || '%'"
            )
        };
        let before_foundation = count(jobs("notify-foundation")).await;
        let before_reporter = count(jobs("mail-reporter")).await;
        alice.moved(&r, step.clone()).await;
        if let Some(stamp) = entry.stamp {
            let set = count(format!(
                "SELECT COUNT(*) FROM cases WHERE id = {case_id} AND {} IS NOT NULL",
                stamp.column()
            ))
            .await;
            assert_eq!(set, 1, "{to}: {} recorded", stamp.column());
        }
        for mark in entry.marks {
            let marked = count(format!(
                "SELECT COUNT(*) FROM checklist_marks WHERE case_id = {case_id} AND item = '{mark}' AND status = 'done'"
            ))
            .await;
            assert_eq!(marked, 1, "{to}: {mark} ticked once");
        }
        assert_eq!(
            count(jobs("notify-foundation")).await - before_foundation,
            i64::from(entry.notify_foundation),
            "{to}: the foundation's job"
        );
        assert_eq!(
            count(jobs("mail-reporter")).await - before_reporter,
            i64::from(entry.mails_reporter || entry.tells_reporter),
            "{to}: the reporter's mail"
        );
    }
    // Times of states never entered stay empty on a case that never left triage.
    let d = alice.report("CLOUDSTACK", "Never confirmed").await;
    alice
        .moved(
            &d,
            json!({ "to": "duplicate", "message_to_reporter": "Known.", "duplicate_of": r }),
        )
        .await;
    let d_number = d.rsplit('-').next().unwrap();
    for state in ALL_STATES {
        if let Some(stamp) = on_entry(state).stamp {
            let set = count(format!(
                "SELECT COUNT(*) FROM cases WHERE number = {d_number} AND {} IS NOT NULL",
                stamp.column()
            ))
            .await;
            assert_eq!(set, 0, "{}", stamp.column());
        }
    }
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM cases WHERE number = {d_number} AND duplicate_of = {case_id}"
        ))
        .await,
        1
    );
    server.stop().await;
}

#[tokio::test]
async fn the_table_is_carried_out_sqlite() {
    the_table_is_carried_out(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_table_is_carried_out_postgres() {
    the_table_is_carried_out(Backend::Postgres).await;
}

/// Confirming a case of an organisation without a foundation team tells nobody, and the
/// checklist says so instead of claiming it was done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_to_notify_is_not_notified() {
    let db = TestDb::new(Backend::Sqlite).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.create_org("LONELY").await.unwrap();
    let key: embargo_core::reference::ProjectKey = "SOLO".parse().unwrap();
    store
        .create_project("LONELY", &key, "Solo", &[])
        .await
        .unwrap();
    store
        .add_committee_members(&key, &["alice@example.org".to_owned()])
        .await
        .unwrap();
    store
        .add_project_member(&key, "alice@example.org")
        .await
        .unwrap();
    let server = crate::support::Server::start(store).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let r = alice.report("SOLO", "A lonely report").await;
    alice
        .moved(&r, json!({ "to": "triage", "reason": "looking" }))
        .await;
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    let line = || async {
        let (_, items) = alice.get(&format!("/api/cases/{r}/checklist")).await;
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["key"] == "foundation-notified")
            .cloned()
            .unwrap()
    };
    crate::support::eventually(20, "the notification job", || async {
        line().await["note"].is_string()
    })
    .await;
    let item = line().await;
    assert_eq!(item["status"], "open", "{item}");
    assert!(
        item["note"].as_str().unwrap().contains("no members"),
        "{item}"
    );
    let (_, timeline) = alice.get(&format!("/api/cases/{r}/timeline")).await;
    assert!(
        timeline.to_string().contains("nobody was told"),
        "{timeline}"
    );
    server.stop().await;
}
