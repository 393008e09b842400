//! Progress on a terminal for long CLI work (import, export, backup, restore, reseal):
//! a bar on stderr, hidden when stderr is not a terminal or `--json` was asked for, so
//! that scripts read clean output.

use indicatif::{ProgressBar, ProgressStyle};

use crate::Output;

/// A bar of `len` steps; its message says where it is.
pub fn bar(len: u64, out: &Output) -> ProgressBar {
    let bar = match std::io::IsTerminal::is_terminal(&std::io::stderr()) && !out.json {
        true => ProgressBar::new(len),
        false => ProgressBar::hidden(),
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// A spinner whose message is the latest count, for work whose total is not known ahead.
pub fn counting(out: &Output) -> (ProgressBar, impl FnMut(&str, u64)) {
    let spinner = match std::io::IsTerminal::is_terminal(&std::io::stderr()) && !out.json {
        true => ProgressBar::new_spinner(),
        false => ProgressBar::hidden(),
    };
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let handle = spinner.clone();
    (spinner, move |what: &str, n: u64| {
        handle.set_message(format!("{what}: {n}"));
    })
}

/// Progress over tables, for work that reports each table as it finishes one with how
/// many rows or values it handled.
pub fn by_table(tables: u64, out: &Output) -> (ProgressBar, impl FnMut(&str, u64)) {
    let bar = bar(tables, out);
    let handle = bar.clone();
    (bar, move |table: &str, rows: u64| {
        handle.set_message(format!("{table}: {rows}"));
        handle.inc(1);
    })
}
