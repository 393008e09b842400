//! `embargo import PATH…`: published advisories (OSV JSON, CVE JSON 5), from files or
//! whole directories, for history and duplicate detection; with a progress bar.

use std::path::{Path, PathBuf};

use clap::Args;
use embargo_formats::{Advisory, cve5, osv};
use embargo_store::PublishedRecord;
use serde_json::{Value, json};

use crate::Output;
use crate::store_args::StoreArgs;

/// Options of `embargo import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or directories (searched recursively for .json files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn json_files(path: &Path, out: &mut Vec<PathBuf>, others: &mut u64) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            json_files(&entry, out, others)?;
        }
    } else if path.extension().is_some_and(|e| e == "json") {
        out.push(path.to_owned());
    } else {
        *others += 1;
    }
    Ok(())
}

/// Reads one file as a published advisory, or says why it is not one.
pub fn read_record(text: &str) -> Result<(&'static str, Advisory), String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if value.get("dataType").and_then(Value::as_str) == Some("CVE_RECORD") {
        let record = cve5::Record::parse(text).map_err(|e| e.to_string())?;
        return Ok(("cve5", record.to_advisory()));
    }
    if value.get("id").is_some() && value.get("modified").is_some() {
        return osv::from_osv(&value)
            .map(|a| ("osv", a))
            .map_err(|e| e.to_string());
    }
    Err("neither an OSV record nor a CVE JSON 5 record".into())
}

/// Runs `embargo import`; a file that is refused is named with its reason, and makes the
/// command fail after the rest is imported.
pub async fn run(args: ImportArgs, out: &Output) -> Result<(), String> {
    let mut files = Vec::new();
    let mut others = 0;
    for path in &args.paths {
        json_files(path, &mut files, &mut others)?;
    }
    let bar = crate::progress::bar(files.len() as u64, out);
    bar.set_message("reading");
    let mut records = Vec::with_capacity(files.len());
    let mut refused = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        match read_record(&text) {
            Ok((source, advisory)) => records.push(PublishedRecord {
                source,
                record_id: advisory.reference.clone(),
                cve_id: advisory.cve_id.clone(),
                title: advisory.title.clone(),
                summary: advisory.description.clone(),
                published: advisory.published,
                modified: advisory.updated,
                document: text,
            }),
            Err(why) => refused.push((file.display().to_string(), why)),
        }
        bar.inc(1);
    }
    let store = args.store.open().await.map_err(|e| e.to_string())?;
    bar.set_message("storing");
    bar.set_length(records.len() as u64);
    bar.set_position(0);
    let counts = store
        .import_published(&records, 200, |done| bar.set_position(done as u64))
        .await
        .map_err(|e| e.to_string())?;
    store.close().await;
    bar.finish_and_clear();
    let summary = json!({ "files": files.len(), "counts": counts, "refused": refused.iter().map(|(file, reason)| json!({ "file": file, "reason": reason })).collect::<Vec<_>>(), "not_json": others });
    out.show(&summary, || {
        let mut text = format!(
            "{} file(s): {} imported, {} updated, {} unchanged; {} refused; {} other file(s) skipped",
            files.len(),
            counts.imported,
            counts.updated,
            counts.unchanged,
            refused.len(),
            others
        );
        for (file, why) in &refused {
            text.push_str(&format!("\n  {file}: {why}"));
        }
        text
    });
    if refused.is_empty() {
        Ok(())
    } else {
        Err(format!("{} file(s) were refused", refused.len()))
    }
}
