//! Package URLs and CPE names as each format wants them: the OSV ecosystem and name, the
//! CVE record's collection URL and package name, a package URL or CPE name for one
//! version, and the `vers:` scheme of a version range.

/// A package URL's type, e.g. `maven` for `pkg:maven/org.example/app`.
pub fn purl_type(purl: &str) -> Option<&str> {
    let (kind, _) = purl.strip_prefix("pkg:")?.split_once('/')?;
    (!kind.is_empty()).then_some(kind)
}

fn purl_path(purl: &str) -> Option<&str> {
    let (_, path) = purl.strip_prefix("pkg:")?.split_once('/')?;
    let path = path.split(['?', '#', '@']).next().unwrap_or_default();
    (!path.is_empty()).then_some(path)
}

/// Undoes the percent-encoding of a package URL's name (`%40scope` is `@scope`).
fn decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The OSV ecosystem and package name for a package URL, where OSV knows the type.
pub fn ecosystem_of(purl: &str) -> Option<(&'static str, String)> {
    let kind = purl_type(purl)?;
    let path = decoded(purl_path(purl)?);
    let ecosystem = match kind {
        "maven" => "Maven",
        "npm" => "npm",
        "pypi" => "PyPI",
        "cargo" => "crates.io",
        "golang" => "Go",
        "gem" => "RubyGems",
        "nuget" => "NuGet",
        "composer" => "Packagist",
        "hex" => "Hex",
        "pub" => "Pub",
        "hackage" => "Hackage",
        "cran" => "CRAN",
        "swift" => "SwiftURL",
        _ => return None,
    };
    // Maven names are group:artifact; the others keep their path (npm scopes included).
    let name = if kind == "maven" {
        path.replacen('/', ":", 1)
    } else {
        path
    };
    (!name.is_empty()).then_some((ecosystem, name))
}

/// The CVE record's `collectionURL` and `packageName` for a package URL: the registry
/// that serves the package, and its name there.
pub fn collection_of(purl: &str) -> Option<(&'static str, String)> {
    let (_, name) = ecosystem_of(purl)?;
    let url = match purl_type(purl)? {
        "maven" => "https://repo.maven.apache.org/maven2",
        "npm" => "https://www.npmjs.com",
        "pypi" => "https://pypi.org",
        "cargo" => "https://crates.io",
        "golang" => "https://pkg.go.dev",
        "gem" => "https://rubygems.org",
        "nuget" => "https://www.nuget.org",
        "composer" => "https://packagist.org",
        "hex" => "https://hex.pm",
        "pub" => "https://pub.dev",
        "hackage" => "https://hackage.haskell.org",
        "cran" => "https://cran.r-project.org",
        _ => return None,
    };
    Some((url, name))
}

/// The package URL of one version: `pkg:maven/g/a@1.0`, the version percent-encoded.
pub fn purl_at(purl: &str, version: &str) -> String {
    let (base, qualifiers) = match purl.find(['?', '#']) {
        Some(at) => purl.split_at(at),
        None => (purl, ""),
    };
    let mut encoded = String::new();
    for b in version.bytes() {
        if b.is_ascii_alphanumeric() || b".-_~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{base}@{encoded}{qualifiers}")
}

/// The CPE 2.3 name of one version: the version part replaced, its punctuation escaped.
pub fn cpe_at(cpe: &str, version: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in cpe.chars() {
        match c {
            _ if escaped => {
                current.push(c);
                escaped = false;
            }
            '\\' => {
                current.push(c);
                escaped = true;
            }
            ':' => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    if parts.len() != 13 {
        return cpe.to_owned();
    }
    let mut quoted = String::new();
    for c in version.chars() {
        if !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    parts[5] = quoted;
    parts.join(":")
}

/// The `vers:` scheme for ranges of a package URL's versions: its type, else `generic`.
pub fn vers_scheme(purl: Option<&str>) -> &str {
    purl.and_then(purl_type).unwrap_or("generic")
}

/// Whether `v` is a SemVer 2.0 version (what an OSV SEMVER range needs).
pub fn is_semver(v: &str) -> bool {
    let (core, _build) = v.split_once('+').unwrap_or((v, ""));
    let (core, pre) = match core.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (core, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let number = |n: &&str| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && (n.len() == 1 || !n.starts_with('0'))
    };
    numbers.len() == 3
        && numbers.iter().all(number)
        && pre.is_none_or(|p| {
            p.split('.').all(|id| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_per_format() {
        let maven = "pkg:maven/org.apache.cloudstack/cloud-server";
        assert_eq!(
            ecosystem_of(maven),
            Some(("Maven", "org.apache.cloudstack:cloud-server".into()))
        );
        assert_eq!(
            ecosystem_of("pkg:npm/%40scope/name"),
            Some(("npm", "@scope/name".into()))
        );
        assert_eq!(ecosystem_of("pkg:generic/thing"), None);
        assert_eq!(
            collection_of(maven),
            Some((
                "https://repo.maven.apache.org/maven2",
                "org.apache.cloudstack:cloud-server".into()
            ))
        );
        assert_eq!(purl_at(maven, "4.18.0+x"), format!("{maven}@4.18.0%2Bx"));
        assert_eq!(
            purl_at("pkg:deb/debian/curl?arch=amd64", "7.1"),
            "pkg:deb/debian/curl@7.1?arch=amd64"
        );
        assert_eq!(
            cpe_at("cpe:2.3:a:apache:cloudstack:*:*:*:*:*:*:*:*", "4.18.0"),
            "cpe:2.3:a:apache:cloudstack:4.18.0:*:*:*:*:*:*:*"
        );
        assert_eq!(
            cpe_at("cpe:2.3:a:apache:cloudstack:*:*:*:*:*:*:*:*", "1.0+b"),
            "cpe:2.3:a:apache:cloudstack:1.0\\+b:*:*:*:*:*:*:*"
        );
        assert!(is_semver("1.2.3") && is_semver("1.0.0-rc.1+b5"));
        assert!(!is_semver("4.18.2.0") && !is_semver("01.2.3") && !is_semver("v1.2.3"));
        assert_eq!(vers_scheme(Some(maven)), "maven");
        assert_eq!(vers_scheme(None), "generic");
    }
}
