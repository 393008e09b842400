//! The commit guard in real git repositories: commit-msg and pre-receive hooks, CI scans,
//! the deny list's secrecy, and affected versions from tags. Hooks and scans that check
//! embargoed terms use the keyed list with the guard key, as the server side and CI do;
//! developers' clones use the list without keyed entries (see guard_attack.rs too).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use embargo_core::lifecycle::{State, TransitionRequest};
use embargo_store::{CasePatch, NewReport, Store};
use serde_json::Value;

use crate::support::{Api, Backend, Server, TestDb, seed};

/// git, isolated from the machine's own configuration.
fn git(dir: &Path, args: &[&str]) -> Output {
    git_cmd(dir).args(args).output().unwrap()
}

fn git_cmd(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.org")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.org")
        .env_remove("EMBARGO_DENY_LIST")
        .env_remove("EMBARGO_GUARD_KEY_FILE");
    cmd
}

pub(crate) fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn init_repo(dir: &Path, bare: bool) {
    let mut args = vec!["init", "-q", "-b", "main"];
    if bare {
        args.push("--bare");
    }
    git_ok(dir, &args);
}

pub(crate) fn embargo() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_embargo"));
    cmd.env_remove("EMBARGO_DENY_LIST")
        .env_remove("EMBARGO_GUARD_KEY_FILE");
    cmd
}

/// A project with one embargoed case (CVE reserved, a sensitive term) and one announced.
pub(crate) async fn cases(store: &Store) -> String {
    let alice = store.user_by_email("alice@example.org").await.unwrap();
    let viewer = store.viewer(alice.id).await.unwrap();
    let report = |title: &str| NewReport {
        project: "CLOUDSTACK".parse().unwrap(),
        title: title.into(),
        description: "details".into(),
        reporter: Default::default(),
        channel: embargo_core::case::Channel::Api,
    };
    let embargoed = store
        .create_case(&viewer, report("Embargoed"))
        .await
        .unwrap()
        .reference;
    let r = embargoed.clone();
    let patch = CasePatch {
        cve_id: Some("CVE-2026-4242".into()),
        sensitive_terms: Some(vec!["console name field".into()]),
        ..Default::default()
    };
    store.update_case(&viewer, &r, patch).await.unwrap();
    let published = store
        .create_case(&viewer, report("Published"))
        .await
        .unwrap()
        .reference;
    announce(store, &viewer, &published.to_string(), "CVE-2025-1111").await;
    embargoed.to_string()
}

pub(crate) async fn announce(
    store: &Store,
    viewer: &embargo_core::access::Viewer,
    reference: &str,
    cve: &str,
) {
    let r = reference.parse().unwrap();
    let patch = CasePatch {
        cvss: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
        cve_id: Some(cve.into()),
        embargo_at: Some(time::OffsetDateTime::now_utc() + time::Duration::days(1)),
        versions: Some(embargo_core::case::Versions {
            affected: vec!["1.0".into()],
            fixed: vec!["1.1".into()],
            ..embargo_core::case::Versions::default()
        }),
        advisory: Some(embargo_core::case::AdvisoryDraft {
            description: "d".into(),
            mitigation: "m".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    store.update_case(viewer, &r, patch).await.unwrap();
    let go = TransitionRequest {
        not_sent_reason: Some("announced by hand in the test".into()),
        override_reason: Some("the fix is public already".into()),
        ..TransitionRequest::default()
    };
    for state in [
        State::Triage,
        State::Confirmed,
        State::Fixing,
        State::FixReady,
        State::ReleasePending,
        State::Announced,
    ] {
        if state == State::FixReady {
            crate::support::fix_everywhere(store, viewer, &r).await;
        }
        store.transition(viewer, &r, state, &go).await.unwrap();
    }
}

/// Exports the CLOUDSTACK deny list: keyed for the server side and CI, or a developer's.
pub(crate) fn export(db: &TestDb, path: &Path, keyed: bool) {
    let mut args = vec![
        "guard",
        "export",
        "--project",
        "CLOUDSTACK",
        "--output",
        path.to_str().unwrap(),
    ];
    if keyed {
        args.push("--keyed");
    }
    let out = db.command(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes the CLOUDSTACK guard key to `path`.
pub(crate) fn guard_key(db: &TestDb, path: &Path) {
    let out = db
        .command(&[
            "guard",
            "key",
            "--project",
            "CLOUDSTACK",
            "--out",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The keyed list and the key, in `dir`.
fn server_side(db: &TestDb, dir: &Path) -> (PathBuf, PathBuf) {
    let list = dir.join("deny.json");
    let key = dir.join("guard.key");
    export(db, &list, true);
    guard_key(db, &key);
    (list, key)
}

fn commit(repo: &Path, message: &str) -> Output {
    std::fs::write(
        repo.join("file.txt"),
        format!("{message}\n{}", rand::random::<u64>()),
    )
    .unwrap();
    git_ok(repo, &["add", "file.txt"]);
    git(repo, &["commit", "-q", "-m", message])
}

async fn commit_msg_hook_refuses_embargoed_references_in_every_form(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    let embargoed = cases(&store).await;
    let work = tempfile::tempdir().unwrap();
    let (list, key) = server_side(&db, work.path());

    // The list reveals no term in clear. The salt, key id and hashes are random hex and
    // base64, which by chance may hold a run of digits such as "4242": they are blanked
    // before the search, and their shape is checked instead.
    let mut parsed: Value = serde_json::from_str(&std::fs::read_to_string(&list).unwrap()).unwrap();
    parsed["salt"] = Value::Null;
    parsed["key_id"] = Value::Null;
    for part in ["giveaways", "keyed"] {
        for entry in parsed[part].as_array_mut().unwrap() {
            let hash = entry.as_str().unwrap();
            assert!(
                hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
                "{hash} is not a SHA-256 digest"
            );
            *entry = Value::Null;
        }
    }
    let text = parsed.to_string().to_lowercase();
    for term in [
        embargoed.to_lowercase().as_str(),
        "sec-1",
        "2026-4242",
        "4242",
        "console",
        "name field",
        "vulnerability",
        "security fix",
    ] {
        assert!(!text.contains(term), "{term} appears in the deny list");
    }

    let repo = work.path().join("clone");
    std::fs::create_dir(&repo).unwrap();
    init_repo(&repo, false);
    let out = embargo()
        .args([
            "guard",
            "--deny-list",
            list.to_str().unwrap(),
            "--key-file",
            key.to_str().unwrap(),
            "install",
            "--repo",
            repo.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(repo.join(".git/hooks/commit-msg").exists());

    assert!(commit(&repo, "Start the parser").status.success());
    let head = git_ok(&repo, &["rev-parse", "HEAD"]);
    for message in [
        "Fix CVE-2026-4242 in the console",
        "Fix CVE 2026 4242",
        "fix cve_2026_4242",
        &format!("Follow-up for {embargoed}"),
        &format!("follow-up for {}", embargoed.to_lowercase()),
        "Escape the Console Name Field",
        "Security fix for the parser",
        "Upgrade the library for CVE-2024-9999",
    ] {
        let out = commit(&repo, message);
        assert!(!out.status.success(), "accepted: {message}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("should not refer to a particular vulnerability"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("4242") || message.contains("4242"),
            "{stderr}"
        );
        git_ok(&repo, &["reset", "-q"]);
    }
    assert_eq!(
        git_ok(&repo, &["rev-parse", "HEAD"]),
        head,
        "a refused commit left no trace"
    );
    // Giveaway words are named; embargoed terms are only described.
    let out = commit(&repo, "Security fix for the parser");
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"security fix\""));
    git_ok(&repo, &["reset", "-q"]);
    let out = commit(&repo, "Escape the console name field");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("marked as sensitive") && !stderr.contains("name field"),
        "{stderr}"
    );
    git_ok(&repo, &["reset", "-q"]);

    assert!(
        commit(&repo, "Escape names in the console")
            .status
            .success()
    );
    assert!(
        commit(&repo, "Backport the fix for CVE-2025-1111")
            .status
            .success(),
        "a published CVE may be named"
    );

    // Text for pull requests and changelog fragments: exit 1 when it offends, 0 when clean.
    let check = |text: &str| {
        let mut child = embargo()
            .args([
                "guard",
                "--deny-list",
                list.to_str().unwrap(),
                "--key-file",
                key.to_str().unwrap(),
                "check",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap().status.code()
    };
    assert_eq!(
        check("Title: harden console\n\nFixes CVE-2026-4242"),
        Some(1)
    );
    assert_eq!(check("Title: harden console escaping"), Some(0));

    // After the announcement a fresh export no longer blocks the case's terms.
    let alice = store.user_by_email("alice@example.org").await.unwrap();
    let viewer = store.viewer(alice.id).await.unwrap();
    announce(&store, &viewer, &embargoed, "CVE-2026-4242").await;
    export(&db, &list, true);
    for message in [
        &format!("Notes for {embargoed}"),
        "Fix CVE-2026-4242 in the console",
        "Escape the console name field",
    ] {
        assert!(
            commit(&repo, message).status.success(),
            "still refused after the announcement: {message}"
        );
    }

    // An expired list is refused rather than trusted.
    let mut stale: Value = serde_json::from_str(&std::fs::read_to_string(&list).unwrap()).unwrap();
    stale["expires_at"] = Value::String("2020-01-01T00:00:00Z".into());
    std::fs::write(&list, stale.to_string()).unwrap();
    let out = commit(&repo, "Ordinary change");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expired"));
}

#[tokio::test]
async fn commit_msg_hook_refuses_embargoed_references_in_every_form_sqlite() {
    commit_msg_hook_refuses_embargoed_references_in_every_form(Backend::Sqlite).await;
}

#[tokio::test]
async fn commit_msg_hook_refuses_embargoed_references_in_every_form_postgres() {
    commit_msg_hook_refuses_embargoed_references_in_every_form(Backend::Postgres).await;
}

async fn a_developers_clone_blocks_giveaways_and_leaves_embargoed_terms_to_the_server(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    let embargoed = cases(&store).await;
    let work = tempfile::tempdir().unwrap();
    let list = work.path().join("deny.json");
    export(&db, &list, false);
    let parsed: Value = serde_json::from_str(&std::fs::read_to_string(&list).unwrap()).unwrap();
    assert!(parsed.get("keyed").is_none() && parsed.get("key_id").is_none());

    let repo = work.path().join("clone");
    std::fs::create_dir(&repo).unwrap();
    init_repo(&repo, false);
    let install = |key: Option<&Path>| {
        let mut cmd = embargo();
        cmd.args(["guard", "--deny-list", list.to_str().unwrap()]);
        if let Some(key) = key {
            cmd.args(["--key-file", key.to_str().unwrap()]);
        }
        cmd.args(["install", "--repo", repo.to_str().unwrap()])
            .output()
            .unwrap()
    };
    // The server's key with a developer's list would check nothing embargoed: refused.
    let key = work.path().join("guard.key");
    guard_key(&db, &key);
    let out = install(Some(&key));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--keyed"));
    assert!(install(None).status.success());

    for message in [
        "Security fix for the parser",
        "Fix CVE-2026-4242 in the console",
        "Upgrade the library for CVE-2024-9999",
    ] {
        let out = commit(&repo, message);
        assert!(!out.status.success(), "accepted: {message}");
        git_ok(&repo, &["reset", "-q"]);
    }
    for message in [
        format!("Follow-up for {embargoed}"),
        "Escape the console name field".to_owned(),
    ] {
        let out = commit(&repo, &message);
        assert!(out.status.success(), "refused: {message}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(
                "embargoed references, CVE IDs and sensitive terms are checked by the server-side hook and CI"
            ),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn a_developers_clone_blocks_giveaways_and_leaves_embargoed_terms_to_the_server_sqlite() {
    a_developers_clone_blocks_giveaways_and_leaves_embargoed_terms_to_the_server(Backend::Sqlite)
        .await;
}

#[tokio::test]
async fn a_developers_clone_blocks_giveaways_and_leaves_embargoed_terms_to_the_server_postgres() {
    a_developers_clone_blocks_giveaways_and_leaves_embargoed_terms_to_the_server(Backend::Postgres)
        .await;
}

async fn pre_receive_refuses_a_push_and_leaves_the_ref_alone(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    let embargoed = cases(&store).await;
    let work = tempfile::tempdir().unwrap();
    let (list, key) = server_side(&db, work.path());

    let public = work.path().join("public.git");
    std::fs::create_dir(&public).unwrap();
    init_repo(&public, true);
    let install = |key: Option<&Path>| {
        let mut cmd = embargo();
        cmd.args(["guard", "--deny-list", list.to_str().unwrap()]);
        if let Some(key) = key {
            cmd.args(["--key-file", key.to_str().unwrap()]);
        }
        cmd.args(["install", "--repo", public.to_str().unwrap()])
            .output()
            .unwrap()
    };
    // The keyed list without its key would check nothing embargoed: refused.
    let out = install(None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("guard key"));
    let out = install(Some(&key));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(public.join("hooks/pre-receive").exists());

    let clone = work.path().join("clone");
    std::fs::create_dir(&clone).unwrap();
    init_repo(&clone, false);
    git_ok(
        &clone,
        &["remote", "add", "origin", public.to_str().unwrap()],
    );
    assert!(commit(&clone, "First").status.success());
    git_ok(&clone, &["push", "-q", "origin", "main"]);
    let accepted = git_ok(&public, &["rev-parse", "refs/heads/main"]);

    assert!(commit(&clone, "Ordinary one").status.success());
    assert!(
        commit(&clone, &format!("Fix for {embargoed}"))
            .status
            .success()
    );
    assert!(commit(&clone, "Another ordinary one").status.success());
    let push = git(&clone, &["push", "origin", "main"]);
    assert!(!push.status.success(), "the push was accepted");
    let stderr = String::from_utf8_lossy(&push.stderr);
    assert!(
        stderr.contains("names an embargoed case reference"),
        "{stderr}"
    );
    assert_eq!(
        git_ok(&public, &["rev-parse", "refs/heads/main"]),
        accepted,
        "the ref moved"
    );

    // A branch whose name gives the case away is refused too.
    git_ok(&clone, &["reset", "-q", "--hard", "HEAD~2"]);
    git_ok(&clone, &["checkout", "-q", "-b", "fix-cve-2026-4242"]);
    let push = git(&clone, &["push", "origin", "fix-cve-2026-4242"]);
    assert!(!push.status.success());
    assert!(String::from_utf8_lossy(&push.stderr).contains("branch name"));

    // A clean push goes through.
    git_ok(&clone, &["checkout", "-q", "main"]);
    assert!(
        commit(&clone, "Escape output in the console")
            .status
            .success()
    );
    let push = git(&clone, &["push", "origin", "main"]);
    assert!(
        push.status.success(),
        "{}",
        String::from_utf8_lossy(&push.stderr)
    );
    assert_eq!(
        git_ok(&public, &["rev-parse", "refs/heads/main"]),
        git_ok(&clone, &["rev-parse", "HEAD"])
    );
}

#[tokio::test]
async fn pre_receive_refuses_a_push_and_leaves_the_ref_alone_sqlite() {
    pre_receive_refuses_a_push_and_leaves_the_ref_alone(Backend::Sqlite).await;
}

#[tokio::test]
async fn pre_receive_refuses_a_push_and_leaves_the_ref_alone_postgres() {
    pre_receive_refuses_a_push_and_leaves_the_ref_alone(Backend::Postgres).await;
}

/// A repository of `total` commits made with fast-import; returns the ids of those at `bad`.
fn synthetic_repo(dir: &Path, total: usize, bad: &[(usize, &str)]) -> Vec<String> {
    init_repo(dir, false);
    let mut stream = String::new();
    for i in 1..=total {
        let message = bad
            .iter()
            .find(|(n, _)| *n == i)
            .map(|(_, m)| m.to_string())
            .unwrap_or_else(|| format!("Change {i}: tidy module {}", i % 97));
        stream.push_str(&format!(
            "commit refs/heads/main\nmark :{i}\ncommitter Dev <dev@example.org> {} +0000\ndata {}\n{message}\n",
            1_700_000_000 + i,
            message.len() + 1
        ));
        if i > 1 {
            stream.push_str(&format!("from :{}\n", i - 1));
        }
        stream.push_str(&format!(
            "M 644 inline f{}.txt\ndata 2\n{}\n\n",
            i % 10,
            i % 10
        ));
    }
    let mut child = git_cmd(dir)
        .args(["fast-import", "--quiet", "--export-marks=marks"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let marks = std::fs::read_to_string(dir.join("marks")).unwrap();
    bad.iter()
        .map(|(n, _)| {
            marks
                .lines()
                .find(|l| l.starts_with(&format!(":{n} ")))
                .unwrap()
                .split(' ')
                .nth(1)
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn scan_lists_exactly_the_offending_commits_of_ten_thousand(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    let embargoed = cases(&store).await;
    let work = tempfile::tempdir().unwrap();
    let (list, key) = server_side(&db, work.path());
    let repo = work.path().join("big");
    std::fs::create_dir(&repo).unwrap();
    let by_ref = format!("Follow up {embargoed}");
    let bad = [
        (17, "Fix CVE-2026-4242"),
        (2_500, by_ref.as_str()),
        (5_000, "Handle the console name field"),
        (7_777, "cve_2026_4242 regression test"),
        (9_999, "Vulnerability in parser"),
    ];
    let mut expected = synthetic_repo(&repo, 10_000, &bad);
    // CI gives the key through the environment.
    let out = embargo()
        .env("EMBARGO_GUARD_KEY_FILE", &key)
        .args([
            "--json",
            "guard",
            "--deny-list",
            list.to_str().unwrap(),
            "scan",
            "--repo",
            repo.to_str().unwrap(),
            "main",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ids: Vec<String> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["subject"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);
    // A clean range exits 0.
    let clean = embargo()
        .env("EMBARGO_GUARD_KEY_FILE", &key)
        .args([
            "guard",
            "--deny-list",
            list.to_str().unwrap(),
            "scan",
            "--repo",
            repo.to_str().unwrap(),
            "main~10..main~3",
        ])
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0));
    // Without a deny list the guard says so and refuses (exit 2).
    let missing = embargo()
        .args(["guard", "scan", "--repo", repo.to_str().unwrap(), "main"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[tokio::test]
async fn scan_lists_exactly_the_offending_commits_of_ten_thousand_sqlite() {
    scan_lists_exactly_the_offending_commits_of_ten_thousand(Backend::Sqlite).await;
}

#[tokio::test]
async fn scan_lists_exactly_the_offending_commits_of_ten_thousand_postgres() {
    scan_lists_exactly_the_offending_commits_of_ten_thousand(Backend::Postgres).await;
}

fn tag(repo: &Path, name: &str) {
    git_ok(repo, &["tag", name]);
}

fn commit_file(repo: &Path, file: &str, message: &str) -> String {
    std::fs::write(repo.join(file), format!("{message}\n")).unwrap();
    git_ok(repo, &["add", file]);
    git_ok(repo, &["commit", "-q", "-m", message]);
    git_ok(repo, &["rev-parse", "HEAD"])
}

// Multi-threaded: the CLI child blocks this thread while the in-process server answers it.
async fn versions_come_from_tags_across_two_release_branches(backend: Backend) {
    let work = tempfile::tempdir().unwrap();
    let repo: PathBuf = work.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    init_repo(&repo, false);
    commit_file(&repo, "a.txt", "Initial");
    tag(&repo, "v1.0");
    let introduced = commit_file(&repo, "parser.txt", "Add the parser");
    tag(&repo, "v1.1");
    commit_file(&repo, "b.txt", "More work");
    tag(&repo, "v1.2");
    git_ok(&repo, &["checkout", "-q", "-b", "release-1.2"]);
    commit_file(&repo, "c.txt", "Maintenance");
    tag(&repo, "v1.2.1");
    git_ok(&repo, &["checkout", "-q", "main"]);
    commit_file(&repo, "d.txt", "New feature");
    tag(&repo, "v2.0");
    let fix_main = commit_file(&repo, "parser.txt", "Bound the parser's input");
    tag(&repo, "v2.1");
    git_ok(&repo, &["checkout", "-q", "release-1.2"]);
    git_ok(&repo, &["cherry-pick", "-x", &fix_main]);
    let fix_branch = git_ok(&repo, &["rev-parse", "HEAD"]);
    tag(&repo, "v1.2.2");

    let out = embargo()
        .args([
            "--json",
            "versions",
            "--repo",
            repo.to_str().unwrap(),
            "--introduced",
            &introduced,
            "--fixed",
            &fix_main,
            "--fixed",
            &fix_branch,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["affected"],
        serde_json::json!(["v1.1", "v1.2", "v1.2.1", "v2.0"])
    );
    assert_eq!(
        report["affected_ranges"],
        serde_json::json!(["v1.1 through v1.2.1", "v2.0"])
    );
    assert_eq!(report["fixed"], serde_json::json!(["v2.1", "v1.2.2"]));
    assert_eq!(report["unaffected"], serde_json::json!(["v1.0"]));

    // Straight into the case's affected and fixed versions.
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store).await;
    let alice = Api::new(&server.url, Some(&people.alice));
    let r = alice.report("CLOUDSTACK", "Parser overflow").await;
    let out = embargo()
        .env("EMBARGO_URL", &server.url)
        .env("EMBARGO_TOKEN", &people.alice)
        .args([
            "versions",
            "--repo",
            repo.to_str().unwrap(),
            "--introduced",
            &introduced,
            "--fixed",
            &fix_main,
            "--fixed",
            &fix_branch,
            "--case",
            &r,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, case) = alice.get(&format!("/api/cases/{r}")).await;
    assert_eq!(
        case["versions"]["affected"],
        serde_json::json!(["v1.1 through v1.2.1", "v2.0"])
    );
    assert_eq!(
        case["versions"]["fixed"],
        serde_json::json!(["v2.1", "v1.2.2"])
    );
    // A commit that is not in the repository is named in the error.
    let out = embargo()
        .args([
            "versions",
            "--repo",
            repo.to_str().unwrap(),
            "--introduced",
            "deadbeef",
            "--fixed",
            &fix_main,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("'deadbeef' is not a commit"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_come_from_tags_across_two_release_branches_sqlite() {
    versions_come_from_tags_across_two_release_branches(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_come_from_tags_across_two_release_branches_postgres() {
    versions_come_from_tags_across_two_release_branches(Backend::Postgres).await;
}

async fn scan_checks_diffs_only_when_asked(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    cases(&store).await;
    let work = tempfile::tempdir().unwrap();
    let (list, key) = server_side(&db, work.path());
    let repo = work.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    init_repo(&repo, false);
    commit_file(&repo, "a.txt", "Initial");
    commit_file(&repo, "NOTES.md", "Add notes");
    std::fs::write(repo.join("NOTES.md"), "see CVE-2026-4242 before release\n").unwrap();
    git_ok(&repo, &["commit", "-q", "-am", "Update notes"]);
    let leaky = git_ok(&repo, &["rev-parse", "HEAD"]);
    let scan = |diffs: bool| {
        let mut cmd = embargo();
        cmd.args([
            "--json",
            "guard",
            "--deny-list",
            list.to_str().unwrap(),
            "--key-file",
            key.to_str().unwrap(),
            "scan",
            "--repo",
            repo.to_str().unwrap(),
            "main",
        ]);
        if diffs {
            cmd.arg("--diffs");
        }
        cmd.output().unwrap()
    };
    assert_eq!(
        scan(false).status.code(),
        Some(0),
        "messages alone are clean"
    );
    let out = scan(true);
    assert_eq!(out.status.code(), Some(1));
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![leaky.as_str()],
        "only the commit whose diff adds the term: {found}"
    );
}

#[tokio::test]
async fn scan_checks_diffs_only_when_asked_sqlite() {
    scan_checks_diffs_only_when_asked(Backend::Sqlite).await;
}

#[tokio::test]
async fn scan_checks_diffs_only_when_asked_postgres() {
    scan_checks_diffs_only_when_asked(Backend::Postgres).await;
}
