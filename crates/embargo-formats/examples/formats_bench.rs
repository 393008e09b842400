//! Export and import rates of the published formats, measured side by side in one run
//! (run by `bench/formats`; not a test). Usage: formats_bench N CORPUS_DIR
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use embargo_core::case::{Credit, CreditRole, Product, VersionRange};
use embargo_core::cvss::Cvss;
use embargo_formats::{Advisory, Reference, TimelineEntry, csaf, cve5, osv};
use serde_json::Value;
use time::macros::datetime;

fn advisory(i: usize) -> Advisory {
    Advisory {
        reference: format!("CLOUDSTACK-SEC-{i}"),
        cve_id: Some(format!("CVE-2026-{}", 10000 + i)),
        title: format!("Stored XSS number {i} in the instance console"),
        vendor: "Apache Software Foundation".into(),
        product: "Apache CloudStack".into(),
        description: "The console shows an instance's name without escaping it, so a user who may name instances can run script in an administrator's browser. ".repeat(3),
        mitigation: "Upgrade to 4.19.1.2 or 4.20.0.1.".into(),
        workarounds: "Restrict who may rename instances.".into(),
        cwe: Some("CWE-79".into()),
        cvss: vec![Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:N").unwrap()],
        products: vec![Product {
            vendor: String::new(),
            product: String::new(),
            package_url: Some("pkg:maven/org.apache.cloudstack/cloud-server".into()),
            ranges: vec![VersionRange { introduced: "4.0.0".into(), fixed: Some("4.19.1.2".into()), last_affected: None }],
        }],
        affected: vec!["4.0.0 through 4.19.1.1".into()],
        fixed: vec!["4.19.1.2".into()],
        coordinates: Default::default(),
        git: Default::default(),
        credits: vec![Credit { name: "Fay Finder".into(), role: CreditRole::Finder }],
        references: vec![Reference { url: format!("https://lists.apache.org/thread/{i}"), tags: vec!["vendor-advisory".into()] }],
        timeline: vec![TimelineEntry { at: datetime!(2026-11-02 09:00 UTC), event: "Reported".into() }],
        published: datetime!(2026-12-01 14:00 UTC),
        updated: datetime!(2026-12-01 14:00 UTC),
    }
}

fn rate(n: usize, f: impl FnMut(usize)) -> f64 {
    let mut f = f;
    let started = Instant::now();
    for i in 0..n {
        f(i);
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let corpus = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "../shared/conformance/corpus".into());
    let advisories: Vec<Advisory> = (0..n).map(advisory).collect();
    let cna = cve5::Cna {
        org_id: "f0158376-9dc2-43b6-827c-5f631a4d8d09".into(),
        short_name: "apache".into(),
    };
    let publisher = csaf::Publisher {
        name: "Apache Software Foundation".into(),
        namespace: "https://www.apache.org".into(),
        canonical_url: Some(
            "https://security.example.org/advisories/CLOUDSTACK-SEC-12/csaf/cve-2024-45219.json"
                .into(),
        ),
    };
    let sample = cve5::Record::from_advisory(&advisories[0], &cna)
        .unwrap()
        .to_json();
    let mut bytes = 0usize;
    let baseline = rate(n, |_| {
        bytes += serde_json::to_string(&sample).unwrap().len()
    });
    let cve = rate(n, |i| {
        bytes += cve5::Record::from_advisory(&advisories[i], &cna)
            .unwrap()
            .to_json()
            .to_string()
            .len()
    });
    let osv_rate = rate(n, |i| {
        bytes += osv::to_osv(&advisories[i], "x_").unwrap().to_string().len()
    });
    let csaf_rate = rate(n, |i| {
        bytes += csaf::to_csaf(&advisories[i], &publisher)
            .unwrap()
            .to_string()
            .len()
    });

    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(&corpus)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let rounds = (20_000 / files.len().max(1)).max(1);
    let total = files.len() * rounds;
    let parse_only = rate(total, |i| {
        bytes += serde_json::from_str::<Value>(&files[i % files.len()])
            .unwrap()
            .as_object()
            .map_or(0, |o| o.len())
    });
    let import = rate(total, |i| {
        let doc: Value = serde_json::from_str(&files[i % files.len()]).unwrap();
        bytes += osv::from_osv(&doc).unwrap().title.len();
    });
    println!(
        "\nEmbargo formats benchmark ({n} advisories exported per format; the corpus's {} OSV records read {rounds} times)\n",
        files.len()
    );
    println!("| operation                                     |      docs/s | ratio to baseline |");
    println!("|-----------------------------------------------|-------------|-------------------|");
    println!(
        "| baseline: serialise a ready CVE record        | {baseline:>11.0} |              1.00 |"
    );
    for (name, r) in [
        ("CVE JSON 5.1: make, check, serialise", cve),
        ("OSV: make, serialise", osv_rate),
        ("CSAF 2.0: make, 27 mandatory tests, serialise", csaf_rate),
    ] {
        println!("| {name:<45} | {r:>11.0} | {:>17.2} |", r / baseline);
    }
    println!(
        "| baseline: parse a corpus record (JSON only)   | {parse_only:>11.0} |              1.00 |"
    );
    println!(
        "| import: parse and read as an advisory         | {import:>11.0} | {:>17.2} |",
        import / parse_only
    );
    eprintln!("({bytes} bytes handled)");
}
