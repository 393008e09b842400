//! `embargo case …`: the team's everyday commands, through a running server.

use std::io::Read;

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::Output;
use crate::client::{Client, ClientError};
use embargo_core::checklist::MarkStatus;
use embargo_server::api::cve::CveStatus;
use embargo_store::{CaseDetail, CaseSummary, ChecklistEntry, ImportedCase, TimelineEvent};

/// Options of `embargo case`.
#[derive(Debug, Args)]
pub struct CaseArgs {
    /// The server's base URL.
    #[arg(long, env = "EMBARGO_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API token.
    #[arg(long, env = "EMBARGO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(subcommand)]
    pub command: CaseCommand,
}

/// The case commands.
#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// List the cases you may see.
    List {
        /// Only this project.
        #[arg(long)]
        project: Option<String>,
        /// Only this state.
        #[arg(long)]
        state: Option<String>,
        /// Only cases holding every word of this text (titles, reports, notes, CVE IDs),
        /// or the case with this reference.
        #[arg(long)]
        search: Option<String>,
        /// Every matching case, page after page (otherwise the newest 100).
        #[arg(long)]
        all: bool,
    },
    /// Show a case with its clocks.
    Show {
        /// The case reference, e.g. CLOUDSTACK-SEC-42.
        reference: String,
        /// Also print the timeline.
        #[arg(long)]
        timeline: bool,
    },
    /// File a new report.
    New {
        /// The project key.
        #[arg(long)]
        project: String,
        /// A short title.
        #[arg(long)]
        title: String,
        /// The report text; `-` reads it from stdin.
        #[arg(long, default_value = "")]
        description: String,
        /// The reporter's address.
        #[arg(long)]
        reporter_email: Option<String>,
        /// The reporter's name.
        #[arg(long)]
        reporter_name: Option<String>,
    },
    /// The case's CVE ID at CVE Services: reserve one, publish (or update) the record, or
    /// reject it.
    Cve {
        /// reserve, publish or reject.
        action: String,
        /// The case reference.
        reference: String,
        /// Why (reject).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Route a case to the project it concerns (the foundation team; before the
    /// announcement). It takes that project's next reference.
    Route {
        /// The case reference.
        reference: String,
        /// The project key to route it to.
        #[arg(long)]
        to: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Move a case to another state.
    Transition {
        /// The case reference.
        reference: String,
        /// The state to move to.
        to: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        /// The message to the reporter (invalid, duplicate).
        #[arg(long)]
        message: Option<String>,
        /// The case this one duplicates.
        #[arg(long)]
        duplicate_of: Option<String>,
        /// Why the announcement goes out before the embargo date.
        #[arg(long)]
        override_reason: Option<String>,
        /// Why the case counts as announced although Embargo has not sent the
        /// announcement to every list.
        #[arg(long)]
        not_sent_reason: Option<String>,
        /// The retrospective (to close): how similar vulnerabilities become less likely.
        #[arg(long)]
        retrospective: Option<String>,
        /// The root cause class (to close): input-validation, output-encoding, injection,
        /// authentication, authorization, cryptography, memory-safety, configuration,
        /// dependency, logic, other.
        #[arg(long)]
        root_cause: Option<String>,
        /// How it was found (to close): external-report, internal-review, automated-scan,
        /// fuzzing, other.
        #[arg(long)]
        found_by: Option<String>,
        /// How it was introduced: the commit or release, where known.
        #[arg(long)]
        introduced: Option<String>,
        /// The weakness, e.g. CWE-79.
        #[arg(long)]
        cwe: Option<String>,
        /// What would have prevented it.
        #[arg(long)]
        prevention: Option<String>,
    },
    /// Add an internal note.
    Note {
        /// The case reference.
        reference: String,
        /// The note; `-` reads it from stdin.
        text: String,
    },
    /// Set fields of a case.
    Set {
        /// The case reference.
        reference: String,
        /// A CVSS 3.1 or 4.0 vector.
        #[arg(long)]
        cvss: Option<String>,
        /// The reserved CVE ID.
        #[arg(long)]
        cve: Option<String>,
        /// When the embargo lifts (RFC 3339, e.g. 2026-12-01T14:00:00Z).
        #[arg(long)]
        embargo: Option<String>,
        /// An affected version or range (repeatable; replaces the list).
        #[arg(long)]
        affected: Vec<String>,
        /// A fixed version (repeatable; replaces the list).
        #[arg(long)]
        fixed: Vec<String>,
        /// A new title.
        #[arg(long)]
        title: Option<String>,
        /// A word or phrase that would give the case away in public (repeatable; replaces
        /// the list). The commit guard's deny list carries it as a salted hash only.
        #[arg(long = "sensitive-term")]
        sensitive_terms: Vec<String>,
        /// The reporter's OpenPGP public key (an armored file, `-` for stdin): mail to the
        /// reporter is encrypted to it from then on.
        #[arg(long = "reporter-key")]
        reporter_key: Option<std::path::PathBuf>,
        /// The archived public announcement (after the announcement): the CVE record's
        /// advisory reference.
        #[arg(long)]
        advisory_url: Option<String>,
    },
    /// File one case per finding of a markdown or JSON findings file, with likely duplicates.
    Import {
        /// The project key.
        #[arg(long)]
        project: String,
        /// The findings file; `-` reads stdin.
        file: std::path::PathBuf,
    },
    /// Show the fix on each branch, or record a stage with --branch and --stage, or
    /// upload a private patch (git format-patch output or a diff) with --patch.
    Fix {
        /// The case reference.
        reference: String,
        /// Trunk or a supported branch.
        #[arg(long, requires_ifs = [("stage", "patch")])]
        branch: Option<String>,
        /// not-affected, proposed, merged or released.
        #[arg(long, requires = "branch", conflicts_with = "patch")]
        stage: Option<String>,
        /// The fixing commit (merged).
        #[arg(long, requires = "stage")]
        commit: Option<String>,
        /// The release that carries it (released).
        #[arg(long, requires = "stage")]
        version: Option<String>,
        /// A link to the private review (proposed).
        #[arg(long, requires = "stage")]
        review: Option<String>,
        /// A private patch file to upload for the branch; `-` reads stdin.
        #[arg(long, requires = "branch")]
        patch: Option<std::path::PathBuf>,
        /// A note.
        #[arg(long)]
        note: Option<String>,
    },
    /// Record testing evidence: what was tested, links, and files.
    Testing {
        /// The case reference.
        reference: String,
        /// What was tested and how; `-` reads it from stdin.
        #[arg(long)]
        text: String,
        /// A link to a run or review (repeatable).
        #[arg(long = "link")]
        links: Vec<String>,
        /// A file to keep on the case (repeatable).
        #[arg(long = "file")]
        files: Vec<std::path::PathBuf>,
    },
    /// Show the checklist, or tick an item with --item.
    Checklist {
        /// The case reference.
        reference: String,
        /// The item to mark, e.g. testing or fix:4.18.
        #[arg(long)]
        item: Option<String>,
        /// done, not-applicable or open.
        #[arg(long, default_value = "done", requires = "item")]
        status: String,
        /// Commit ids, evidence links.
        #[arg(long, requires = "item")]
        note: Option<String>,
    },
}

/// Reads a file named on the command line; `-` is stdin.
fn read_file_arg(path: &std::path::Path) -> Result<Vec<u8>, String> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        return Ok(bytes);
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The fix board as lines: each branch's stage, then what fix-ready waits for.
fn fix_text(board: &embargo_store::FixBoard) -> String {
    let mut lines: Vec<String> = board
        .branches
        .iter()
        .map(|b| match &b.current {
            Some(c) => embargo_core::fix::describe(&b.branch, c.stage, &c.detail),
            None => format!("{}: nothing recorded", b.branch),
        })
        .collect();
    lines.push(format!(
        "testing evidence: {} recorded",
        board.evidence.len()
    ));
    lines.push(if board.ready {
        "ready: the case may move to fix-ready".to_owned()
    } else if board.open.is_empty() {
        "waiting for testing evidence".to_owned()
    } else {
        format!("waiting for the fix on {}", board.open.join(", "))
    });
    lines.join("\n")
}

fn text_arg(value: String) -> Result<String, String> {
    if value == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        Ok(text)
    } else {
        Ok(value)
    }
}

/// A file's text, or stdin's for `-`.
pub(crate) fn read_text(path: &std::path::Path) -> Result<String, String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading stdin: {e}"))?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn describe(e: ClientError) -> String {
    match &e {
        ClientError::Server { missing, .. } if !missing.is_empty() => {
            format!("{e}\nmissing: {}", missing.join(", "))
        }
        _ => e.to_string(),
    }
}

fn case_text(case: &CaseDetail) -> String {
    let mut lines = vec![
        format!("{}  [{}]  {}", case.reference, case.state, case.title),
        format!(
            "received {}   updated {}",
            case.received_at, case.updated_at
        ),
    ];
    if let Some(cvss) = &case.cvss {
        lines.push(format!(
            "CVSS {:.1} {} ({})",
            cvss.score, cvss.severity, cvss.vector
        ));
    }
    if let Some(cve) = &case.cve_id {
        lines.push(format!("CVE {cve}"));
    }
    if let Some(at) = &case.embargo_at {
        lines.push(format!("embargo until {at}"));
    }
    if let Some(o) = &case.embargo_override {
        lines.push(format!(
            "announced before the embargo by {} at {}: {}",
            o.by, o.at, o.reason
        ));
    }
    let clocks = &case.clocks;
    lines.push(format!(
        "clocks: acknowledgement {} (due {}){}{}",
        clocks.acknowledgement.status,
        clocks.acknowledgement.due_at,
        clocks
            .announcement
            .as_ref()
            .map(|a| format!(", announcement {} (due {})", a.status, a.due_at))
            .unwrap_or_default(),
        if clocks.stalled { ", STALLED" } else { "" },
    ));
    let next: Vec<&str> = case.next_states.iter().map(|s| s.as_str()).collect();
    lines.push(format!(
        "next: {}",
        if next.is_empty() {
            "-".to_owned()
        } else {
            next.join(", ")
        }
    ));
    lines.join("\n")
}

/// Runs `embargo case …`.
pub async fn run(args: CaseArgs, out: &Output) -> Result<(), String> {
    let client = Client::from_env(&args.url, args.token.as_deref()).map_err(describe)?;
    let call = |method: Method, path: String, body: Option<Value>| {
        let client = &client;
        async move {
            client
                .call(method, &path, body.as_ref())
                .await
                .map_err(describe)
        }
    };
    // The same, read as the server's view type `T` as well.
    macro_rules! call_as {
        ($t:ty, $method:expr, $path:expr, $body:expr) => {
            client
                .call_as::<$t>($method, &$path, $body.as_ref())
                .await
                .map_err(describe)
        };
    }
    match args.command {
        CaseCommand::List {
            project,
            state,
            search,
            all,
        } => {
            let mut query = Vec::new();
            if let Some(q) = search {
                query.push(format!("q={}", embargo_server::url::component(&q)));
            }
            if let Some(p) = project {
                query.push(format!("project={}", embargo_server::url::component(&p)));
            }
            if let Some(s) = state {
                query.push(format!("state={}", embargo_server::url::component(&s)));
            }
            let path = if query.is_empty() {
                "/api/cases".to_owned()
            } else {
                format!("/api/cases?{}", query.join("&"))
            };
            let (raw, cases) = if all {
                let raw = client.call_all(&path).await.map_err(describe)?;
                let cases = <Vec<CaseSummary> as serde::Deserialize>::deserialize(&raw)
                    .map_err(|e| describe(ClientError::Shape(e.to_string())))?;
                (raw, cases)
            } else {
                call_as!(Vec<CaseSummary>, Method::GET, path, None::<Value>)?
            };
            out.show(&raw, || {
                let rows: Vec<String> = cases
                    .iter()
                    .map(|c| {
                        format!(
                            "{}\t{}\t{}\t{}",
                            c.reference, c.state, c.received_at, c.title
                        )
                    })
                    .collect();
                if rows.is_empty() {
                    "no cases".to_owned()
                } else {
                    rows.join("\n")
                }
            });
        }
        CaseCommand::Show {
            reference,
            timeline,
        } => {
            let r = embargo_server::url::component(&reference);
            let (mut raw, case) = call_as!(
                CaseDetail,
                Method::GET,
                format!("/api/cases/{r}"),
                None::<Value>
            )?;
            let mut events = Vec::new();
            if timeline {
                let (raw_events, typed) = call_as!(
                    Vec<TimelineEvent>,
                    Method::GET,
                    format!("/api/cases/{r}/timeline"),
                    None::<Value>
                )?;
                events = typed;
                if let Some(obj) = raw.as_object_mut() {
                    obj.insert("timeline".into(), raw_events);
                }
            }
            out.show(&raw, || {
                let mut text = case_text(&case);
                for e in &events {
                    text.push_str(&format!(
                        "\n  {} {} {}{}",
                        e.at,
                        e.actor.as_deref().unwrap_or("embargo"),
                        e.kind,
                        e.to_state.map(|s| format!(" -> {s}")).unwrap_or_default()
                    ));
                    if let Some(d) = &e.detail {
                        text.push_str(&format!(": {d}"));
                    }
                }
                text
            });
        }
        CaseCommand::New {
            project,
            title,
            description,
            reporter_email,
            reporter_name,
        } => {
            let body = json!({
                "project": project,
                "title": title,
                "description": text_arg(description)?,
                "reporter": { "email": reporter_email, "name": reporter_name },
            });
            let (raw, case) = call_as!(CaseDetail, Method::POST, "/api/cases", Some(body))?;
            out.show(&raw, || format!("created {}", case.reference));
        }
        CaseCommand::Transition {
            reference,
            to,
            reason,
            message,
            duplicate_of,
            override_reason,
            not_sent_reason,
            retrospective,
            root_cause,
            found_by,
            introduced,
            cwe,
            prevention,
        } => {
            let details = match (root_cause, found_by) {
                (Some(root_cause), Some(found_by)) => json!({
                    "root_cause": root_cause, "found_by": found_by, "introduced": introduced,
                    "cwe": cwe, "prevention": prevention.unwrap_or_default(),
                }),
                _ => Value::Null,
            };
            let body = json!({
                "retrospective_details": details,
                "to": to,
                "reason": reason,
                "message_to_reporter": message,
                "duplicate_of": duplicate_of,
                "override_reason": override_reason,
                "not_sent_reason": not_sent_reason,
                "retrospective": retrospective,
            });
            let (raw, case) = call_as!(
                CaseDetail,
                Method::POST,
                format!(
                    "/api/cases/{}/transitions",
                    embargo_server::url::component(&reference)
                ),
                Some(body)
            )?;
            out.show(&raw, || format!("{} is now {}", case.reference, case.state));
        }
        CaseCommand::Cve {
            action,
            reference,
            reason,
        } => {
            let body = match action.as_str() {
                "reserve" | "publish" => None,
                "reject" => Some(json!({ "reason": reason.unwrap_or_default() })),
                other => return Err(format!("'{other}' is not reserve, publish or reject")),
            };
            let (raw, status) = call_as!(
                CveStatus,
                Method::POST,
                format!(
                    "/api/cases/{}/cve/{action}",
                    embargo_server::url::component(&reference)
                ),
                body.or(Some(json!({})))
            )?;
            out.show(&raw, || format!("{} {}", status.cve_id, status.state));
        }
        CaseCommand::Route {
            reference,
            to,
            reason,
        } => {
            let (raw, case) = call_as!(
                CaseDetail,
                Method::POST,
                format!(
                    "/api/cases/{}/route",
                    embargo_server::url::component(&reference)
                ),
                Some(json!({ "project": to, "reason": reason }))
            )?;
            out.show(&raw, || format!("{reference} is now {}", case.reference));
        }
        CaseCommand::Note { reference, text } => {
            let body = json!({ "text": text_arg(text)? });
            let event = call(
                Method::POST,
                format!(
                    "/api/cases/{}/notes",
                    embargo_server::url::component(&reference)
                ),
                Some(body),
            )
            .await?;
            out.show(&event, || "note added".to_owned());
        }
        CaseCommand::Set {
            reference,
            cvss,
            cve,
            embargo,
            affected,
            fixed,
            title,
            sensitive_terms,
            reporter_key,
            advisory_url,
        } => {
            let mut body = Map::new();
            if let Some(url) = advisory_url {
                body.insert("advisory_url".into(), json!(url));
            }
            if let Some(path) = reporter_key {
                body.insert("reporter_key".into(), json!(read_text(&path)?));
            }
            if let Some(v) = cvss {
                body.insert("cvss".into(), json!(v));
            }
            if let Some(v) = cve {
                body.insert("cve_id".into(), json!(v));
            }
            if let Some(v) = embargo {
                body.insert("embargo_at".into(), json!(v));
            }
            if let Some(v) = title {
                body.insert("title".into(), json!(v));
            }
            if !sensitive_terms.is_empty() {
                body.insert("sensitive_terms".into(), json!(sensitive_terms));
            }
            if !affected.is_empty() || !fixed.is_empty() {
                body.insert(
                    "versions".into(),
                    json!({ "affected": affected, "fixed": fixed }),
                );
            }
            let (raw, case) = call_as!(
                CaseDetail,
                Method::PATCH,
                format!("/api/cases/{}", embargo_server::url::component(&reference)),
                Some(Value::Object(body))
            )?;
            out.show(&raw, || case_text(&case));
        }
        CaseCommand::Import { project, file } => {
            let content = read_text(&file)?;
            let (raw, imported) = call_as!(
                Vec<ImportedCase>,
                Method::POST,
                format!(
                    "/api/projects/{}/import",
                    embargo_server::url::component(&project)
                ),
                Some(json!({ "content": content }))
            )?;
            out.show(&raw, || {
                imported
                    .iter()
                    .map(|c| {
                        let dups: Vec<String> = c
                            .duplicates
                            .iter()
                            .map(|p| {
                                format!("{} ({})", p.reference, serde_json::Value::from(p.score))
                            })
                            .collect();
                        if dups.is_empty() {
                            c.reference.to_string()
                        } else {
                            format!("{}\tlikely duplicate of {}", c.reference, dups.join(", "))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        CaseCommand::Fix {
            reference,
            branch,
            stage,
            commit,
            version,
            review,
            patch,
            note,
        } => {
            let r = embargo_server::url::component(&reference);
            let (raw, board) = match (branch, stage, patch) {
                (Some(branch), _, Some(file)) => {
                    let bytes = read_file_arg(&file)?;
                    let name = file
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .filter(|n| n != "-")
                        .unwrap_or_else(|| "fix.patch".into());
                    let mut path = format!(
                        "/api/cases/{r}/fixes/patch?branch={}&filename={}",
                        embargo_server::url::component(&branch),
                        embargo_server::url::component(&name)
                    );
                    if let Some(note) = &note {
                        path.push_str(&format!("&note={}", embargo_server::url::component(note)));
                    }
                    let value = client
                        .call_bytes(Method::POST, &path, "text/x-patch", bytes)
                        .await
                        .map_err(describe)?;
                    let board =
                        <embargo_store::FixBoard as serde::Deserialize>::deserialize(&value)
                            .map_err(|e| describe(ClientError::Shape(e.to_string())))?;
                    (value, board)
                }
                (Some(branch), Some(stage), None) => {
                    let body = json!({ "branch": branch, "stage": stage, "commit": commit, "version": version, "review_url": review, "note": note });
                    call_as!(
                        embargo_store::FixBoard,
                        Method::PUT,
                        format!("/api/cases/{r}/fixes"),
                        Some(body)
                    )?
                }
                _ => call_as!(
                    embargo_store::FixBoard,
                    Method::GET,
                    format!("/api/cases/{r}/fixes"),
                    None::<Value>
                )?,
            };
            out.show(&raw, || fix_text(&board));
        }
        CaseCommand::Testing {
            reference,
            text,
            links,
            files,
        } => {
            let r = embargo_server::url::component(&reference);
            let mut encoded = Vec::new();
            for file in &files {
                use base64::Engine;
                let bytes = read_file_arg(file)?;
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "evidence".into());
                encoded.push(json!({ "name": name, "content_base64": base64::engine::general_purpose::STANDARD.encode(bytes) }));
            }
            let body = json!({ "text": text_arg(text)?, "links": links, "files": encoded });
            let (raw, board) = call_as!(
                embargo_store::FixBoard,
                Method::POST,
                format!("/api/cases/{r}/testing"),
                Some(body)
            )?;
            out.show(&raw, || fix_text(&board));
        }
        CaseCommand::Checklist {
            reference,
            item,
            status,
            note,
        } => {
            let r = embargo_server::url::component(&reference);
            let (raw, entries) = match item {
                Some(item) => {
                    let body = json!({ "status": status, "note": note });
                    call_as!(
                        Vec<ChecklistEntry>,
                        Method::PUT,
                        format!(
                            "/api/cases/{r}/checklist/{}",
                            embargo_server::url::component(&item)
                        ),
                        Some(body)
                    )?
                }
                None => call_as!(
                    Vec<ChecklistEntry>,
                    Method::GET,
                    format!("/api/cases/{r}/checklist"),
                    None::<Value>
                )?,
            };
            out.show(&raw, || {
                entries
                    .iter()
                    .map(|e| {
                        let mark = match e.status {
                            MarkStatus::Done => "[x]",
                            MarkStatus::NotApplicable => "[-]",
                            MarkStatus::Open => "[ ]",
                        };
                        let who = e.by.as_ref().map(|b| format!(" — {b}")).unwrap_or_default();
                        format!("{mark} {} ({}){who}", e.label, e.key)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}
