//! `embargo export`: every case a member may see, each as the API shows it and its
//! advisory as OSV, CSAF and CVE JSON 5 (drafts while embargoed), into a private folder,
//! through the server, so that what they may not see never leaves, and each read is
//! audited.

use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};

use crate::support::{Api, BACKENDS, Backend, Process, TestDb, seed};

fn export(db: &TestDb, url: &str, token: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--json", "export"];
    all.extend_from_slice(args);
    db.command(&all)
        .env("EMBARGO_URL", url)
        .env("EMBARGO_TOKEN", token)
        .output()
        .unwrap()
}

async fn cases_export_to_files_the_member_may_see(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    crate::disclosure::configure(&db);
    let server = Process::serve(db.command(&[]));
    let alice = Api::new(&server.url, Some(&people.alice));
    let r = alice
        .report("CLOUDSTACK", "SSRF in the template downloader")
        .await;
    let (status, body) = alice
        .patch(
            &format!("/api/cases/{r}"),
            json!({
                "cvss": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N",
                "cve_id": "CVE-2026-41001",
                "versions": { "affected": ["4.18.0.0 through 4.18.2.0"], "fixed": ["4.18.2.1"] },
                "advisory": { "description": "The downloader fetched any URL.", "mitigation": "Upgrade to 4.18.2.1.", "cwe": "CWE-918" }
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let second = alice.report("CLOUDSTACK", "A second report").await;

    let dir = db.dir.path().join("export");
    let out = export(
        &db,
        &server.url,
        &people.alice,
        &["--output", dir.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["cases"], 2, "{summary}");
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for name in ["json", "osv.json", "csaf.json", "cve.json"] {
        let file = dir.join(format!("{r}.{name}"));
        let meta = std::fs::metadata(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file:?}");
    }
    let case: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{r}.json"))).unwrap())
            .unwrap();
    assert_eq!(case["title"], "SSRF in the template downloader");
    let osv: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{r}.osv.json"))).unwrap())
            .unwrap();
    let errors = crate::documents::osv_errors(&osv);
    assert!(errors.is_empty(), "{errors:?}\n{osv}");
    let cve: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{r}.cve.json"))).unwrap())
            .unwrap();
    assert_eq!(cve["cveMetadata"]["cveId"], "CVE-2026-41001", "{cve}");
    // A case without the facts a CVE record needs is skipped with the reason, the rest
    // of its files written.
    assert!(dir.join(format!("{second}.json")).exists());
    assert!(
        summary["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["case"] == second.as_str()),
        "{summary}"
    );
    // On a terminal (a pseudo-terminal made by script(1)), a progress bar.
    let shown = dir.join("on-a-terminal");
    let command = format!(
        "{} export --output {}",
        env!("CARGO_BIN_EXE_embargo"),
        shown.display()
    );
    let mut cmd = db.command(&[]);
    cmd.env("EMBARGO_URL", &server.url)
        .env("EMBARGO_TOKEN", &people.alice)
        .env("COLUMNS", "120");
    let cmd = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&cmd.stdout);
    assert!(screen.contains("2/2") && screen.contains("[="), "{screen}");
    assert!(
        screen.contains("wrote 8 files for 2 cases") || screen.contains("files for 2 cases"),
        "{screen}"
    );

    // Nothing is overwritten.
    let again = export(
        &db,
        &server.url,
        &people.alice,
        &["--output", dir.to_str().unwrap(), "--case", &r],
    );
    assert!(!again.status.success());

    // Bob's team cannot see CLOUDSTACK: his export holds none of it, and naming the case
    // gets what a case that does not exist gets.
    let bobs = db.dir.path().join("bob");
    let out = export(
        &db,
        &server.url,
        &people.bob,
        &["--output", bobs.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_dir(&bobs).unwrap().count(), 0);
    let out = export(
        &db,
        &server.url,
        &people.bob,
        &["--output", bobs.to_str().unwrap(), "--case", &r],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
    assert_eq!(std::fs::read_dir(&bobs).unwrap().count(), 0);

    // A reference that is not one (a path, say) is refused before any file is written.
    let hostile = db.dir.path().join("hostile");
    let out = export(
        &db,
        &server.url,
        &people.alice,
        &[
            "--output",
            hostile.to_str().unwrap(),
            "--case",
            "../../escaped",
        ],
    );
    assert!(!out.status.success());
    assert!(!db.dir.path().join("escaped.json").exists());
    assert_eq!(
        std::fs::read_dir(&hostile).map(|d| d.count()).unwrap_or(0),
        0
    );

    // Each read is in the audit log as the CLI's.
    let log = db
        .command(&["--json", "audit", "log", "--case", &r])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(log.contains("cli"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_export_to_files_the_member_may_see_sqlite() {
    cases_export_to_files_the_member_may_see(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_export_to_files_the_member_may_see_postgres() {
    cases_export_to_files_the_member_may_see(BACKENDS[1]).await;
}
