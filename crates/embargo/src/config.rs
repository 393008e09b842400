//! `embargo config`: print a commented example, or check a configuration by trying each
//! connection it names. Secrets are never printed.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::Output;
use crate::serve::ServeArgs;
use crate::settings::Settings;

/// `embargo config …`.
#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print a commented configuration file with every setting and its default.
    Example,
    /// Print the settings in effect (defaults, file, environment, flags), passwords in
    /// URLs masked.
    Show(ServeArgs),
    /// Check the configuration (file, environment and flags) and try each connection it
    /// names: the database, the SMTP relay, the IMAP mailbox, and CVE Services for each
    /// organisation with credentials.
    Check(ServeArgs),
}

/// One line of the check.
struct Outcome {
    what: &'static str,
    detail: Result<String, String>,
}

/// Runs `embargo config …`; `Ok(false)` when a check failed.
pub async fn run(cmd: ConfigCommand, out: &Output) -> Result<bool, String> {
    match cmd {
        ConfigCommand::Example => {
            print!("{}", crate::settings::example());
            Ok(true)
        }
        ConfigCommand::Show(args) => {
            let mut settings = crate::settings::resolve(&args)?;
            settings.database_url = settings
                .database_url
                .as_deref()
                .map(embargo_store::mask_url);
            for url in [&mut settings.smtp_url, &mut settings.imap_url] {
                *url = url
                    .as_deref()
                    .map(embargo_server::mail_endpoint::without_password);
            }
            let value = serde_json::to_value(&settings).map_err(|e| e.to_string())?;
            out.show(&value, || {
                value
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| format!("{k} = {v}"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default()
            });
            Ok(true)
        }
        ConfigCommand::Check(args) => {
            let settings = crate::settings::resolve(&args)?;
            let outcomes = check(&settings).await;
            let ok = outcomes.iter().all(|o| o.detail.is_ok());
            let rows: Vec<Value> = outcomes
                .iter()
                .map(|o| match &o.detail {
                    Ok(d) => json!({ "check": o.what, "ok": true, "detail": d }),
                    Err(e) => json!({ "check": o.what, "ok": false, "error": e }),
                })
                .collect();
            out.show(&json!({ "ok": ok, "checks": rows }), || {
                outcomes
                    .iter()
                    .map(|o| match &o.detail {
                        Ok(d) => format!("{:<9} ok: {d}", o.what),
                        Err(e) => format!("{:<9} FAILED: {e}", o.what),
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(ok)
        }
    }
}

async fn check(settings: &Settings) -> Vec<Outcome> {
    let mut outcomes = vec![Outcome {
        what: "database",
        detail: database(settings).await,
    }];
    let cve = cve_services(settings).await;
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.listen));
    outcomes.push(Outcome {
        what: "smtp",
        detail: match crate::serve::mailer(settings, &public_url) {
            Ok(None) => Ok("not configured: mail waits in the queue".to_owned()),
            Ok(Some(mailer)) => match mailer.check().await {
                Ok(()) => Ok(format!(
                    "{} takes mail from {}",
                    embargo_server::mail_endpoint::without_password(
                        settings.smtp_url.as_deref().unwrap_or_default()
                    ),
                    settings.mail_from
                )),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e),
        },
    });
    outcomes.push(Outcome {
        what: "imap",
        detail: match crate::serve::mailbox(settings) {
            Ok(None) => Ok("not configured: reports come by the MTA alias or the web form".into()),
            Ok(Some(imap)) => match embargo_server::imap::check(&imap).await {
                Ok(n) => Ok(format!("{imap:?} logged in, {n} messages in the mailbox")),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e),
        },
    });
    outcomes.push(Outcome {
        what: "cve",
        detail: cve,
    });
    outcomes
}

/// Asks CVE Services for each organisation's ID quota: the credentials work.
async fn cve_services(settings: &Settings) -> Result<String, String> {
    let Ok(store) = crate::store_args::open(settings).await else {
        return Err("the database could not be opened (see above)".to_owned());
    };
    let all = store.all_cve_credentials().await.map_err(|e| e.to_string());
    store.close().await;
    let all = all?;
    if all.is_empty() {
        return Ok("no organisation has CVE Services credentials".to_owned());
    }
    let mut said = Vec::new();
    for (org, credentials) in all {
        let url = credentials.api_url.clone();
        let client = embargo_server::cve_services::CveServices::new(credentials)
            .map_err(|e| format!("{org}: {e}"))?;
        let (quota, reserved, available) = client
            .quota()
            .await
            .map_err(|e| format!("{org} at {url}: {e}"))?;
        said.push(format!(
            "{org} at {url}: {reserved} of {quota} IDs reserved, {available} available"
        ));
    }
    Ok(said.join("; "))
}

/// Opens the store: the database answers and the master key opens its data key. A
/// missing SQLite file is reported, not created.
async fn database(settings: &Settings) -> Result<String, String> {
    let database = crate::store_args::database(settings).map_err(|e| e.to_string())?;
    if let embargo_store::Database::Sqlite(path) = &database
        && !path.exists()
    {
        return Err(format!(
            "no database at {} yet: `embargo init` creates it",
            path.display()
        ));
    }
    let store = crate::store_args::open(settings)
        .await
        .map_err(|e| e.to_string())?;
    let answered = store.ping().await.map_err(|e| e.to_string());
    store.close().await;
    answered.map(|()| format!("{database:?} opened with the master key"))
}
