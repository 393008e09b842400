//! The deny list against whoever holds it alone: a dictionary and enumeration attack on a
//! developer's list and on the server-side keyed list (without its key), from the CLI and
//! the API, on both backends. A control run of the same attack on a list hashed the old
//! way (unkeyed SHA-256 of salt and term, salt in the file) recovers every term, so the
//! candidates are known to be good enough. And with the key, the guard blocks each term.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Instant;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::guard::{cases, embargo, export, guard_key};
use crate::support::{Api, BACKENDS, Backend, Server, TestDb, seed};

/// What the embargoed cases hold, normalised as the guard normalises.
const SECRETS: [&str; 7] = [
    "cloudstack sec 1",
    "cloudstack sec 3",
    "cve 2026 4242",
    "cve 2025 0815",
    "console name field",
    "quota bypass",
    "tokenizer",
];

/// The giveaway words are public (the project's settings, the defaults in the source).
const PUBLIC: [&str; 9] = [
    "vulnerability",
    "vulnerabilities",
    "security fix",
    "security issue",
    "security bug",
    "exploit",
    "exploitable",
    "embargo",
    "embargoed",
];

/// 10,000 words: everyday and security words first (an attacker orders a dictionary by
/// likelihood, and the terms' words are among them), then generated ones.
fn dictionary() -> Vec<String> {
    let mut words: Vec<String> = [
        "console",
        "name",
        "field",
        "quota",
        "bypass",
        "tokenizer",
        "parser",
        "overflow",
        "buffer",
        "heap",
        "admin",
        "login",
        "session",
        "token",
        "password",
        "upload",
        "path",
        "traversal",
        "injection",
        "sql",
        "script",
        "cross",
        "site",
        "request",
        "forgery",
        "remote",
        "code",
        "execution",
        "denial",
        "service",
        "memory",
        "leak",
        "auth",
        "security",
        "fix",
        "issue",
        "bug",
        "vulnerability",
        "exploit",
        "embargo",
    ]
    .iter()
    .map(|w| (*w).to_owned())
    .collect();
    let onsets = [
        "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br",
        "st", "tr",
    ];
    let vowels = ["a", "e", "i", "o", "u"];
    let syllables: Vec<String> = onsets
        .iter()
        .flat_map(|o| vowels.iter().map(move |v| format!("{o}{v}")))
        .collect();
    'fill: for a in &syllables {
        for b in &syllables {
            if words.len() == 10_000 {
                break 'fill;
            }
            words.push(format!("{a}{b}"));
        }
    }
    assert_eq!(words.len(), 10_000);
    words
}

/// Every candidate, normalised: each CVE ID of three years with up to four digits (the
/// embargoed IDs have four), references 1 to 10,000, every word of a 10,000-word
/// dictionary, every two-word phrase of its 300 first words and every three-word phrase
/// of its 40 first.
fn candidates(project: &str) -> Vec<String> {
    let dictionary = dictionary();
    let mut out = Vec::with_capacity(210_000);
    for year in 2024..=2026 {
        for number in 0..10_000 {
            out.push(format!("cve {year} {number:04}"));
        }
    }
    let project = project.to_lowercase();
    for number in 1..=10_000 {
        out.push(format!("{project} sec {number}"));
    }
    out.extend(dictionary.iter().cloned());
    for a in &dictionary[..300] {
        for b in &dictionary[..300] {
            out.push(format!("{a} {b}"));
        }
    }
    for a in &dictionary[..40] {
        for b in &dictionary[..40] {
            for c in &dictionary[..40] {
                out.push(format!("{a} {b} {c}"));
            }
        }
    }
    out
}

/// Every 64-hex-digit string anywhere in the file: the attacker needs no labels.
fn digests(value: &Value, out: &mut BTreeSet<[u8; 32]>) {
    match value {
        Value::String(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let mut d = [0u8; 32];
            for (i, pair) in s.as_bytes().chunks(2).enumerate() {
                d[i] = u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap();
            }
            out.insert(d);
        }
        Value::Array(items) => items.iter().for_each(|v| digests(v, out)),
        Value::Object(map) => map.values().for_each(|v| digests(v, out)),
        _ => {}
    }
}

fn hmac_with(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap()
}

/// One list as the attacker sees it: its salt and every digest in it, sorted.
struct Target {
    name: String,
    salt: Vec<u8>,
    digests: Vec<[u8; 32]>,
    recovered: BTreeSet<String>,
}

impl Target {
    fn new(name: &str, list: &Value) -> Target {
        let mut found = BTreeSet::new();
        digests(list, &mut found);
        assert!(!found.is_empty(), "nothing to attack in {list}");
        Target {
            name: name.to_owned(),
            salt: base64::engine::general_purpose::STANDARD
                .decode(list["salt"].as_str().unwrap())
                .unwrap(),
            digests: found.into_iter().collect(),
            recovered: BTreeSet::new(),
        }
    }
}

/// Runs the attack on every target in one pass over the candidates: each candidate
/// under each construction the attacker can compute without the key (the old salted
/// SHA-256 the giveaway words still use, plain SHA-256, and HMAC keyed with nothing or
/// with the salt). Returns the number of hashes computed; what each target gave up is
/// in its `recovered`.
fn attack(targets: &mut [Target], candidates: &[String]) -> usize {
    // Each construction's state after the salt, computed once and cloned per candidate.
    let states: Vec<(Sha256, Sha256, Hmac<Sha256>, Hmac<Sha256>)> = targets
        .iter()
        .map(|t| {
            let mut old = Sha256::new();
            old.update(&t.salt);
            old.update([0u8]);
            let mut empty = hmac_with(&[]);
            empty.update(&t.salt);
            empty.update(&[0u8]);
            let mut salted = hmac_with(&t.salt);
            salted.update(&[0u8]);
            (old, Sha256::new(), empty, salted)
        })
        .collect();
    let mut hashes = 0;
    for c in candidates {
        let c = c.as_bytes();
        for (t, (old, plain, empty, salted)) in targets.iter_mut().zip(&states) {
            let tries: [[u8; 32]; 4] = [
                old.clone().chain_update(c).finalize().into(),
                plain.clone().chain_update(c).finalize().into(),
                empty.clone().chain_update(c).finalize().into_bytes().into(),
                salted
                    .clone()
                    .chain_update(c)
                    .finalize()
                    .into_bytes()
                    .into(),
            ];
            hashes += tries.len();
            if tries.iter().any(|d| t.digests.binary_search(d).is_ok()) {
                t.recovered.insert(String::from_utf8_lossy(c).into_owned());
            }
        }
    }
    hashes
}

/// The same terms hashed as the old format did, for the control run.
fn old_format_list(project: &str) -> Value {
    let salt = [9u8; 16];
    let entries: Vec<Value> = SECRETS
        .iter()
        .map(|t| {
            let mut h = Sha256::new();
            h.update(salt);
            h.update([0u8]);
            h.update(t.as_bytes());
            let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            serde_json::json!({ "hash": hex })
        })
        .collect();
    serde_json::json!({
        "project": project,
        "salt": base64::engine::general_purpose::STANDARD.encode(salt),
        "entries": entries,
    })
}

fn check(list: &Path, key: Option<&Path>, text: &str) -> Output {
    let mut cmd = embargo();
    cmd.args(["guard", "--deny-list", list.to_str().unwrap()]);
    if let Some(key) = key {
        cmd.env("EMBARGO_GUARD_KEY_FILE", key);
    }
    let mut child = cmd
        .args(["check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn one_backend(backend: Backend, candidates: &[String]) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    cases(&store).await;
    // A second embargoed case, with a one-word and a two-word term.
    let alice = store.user_by_email("alice@example.org").await.unwrap();
    let viewer = store.viewer(alice.id).await.unwrap();
    let second = store
        .create_case(
            &viewer,
            embargo_store::NewReport {
                project: "CLOUDSTACK".parse().unwrap(),
                title: "Second".into(),
                description: "details".into(),
                reporter: Default::default(),
                channel: embargo_core::case::Channel::Api,
            },
        )
        .await
        .unwrap()
        .reference;
    assert_eq!(second.to_string(), "CLOUDSTACK-SEC-3");
    let patch = embargo_store::CasePatch {
        cve_id: Some("CVE-2025-0815".into()),
        sensitive_terms: Some(vec!["Quota bypass".into(), "tokenizer".into()]),
        ..Default::default()
    };
    store.update_case(&viewer, &second, patch).await.unwrap();

    let work = tempfile::tempdir().unwrap();
    let developer = work.path().join("developer.json");
    let keyed = work.path().join("keyed.json");
    let key = work.path().join("guard.key");
    export(&db, &developer, false);
    export(&db, &keyed, true);
    guard_key(&db, &key);
    #[cfg(unix)]
    for file in [&developer, &keyed, &key] {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }

    // The team's HTTP export: the same two lists, each read audited per embargoed case.
    let server = Server::start(db.store().await).await;
    let api = Api::new(&server.url, Some(&people.alice));
    let (status, http_developer) = api.get("/api/projects/CLOUDSTACK/deny-list").await;
    assert_eq!(status, 200);
    let (status, http_keyed) = api
        .get("/api/projects/CLOUDSTACK/deny-list?keyed=true")
        .await;
    assert_eq!(status, 200);
    server.stop().await;
    let audited: Vec<_> = store
        .audit_rows(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.what == "guard terms")
        .map(|r| (r.case.unwrap_or_default(), r.actor.unwrap_or_default()))
        .collect();
    assert_eq!(audited.len(), 4, "{audited:?}");
    assert!(audited.iter().all(
        |(c, a)| (c == "CLOUDSTACK-SEC-1" || c == "CLOUDSTACK-SEC-3") && a == "alice@example.org"
    ));

    let read =
        |p: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    let lists = [
        ("CLI developer", read(&developer)),
        ("CLI keyed", read(&keyed)),
        ("API developer", http_developer),
        ("API keyed", http_keyed),
    ];
    for (name, list) in &lists {
        // No label says what an entry is or how many words it has, and the keyed
        // entries come padded.
        if let Some(keyed) = list.get("keyed") {
            assert_eq!(keyed.as_array().unwrap().len() % 16, 0, "{name}");
        }
        let text = list.to_string();
        for label in [
            "\"kind\"",
            "\"words\"",
            "case-ref",
            "\"term\"",
            "giveaway\"",
        ] {
            assert!(!text.contains(label), "{name}: {label} in {text}");
        }
    }
    // The API's lists come from the same builder as the CLI's: attacked on one backend,
    // which keeps the test near 20 seconds in a debug build on a shared machine.
    let attacked = if matches!(backend, Backend::Sqlite) {
        &lists[..]
    } else {
        &lists[..2]
    };
    let mut targets: Vec<Target> = attacked
        .iter()
        .map(|(name, list)| Target::new(name, list))
        .collect();
    let started = Instant::now();
    let hashes = attack(&mut targets, candidates);
    eprintln!(
        "{backend:?}: {} candidates against {} lists, {hashes} hashes, {:.1?}",
        candidates.len(),
        targets.len(),
        started.elapsed()
    );
    let public: BTreeSet<String> = PUBLIC.iter().map(|p| (*p).to_owned()).collect();
    for t in &targets {
        eprintln!("{backend:?} {}: recovered {:?}", t.name, t.recovered);
        // Only the public giveaway words, never an embargoed term.
        assert!(
            t.recovered.is_subset(&public),
            "{} gave away {:?}",
            t.name,
            t.recovered.difference(&public).collect::<Vec<_>>()
        );
    }

    // Where the key is, each term is blocked; a developer's list blocks any unpublished
    // CVE ID and says what it leaves to the server-side hook and CI.
    for secret in [
        "CLOUDSTACK-SEC-1",
        "cloudstack sec 3",
        "CVE-2026-4242",
        "cve_2025_0815",
        "Console Name Field",
        "quota-bypass",
        "Tokenizer",
    ] {
        let text = format!("Tidy things\n\nrelated: {secret}");
        let out = check(&keyed, Some(&key), &text);
        assert_eq!(
            out.status.code(),
            Some(1),
            "not blocked with the key: {secret}"
        );
        let out = check(&developer, None, &text);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("checked by the server-side hook and CI"),
            "{stderr}"
        );
        let expected = if secret.to_lowercase().starts_with("cve") {
            1
        } else {
            0
        };
        assert_eq!(out.status.code(), Some(expected), "{secret}: {stderr}");
    }
    // The keyed list is refused without its key rather than checking nothing.
    let out = check(&keyed, None, "Tidy things");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs the project's guard key"));
    // The key is written once.
    let again = db
        .command(&[
            "guard",
            "key",
            "--project",
            "CLOUDSTACK",
            "--out",
            key.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!again.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_deny_lists_resist_a_dictionary_and_enumeration_attack() {
    let candidates = candidates("CLOUDSTACK");
    // The control: the same attack breaks a list hashed the old way, term for term.
    let started = Instant::now();
    let mut old = [Target::new("old format", &old_format_list("CLOUDSTACK"))];
    let hashes = attack(&mut old, &candidates);
    eprintln!(
        "control: {} candidates, {hashes} hashes, recovered {:?}, {:.1?}",
        candidates.len(),
        old[0].recovered,
        started.elapsed()
    );
    let all: BTreeSet<String> = SECRETS.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(old[0].recovered, all);
    for backend in BACKENDS {
        one_backend(backend, &candidates).await;
    }
}
