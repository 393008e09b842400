//! `embargo export`: cases as files, through a running server (so that access is the
//! server's to decide and every read is audited): each case as the API shows it, and its
//! advisory as OSV, CSAF 2.0 and CVE JSON 5 (drafts until the announcement). Embargoed
//! content lands on disk, so the folder is made 0700 and each file 0600.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use reqwest::Method;
use serde_json::{Value, json};

use crate::Output;
use crate::client::{Client, ClientError};

/// Options of `embargo export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The server's base URL.
    #[arg(long, env = "EMBARGO_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API token.
    #[arg(long, env = "EMBARGO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The folder to write into (created private; files already there are not
    /// overwritten).
    #[arg(long)]
    pub output: PathBuf,
    /// One case (repeatable); every case you may see without it.
    #[arg(long = "case")]
    pub cases: Vec<String>,
    /// The formats, comma-separated: json (the API's view), osv, csaf, cve.
    #[arg(long, value_delimiter = ',', default_value = "json,osv,csaf,cve")]
    pub format: Vec<String>,
}

const FORMATS: [&str; 4] = ["json", "osv", "csaf", "cve"];

/// Creates a file readable by its owner only; refuses one that exists.
fn write_private(path: &Path, value: &Value) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `embargo export`.
pub async fn run(args: ExportArgs, out: &Output) -> Result<(), String> {
    if let Some(bad) = args.format.iter().find(|f| !FORMATS.contains(&f.as_str())) {
        return Err(format!("--format {bad}: say json, osv, csaf or cve"));
    }
    let client = Client::from_env(&args.url, args.token.as_deref()).map_err(|e| e.to_string())?;
    let references: Vec<String> = match args.cases.is_empty() {
        false => args.cases.clone(),
        true => client
            .call_all("/api/cases?limit=1000")
            .await
            .map_err(|e| e.to_string())?
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|c| c["ref"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    };
    embargo_store::create_private_dir(&args.output)
        .map_err(|e| format!("{}: {e}", args.output.display()))?;
    let bar = crate::progress::bar(references.len() as u64, out);
    let mut written = Vec::new();
    let mut skipped = Vec::new();
    for reference in &references {
        // A reference becomes a file name: only a well-formed one (no path in it), whether
        // typed with --case or listed by the server.
        let reference = &reference
            .parse::<embargo_core::reference::CaseRef>()
            .map_err(|e| format!("{reference}: {e}"))?
            .to_string();
        bar.set_message(reference.clone());
        let safe = embargo_server::url::component(reference);
        for format in &args.format {
            let path = match format.as_str() {
                "json" => format!("/api/cases/{safe}"),
                other => format!("/api/cases/{safe}/documents/{other}"),
            };
            match client.call(Method::GET, &path, None).await {
                Ok(value) => {
                    let name = match format.as_str() {
                        "json" => format!("{reference}.json"),
                        other => format!("{reference}.{other}.json"),
                    };
                    let file = args.output.join(&name);
                    write_private(&file, &value)?;
                    written.push(name);
                }
                // A document the case cannot have yet (no CNA identity, say) is skipped
                // with the server's reason; anything else stops the export.
                Err(ClientError::Server {
                    status, message, ..
                }) if status.as_u16() == 422 && format != "json" => {
                    skipped.push(json!({ "case": reference, "format": format, "reason": message }));
                }
                Err(e) => {
                    bar.abandon();
                    return Err(format!("{reference} ({format}): {e}"));
                }
            }
        }
        bar.inc(1);
    }
    bar.finish();
    out.show(
        &json!({
            "output": args.output,
            "cases": references.len(),
            "written": written,
            "skipped": skipped,
        }),
        || {
            let mut text = format!(
                "wrote {} files for {} cases into {}",
                written.len(),
                references.len(),
                args.output.display()
            );
            for s in &skipped {
                text.push_str(&format!(
                    "\n  skipped {} {}: {}",
                    s["case"].as_str().unwrap_or_default(),
                    s["format"].as_str().unwrap_or_default(),
                    s["reason"].as_str().unwrap_or_default()
                ));
            }
            text
        },
    );
    Ok(())
}
