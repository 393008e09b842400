//! The configuration in layers: defaults, the TOML file, the environment, the flags, each
//! overriding the one before; unknown keys refused with the key and the file named;
//! the printed example is itself a valid file; and a server started from a file alone.

use std::process::Output;

use serde_json::Value;

use crate::support::{Api, Backend, Process, TestDb, seed};

fn run(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Output {
    db.command(args)
        .env_remove("EMBARGO_CONFIG")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_override_in_order_and_unknown_keys_are_named() {
    let db = TestDb::new(Backend::Sqlite).await;
    let file = db.dir.path().join("embargo.toml");
    std::fs::write(
        &file,
        "mail_from = \"file@example.org\"\nimap_interval = 7\njob_lease = 9\naudit_checkpoint_interval = 11\n\
         smtp_url = \"smtps://embargo:in-the-url-9z@relay.example.org\"\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();

    // Defaults alone.
    let shown = json(&run(&db, &["--json", "config", "show"], &[]));
    assert_eq!(shown["mail_from"], "security@localhost");
    assert_eq!(shown["imap_interval"], 60);

    // The file over the defaults, the environment over the file, a flag over both; the
    // file named by EMBARGO_CONFIG as well as by --config.
    let shown = json(&run(
        &db,
        &["--json", "config", "show", "--job-lease", "10"],
        &[
            ("EMBARGO_CONFIG", path),
            ("EMBARGO_IMAP_INTERVAL", "8"),
            ("EMBARGO_JOB_LEASE", "99"),
        ],
    ));
    assert_eq!(shown["mail_from"], "file@example.org", "the file");
    assert_eq!(shown["audit_checkpoint_interval"], 11, "the file");
    assert_eq!(shown["imap_interval"], 8, "the environment over the file");
    assert_eq!(shown["job_lease"], 10, "the flag over the environment");
    assert_eq!(shown["max_mime_depth"], 20, "a default under all");
    let text = shown.to_string();
    assert!(
        !text.contains("in-the-url-9z") && text.contains("relay.example.org"),
        "{text}"
    );
    let shown = json(&run(
        &db,
        &["--json", "--config", path, "config", "show"],
        &[],
    ));
    assert_eq!(shown["job_lease"], 9);

    // Unknown keys and wrong types: the command stops, naming the key and the file.
    for (content, says) in [
        ("smtp_urll = \"smtp://x\"\n", "unknown key `smtp_urll`"),
        ("listen = 8080\n", "listen"),
        ("imap_interval = \"soon\"\n", "imap_interval"),
        ("this is not toml\n", "embargo-bad.toml"),
    ] {
        let bad = db.dir.path().join("embargo-bad.toml");
        std::fs::write(&bad, content).unwrap();
        let out = run(
            &db,
            &["--config", bad.to_str().unwrap(), "jobs", "status"],
            &[],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{content}");
        assert!(
            stderr.contains(says) && stderr.contains("embargo-bad.toml"),
            "{content}: {stderr}"
        );
    }
    let out = run(
        &db,
        &["--config", "/no/such/embargo.toml", "jobs", "status"],
        &[],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/embargo.toml"));
}

/// `embargo config example` is a file Embargo reads, and a server started from a file
/// (data directory, listen address, sender) alone runs on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_is_a_valid_file_and_a_server_runs_from_a_file() {
    let db = TestDb::new(Backend::Sqlite).await;
    let example = run(&db, &["config", "example"], &[]);
    assert!(example.status.success());
    let text = String::from_utf8(example.stdout).unwrap();
    for key in ["smtp_url", "imap_url", "trusted_proxies", "max_mime_parts"] {
        assert!(text.contains(key), "{key} in the example");
    }
    let file = db.dir.path().join("example.toml");
    std::fs::write(&file, &text).unwrap();
    let shown = json(&run(
        &db,
        &[
            "--json",
            "--config",
            file.to_str().unwrap(),
            "config",
            "show",
        ],
        &[],
    ));
    assert_eq!(shown["listen"], "127.0.0.1:8080");

    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let data = db.data_dir();
    let file = db.dir.path().join("server.toml");
    std::fs::write(
        &file,
        format!(
            "data = \"{}\"\nlisten = \"127.0.0.1:0\"\nmail_from = \"security@cloudstack.example\"\n",
            data.display()
        ),
    )
    .unwrap();
    let mut cmd = db.command(&["--config", file.to_str().unwrap(), "serve"]);
    cmd.env_remove("EMBARGO_DATA");
    let server = Process::start(cmd);
    let alice = Api::new(&server.url, Some(&people.alice));
    let (status, _) = alice.get("/api/cases").await;
    assert_eq!(status, 200);

    // The check names what it tried; the database is this one.
    let out = run(
        &db,
        &[
            "--json",
            "--config",
            file.to_str().unwrap(),
            "config",
            "check",
        ],
        &[],
    );
    let report = json(&out);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["checks"][0]["check"], "database");
}
