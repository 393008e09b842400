//! Project settings that shape the procedure (supported branches, clocks) and the
//! advisories (where the product lives).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::cvss::Severity;

/// The procedure's clocks for one project, in days (SPEC §2 defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ClockSettings {
    /// The reporter is acknowledged within this many days of receipt.
    pub acknowledge_days: i64,
    /// Mitigation window proposed for a critical vulnerability.
    pub mitigation_days_critical: i64,
    /// Mitigation window proposed for a high-severity vulnerability.
    pub mitigation_days_high: i64,
    /// Mitigation window proposed for a medium or low severity vulnerability.
    pub mitigation_days_other: i64,
    /// The announcement clock warns this many days after receipt.
    pub announce_warn_days: i64,
    /// The announcement is overdue this many days after receipt.
    pub announce_overdue_days: i64,
    /// An open case with no activity for this many days is stalled.
    pub stall_days: i64,
}

impl Default for ClockSettings {
    fn default() -> Self {
        ClockSettings {
            acknowledge_days: 3,
            mitigation_days_critical: 15,
            mitigation_days_high: 21,
            mitigation_days_other: 30,
            announce_warn_days: 14,
            announce_overdue_days: 28,
            stall_days: 30,
        }
    }
}

/// Why clock settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockSettingsError {
    /// A period outside 1 to 365 days.
    #[error("{name} must be between 1 and 365 days, not {days}")]
    OutOfRange {
        /// The setting.
        name: &'static str,
        /// Its value.
        days: i64,
    },
    /// The warning comes after the announcement is overdue.
    #[error("announce_warn_days must not be after announce_overdue_days")]
    WarnAfterOverdue,
}

impl ClockSettings {
    /// The mitigation window to propose to the reporter for a severity band.
    pub fn mitigation_days(&self, severity: Severity) -> i64 {
        match severity {
            Severity::Critical => self.mitigation_days_critical,
            Severity::High => self.mitigation_days_high,
            _ => self.mitigation_days_other,
        }
    }

    /// Refuses settings that would make the clocks meaningless.
    pub fn validate(&self) -> Result<(), ClockSettingsError> {
        let all = [
            ("acknowledge_days", self.acknowledge_days),
            ("mitigation_days_critical", self.mitigation_days_critical),
            ("mitigation_days_high", self.mitigation_days_high),
            ("mitigation_days_other", self.mitigation_days_other),
            ("announce_warn_days", self.announce_warn_days),
            ("announce_overdue_days", self.announce_overdue_days),
            ("stall_days", self.stall_days),
        ];
        for (name, days) in all {
            if !(1..=365).contains(&days) {
                return Err(ClockSettingsError::OutOfRange { name, days });
            }
        }
        if self.announce_warn_days > self.announce_overdue_days {
            return Err(ClockSettingsError::WarnAfterOverdue);
        }
        Ok(())
    }
}

/// Checks a release branch name as git would accept it, loosely: no spaces or control characters.
pub fn is_branch_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.starts_with('-')
        && !s.contains("..")
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"~^:?*[\\".contains(c))
}

/// Where the product lives, for the machine-readable advisories: what scanners match a
/// vulnerability to. Every member is optional; the project's name and the organisation's
/// vendor stand in for the first two.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ProductSettings {
    /// The product's name in advisories, e.g. "Apache CloudStack"; the project's name
    /// when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The vendor, e.g. "Apache Software Foundation"; the organisation's when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The packages it ships as, as package URLs without a version, e.g.
    /// "pkg:maven/org.apache.cloudstack/cloud-server".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    /// Its CPE 2.3 names, where it has one, e.g. "cpe:2.3:a:apache:cloudstack:*:*:*:*:*:*:*:*".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cpes: Vec<String>,
    /// The public source repository, e.g. "https://github.com/apache/cloudstack".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

/// Why product settings were refused; each message says what a good value looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductSettingsError {
    /// A name that is empty, too long or holds control characters.
    #[error("the {0} name must be 1 to 200 characters without control characters")]
    BadName(&'static str),
    /// Not a package URL.
    #[error(
        "'{0}' is not a package URL: write pkg:TYPE/NAMESPACE/NAME without a version, e.g. pkg:maven/org.example/app or pkg:npm/%40scope/name"
    )]
    BadPackage(String),
    /// Not a CPE 2.3 name.
    #[error(
        "'{0}' is not a CPE 2.3 name: write cpe:2.3:PART:VENDOR:PRODUCT:VERSION:… with all 13 parts, e.g. cpe:2.3:a:example:app:*:*:*:*:*:*:*:*"
    )]
    BadCpe(String),
    /// Not an https (or git) URL.
    #[error(
        "the repository must be an https (or http) URL of at most 2000 bytes, e.g. https://github.com/example/app"
    )]
    BadRepository,
    /// Too many entries.
    #[error("at most 20 package URLs and 20 CPE names")]
    TooMany,
}

/// Whether `purl` is a package URL as the purl specification writes one, without a version:
/// `pkg:` then a lower-case type, then a name after a slash; percent-encoded, no spaces.
pub fn is_package_url(purl: &str) -> bool {
    let Some(rest) = purl.strip_prefix("pkg:") else {
        return false;
    };
    let Some((kind, path)) = rest.split_once('/') else {
        return false;
    };
    let kind_ok = kind.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+.-".contains(&b));
    let name = path.split(['?', '#']).next().unwrap_or_default();
    kind_ok
        && purl.len() <= 500
        && !name.trim_matches('/').is_empty()
        && !name.contains('@')
        && !purl.contains(|c: char| c.is_whitespace() || c.is_control())
}

/// Whether `cpe` is a formatted CPE 2.3 name: `cpe:2.3:` and eleven more parts, the part
/// one of a, o or h. Colons escaped with a backslash stay inside their part.
pub fn is_cpe23(cpe: &str) -> bool {
    let Some(rest) = cpe.strip_prefix("cpe:2.3:") else {
        return false;
    };
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in rest.chars() {
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
    parts.len() == 11
        && ["a", "o", "h", "*"].contains(&parts[0].as_str())
        && parts.iter().all(|p| !p.is_empty())
        && cpe.len() <= 500
        && !cpe.contains(|c: char| c.is_whitespace() || c.is_control())
}

impl ProductSettings {
    /// Refuses settings a scanner could not use.
    pub fn validate(&self) -> Result<(), ProductSettingsError> {
        let name_ok = |s: &str| {
            !s.trim().is_empty() && s.chars().count() <= 200 && !s.chars().any(char::is_control)
        };
        if self.product.as_deref().is_some_and(|s| !name_ok(s)) {
            return Err(ProductSettingsError::BadName("product"));
        }
        if self.vendor.as_deref().is_some_and(|s| !name_ok(s)) {
            return Err(ProductSettingsError::BadName("vendor"));
        }
        if self.packages.len() > 20 || self.cpes.len() > 20 {
            return Err(ProductSettingsError::TooMany);
        }
        if let Some(bad) = self.packages.iter().find(|p| !is_package_url(p)) {
            return Err(ProductSettingsError::BadPackage(bad.clone()));
        }
        if let Some(bad) = self.cpes.iter().find(|c| !is_cpe23(c)) {
            return Err(ProductSettingsError::BadCpe(bad.clone()));
        }
        if let Some(repo) = &self.repository {
            let ok = ["https://", "http://"]
                .iter()
                .any(|scheme| repo.len() > scheme.len() && repo.starts_with(scheme))
                && repo.len() <= 2000
                && !repo.contains(|c: char| c.is_whitespace() || c.is_control());
            if !ok {
                return Err(ProductSettingsError::BadRepository);
            }
        }
        Ok(())
    }

    /// The settings with blank entries dropped and names trimmed, as stored.
    pub fn tidied(mut self) -> ProductSettings {
        let blank = |s: &Option<String>| s.as_deref().is_some_and(|s| s.trim().is_empty());
        for field in [&mut self.product, &mut self.vendor, &mut self.repository] {
            if blank(field) {
                *field = None;
            }
            if let Some(s) = field.as_mut() {
                *s = s.trim().to_owned();
            }
        }
        for list in [&mut self.packages, &mut self.cpes] {
            list.retain(|s| !s.trim().is_empty());
            for s in list.iter_mut() {
                *s = s.trim().to_owned();
            }
        }
        self
    }
}

#[cfg(test)]
mod product_tests {
    use super::*;

    #[test]
    fn package_urls_and_cpes_are_checked() {
        for good in [
            "pkg:maven/org.apache.cloudstack/cloud-server",
            "pkg:npm/%40angular/core",
            "pkg:pypi/django",
            "pkg:cargo/embargo",
            "pkg:golang/github.com/example/app",
            "pkg:deb/debian/curl",
        ] {
            assert!(is_package_url(good), "{good}");
        }
        for bad in [
            "maven/org/x",
            "pkg:Maven/x",
            "pkg:npm/",
            "pkg:npm/left-pad@1.0.0",
            "pkg:npm/a b",
            "pkg:/x",
        ] {
            assert!(!is_package_url(bad), "{bad}");
        }
        assert!(is_cpe23("cpe:2.3:a:apache:cloudstack:*:*:*:*:*:*:*:*"));
        assert!(is_cpe23(r"cpe:2.3:a:ex\:ample:app:1.0:*:*:*:*:*:*:*"));
        assert!(!is_cpe23("cpe:2.3:a:apache:cloudstack"));
        assert!(!is_cpe23("cpe:/a:apache:cloudstack"));
        assert!(!is_cpe23("cpe:2.3:x:apache:cloudstack:*:*:*:*:*:*:*:*"));
        let settings = ProductSettings {
            repository: Some("ftp://example.org/x".into()),
            ..ProductSettings::default()
        };
        assert_eq!(
            settings.validate(),
            Err(ProductSettingsError::BadRepository)
        );
    }
}
