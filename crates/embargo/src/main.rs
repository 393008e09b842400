//! `embargo`: the security response desk's one binary.

mod admin;
mod audit;
mod backup;
mod cases;
mod client;
mod config;
mod cvss;
mod disclose;
mod export;
mod guard;
mod import;
mod intake;
mod keys;
mod migrate;
mod progress;
mod report;
mod serve;
mod settings;
mod store_args;
mod trace;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "embargo",
    version,
    about = "Embargo: from private vulnerability report to coordinated announcement"
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// A TOML configuration file (`embargo config example` writes one); the environment
    /// and flags override it.
    #[arg(long, global = true, env = "EMBARGO_CONFIG")]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the data directory, the first administrator, an organisation and a project.
    Init(admin::InitArgs),
    /// Run the server (API and background jobs).
    Serve(serve::ServeArgs),
    /// API tokens.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// User accounts.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Organisations.
    #[command(subcommand)]
    Org(admin::OrgCommand),
    /// Projects and their committee rosters.
    #[command(subcommand)]
    Project(admin::ProjectCommand),
    /// Security team membership.
    #[command(subcommand)]
    Team(admin::TeamCommand),
    /// Take in one email message from stdin (for a mail transfer agent's alias).
    Intake(intake::IntakeArgs),
    /// Cases, through a running server (EMBARGO_URL, EMBARGO_TOKEN).
    Case(cases::CaseArgs),
    /// Disclose a case: rehearse every step (--dry-run) or schedule them for the embargo time.
    Disclose(disclose::DiscloseArgs),
    /// CHANGES and NEWS entries of announced cases.
    Changes(disclose::ChangesArgs),
    /// Process review: a project's or organisation's figures, as text, CSV or JSON.
    Report(report::ReportArgs),
    /// Import published advisories (OSV, CVE JSON 5) for history and duplicate detection.
    Import(import::ImportArgs),
    /// Name the recipient whose pre-notified copy a leaked text is.
    Trace(trace::TraceArgs),
    /// Export cases (through a running server): each as the API shows it, and its
    /// advisory as OSV, CSAF 2.0 and CVE JSON 5, into a private folder.
    Export(export::ExportArgs),
    /// Score CVSS vectors (arguments, or one per line on stdin).
    Cvss(cvss::CvssArgs),
    /// The commit guard: keep embargoed vulnerabilities out of public commits.
    Guard(guard::GuardArgs),
    /// Affected and fixed releases from git.
    Versions(guard::VersionsArgs),
    /// The audit log of reads of confidential content: review and verify it.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The master key: rotation.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Write a consistent backup of the database (sealed fields stay sealed).
    Backup(backup::BackupArgs),
    /// Load a backup into a new, empty database.
    Restore(backup::RestoreArgs),
    /// Background jobs: status, retry and a diagnostic probe.
    #[command(subcommand)]
    Jobs(admin::JobsCommand),
    /// The database's pending migrations: list them (--dry-run) or apply them.
    Migrate(migrate::MigrateArgs),
    /// Whether a running server is ready (exit 0) or not (exit 1): for healthchecks.
    Health(serve::HealthArgs),
    /// The configuration: a commented example, or a check of every connection it names.
    #[command(subcommand)]
    Config(config::ConfigCommand),
}

/// Prints JSON or text depending on `--json`.
pub struct Output {
    /// Whether `--json` was given.
    pub json: bool,
}

impl Output {
    /// Prints a value as JSON, or the text form.
    pub fn show(&self, value: &serde_json::Value, text: impl FnOnce() -> String) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).unwrap_or_default()
            );
        } else {
            println!("{}", terminal_safe(&text()));
        }
    }
}

/// Text for a terminal: what came from strangers (titles, names) may hold escape
/// sequences that move the cursor, rewrite the screen or set the window title, and
/// bidirectional overrides that reorder what is shown. Each is printed as a visible
/// escape instead; line breaks and tabs stay.
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}');
        if (c.is_control() && c != '\n' && c != '\t') || bidi {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads one line from stdin (a password or a value), without the newline.
pub fn read_stdin_line() -> std::io::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Asks for a value on the terminal; only when stdin is one.
pub fn prompt(label: &str, secret: bool) -> Option<String> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    if secret {
        return rpassword::prompt_password(format!("{label}: ")).ok();
    }
    print!("{label}: ");
    std::io::stdout().flush().ok()?;
    read_stdin_line().ok().filter(|s| !s.is_empty())
}

/// Logs to stderr, as text or as one JSON object per line (`log_format = "json"`).
fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EMBARGO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        logs.json().with_current_span(false).init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The example is what one writes a file from; it needs none.
    let file = match &cli.command {
        Command::Config(config::ConfigCommand::Example) => Ok(()),
        _ => settings::load_file(cli.config.as_deref()),
    };
    let json_logs = match &cli.command {
        Command::Serve(args) => settings::resolve(args).ok(),
        _ => {
            let mut given = serde_json::Map::new();
            if let Ok(format) = std::env::var("EMBARGO_LOG_FORMAT") {
                given.insert("log_format".into(), format.into());
            }
            settings::resolve(&given).ok()
        }
    }
    .is_some_and(|s| s.log_format == settings::LogFormat::Json);
    init_tracing(json_logs);
    // A panic message could quote whatever the code was handling; log where it happened,
    // never what it said.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(location = %at, "internal error (panic); its message is withheld");
        eprintln!("embargo: internal error at {at}");
    }));
    let out = Output { json: cli.json };
    if let Err(message) = file {
        eprintln!("embargo: {}", terminal_safe(&message));
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Init(args) => admin::init(args, &out).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Token(cmd) => admin::token(cmd, &out).await,
        Command::User(cmd) => admin::user(cmd, &out).await,
        Command::Org(cmd) => admin::org(cmd, &out).await,
        Command::Project(cmd) => admin::project(cmd, &out).await,
        Command::Team(cmd) => admin::team(cmd, &out).await,
        Command::Case(args) => cases::run(args, &out).await,
        Command::Disclose(args) => disclose::disclose(args, &out).await,
        Command::Trace(args) => trace::run(args, &out).await,
        Command::Cvss(args) => cvss::run(args, &out),
        Command::Export(args) => export::run(args, &out).await,
        Command::Import(args) => import::run(args, &out).await,
        Command::Report(args) => report::run(args, &out).await,
        Command::Changes(args) => disclose::changes(args, &out).await,
        Command::Jobs(cmd) => admin::jobs(cmd, &out).await,
        Command::Versions(args) => guard::versions(args, &out).await,
        Command::Keys(cmd) => keys::run(cmd, &out).await,
        Command::Intake(args) => match intake::run(args, &out).await {
            Ok(()) => Ok(()),
            Err(message) => {
                eprintln!(
                    "embargo intake: {}; the mail system should try again later",
                    terminal_safe(&message)
                );
                return ExitCode::from(intake::EX_TEMPFAIL);
            }
        },
        Command::Migrate(args) => migrate::run(args, &out).await,
        Command::Health(args) => match serve::health(args, &out).await {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(message) => Err(message),
        },
        Command::Config(cmd) => match config::run(cmd, &out).await {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(message) => Err(message),
        },
        Command::Backup(args) => backup::backup(args, &out).await,
        Command::Restore(args) => backup::restore(args, &out).await,
        Command::Audit(cmd) => match audit::run(cmd, &out).await {
            Ok(audit::Verdict::Intact) => Ok(()),
            Ok(audit::Verdict::Broken) => return ExitCode::from(1),
            Err(message) => Err(message),
        },
        Command::Guard(args) => match guard::run(args, &out).await {
            Ok(guard::Verdict::Clean) => Ok(()),
            // Offences were reported; 1 tells git and CI to refuse.
            Ok(guard::Verdict::Offending) => return ExitCode::from(1),
            Err(message) => {
                eprintln!("embargo guard: {}", terminal_safe(&message));
                return ExitCode::from(2);
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("embargo: {}", terminal_safe(&message));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn escape_sequences_from_titles_never_reach_the_terminal() {
        let title = "XSS\u{1b}]0;owned\u{7}\u{1b}[2J in \u{202e}txt.exe";
        let shown = terminal_safe(title);
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}') && !shown.contains('\u{202e}')
        );
        assert!(shown.contains("\\u{1b}]0;owned"));
        assert_eq!(
            terminal_safe("two\nlines\tand a tab"),
            "two\nlines\tand a tab"
        );
    }
}
