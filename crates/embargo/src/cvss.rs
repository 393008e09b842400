//! `embargo cvss`: scores CVSS vectors, from the arguments or one per line on stdin, with
//! the same scorer the server uses.

use std::io::{BufRead, Write};

use clap::Args;
use embargo_core::cvss::Cvss;
use serde_json::json;

use crate::Output;

/// Options of `embargo cvss`.
#[derive(Debug, Args)]
pub struct CvssArgs {
    /// Vectors to score; without any, one per line is read from stdin.
    pub vectors: Vec<String>,
}

fn line_for(vector: &str, out: &Output) -> (String, bool) {
    match Cvss::parse(vector) {
        Ok(c) if out.json => (
            json!({ "vector": c.vector(), "score": c.score(), "severity": c.severity().to_string() })
                .to_string(),
            true,
        ),
        Ok(c) => (format!("{:.1}\t{}\t{}", c.score(), c.severity(), c.vector()), true),
        Err(e) if out.json => (json!({ "vector": vector, "error": e.to_string() }).to_string(), false),
        Err(e) => (format!("error\t{e}\t{vector}"), false),
    }
}

/// Runs `embargo cvss`: one line per vector (JSON lines with `--json`); any bad vector
/// makes the exit status 1, after every vector is scored.
pub fn run(args: CvssArgs, out: &Output) -> Result<(), String> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let mut bad = 0usize;
    let mut score = |vector: &str, w: &mut dyn Write| -> Result<(), String> {
        let (line, ok) = line_for(vector.trim(), out);
        bad += usize::from(!ok);
        writeln!(w, "{line}").map_err(|e| e.to_string())
    };
    if args.vectors.is_empty() {
        for line in std::io::stdin().lock().lines() {
            let line = line.map_err(|e| format!("cannot read stdin: {e}"))?;
            if !line.trim().is_empty() {
                score(&line, &mut w)?;
            }
        }
    } else {
        for v in &args.vectors {
            score(v, &mut w)?;
        }
    }
    w.flush().map_err(|e| e.to_string())?;
    if bad > 0 {
        return Err(format!("{bad} vector(s) could not be scored"));
    }
    Ok(())
}
