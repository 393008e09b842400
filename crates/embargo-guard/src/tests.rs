//! Deny lists built and matched together: what a commit guard sees end to end.

use time::{Duration, OffsetDateTime};

use crate::denylist::{DenyInputs, DenyList, DenyListError};
use crate::key::GuardKey;
use crate::matcher::*;

fn inputs(any_cve: bool) -> DenyInputs {
    let mut giveaways = vec!["vulnerability".to_owned(), "security fix".to_owned()];
    if any_cve {
        giveaways.push("CVE-".to_owned());
    }
    DenyInputs {
        case_refs: vec!["CLOUDSTACK-SEC-42".into()],
        reserved_cves: vec!["CVE-2026-1234".into()],
        terms: vec![
            "console name field".into(),
            "one two three four five six seven eight nine".into(),
        ],
        giveaways,
        published_cves: vec!["CVE-2025-0001".into()],
    }
}

fn key() -> GuardKey {
    GuardKey::from_bytes([7; 32])
}

fn list(any_cve: bool, key: Option<&GuardKey>) -> DenyList {
    DenyList::build(
        "CLOUDSTACK",
        &inputs(any_cve),
        OffsetDateTime::now_utc(),
        Duration::days(7),
        key,
    )
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[test]
fn with_the_key_matches_every_form_and_respects_word_boundaries() {
    let k = key();
    let m = list(false, Some(&k)).matcher(now(), Some(&k)).unwrap();
    assert!(m.checks_embargoed());
    for (text, kind) in [
        ("Fix CVE-2026-1234", Kind::Cve),
        ("fix cve_2026_1234 in parser", Kind::Cve),
        ("Refs: CVE 2026 1234", Kind::Cve),
        ("see cloudstack-sec-42", Kind::CaseRef),
        ("Tidy the Console  Name Field", Kind::Term),
        // Longer than MAX_WORDS: its first eight words block.
        ("one two three four five six seven eight", Kind::Term),
    ] {
        let found = m.check(text);
        assert_eq!(found.len(), 1, "{text}");
        assert_eq!(found[0].kind, kind, "{text}");
        assert_eq!(found[0].shown, None, "{text}");
    }
    assert!(m.check("CVE-2026-12345 and CLOUDSTACK-SEC-421").is_empty());
    assert!(m.check("Tidy the console name fields").is_empty());
    let giveaway = &m.check("Line one\nA Security-Fix for x")[0];
    assert_eq!(giveaway.line, 2);
    assert_eq!(giveaway.shown.as_deref(), Some("security fix"));
    assert!(
        m.check("Mention CVE-2025-0001 and CVE-2020-9999")
            .is_empty()
    );
}

#[test]
fn a_developers_list_blocks_giveaways_and_says_what_it_cannot_check() {
    let m = list(true, None).matcher(now(), None).unwrap();
    assert!(!m.checks_embargoed());
    assert_eq!(m.check("A vulnerability")[0].kind, Kind::Giveaway);
    // Any unpublished CVE ID is still refused, the embargoed one among them.
    assert_eq!(m.check("Fix CVE-2026-1234")[0].kind, Kind::AnyCve);
    // What needs the key is not checked here.
    assert!(
        m.check("see CLOUDSTACK-SEC-42 console name field")
            .is_empty()
    );
}

#[test]
fn any_cve_allows_only_published_ones() {
    let k = key();
    let m = list(true, Some(&k)).matcher(now(), Some(&k)).unwrap();
    assert!(m.check("Backport of CVE-2025-0001").is_empty());
    assert_eq!(m.check("Upgrade for CVE-2020-9999")[0].kind, Kind::AnyCve);
    assert_eq!(m.check("Fix CVE-2026-1234")[0].kind, Kind::AnyCve);
}

#[test]
fn the_key_must_fit_the_list() {
    let k = key();
    let keyed = list(false, Some(&k));
    assert!(matches!(
        keyed.matcher(now(), None),
        Err(DenyListError::KeyNeeded)
    ));
    assert!(matches!(
        keyed.matcher(now(), Some(&GuardKey::from_bytes([8; 32]))),
        Err(DenyListError::KeyMismatch { .. })
    ));
    assert!(matches!(
        list(false, None).matcher(now(), Some(&k)),
        Err(DenyListError::NotKeyed)
    ));
}

#[test]
fn the_file_holds_no_term_in_clear_no_labels_and_expires() {
    let k = key();
    for l in [list(false, Some(&k)), list(false, None)] {
        let json = l.to_json().to_lowercase();
        for term in [
            "cloudstack-sec-42",
            "sec 42",
            "2026-1234",
            "2026 1234",
            "console",
            "vulnerability",
            "security",
            "\"kind\"",
            "\"words\"",
        ] {
            assert!(!json.contains(term), "{term} in {json}");
        }
        let back = DenyList::from_json(&l.to_json()).unwrap();
        let key = back.is_keyed().then_some(&k);
        assert!(matches!(
            back.matcher(now() + Duration::days(8), key),
            Err(DenyListError::Expired(_))
        ));
    }
    // Four terms, padded: the count says little.
    assert_eq!(list(false, Some(&k)).keyed.len(), 16);
    assert!(list(false, None).keyed.is_empty());
}

#[test]
fn an_old_list_is_named_as_such() {
    let old = r#"{"format":"embargo-deny-list","version":1,"entries":[]}"#;
    assert!(matches!(
        DenyList::from_json(old),
        Err(DenyListError::Unsupported(_, 1))
    ));
}
