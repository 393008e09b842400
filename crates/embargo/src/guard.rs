//! `embargo guard …` and `embargo versions`: the commit guard and affected versions from git.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use embargo_core::reference::ProjectKey;
use embargo_guard::git::{self, ADVICE, Hook, Offence};
use embargo_guard::key::{create_private, replace_private};
use embargo_guard::{DenyList, Finding, GuardKey, Matcher, NOT_CHECKED_HERE};
use serde_json::{Value, json};

use crate::Output;
use crate::store_args::StoreArgs;

/// Options of `embargo guard`.
#[derive(Debug, Args)]
pub struct GuardArgs {
    /// The exported deny list to check against.
    #[arg(long, env = "EMBARGO_DENY_LIST", global = true)]
    pub deny_list: Option<PathBuf>,
    /// The project's guard key, which a list exported with --keyed needs (the server-side
    /// hook and CI only; never on a developer's clone).
    #[arg(long, env = "EMBARGO_GUARD_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: GuardCommand,
}

/// Which hook to install.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HookName {
    /// On developers' clones: checks each commit message.
    CommitMsg,
    /// On the public repository: checks each push.
    PreReceive,
}

/// The guard's commands.
#[derive(Debug, Subcommand)]
pub enum GuardCommand {
    /// Write a project's deny list (hashes only) from the data directory or database: by
    /// default a developer's list (the giveaway words); with --keyed the list for the
    /// server-side hook and CI, which also checks embargoed references, CVE IDs and
    /// sensitive terms and needs the guard key.
    Export {
        /// The project key.
        #[arg(long)]
        project: String,
        /// Where to write it, readable by its owner only (default: stdout).
        #[arg(long)]
        output: Option<PathBuf>,
        /// The list for the server-side hook and CI, keyed under the project's guard key.
        #[arg(long)]
        keyed: bool,
        /// Days until the list expires.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(i64).range(1..=90))]
        days: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Write the project's guard key, once, to a new file readable by its owner only, for
    /// the server-side hook and CI (--key-file or EMBARGO_GUARD_KEY_FILE there).
    Key {
        /// The project key.
        #[arg(long)]
        project: String,
        /// The file to create; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Check text (a pull-request title or body, a branch name, a changelog fragment).
    Check {
        /// The file to check; `-` or nothing reads stdin.
        file: Option<PathBuf>,
    },
    /// For a git commit-msg hook: check the message file git passes.
    CommitMsg {
        /// The message file.
        file: PathBuf,
    },
    /// For a git pre-receive hook: check the pushed ref updates read from stdin.
    PreReceive {
        /// Also check the lines the pushed commits add.
        #[arg(long)]
        diffs: bool,
    },
    /// For CI: check every commit of a range; exits 1 when any offends.
    Scan {
        /// What `git log` takes, e.g. origin/main..HEAD.
        #[arg(required = true)]
        range: Vec<String>,
        /// The repository.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// Also check the lines the commits add.
        #[arg(long)]
        diffs: bool,
    },
    /// Install the hooks into a repository, pointing at a deny list.
    Install {
        /// The repository (a clone, or the bare public repository).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// Which hooks (default: commit-msg for a clone, pre-receive for a bare repository).
        #[arg(long = "hook")]
        hooks: Vec<HookName>,
        /// Have pre-receive check diffs too.
        #[arg(long)]
        diffs: bool,
    },
}

/// How a guard run ended: clean, offences found, or unable to check.
pub enum Verdict {
    /// Nothing found.
    Clean,
    /// Something found; exit 1.
    Offending,
}

fn load_matcher(path: Option<&Path>, key_file: Option<&Path>) -> Result<Matcher, String> {
    let path = path.ok_or("give the deny list with --deny-list FILE or EMBARGO_DENY_LIST")?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the deny list {}: {e}", path.display()))?;
    let list = DenyList::from_json(&text).map_err(|e| e.to_string())?;
    let key = key_file
        .map(GuardKey::read)
        .transpose()
        .map_err(|e| e.to_string())?;
    list.matcher(time::OffsetDateTime::now_utc(), key.as_ref())
        .map_err(|e| e.to_string())
}

/// Says, on stderr so that hooks show it and JSON stays clean, which check a developer's
/// list cannot make.
fn note_unchecked(matcher: &Matcher) {
    if !matcher.checks_embargoed() {
        eprintln!("embargo guard: not checked here: {NOT_CHECKED_HERE}");
    }
}

fn findings_json(findings: &[Finding]) -> Value {
    json!(findings
        .iter()
        .map(|f| json!({ "kind": f.kind, "line": f.line, "matched": f.shown, "message": f.describe() }))
        .collect::<Vec<_>>())
}

fn report(out: &Output, offences: &[Offence], to_stderr: bool) -> Verdict {
    let value = json!(offences
        .iter()
        .map(|o| json!({ "subject": o.subject, "place": o.place, "findings": findings_json(&o.findings) }))
        .collect::<Vec<_>>());
    if out.json {
        out.show(&value, String::new);
    } else if !offences.is_empty() {
        let text = format!(
            "embargo guard: refused\n{}\n\n{ADVICE}",
            offences
                .iter()
                .map(Offence::describe)
                .collect::<Vec<_>>()
                .join("\n")
        );
        if to_stderr {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }
    if offences.is_empty() {
        Verdict::Clean
    } else {
        Verdict::Offending
    }
}

/// Runs `embargo guard …`.
pub async fn run(args: GuardArgs, out: &Output) -> Result<Verdict, String> {
    let deny_list = args.deny_list.as_deref();
    let key_file = args.key_file.as_deref();
    match args.command {
        GuardCommand::Export {
            project,
            output,
            keyed,
            days,
            store,
        } => {
            let key: ProjectKey = project
                .parse()
                .map_err(|e: embargo_core::reference::ReferenceError| e.to_string())?;
            let store = store.open().await.map_err(|e| e.to_string())?;
            let terms = store
                .guard_terms(None, &key)
                .await
                .map_err(|e| e.to_string())?;
            store.close().await;
            let list =
                embargo_server::deny_list(key.as_str(), terms, time::Duration::days(days), keyed);
            match output {
                Some(path) => {
                    replace_private(&path, &list.to_json())
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    let audience = if keyed {
                        format!(
                            "for the server-side hook and CI, needs guard key {}",
                            list.key_id.as_deref().unwrap_or_default()
                        )
                    } else {
                        "for developers' clones".to_owned()
                    };
                    eprintln!(
                        "wrote the {key} deny list ({audience}; expires {}) to {}",
                        list.expires_at,
                        path.display()
                    );
                }
                None => println!("{}", list.to_json()),
            }
            Ok(Verdict::Clean)
        }
        GuardCommand::Key {
            project,
            out: path,
            store,
        } => {
            let key: ProjectKey = project
                .parse()
                .map_err(|e: embargo_core::reference::ReferenceError| e.to_string())?;
            let store = store.open().await.map_err(|e| e.to_string())?;
            let guard_key = store.guard_key(&key).await.map_err(|e| e.to_string());
            store.close().await;
            let guard_key = GuardKey::from_bytes(guard_key?);
            create_private(&path, &guard_key.to_file_text())
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            let id = guard_key.id();
            out.show(
                &json!({ "project": key.as_str(), "key_id": id, "file": path.display().to_string() }),
                || {
                    format!(
                        "wrote the {key} guard key (id {id}) to {}; give it only to the server-side hook and CI",
                        path.display()
                    )
                },
            );
            Ok(Verdict::Clean)
        }
        GuardCommand::Check { file } => {
            let matcher = load_matcher(deny_list, key_file)?;
            note_unchecked(&matcher);
            let text = match file.as_deref() {
                Some(p) if p != Path::new("-") => std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?,
                _ => {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .map_err(|e| format!("cannot read stdin: {e}"))?;
                    text
                }
            };
            let findings = matcher.check(&text);
            let offences: Vec<Offence> = if findings.is_empty() {
                Vec::new()
            } else {
                vec![Offence {
                    subject: file
                        .map(|f| f.display().to_string())
                        .unwrap_or_else(|| "stdin".into()),
                    place: "text",
                    findings,
                }]
            };
            Ok(report(out, &offences, false))
        }
        GuardCommand::CommitMsg { file } => {
            let matcher = load_matcher(deny_list, key_file)?;
            note_unchecked(&matcher);
            let raw = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let findings = matcher.check(&git::commit_message(&raw));
            let offences: Vec<Offence> = if findings.is_empty() {
                Vec::new()
            } else {
                vec![Offence {
                    subject: "this commit".into(),
                    place: "commit message",
                    findings,
                }]
            };
            Ok(report(out, &offences, true))
        }
        GuardCommand::PreReceive { diffs } => {
            let matcher = load_matcher(deny_list, key_file)?;
            note_unchecked(&matcher);
            let mut updates = String::new();
            std::io::stdin()
                .read_to_string(&mut updates)
                .map_err(|e| format!("cannot read the ref updates: {e}"))?;
            let offences = git::pre_receive(Path::new("."), &matcher, &updates, diffs)
                .map_err(|e| e.to_string())?;
            Ok(report(out, &offences, true))
        }
        GuardCommand::Scan { range, repo, diffs } => {
            let matcher = load_matcher(deny_list, key_file)?;
            note_unchecked(&matcher);
            let range: Vec<&str> = range.iter().map(String::as_str).collect();
            let tty = std::io::stderr().is_terminal();
            let offences = git::scan(&repo, &matcher, &range, diffs, |n| {
                if tty {
                    eprint!("\rchecked {n} commits");
                    let _ = std::io::stderr().flush();
                }
            })
            .map_err(|e| e.to_string())?;
            if tty {
                eprintln!();
            }
            Ok(report(out, &offences, false))
        }
        GuardCommand::Install { repo, hooks, diffs } => {
            let deny_list = deny_list.ok_or("give the deny list to use with --deny-list FILE")?;
            let deny_list = std::fs::canonicalize(deny_list)
                .map_err(|e| format!("cannot find the deny list {}: {e}", deny_list.display()))?;
            let key_file = key_file
                .map(|k| {
                    std::fs::canonicalize(k)
                        .map_err(|e| format!("cannot find the guard key {}: {e}", k.display()))
                })
                .transpose()?;
            // The hook would refuse every commit with a list and key that do not fit.
            load_matcher(Some(&deny_list), key_file.as_deref())?;
            let exe = std::env::current_exe()
                .map_err(|e| format!("cannot find the embargo binary: {e}"))?;
            let hooks: Vec<Hook> = if hooks.is_empty() {
                let bare = git::git(&repo, &["rev-parse", "--is-bare-repository"])
                    .map_err(|e| e.to_string())?;
                if String::from_utf8_lossy(&bare).trim() == "true" {
                    vec![Hook::PreReceive]
                } else {
                    vec![Hook::CommitMsg]
                }
            } else {
                hooks
                    .iter()
                    .map(|h| match h {
                        HookName::CommitMsg => Hook::CommitMsg,
                        HookName::PreReceive => Hook::PreReceive,
                    })
                    .collect()
            };
            let written = git::install(&repo, &exe, &deny_list, key_file.as_deref(), &hooks, diffs)
                .map_err(|e| e.to_string())?;
            let paths: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
            out.show(&json!({ "installed": paths }), || {
                format!("installed {}", paths.join(", "))
            });
            Ok(Verdict::Clean)
        }
    }
}

/// Options of `embargo versions`.
#[derive(Debug, Args)]
pub struct VersionsArgs {
    /// The repository.
    #[arg(long, env = "EMBARGO_REPO", default_value = ".")]
    pub repo: PathBuf,
    /// The commit that introduced the vulnerability.
    #[arg(long)]
    pub introduced: String,
    /// The fixing commit on each supported branch (repeatable). With --case, the
    /// commits recorded as merged on the case are added, each checked to be on its branch.
    #[arg(long, required_unless_present = "case")]
    pub fixed: Vec<String>,
    /// Only tags matching this pattern (e.g. 'v*').
    #[arg(long)]
    pub tags: Option<String>,
    /// Write the result into this case's affected and fixed versions (EMBARGO_URL, EMBARGO_TOKEN).
    #[arg(long)]
    pub case: Option<String>,
    /// The server's base URL, with --case.
    #[arg(long, env = "EMBARGO_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API token, with --case.
    #[arg(long, env = "EMBARGO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Runs `embargo versions`.
pub async fn versions(args: VersionsArgs, out: &Output) -> Result<(), String> {
    let client = match &args.case {
        Some(_) => Some(
            crate::client::Client::from_env(&args.url, args.token.as_deref())
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let mut fixed = args.fixed.clone();
    let mut checked = Vec::new();
    if let (Some(case), Some(client)) = (&args.case, &client) {
        let (_, board) = client
            .call_as::<embargo_store::FixBoard>(
                reqwest::Method::GET,
                &format!("/api/cases/{}/fixes", embargo_server::url::component(case)),
                None,
            )
            .await
            .map_err(|e| e.to_string())?;
        // Every recorded merge must be on its branch; any that is not stops the run
        // before anything is written to the case.
        let mut problems = Vec::new();
        for branch in &board.branches {
            let Some(commit) = branch
                .current
                .as_ref()
                .and_then(|c| c.detail.commit.clone())
            else {
                continue;
            };
            match embargo_guard::versions::check_on_branch(&args.repo, &commit, &branch.branch) {
                Ok(id) => {
                    checked.push(json!({ "branch": branch.branch, "commit": id }));
                    if !fixed.contains(&id) {
                        fixed.push(id);
                    }
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        if fixed.is_empty() {
            return Err(format!(
                "{case} has no merged commit recorded yet; record the merges on the case, or give --fixed"
            ));
        }
    }
    let report = embargo_guard::versions::affected_versions(
        &args.repo,
        &args.introduced,
        &fixed,
        args.tags.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    if let (Some(case), Some(client)) = (&args.case, &client) {
        // The words for people, and git's facts for the advisories' version ranges.
        let body = json!({ "versions": {
            "affected": report.affected_ranges,
            "fixed": report.fixed,
            "ranges": report.ranges,
            "releases": report.releases,
            "introduced_commit": report.introduced_commit,
            "fixed_commits": report.fixed_commits,
        } });
        client
            .call(
                reqwest::Method::PATCH,
                &format!("/api/cases/{}", embargo_server::url::component(case)),
                Some(&body),
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut shown = json!(report);
    if !checked.is_empty() {
        shown["checked"] = json!(checked);
    }
    out.show(&shown, || {
        format!(
            "affected: {}\nfixed in: {}\nunaffected: {}",
            if report.affected_ranges.is_empty() {
                "none".to_owned()
            } else {
                report.affected_ranges.join(", ")
            },
            report.fixed.join(", "),
            report.unaffected.join(", ")
        )
    });
    Ok(())
}
