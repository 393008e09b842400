//! Property tests of the parsers that read what strangers send: email intake, CVSS
//! vectors, bulk-import findings, published OSV and CVE records, and the guard's
//! normaliser. Whatever the input, none may panic, and what they accept keeps its shape.
//! `PROPTEST_CASES` sets the number of cases (the default here is a short smoke run; the
//! bench README gives the long run's command).

use embargo_core::cvss::Cvss;
use embargo_guard::{DenyInputs, DenyList};
use embargo_mail::{Inbound, Limits};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The real clients' corpus, read once.
fn world_corpus() -> &'static [Vec<u8>] {
    static CORPUS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus-world");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read(p).unwrap()).collect()
    })
}

/// Header lines, MIME parts and encodings, shuffled and broken in every way.
fn message() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just("From: Fay <fay@finder.example>".to_owned()),
        Just("To: security@cloudstack.example".to_owned()),
        "Subject: [^\r\n]{0,40}".prop_map(|s| s),
        Just("Subject: =?utf-8?B?w6lsw6ll?=".to_owned()),
        Just("Subject: =?iso-8859-1?Q?caf=E9?=".to_owned()),
        Just("Message-ID: <a@b>".to_owned()),
        Just("In-Reply-To: <x@y>".to_owned()),
        Just("MIME-Version: 1.0".to_owned()),
        Just("Content-Type: multipart/mixed; boundary=B".to_owned()),
        Just(
            "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=B"
                .to_owned()
        ),
        Just("Content-Type: text/html; charset=utf-8".to_owned()),
        Just("Content-Type: text/plain; charset=bogus".to_owned()),
        Just("Content-Transfer-Encoding: base64".to_owned()),
        Just("Content-Transfer-Encoding: quoted-printable".to_owned()),
        Just("Auto-Submitted: auto-replied".to_owned()),
        "[ -~]{0,60}".prop_map(|s| s),
    ];
    let body = prop_oneof![
        "[ -~\r\n]{0,200}".prop_map(|s| s.into_bytes()),
        Just(b"--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n".to_vec()),
        Just(b"--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"p.bin\"\r\n\r\n!!notbase64==\r\n--B".to_vec()),
        Just(b"-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA+not+really\r\n-----END PGP MESSAGE-----\r\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..200),
    ];
    (proptest::collection::vec(header, 0..10), body).prop_map(|(headers, body)| {
        let mut raw = headers.join("\r\n").into_bytes();
        raw.extend_from_slice(b"\r\n\r\n");
        raw.extend_from_slice(&body);
        raw
    })
}

/// A CVSS 3.1 or 4.0 base vector with every metric chosen.
fn base_vector() -> impl Strategy<Value = String> {
    let pick = |values: &'static [&'static str]| proptest::sample::select(values);
    let v3 = (
        pick(&["N", "A", "L", "P"]),
        pick(&["L", "H"]),
        pick(&["N", "L", "H"]),
        pick(&["N", "R"]),
        pick(&["U", "C"]),
        pick(&["H", "L", "N"]),
        pick(&["H", "L", "N"]),
        pick(&["H", "L", "N"]),
    )
        .prop_map(|(av, ac, pr, ui, s, c, i, a)| {
            format!("CVSS:3.1/AV:{av}/AC:{ac}/PR:{pr}/UI:{ui}/S:{s}/C:{c}/I:{i}/A:{a}")
        });
    let v4 = (
        (pick(&["N", "A", "L", "P"]), pick(&["L", "H"]), pick(&["N", "P"]), pick(&["N", "L", "H"]), pick(&["N", "P", "A"])),
        (pick(&["H", "L", "N"]), pick(&["H", "L", "N"]), pick(&["H", "L", "N"])),
        (pick(&["H", "L", "N"]), pick(&["H", "L", "N"]), pick(&["H", "L", "N"])),
    )
        .prop_map(|((av, ac, at, pr, ui), (vc, vi, va), (sc, si, sa))| {
            format!("CVSS:4.0/AV:{av}/AC:{ac}/AT:{at}/PR:{pr}/UI:{ui}/VC:{vc}/VI:{vi}/VA:{va}/SC:{sc}/SI:{si}/SA:{sa}")
        });
    prop_oneof![v3, v4]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn intake_parses_any_message_without_panicking(raw in message()) {
        let limits = Limits { attachment_bytes: 64, ..Limits::default() };
        if let Ok(inbound) = Inbound::parse(&raw, &limits) {
            // Attachments over the limit are held back, never dropped or cut.
            for a in &inbound.attachments {
                prop_assert_eq!(a.held_back, a.bytes.len() > 64);
            }
        }
    }

    #[test]
    fn intake_survives_random_bytes(raw in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Inbound::parse(&raw, &Limits::default());
    }

    /// Real clients' messages (`tests/corpus-world`) with bytes flipped, cut, spliced and
    /// repeated: parsing never panics, and what it reads stays within the limits.
    #[test]
    fn intake_survives_mangled_real_mail(
        pick in 0usize..1000,
        edits in proptest::collection::vec((0usize..100_000, any::<u8>(), 0u8..4), 1..24),
    ) {
        let corpus = world_corpus();
        let mut raw = corpus[pick % corpus.len()].clone();
        for (at, byte, how) in edits {
            if raw.is_empty() {
                break;
            }
            let at = at % raw.len();
            match how {
                0 => raw[at] = byte,
                1 => raw.insert(at, byte),
                2 => { raw.remove(at); }
                _ => {
                    let end = (at + usize::from(byte)).min(raw.len());
                    let copy = raw[at..end].to_vec();
                    raw.splice(at..at, copy);
                }
            }
        }
        let limits = Limits { mime_parts: 200, mime_depth: 20, ..Limits::default() };
        if let Ok(inbound) = Inbound::parse(&raw, &limits) {
            prop_assert!(!inbound.from_email.is_empty());
            prop_assert!(!inbound.text.is_empty() || !inbound.attachments.is_empty() || !inbound.subject.is_empty());
        }
    }

    #[test]
    fn cvss_refuses_or_scores_any_text(text in "(CVSS:[0-9.]{1,4}/)?([A-Za-z]{1,3}:[A-Za-z]{0,2}/?){0,14}") {
        if let Ok(cvss) = Cvss::parse(&text) {
            prop_assert!((0.0..=10.0).contains(&cvss.score()), "{} scored {}", text, cvss.score());
        }
    }

    #[test]
    fn every_base_vector_scores_within_bounds_and_round_trips(vector in base_vector()) {
        let cvss = Cvss::parse(&vector).map_err(|e| TestCaseError::fail(format!("{vector}: {e}")))?;
        prop_assert!((0.0..=10.0).contains(&cvss.score()));
        prop_assert_eq!(cvss.vector(), vector.as_str());
        let again = Cvss::parse(cvss.vector()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again.score(), cvss.score());
    }

    #[test]
    fn findings_import_never_panics(text in "(#{1,3} [^\n]{0,30}\n|[^\n]{0,40}\n|\\{|\\[|\"title\": \"[a-z]{0,8}\"|,|\\]|\\}){0,20}") {
        if let Ok(findings) = embargo_core::findings::parse(&text) {
            for f in findings {
                prop_assert!(!f.title.trim().is_empty());
            }
        }
    }

    #[test]
    fn osv_and_cve_import_never_panic(json in "\\{(\"(id|schema_version|summary|details|affected|dataType|dataVersion|cveMetadata|containers|cveId|state)\": (\"[^\"]{0,12}\"|\\[\\]|\\{\\}|[0-9]{1,3}|null),? ?){0,8}\\}") {
        let _ = embargo_formats::cve5::Record::parse(&json);
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&json) {
            let _ = embargo_formats::osv::from_osv(&value);
        }
    }

    #[test]
    fn the_normaliser_is_idempotent_and_finds_what_it_was_given(term in "[A-Za-zÀ-ÿ0-9 ._-]{1,24}", noise in "[ -~\n]{0,80}") {
        let normal = embargo_guard::normalize::normalize_term(&term);
        prop_assert_eq!(embargo_guard::normalize::normalize_term(&normal), normal.clone());
        if !normal.is_empty() {
            let inputs = DenyInputs { terms: vec![term.clone()], ..DenyInputs::default() };
            let key = embargo_guard::GuardKey::from_bytes([3; 32]);
            let list = DenyList::build("CLOUDSTACK", &inputs, time::OffsetDateTime::now_utc(), time::Duration::days(1), Some(&key));
            let matcher = list.matcher(time::OffsetDateTime::now_utc(), Some(&key)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let text = format!("{noise}\n{term}\n{noise}");
            prop_assert!(!matcher.check(&text).is_empty(), "{:?} not found in {:?}", term, text);
        }
    }
}
