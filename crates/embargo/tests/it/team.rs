//! The README's "Running it for a team", command by command: a configuration file made
//! from the example, `init`, `config check`, `serve`, `health` and the metrics, with an
//! authenticated relay over TLS and a mailbox over IMAPS (loopback servers and a CA made
//! here stand in for the real ones). A report arrives by IMAPS and its acknowledgement
//! leaves through the relay, logged in over TLS.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::imap::{Dovecot, PASSWORD, USER};
use crate::mail::Sink;
use crate::mail_tls::TestCa;
use crate::support::{Api, Process, eventually};

/// The binary as an operator runs it: nothing from the test's environment, the
/// configuration file only.
fn embargo(config: Option<&Path>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_embargo"));
    for (key, _) in std::env::vars() {
        if key.starts_with("EMBARGO_") {
            cmd.env_remove(key);
        }
    }
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    cmd.args(args);
    cmd
}

/// nginx with `packaging/nginx.conf`, terminating TLS on a free loopback port in front
/// of Embargo; it stops when its stdin closes, that is when this is dropped.
struct Nginx {
    child: std::process::Child,
    port: u16,
}

impl Nginx {
    fn start(dir: &Path, ca: &TestCa, upstream: &str) -> Nginx {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::create_dir_all(dir).unwrap();
        let example = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/nginx.conf"),
        )
        .unwrap();
        let server = example
            .replace("listen 443 ssl", &format!("listen 127.0.0.1:{port} ssl"))
            .replace(
                "/etc/letsencrypt/live/security.example.org/fullchain.pem",
                &ca.cert.display().to_string(),
            )
            .replace(
                "/etc/letsencrypt/live/security.example.org/privkey.pem",
                &ca.key.display().to_string(),
            )
            .replace("127.0.0.1:8080", upstream);
        assert!(server.contains(&format!("127.0.0.1:{port}")) && server.contains(upstream));
        let d = dir.display();
        let temp: String = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
            .iter()
            .map(|t| format!("{t}_temp_path {d}/{t};\n"))
            .collect();
        let conf = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{}}\nhttp {{\naccess_log off;\n{temp}{server}\n}}\n"
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let mut child = Command::new("sh")
            .args([
                "-c",
                "/usr/sbin/nginx -p \"$1\" -c \"$2\" & pid=$!; cat >/dev/null; kill $pid; wait $pid",
                "sh",
            ])
            .arg(dir)
            .arg(&path)
            .stdin(Stdio::piped())
            .spawn()
            .expect("nginx (scripts/test installs nginx-light)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Nginx { child, port };
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        drop(child.stdin.take());
        let _ = child.wait();
        panic!(
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Sets a key of the example file: its line, commented out or not, replaced.
fn set(file: &str, key: &str, value: &str) -> String {
    let mut found = false;
    let text: Vec<String> = file
        .lines()
        .map(|line| {
            let bare = line.strip_prefix("# ").unwrap_or(line);
            if bare.starts_with(&format!("{key} = ")) {
                found = true;
                format!("{key} = {value}")
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(found, "{key} is in the example");
    text.join("\n") + "\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_it_for_a_team() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let section = readme
        .split("## Running it for a team")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap();
    for command in [
        "embargo config example > /etc/embargo/embargo.toml",
        "embargo --config /etc/embargo/embargo.toml init --org ASF --project CLOUDSTACK",
        "embargo --config /etc/embargo/embargo.toml config check",
        "embargo --config /etc/embargo/embargo.toml serve",
        "embargo health --url http://127.0.0.1:8080",
        "curl -s http://127.0.0.1:9187/metrics",
    ] {
        assert!(section.contains(command), "the README says {command}");
    }

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ca = TestCa::new(&root.join("tls"));
    let (cert, key) = (ca.cert.display().to_string(), ca.key.display().to_string());
    let relay = Sink::start_with(
        &root.join("relay"),
        &[
            ("SINK_TLS", "implicit"),
            ("SINK_CERT", &cert),
            ("SINK_KEY", &key),
            ("SINK_AUTH", "embargo:relay-secret-4t"),
        ],
    );
    let mailbox = Dovecot::start_tls(&root.join("dovecot"), &ca.cert, &ca.key);
    let etc = root.join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    let secret = |name: &str, value: &str| {
        use std::os::unix::fs::OpenOptionsExt;
        let path = etc.join(name);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .unwrap();
        writeln!(f, "{value}").unwrap();
        format!("\"{}\"", path.display())
    };

    // 1. The configuration, from the example.
    let config = etc.join("embargo.toml");
    let example = embargo(None, &["config", "example"]).output().unwrap();
    assert!(example.status.success());
    let mut file = String::from_utf8(example.stdout).unwrap();
    let quoted = |s: String| format!("\"{s}\"");
    for (key, value) in [
        ("data", quoted(root.join("data").display().to_string())),
        ("listen", quoted("127.0.0.1:0".into())),
        (
            "public_url",
            quoted("https://security.cloudstack.example".into()),
        ),
        ("mail_from", quoted("security@cloudstack.example".into())),
        (
            "smtp_url",
            quoted(format!("smtps://embargo@127.0.0.1:{}", relay.port)),
        ),
        (
            "smtp_password_file",
            secret("smtp-password", "relay-secret-4t"),
        ),
        ("smtp_ca_file", quoted(ca.ca.display().to_string())),
        (
            "imap_url",
            quoted(format!(
                "imaps://{USER}@127.0.0.1:{}/INBOX",
                mailbox.tls_port.unwrap()
            )),
        ),
        ("imap_password_file", secret("imap-password", PASSWORD)),
        ("imap_ca_file", quoted(ca.ca.display().to_string())),
        ("imap_project", quoted("CLOUDSTACK".into())),
        ("imap_interval", "1".into()),
        ("metrics_listen", quoted("127.0.0.1:0".into())),
        ("trusted_proxies", "[\"127.0.0.1\"]".into()),
    ] {
        file = set(&file, key, &value);
    }
    std::fs::write(&config, file).unwrap();

    // 2. init, the password on stdin.
    let mut init = embargo(
        Some(&config),
        &[
            "init",
            "--org",
            "ASF",
            "--project",
            "CLOUDSTACK",
            "--admin-email",
            "lead@cloudstack.example",
            "--admin-password-stdin",
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    init.stdin
        .take()
        .unwrap()
        .write_all(b"a long admin password\n")
        .unwrap();
    let out = init.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(root.join("data/master.key").exists());

    // 3. config check: every connection tried, and ok.
    let out = embargo(Some(&config), &["config", "check"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in ["database  ok", "smtp      ok", "imap      ok"] {
        assert!(report.contains(line), "{report}");
    }
    assert!(!report.contains("relay-secret-4t") && !report.contains(PASSWORD));

    // 4. serve.
    let mut serve = embargo(Some(&config), &["serve"]);
    serve.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = serve.spawn().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next().unwrap().unwrap()["embargo listening on ".len()..].to_owned();
    let metrics = lines.next().unwrap().unwrap()["embargo metrics on ".len()..].to_owned();
    let server = Process {
        child,
        url: url.clone(),
    };

    // A report by IMAPS becomes a case; its acknowledgement leaves by the relay, over
    // TLS and logged in.
    mailbox.append("From: Fay Finder <fay@finder.example>\r\nSubject: Token leak\r\nMessage-ID: <team1@finder.example>\r\n\r\nThe API leaks tokens.\r\n");
    let token = embargo(
        Some(&config),
        &[
            "--json",
            "token",
            "create",
            "--user",
            "lead@cloudstack.example",
        ],
    )
    .output()
    .unwrap();
    let token: serde_json::Value = serde_json::from_slice(&token.stdout).unwrap();
    let lead = Api::new(&url, token["token"].as_str());
    eventually(30, "the report by IMAPS", || async {
        lead.get("/api/cases")
            .await
            .1
            .as_array()
            .is_some_and(|c| c.len() == 1)
    })
    .await;
    eventually(30, "the acknowledgement by the relay", || async {
        !relay.raw_to("fay@finder.example").is_empty()
    })
    .await;
    let ack = &relay.raw_to("fay@finder.example")[0];
    assert!(
        ack.contains("X-Sink-Tls: yes\r\nX-Sink-Auth: embargo\r\n"),
        "{ack}"
    );
    assert!(ack.contains("https://security.cloudstack.example/reporter/"));

    // TLS in front: nginx with the packaged example, the certificate checked.
    let front = Nginx::start(&root.join("nginx"), &ca, url.trim_start_matches("http://"));
    let https = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&ca.ca).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
    let public = format!("https://127.0.0.1:{}", front.port);
    let ready = https.get(format!("{public}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let cases: serde_json::Value = https
        .get(format!("{public}/api/cases"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
    assert!(
        reqwest::get(format!("{public}/readyz")).await.is_err(),
        "a client that does not trust the certificate is refused"
    );
    drop(front);

    // 5. health and metrics.
    let health = embargo(Some(&config), &["health", "--url", &url])
        .output()
        .unwrap();
    assert!(health.status.success());
    let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
    assert!(
        text.contains("embargo_cases{state=\"reported\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("embargo_imap_polls_total{outcome=\"ok\"}"),
        "{text}"
    );
    drop(server);
}
