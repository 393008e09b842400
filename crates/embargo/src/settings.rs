//! The settings of a server and of the commands that open the store, in layers, each
//! overriding the one before: the defaults, the TOML file (`--config`, `EMBARGO_CONFIG`),
//! the `EMBARGO_*` environment, then the flags (clap reads those two, a flag winning).
//! Every key of the file is a flag's name (`smtp_url` is `--smtp-url` and
//! `EMBARGO_SMTP_URL`). Secrets are never values of the file or of a flag: each comes
//! from a `*_file` setting or from the environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Every setting, resolved.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub data: PathBuf,
    pub database_url: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub listen: SocketAddr,
    pub metrics_listen: Option<SocketAddr>,
    pub log_format: LogFormat,
    pub public_url: Option<String>,
    pub mail_from: String,
    pub smtp_url: Option<String>,
    pub smtp_password_file: Option<PathBuf>,
    pub smtp_ca_file: Option<PathBuf>,
    pub imap_url: Option<String>,
    pub imap_password_file: Option<PathBuf>,
    pub imap_ca_file: Option<PathBuf>,
    pub imap_project: Option<String>,
    pub imap_interval: u64,
    pub job_lease: u64,
    pub trusted_proxies: Vec<String>,
    pub audit_checkpoints: Option<PathBuf>,
    pub audit_checkpoint_interval: u64,
    pub document_schemas: Option<PathBuf>,
    pub migrate: bool,
    pub attachment_limit: usize,
    pub max_message_bytes: usize,
    pub max_header_bytes: usize,
    pub max_mime_depth: usize,
    pub max_mime_parts: usize,
    pub max_decompressed_bytes: usize,
    pub max_header_fields: usize,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For people.
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

impl Default for Settings {
    fn default() -> Settings {
        let limits = embargo_mail::Limits::default();
        Settings {
            data: PathBuf::from("./embargo-data"),
            database_url: None,
            master_key_file: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: None,
            log_format: LogFormat::Text,
            public_url: None,
            mail_from: "security@localhost".to_owned(),
            smtp_url: None,
            smtp_password_file: None,
            smtp_ca_file: None,
            imap_url: None,
            imap_password_file: None,
            imap_ca_file: None,
            imap_project: None,
            imap_interval: 60,
            job_lease: 60,
            trusted_proxies: Vec::new(),
            audit_checkpoints: None,
            audit_checkpoint_interval: 300,
            document_schemas: None,
            migrate: false,
            attachment_limit: limits.attachment_bytes,
            max_message_bytes: limits.message_bytes,
            max_header_bytes: limits.header_bytes,
            max_mime_depth: limits.mime_depth,
            max_mime_parts: limits.mime_parts,
            max_decompressed_bytes: limits.decompressed_bytes,
            max_header_fields: limits.header_fields,
        }
    }
}

impl Settings {
    /// The limits of intake these settings give.
    pub fn limits(&self) -> embargo_mail::Limits {
        embargo_mail::Limits {
            attachment_bytes: self.attachment_limit,
            message_bytes: self.max_message_bytes,
            header_bytes: self.max_header_bytes,
            mime_depth: self.max_mime_depth,
            mime_parts: self.max_mime_parts,
            decompressed_bytes: self.max_decompressed_bytes,
            header_fields: self.max_header_fields,
        }
    }
}

/// Each setting's line of `embargo config example`: its key and what it is. Settings
/// with a default show it; the others are commented out with an example value.
const EXAMPLE: &[(&str, &str, &str)] = &[
    (
        "data",
        "Data directory: the SQLite database and the master key file.",
        "",
    ),
    (
        "database_url",
        "PostgreSQL instead of SQLite. Put a password in EMBARGO_DATABASE_URL, not here.",
        "\"postgres://embargo@db.internal/embargo\"",
    ),
    (
        "master_key_file",
        "The master key (else master.key in the data directory; EMBARGO_MASTER_KEY gives it\n# from the environment). Keep it out of the database's backups.",
        "\"/run/secrets/embargo-master-key\"",
    ),
    ("listen", "Address the HTTP server listens on.", ""),
    (
        "metrics_listen",
        "Prometheus metrics at /metrics on an address of their own; keep it private.",
        "\"127.0.0.1:9187\"",
    ),
    (
        "log_format",
        "Log lines as text, or json (one object per line, for a log collector).",
        "",
    ),
    (
        "public_url",
        "The public base URL, for links in mail (default: the listen address).",
        "\"https://security.example.org\"",
    ),
    ("mail_from", "The address mail comes from.", ""),
    (
        "smtp_url",
        "The relay for mail out: smtps://user@host:465 (TLS), smtp://user@host:587 (STARTTLS\n# required; ?tls=opportunistic or ?tls=none relax it), smtp://127.0.0.1:25 (local MTA).",
        "\"smtps://embargo@relay.example.org:465\"",
    ),
    (
        "smtp_password_file",
        "The relay's password (or EMBARGO_SMTP_PASSWORD).",
        "\"/run/secrets/smtp-password\"",
    ),
    (
        "smtp_ca_file",
        "PEM certificates trusted for the relay besides Mozilla's roots.",
        "\"/etc/embargo/relay-ca.pem\"",
    ),
    (
        "imap_url",
        "A mailbox polled for reports: imaps://user@host/INBOX, imap://user@host/INBOX\n# (STARTTLS required), plain only on loopback.",
        "\"imaps://security@imap.example.org/INBOX\"",
    ),
    (
        "imap_password_file",
        "The mailbox's password (or EMBARGO_IMAP_PASSWORD).",
        "\"/run/secrets/imap-password\"",
    ),
    (
        "imap_ca_file",
        "PEM certificates trusted for the IMAP server besides Mozilla's roots.",
        "\"/etc/embargo/imap-ca.pem\"",
    ),
    (
        "imap_project",
        "The project whose reports the mailbox receives.",
        "\"CLOUDSTACK\"",
    ),
    ("imap_interval", "Seconds between polls.", ""),
    (
        "job_lease",
        "Seconds before another server takes over a job of a server that died.",
        "",
    ),
    (
        "trusted_proxies",
        "Reverse proxies (addresses or CIDR) whose Forwarded / X-Forwarded-For is believed.",
        "",
    ),
    (
        "audit_checkpoints",
        "A file, off this machine's database, that authenticated audit checkpoints are\n# appended to.",
        "\"/var/lib/embargo-checkpoints/audit.log\"",
    ),
    (
        "audit_checkpoint_interval",
        "Seconds between audit checkpoints.",
        "",
    ),
    (
        "document_schemas",
        "A folder of the formats' official JSON schemas: cve5.json (CVE JSON 5.1, bundled),\n# osv.json, csaf.json with FIRST's cvss-v2.0.json, cvss-v3.0.json and cvss-v3.1.json.\n# The rehearsal and corrections check every document against those present.",
        "\"/usr/share/embargo/schemas\"",
    ),
    (
        "migrate",
        "Migrate an older database on start even without a backup of the last day (rather\n# say so once, with --migrate).",
        "",
    ),
    (
        "attachment_limit",
        "Attachments over this many bytes are held back (kept, not offered).",
        "",
    ),
    (
        "max_message_bytes",
        "Intake limits: over one, a message is quarantined whole, the limit named.",
        "",
    ),
    ("max_header_bytes", "", ""),
    ("max_mime_depth", "", ""),
    ("max_mime_parts", "", ""),
    (
        "max_decompressed_bytes",
        "Decrypted OpenPGP data is read up to this many bytes.",
        "",
    ),
    ("max_header_fields", "", ""),
];

/// A commented configuration file with every setting and its default.
pub fn example() -> String {
    let defaults = serde_json::to_value(Settings::default()).unwrap_or_default();
    let mut out = String::from(
        "# Embargo's configuration. Each key is also a flag (--smtp-url) and an environment\n\
         # variable (EMBARGO_SMTP_URL); the environment overrides this file, a flag both.\n\
         # Secrets never go here: give a *_file or set the environment variable.\n",
    );
    for (key, help, sample) in EXAMPLE {
        out.push('\n');
        if !help.is_empty() {
            out.push_str(&format!("# {help}\n"));
        }
        match defaults.get(*key) {
            Some(serde_json::Value::Null) | None => out.push_str(&format!("# {key} = {sample}\n")),
            Some(value) => out.push_str(&format!("{key} = {value}\n")),
        }
    }
    out
}

/// The configuration file given with `--config` or `EMBARGO_CONFIG`, checked once at
/// start: a missing file, bad TOML, an unknown key or a wrong type stops the command.
static FILE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Reads and checks the configuration file, for every later [`resolve`].
pub fn load_file(path: Option<&Path>) -> Result<(), String> {
    if let Some(path) = path {
        layers(Some(path), &Given::default())
            .extract::<Settings>()
            .map_err(|e| describe(&e))?;
    }
    let _ = FILE.set(path.map(Path::to_owned));
    Ok(())
}

/// The settings: defaults, the file, then what the environment and the flags gave.
pub fn resolve(given: &impl Serialize) -> Result<Settings, String> {
    let file = FILE.get().and_then(|f| f.as_deref());
    layers(file, given)
        .extract::<Settings>()
        .map_err(|e| describe(&e))
}

fn layers(file: Option<&Path>, given: &impl Serialize) -> Figment {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(path) = file {
        figment = figment.merge(Toml::file_exact(path));
    }
    figment.merge(Serialized::defaults(given))
}

/// A figment error as one line per problem, each naming the key and where it came from.
fn describe(error: &figment::Error) -> String {
    error
        .clone()
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = e
                .metadata
                .as_ref()
                .and_then(|m| m.source.as_ref())
                .map(|s| format!(" (in {s})"))
                .unwrap_or_default();
            let kind = match &e.kind {
                figment::error::Kind::UnknownField(found, _) => {
                    format!("unknown key `{found}` (`embargo config example` lists every setting)")
                }
                other => other.to_string().trim().to_owned(),
            };
            match key.is_empty() {
                true => format!("configuration: {kind}{source}"),
                false => format!("configuration: {key}: {kind}{source}"),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Nothing given: the layer under which the file alone is checked.
#[derive(Default, Serialize)]
struct Given {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_names_every_setting_and_reads_back() {
        let defaults = serde_json::to_value(Settings::default()).unwrap();
        let keys: Vec<&str> = EXAMPLE.iter().map(|(k, _, _)| *k).collect();
        for key in defaults.as_object().unwrap().keys() {
            assert!(keys.contains(&key.as_str()), "{key} is not in the example");
        }
        // Every line uncommented, the file reads back with no unknown key.
        let text: String = example()
            .lines()
            .filter_map(|l| match l.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") && !rest.ends_with("= ") => Some(rest),
                Some(_) => None,
                None => Some(l),
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let settings: Settings = Figment::from(Toml::string(&text)).extract().unwrap();
        assert_eq!(
            settings.smtp_url.as_deref(),
            Some("smtps://embargo@relay.example.org:465")
        );
    }
}
