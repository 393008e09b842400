//! Advisories that tools can use: a case with two release branches, a fix on each and a
//! package URL gives documents whose version ranges, read tag by tag, say what git says
//! (`merge-base --is-ancestor` on the introducing and fixing commits); the CSAF document
//! passes BSI's validator; the Apache CloudStack records of the conformance data rebuilt
//! from their facts keep their `affected` shape; and an advisory announced before the
//! upgrade is served in the new shape.

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::documents::{conformance, csaf_errors, cve_errors, osv_errors};
use crate::guard::git_ok;
use crate::support::{Api, BACKENDS, Backend, Process, TestDb, seed};

const PURL: &str = "pkg:maven/org.apache.cloudstack/cloud-server";
const CPE: &str = "cpe:2.3:a:apache:cloudstack:*:*:*:*:*:*:*:*";

/// The bug comes in after v4.17.0; 4.18 and 4.19 branch off with it; each branch and
/// main get their own fix, released as v4.18.2, v4.19.1 and v4.20.0.
struct Repo {
    dir: tempfile::TempDir,
    introduced: String,
    fixes: [(&'static str, String); 3],
}

fn commit(d: &Path, file: &str, text: &str, message: &str) -> String {
    std::fs::write(d.join(file), text).unwrap();
    git_ok(d, &["add", "."]);
    git_ok(d, &["commit", "-qm", message]);
    git_ok(d, &["rev-parse", "HEAD"])
}

fn repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git_ok(d, &["init", "-q", "-b", "main"]);
    commit(d, "fetch.c", "fetch(url);\n", "Fetch templates");
    git_ok(d, &["tag", "v4.17.0"]);
    let introduced = commit(d, "fetch.c", "fetch(any_url);\n", "Fetch from mirrors");
    git_ok(d, &["tag", "v4.18.0"]);
    git_ok(d, &["branch", "4.18"]);
    commit(d, "ui.c", "ui();\n", "A new console");
    git_ok(d, &["tag", "v4.19.0"]);
    git_ok(d, &["branch", "4.19"]);
    git_ok(d, &["checkout", "-q", "4.18"]);
    commit(d, "docs.txt", "4.18.1\n", "Release notes");
    git_ok(d, &["tag", "v4.18.1"]);
    let fix_418 = commit(d, "fetch.c", "fetch(allowed(url));\n", "Check mirror URLs");
    git_ok(d, &["tag", "v4.18.2"]);
    git_ok(d, &["checkout", "-q", "4.19"]);
    let fix_419 = commit(
        d,
        "fetch.c",
        "fetch(allowed(url));\n",
        "Check mirror URLs (4.19)",
    );
    git_ok(d, &["tag", "v4.19.1"]);
    git_ok(d, &["checkout", "-q", "main"]);
    let fix_main = commit(d, "fetch.c", "fetch(allowed(url));\n", "Check mirror URLs");
    git_ok(d, &["tag", "v4.20.0"]);
    Repo {
        dir,
        introduced,
        fixes: [("trunk", fix_main), ("4.18", fix_418), ("4.19", fix_419)],
    }
}

fn is_ancestor(repo: &Path, commit: &str, of: &str) -> bool {
    let status = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["merge-base", "--is-ancestor", commit, of])
        .status()
        .unwrap();
    status.success()
}

/// A dotted version as numbers, for ordering.
fn numbers(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap()).collect()
}

/// Whether OSV's events (introduced / fixed / last_affected, in order) take in `version`.
fn osv_affects(events: &[Value], version: &str, before: impl Fn(&str, &str) -> bool) -> bool {
    let mut affected = false;
    for event in events {
        if let Some(v) = event["introduced"].as_str() {
            if v == "0" || !before(version, v) {
                affected = true;
            }
        } else if let Some(v) = event["fixed"].as_str() {
            if !before(version, v) {
                affected = false;
            }
        } else if let Some(v) = event["last_affected"].as_str()
            && before(v, version)
        {
            affected = false;
        }
    }
    affected
}

/// Whether the CVE record's versions take in `version` (defaultStatus otherwise).
fn cve_affects(affected: &Value, version: &str) -> bool {
    let v = numbers(version);
    let hit = affected["versions"].as_array().unwrap().iter().any(|r| {
        let from = numbers(r["version"].as_str().unwrap());
        let below = match (r["lessThan"].as_str(), r["lessThanOrEqual"].as_str()) {
            (Some(to), _) => v < numbers(to),
            (None, Some(to)) => v <= numbers(to),
            _ => v == from,
        };
        r["status"] == "affected" && v >= from && below
    });
    hit || affected["defaultStatus"] == "affected"
}

fn cli(db: &TestDb, url: &str, token: &str, args: &[&str]) -> Value {
    let out = db
        .command(&[&["--json"], args].concat())
        .env("EMBARGO_URL", url)
        .env("EMBARGO_TOKEN", token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "embargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// BSI's CSAF validator on `doc`: every finding but the spelling test (6.3.8, which
/// needs dictionaries) and, on a loopback site, the warnings about the document's own
/// URL (https is required for a canonical URL; 6.2.11 and 6.3.7).
fn bsi_findings(doc: &Value, dir: &Path) -> Vec<Value> {
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        browser
            .join("node_modules/@secvisogram/csaf-validator-lib")
            .exists(),
        "BSI's CSAF validator is missing: scripts/test runs npm ci in {}",
        browser.display()
    );
    let file = dir.join("csaf.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = Command::new("node")
        .arg(browser.join("csaf-validate.mjs"))
        .arg(&file)
        .current_dir(&browser)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the validator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loopback = doc["document"]["references"][0]["url"]
        .as_str()
        .is_some_and(|u| u.starts_with("http://127.0.0.1"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|f| {
            let test = f["test"].as_str().unwrap_or_default();
            !test.ends_with("6_3_8")
                && !(loopback && (test.ends_with("6_2_11") || test.ends_with("6_3_7")))
        })
        .collect()
}

/// A folder of the official schemas as an operator lays it out, linked to the
/// conformance data in place.
fn schema_folder(dir: &Path) -> std::path::PathBuf {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    let folder = dir.join("schemas");
    std::fs::create_dir_all(&folder).unwrap();
    for (name, source) in [
        ("cve5.json", "cve5/schema/CVE_JSON_bundled_5.1.1.json"),
        ("osv.json", "osv/validation/schema.json"),
        (
            "csaf.json",
            "csaf/csaf_2.0/json_schema/csaf_json_schema.json",
        ),
        (
            "cvss-v2.0.json",
            "csaf/csaf_2.0/referenced_schema/first/cvss-v2.0.json",
        ),
        (
            "cvss-v3.0.json",
            "csaf/csaf_2.0/referenced_schema/first/cvss-v3.0.json",
        ),
        (
            "cvss-v3.1.json",
            "csaf/csaf_2.0/referenced_schema/first/cvss-v3.1.json",
        ),
    ] {
        std::os::unix::fs::symlink(shared.join(source), folder.join(name)).unwrap();
    }
    folder
}

async fn tools_can_use_the_advisory(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let admin_id = store.user_by_email("admin@example.org").await.unwrap().id;
    let admin_session = store.create_session(admin_id).await.unwrap();
    store.close().await;
    crate::disclosure::configure(&db);
    let git = repo();

    // Where the product lives: bad coordinates are refused with what to write.
    let out = db
        .command(&[
            "project",
            "product",
            "--project",
            "CLOUDSTACK",
            "--purl",
            "maven:org.apache.cloudstack/cloud-server@4.18",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("is not a package URL"), "{said}");
    let out = db
        .command(&[
            "--json",
            "project",
            "product",
            "--project",
            "CLOUDSTACK",
            "--purl",
            PURL,
            "--cpe",
            CPE,
            "--repository",
            "https://github.com/apache/cloudstack",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let project: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(project["product"]["packages"], json!([PURL]), "{project}");

    let mut serve = db.command(&[]);
    serve.env("EMBARGO_DOCUMENT_SCHEMAS", schema_folder(db.dir.path()));
    let server = Process::serve(serve);
    let alice = Api::new(&server.url, Some(&people.alice));
    let admin = alice.as_user(&people.admin);
    let (status, body) = admin
        .patch(
            "/api/projects/CLOUDSTACK",
            json!({ "product": { "cpes": ["cpe:/a:apache:cloudstack"] } }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("CPE 2.3"), "{body}");
    // The administrator says it on the admin page too.
    let http = crate::web::client();
    let product_form = |fields: &[(&str, &str)]| {
        let mut form: Vec<(String, String)> = vec![
            (
                "csrf".into(),
                embargo_server::extract::csrf_token(&admin_session),
            ),
            ("project".into(), "CLOUDSTACK".into()),
        ];
        form.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        http.post(format!("{}/desk/admin/product", server.url))
            .header(
                reqwest::header::COOKIE,
                format!("embargo_session={admin_session}"),
            )
            .form(&form)
            .send()
    };
    let resp = product_form(&[(
        "packages",
        "pkg:maven/org.apache.cloudstack/cloud-server@4.18",
    )])
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(page.contains("is not a package URL"), "{page}");
    let packages = format!("{PURL}\n\n");
    let resp = product_form(&[
        ("packages", &packages),
        ("cpes", CPE),
        ("repository", "https://github.com/apache/cloudstack"),
        ("product", ""),
        ("vendor", ""),
    ])
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, project) = admin.get("/api/projects/CLOUDSTACK").await;
    assert_eq!(project["product"]["packages"], json!([PURL]), "{project}");
    assert_eq!(project["product"]["cpes"], json!([CPE]), "{project}");
    assert!(project["product"].get("product").is_none(), "{project}");

    let r = alice
        .report("CLOUDSTACK", "SSRF in the template downloader")
        .await;
    let case = format!("/api/cases/{r}");
    alice
        .moved(&r, json!({ "to": "triage", "reason": "reproducing" }))
        .await;
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    let embargo = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let (status, body) = alice
        .patch(
            &case,
            json!({
                "cvss": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N",
                "cve_id": "CVE-2026-42001",
                "embargo_at": embargo.format(&time::format_description::well_known::Rfc3339).unwrap(),
                "advisory": { "title": "SSRF in the template downloader",
                              "description": "The downloader fetched templates from any URL.",
                              "mitigation": "Upgrade to 4.18.2, 4.19.1 or 4.20.0.",
                              "cwe": "CWE-918",
                              "credits": [{ "name": "Fay Finder", "role": "finder" }] }
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    alice.moved(&r, json!({ "to": "fixing" })).await;
    for (branch, commit) in &git.fixes {
        let (status, body) = alice
            .put(
                &format!("{case}/fixes"),
                json!({ "branch": branch, "stage": "merged", "commit": commit }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{branch}: {body}");
    }
    let (status, body) = alice
        .post(
            &format!("{case}/testing"),
            json!({ "text": "the regression test fetches from a forbidden mirror" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // git's facts, through the recorded merges.
    let report = cli(
        &db,
        &server.url,
        &people.alice,
        &[
            "versions",
            "--repo",
            git.dir.path().to_str().unwrap(),
            "--introduced",
            &git.introduced,
            "--tags",
            "v*",
            "--case",
            &r,
        ],
    );
    assert_eq!(
        report["affected"],
        json!(["v4.18.0", "v4.18.1", "v4.19.0"]),
        "{report}"
    );
    let (_, shown) = alice.get(&case).await;
    assert_eq!(
        shown["versions"]["ranges"],
        json!([{ "introduced": "4.18.0", "fixed": "4.18.2", "last_affected": null },
               { "introduced": "4.19.0", "fixed": "4.19.1", "last_affected": null }]),
        "{shown}"
    );
    // A form that edits the words keeps what git said.
    let (status, _) = alice
        .patch(
            &case,
            json!({ "versions": { "affected": ["4.18.0 through 4.18.1", "4.19.0"], "fixed": ["4.18.2", "4.19.1", "4.20.0"] } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, shown) = alice.get(&case).await;
    assert_eq!(
        shown["versions"]["releases"],
        json!(["4.18.0", "4.18.1", "4.19.0"])
    );
    // What git could not have said is refused.
    let (status, body) = alice
        .patch(
            &case,
            json!({ "versions": { "ranges": [{ "introduced": "4.18 and later" }] } }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // The rehearsal holds each document to its official schema: a mitigation longer
    // than a CVE record allows blocks it, and names the rule, not the text.
    let long = "Upgrade. ".repeat(600);
    let advisory = |mitigation: &str| {
        json!({ "advisory": { "title": "SSRF in the template downloader",
                              "description": "The downloader fetched templates from any URL.",
                              "mitigation": mitigation,
                              "cwe": "CWE-918",
                              "credits": [{ "name": "Fay Finder", "role": "finder" }] } })
    };
    let (status, _) = alice.patch(&case, advisory(&long)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, plan) = alice
        .post(&format!("{case}/disclosure/rehearsal"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let step = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "cve-record")
        .unwrap();
    let problem = step["problem"].as_str().unwrap_or_default();
    assert!(
        problem.contains("/containers/cna/solutions/0/value breaks the CVE JSON 5 schema's rule"),
        "{step}"
    );
    assert!(!problem.contains("Upgrade."), "{problem}");
    let (status, _) = alice
        .patch(&case, advisory("Upgrade to 4.18.2, 4.19.1 or 4.20.0."))
        .await;
    assert_eq!(status, StatusCode::OK);

    alice.moved(&r, json!({ "to": "fix-ready" })).await;
    alice.moved(&r, json!({ "to": "release-pending" })).await;
    alice
        .moved(
            &r,
            json!({ "to": "announced", "not_sent_reason": "announced by hand in the test", "override_reason": "the fix is public already" }),
        )
        .await;

    let public = alice.anonymous();
    let served = |path: String| {
        let public = public.clone();
        async move {
            let (status, doc) = public.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {doc}");
            doc
        }
    };
    let osv = served(format!("/advisories/{r}/osv.json")).await;
    assert_eq!(osv_errors(&osv), Vec::<String>::new(), "{osv:#}");
    let cve = served(format!("/advisories/{r}/cve.json")).await;
    assert_eq!(cve_errors(&cve), Vec::<String>::new(), "{cve:#}");
    let csaf_url = format!("/advisories/{r}/csaf/cve-2026-42001.json");
    let csaf = served(csaf_url.clone()).await;
    assert_eq!(csaf_errors(&csaf), Vec::<String>::new(), "{csaf:#}");
    assert_eq!(
        csaf["document"]["references"][0]["url"],
        format!("{}{csaf_url}", server.url)
    );

    // Tag by tag, each document says what git says.
    let entry = &osv["affected"][0];
    assert_eq!(entry["package"]["ecosystem"], "Maven", "{osv:#}");
    assert_eq!(
        entry["package"]["name"],
        "org.apache.cloudstack:cloud-server"
    );
    assert_eq!(entry["package"]["purl"], PURL);
    let ranges = entry["ranges"].as_array().unwrap();
    let semver: Vec<&Value> = ranges.iter().filter(|r| r["type"] == "SEMVER").collect();
    assert_eq!(semver.len(), 2, "{osv:#}");
    let git_range = ranges.iter().find(|r| r["type"] == "GIT").unwrap();
    assert_eq!(git_range["repo"], "https://github.com/apache/cloudstack");
    let record = &cve["containers"]["cna"]["affected"][0];
    assert_eq!(record["vendor"], "Apache Software Foundation", "{cve:#}");
    assert_eq!(record["product"], "Apache CloudStack");
    assert_eq!(record["defaultStatus"], "unaffected");
    assert_eq!(
        record["collectionURL"],
        "https://repo.maven.apache.org/maven2"
    );
    assert_eq!(record["packageName"], "org.apache.cloudstack:cloud-server");
    assert_eq!(record["repo"], "https://github.com/apache/cloudstack");
    assert_eq!(record["cpes"], json!([CPE]));
    assert_eq!(
        cve["containers"]["cna"]["problemTypes"][0]["descriptions"][0]["description"],
        "CWE-918 Server-Side Request Forgery (SSRF)"
    );
    let versions: Vec<&str> = entry["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let tags = git_ok(git.dir.path(), &["tag", "--list", "v*"]);
    for tag in tags.lines() {
        let version = tag.trim_start_matches('v');
        let truth = is_ancestor(git.dir.path(), &git.introduced, tag)
            && !git
                .fixes
                .iter()
                .any(|(_, fix)| is_ancestor(git.dir.path(), fix, tag));
        let by_semver = semver.iter().any(|range| {
            osv_affects(range["events"].as_array().unwrap(), version, |a, b| {
                numbers(a) < numbers(b)
            })
        });
        // A GIT range is read by ancestry: an introducing commit in the tag's history
        // and no fixing one.
        let events = git_range["events"].as_array().unwrap();
        let reaches = |kind: &str| {
            events
                .iter()
                .filter_map(|e| e[kind].as_str())
                .any(|c| is_ancestor(git.dir.path(), c, tag))
        };
        let by_git = reaches("introduced") && !reaches("fixed");
        assert_eq!(by_semver, truth, "OSV SEMVER on {tag}: {osv:#}");
        assert_eq!(by_git, truth, "OSV GIT on {tag}: {osv:#}");
        assert_eq!(versions.contains(&version), truth, "OSV versions on {tag}");
        assert_eq!(
            cve_affects(record, version),
            truth,
            "CVE record on {tag}: {cve:#}"
        );
    }

    // CSAF: each affected release and each fixed one is a product version with its
    // package URL and CPE; the weakness has its name.
    let vulnerability = &csaf["vulnerabilities"][0];
    assert_eq!(vulnerability["cwe"]["id"], "CWE-918");
    assert_eq!(
        vulnerability["cwe"]["name"],
        "Server-Side Request Forgery (SSRF)"
    );
    let text = csaf["product_tree"].to_string();
    for version in ["4.18.0", "4.18.1", "4.19.0", "4.18.2", "4.19.1"] {
        assert!(
            text.contains(&format!("{PURL}@{version}")),
            "{version}: {text}"
        );
    }
    let findings = bsi_findings(&csaf, db.dir.path());
    assert!(findings.is_empty(), "{findings:#?}\n{csaf:#}");

    // A correction is checked as the documents will be served: one that would break a
    // schema is refused whole, another is served.
    let (status, body) = alice.patch(&case, advisory(&long)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("CVE JSON 5 document invalid"),
        "{body}"
    );
    let osv = served(format!("/advisories/{r}/osv.json")).await;
    assert!(
        !osv.to_string().contains("Upgrade. Upgrade."),
        "nothing was kept"
    );
    let (status, body) = alice
        .patch(
            &case,
            json!({ "advisory": { "title": "SSRF in the template downloader",
                                  "description": "The downloader fetched templates from any URL.",
                                  "mitigation": "Upgrade to 4.18.2, 4.19.1 or 4.20.0.",
                                  "cwe": "CWE-918",
                                  "credits": [{ "name": "Fay Q. Finder", "role": "finder" }] } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let osv = served(format!("/advisories/{r}/osv.json")).await;
    assert_eq!(osv["credits"][0]["name"], "Fay Q. Finder", "{osv:#}");

    // The CloudStack records of the conformance data, rebuilt from their facts.
    for id in ["CVE-2024-45219", "CVE-2025-47849", "CVE-2026-25199"] {
        let original = conformance(&format!("cve5/examples/apache-cloudstack/{id}.cve.json"));
        let affected = &original["containers"]["cna"]["affected"][0];
        let ranges: Vec<Value> = affected["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                json!({ "introduced": v["version"], "fixed": v.get("lessThan"), "last_affected": v.get("lessThanOrEqual") })
            })
            .collect();
        let r = alice.report("CLOUDSTACK", id).await;
        let (status, body) = alice
            .patch(
                &format!("/api/cases/{r}"),
                json!({
                    "cve_id": id,
                    "versions": { "ranges": ranges },
                    "advisory": { "description": original["containers"]["cna"]["descriptions"][0]["value"] }
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{id}: {body}");
        let (status, rebuilt) = alice.get(&format!("/api/cases/{r}/documents/cve")).await;
        assert_eq!(status, StatusCode::OK, "{id}: {rebuilt}");
        assert_eq!(cve_errors(&rebuilt), Vec::<String>::new(), "{rebuilt:#}");
        let ours = &rebuilt["containers"]["cna"]["affected"][0];
        for key in ["vendor", "product", "versions", "defaultStatus"] {
            assert_eq!(ours[key], affected[key], "{id} {key}: {rebuilt:#}");
        }
    }
    drop(server);
}

/// An advisory announced by the release before (no product settings, versions in words
/// only) is served in the new shape once the database is upgraded in place.
async fn announced_before_the_upgrade(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    crate::disclosure::configure(&db);
    let server = Process::serve(db.command(&[]));
    let alice = Api::new(&server.url, Some(&people.alice));
    let r = alice.report("CLOUDSTACK", "Announced long ago").await;
    alice
        .moved(&r, json!({ "to": "triage", "reason": "reproducing" }))
        .await;
    alice.moved(&r, json!({ "to": "confirmed" })).await;
    let (status, body) = alice
        .patch(
            &format!("/api/cases/{r}"),
            json!({
                "cvss": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N",
                "cve_id": "CVE-2026-42002",
                "embargo_at": (time::OffsetDateTime::now_utc() + time::Duration::days(1)).format(&time::format_description::well_known::Rfc3339).unwrap(),
                "versions": { "affected": ["4.0.0 through 4.18.2.3", "4.19.0.0 through 4.19.1.1"], "fixed": ["4.18.2.4", "4.19.1.2"] },
                "advisory": { "description": "Described.", "mitigation": "Upgrade.", "cwe": "CWE-20" }
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    alice.moved(&r, json!({ "to": "fixing" })).await;
    alice.fixed_everywhere(&r).await;
    for to in ["fix-ready", "release-pending"] {
        alice.moved(&r, json!({ "to": to })).await;
    }
    alice
        .moved(
            &r,
            json!({ "to": "announced", "not_sent_reason": "announced by hand in the test", "override_reason": "the fix is public already" }),
        )
        .await;
    drop(server);

    // The release before had no product column and no migration 36.
    db.execute("ALTER TABLE projects DROP COLUMN product", &[])
        .await;
    db.execute("DELETE FROM _sqlx_migrations WHERE version = 36", &[])
        .await;
    let out = db.command(&["migrate"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Process::serve(db.command(&[]));
    let public = Api::new(&server.url, None);
    let (status, cve) = public.get(&format!("/advisories/{r}/cve.json")).await;
    assert_eq!(status, StatusCode::OK, "{cve}");
    assert_eq!(cve_errors(&cve), Vec::<String>::new(), "{cve:#}");
    let affected = &cve["containers"]["cna"]["affected"][0];
    assert_eq!(affected["product"], "Apache CloudStack", "{cve:#}");
    assert_eq!(affected["defaultStatus"], "unaffected");
    assert_eq!(
        affected["versions"],
        json!([
            { "status": "affected", "version": "4.0.0", "lessThanOrEqual": "4.18.2.3", "versionType": "semver" },
            { "status": "affected", "version": "4.19.0.0", "lessThanOrEqual": "4.19.1.1", "versionType": "semver" }
        ])
    );
    let (status, csaf) = public
        .get(&format!("/advisories/{r}/csaf/cve-2026-42002.json"))
        .await;
    assert_eq!(status, StatusCode::OK, "{csaf}");
    assert_eq!(csaf_errors(&csaf), Vec::<String>::new(), "{csaf:#}");
    assert!(
        csaf["product_tree"]
            .to_string()
            .contains("vers:generic/>=4.0.0|<=4.18.2.3"),
        "{csaf:#}"
    );
    let (status, osv) = public.get(&format!("/advisories/{r}/osv.json")).await;
    assert_eq!(status, StatusCode::OK, "{osv}");
    assert_eq!(osv_errors(&osv), Vec::<String>::new(), "{osv:#}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_can_use_the_advisory_sqlite() {
    tools_can_use_the_advisory(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_can_use_the_advisory_postgres() {
    tools_can_use_the_advisory(BACKENDS[1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_before_the_upgrade_sqlite() {
    announced_before_the_upgrade(BACKENDS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_before_the_upgrade_postgres() {
    announced_before_the_upgrade(BACKENDS[1]).await;
}
