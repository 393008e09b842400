//! Canned responses: the replies a team sends again and again, each editable before
//! sending and overridable per project. `{ref}` stands for the case reference.

/// A canned response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Canned {
    /// Its name, e.g. `needs-more-info`.
    pub name: String,
    /// The text, with `{ref}` for the case reference.
    pub text: String,
}

/// The names every project has, with the text used until the project sets its own.
pub const DEFAULTS: [(&str, &str); 6] = [
    (
        "acknowledgement",
        "Thank you for your report, which we track as {ref}. We will investigate and get back to you. Please keep it confidential until we announce a fix.",
    ),
    (
        "needs-more-info",
        "Thank you for your report {ref}. To reproduce it we need more: the affected version, the configuration, and the exact steps or a proof of concept.",
    ),
    (
        "out-of-scope",
        "Thank you for your report {ref}. What it describes is outside the project's security model: the behaviour needs access that the model already trusts. We are closing it as not a vulnerability.",
    ),
    (
        "scanner-output",
        "Thank you for {ref}. It is the output of an automated tool without analysis. Please tell us which finding you have verified, and how it can be exploited; we cannot triage raw scanner output.",
    ),
    (
        "invalid",
        "Thank you for your report {ref}. After investigation we found that it is not a vulnerability, and we are closing it.",
    ),
    (
        "duplicate",
        "Thank you for your report {ref}. The same issue was reported before and is being handled; we have noted your report and will credit it where it adds to the first.",
    ),
];

/// Whether `name` is one of the canned responses.
pub fn is_known(name: &str) -> bool {
    DEFAULTS.iter().any(|(n, _)| *n == name)
}

/// The project's responses: its own texts where it has them, the defaults elsewhere.
pub fn responses(overrides: &[Canned]) -> Vec<Canned> {
    DEFAULTS
        .iter()
        .map(|(name, text)| Canned {
            name: (*name).to_owned(),
            text: overrides
                .iter()
                .find(|c| c.name == *name)
                .map(|c| c.text.clone())
                .unwrap_or_else(|| (*text).to_owned()),
        })
        .collect()
}

/// A response's text for one case.
pub fn fill(text: &str, reference: &str) -> String {
    text.replace("{ref}", reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_only_their_own_text() {
        let own = [Canned {
            name: "invalid".into(),
            text: "Not a bug: {ref}.".into(),
        }];
        let all = responses(&own);
        assert_eq!(all.len(), 6);
        let invalid = all.iter().find(|c| c.name == "invalid").unwrap();
        assert_eq!(fill(&invalid.text, "X-SEC-1"), "Not a bug: X-SEC-1.");
        assert!(all[0].text.starts_with("Thank you"));
        assert!(is_known("scanner-output") && !is_known("rude"));
    }
}
