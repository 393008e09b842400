//! How a project discloses, and how its organisation publishes: the settings the
//! disclosure and the published formats are made from.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A project's disclosure settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DisclosureSettings {
    /// The project's lists that get the announcement (dev, users, announce).
    pub lists: Vec<String>,
    /// The oss-security list, sent separately; none to leave it out.
    pub oss_security: Option<String>,
    /// How many days before the embargo time distributors are pre-notified.
    pub prenotify_days: i64,
    /// How many days distributors have to acknowledge a pre-notification.
    pub acknowledge_days: i64,
    /// Whether announcements are OpenPGP-signed (when the project has a team key).
    pub sign_announcements: bool,
    /// CHANGES/NEWS format: "markdown" or "text".
    pub changes_format: String,
    /// security.txt Contact URIs; the team's address is used when empty.
    pub security_contacts: Vec<String>,
    /// security.txt Policy URL.
    pub policy_url: Option<String>,
    /// security.txt Preferred-Languages.
    pub preferred_languages: Vec<String>,
    /// How long a security.txt stays valid, in days (RFC 9116 advises less than a year).
    pub security_txt_days: i64,
}

impl Default for DisclosureSettings {
    fn default() -> Self {
        DisclosureSettings {
            lists: Vec::new(),
            oss_security: Some("oss-security@lists.openwall.com".to_owned()),
            prenotify_days: 5,
            acknowledge_days: 2,
            sign_announcements: true,
            changes_format: "markdown".to_owned(),
            security_contacts: Vec::new(),
            policy_url: None,
            preferred_languages: vec!["en".to_owned()],
            security_txt_days: 180,
        }
    }
}

fn is_address(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !a.contains(char::is_whitespace)
        && !a.contains(['<', '>', ',', ';'])
        && a.len() <= 320
}

impl DisclosureSettings {
    /// Every list the announcement goes to, project lists first.
    pub fn all_lists(&self) -> Vec<String> {
        let mut lists = self.lists.clone();
        lists.extend(self.oss_security.iter().cloned());
        lists
    }

    /// What is wrong with the settings, if anything.
    pub fn problem(&self) -> Option<String> {
        if let Some(bad) = self.all_lists().iter().find(|a| !is_address(a)) {
            return Some(format!("'{bad}' is not a mail address"));
        }
        if !(0..=60).contains(&self.prenotify_days) || !(1..=30).contains(&self.acknowledge_days) {
            return Some(
                "pre-notification is 0 to 60 days ahead, acknowledged within 1 to 30".into(),
            );
        }
        if !matches!(self.changes_format.as_str(), "markdown" | "text") {
            return Some("the CHANGES format is markdown or text".into());
        }
        if !(1..=366).contains(&self.security_txt_days) {
            return Some("security.txt is valid for 1 to 366 days".into());
        }
        if let Some(bad) = self.security_contacts.iter().find(|c| {
            !(c.starts_with("mailto:") || c.starts_with("https://") || c.starts_with("tel:"))
        }) {
            return Some(format!("'{bad}' is not a mailto:, https: or tel: contact"));
        }
        None
    }
}

/// An organisation's publishing settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OrgSettings {
    /// The OSV id prefix: `x_` (a local database) unless the organisation registered one.
    pub osv_prefix: String,
    /// The CNA's organisation UUID in CVE Services.
    pub cna_org_id: Option<String>,
    /// The CNA's short name in CVE Services.
    pub cna_short_name: Option<String>,
    /// The vendor name in advisories; the organisation's name when unset.
    pub vendor: Option<String>,
    /// The publisher's namespace URL for CSAF, e.g. "https://www.apache.org".
    pub namespace: Option<String>,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            osv_prefix: "x_".to_owned(),
            cna_org_id: None,
            cna_short_name: None,
            vendor: None,
            namespace: None,
        }
    }
}

/// One step of a disclosure.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct DisclosureStep {
    /// Its place in the order.
    pub order: usize,
    /// When it runs (RFC 3339); none for steps the team takes after the announcement.
    pub at: Option<String>,
    /// prenotification, announcement, cve-record, osv, csaf, pages, or after.
    pub kind: String,
    /// What it does.
    pub description: String,
    /// Who gets the mail.
    pub recipients: Vec<String>,
    /// The mail's subject.
    pub subject: Option<String>,
    /// The mail's text, or the document, as it will go out.
    pub content: Option<String>,
    /// Why it would fail; a step with a problem blocks the schedule.
    pub problem: Option<String>,
}

/// What disclosing a case will do.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct DisclosurePlan {
    /// The case.
    #[serde(rename = "ref")]
    #[schema(value_type = String, example = "CLOUDSTACK-SEC-42")]
    pub reference: crate::reference::CaseRef,
    /// The embargo time (RFC 3339).
    pub embargo_at: Option<String>,
    /// No step has a problem: the disclosure can be scheduled.
    pub ready: bool,
    /// It has been scheduled.
    pub scheduled: bool,
    /// The steps, in order.
    pub steps: Vec<DisclosureStep>,
}
