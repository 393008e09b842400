//! What an operator runs Embargo with: the systemd unit (checked by systemd itself when
//! it is here, and its exposure scored), the container image (built when a container
//! engine answers), and the reverse-proxy examples.

use std::path::{Path, PathBuf};
use std::process::Command;

fn packaging() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(packaging().join(name)).unwrap()
}

#[test]
fn the_systemd_unit_is_valid_and_hardened() {
    let unit = read("embargo.service");
    for directive in [
        "User=embargo",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/embargo",
        "PrivateTmp=yes",
        "StateDirectory=embargo",
        "CapabilityBoundingSet=\n",
        "UMask=0077",
        "ExecStart=/usr/local/bin/embargo --config /etc/embargo/embargo.toml serve",
    ] {
        assert!(unit.contains(directive), "{directive:?} in the unit");
    }
    let Ok(version) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not here: the unit is checked by its text only");
        return;
    };
    assert!(version.status.success());
    // verify wants the binary to exist: this build's stands in for the installed one.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("embargo.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/embargo", env!("CARGO_BIN_EXE_embargo")),
    )
    .unwrap();
    let verified = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    let complaints = String::from_utf8_lossy(&verified.stderr);
    assert!(
        verified.status.success() && complaints.trim().is_empty(),
        "systemd-analyze verify: {complaints}"
    );
    let scored = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&scored.stdout).to_string()
        + &String::from_utf8_lossy(&scored.stderr);
    let exposure: f64 = text
        .split("Overall exposure level for embargo.service: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure score in: {text}"));
    assert!(exposure <= 2.0, "exposure {exposure}: {text}");
}

/// A container engine that answers, if any.
fn engine() -> Option<&'static str> {
    ["podman", "docker"].into_iter().find(|tool| {
        Command::new(tool)
            .arg("info")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn the_container_image_is_small_non_root_and_checks_its_health() {
    let file = read("Containerfile");
    assert!(
        file.contains("USER nonroot"),
        "runs as a user without privileges"
    );
    assert!(file.contains("VOLUME [\"/var/lib/embargo\"]"));
    assert!(file.contains("distroless"), "no shell, no package manager");
    assert!(file.contains("--locked"), "the locked dependencies");
    assert!(file.contains("EMBARGO_CONFIG=/etc/embargo/embargo.toml"));
    assert!(
        file.contains(
            r#"CMD ["/usr/local/bin/embargo", "health", "--url", "http://127.0.0.1:8080"]"#
        )
    );
    // The healthcheck's command exists and fails when nothing answers.
    let out = Command::new(env!("CARGO_BIN_EXE_embargo"))
        .args(["health", "--url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let Some(engine) = engine() else {
        eprintln!("no container engine answers here: the image is not built");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let built = Command::new(engine)
        .args([
            "build",
            "-f",
            "packaging/Containerfile",
            "-t",
            "embargo-test",
            ".",
        ])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(built.success(), "{engine} build");
}

#[test]
fn the_proxy_examples_forward_to_embargo_and_name_the_trust_setting() {
    for name in ["Caddyfile", "nginx.conf"] {
        let text = read(name);
        assert!(
            text.contains("127.0.0.1:8080"),
            "{name} forwards to Embargo"
        );
        assert!(
            text.contains("trusted_proxies = [\"127.0.0.1\"]"),
            "{name} says how Embargo comes to believe its X-Forwarded-For"
        );
    }
    assert!(read("nginx.conf").contains("$proxy_add_x_forwarded_for"));
}
