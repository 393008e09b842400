//! Bulk import of findings, and likely duplicates.
//!
//! A findings file is markdown (one `##` section per finding, or `#` when there are no
//! `##` headings) or JSON (an array of findings, or an object with a `findings` array;
//! each with a `title` and a `description`, `body` or `details`). Duplicates are
//! proposed by cosine similarity of word counts, the title counting twice.

use std::collections::HashMap;

/// One finding, to become one case.
#[derive(Clone, PartialEq, Eq)]
pub struct Finding {
    /// Its title.
    pub title: String,
    /// Everything else about it.
    pub description: String,
}

impl std::fmt::Debug for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Finding([redacted])")
    }
}

/// Why a findings file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindingsError {
    /// Neither markdown sections nor JSON findings.
    #[error("no findings: expected markdown sections (## Title) or JSON findings with a title")]
    Empty,
    /// JSON that does not have the expected shape.
    #[error("finding {0} has no title")]
    NoTitle(usize),
    /// Not parseable JSON although it looks like JSON.
    #[error("the JSON is malformed at line {line}, column {column}")]
    Json {
        /// Where.
        line: usize,
        /// Where.
        column: usize,
    },
}

fn from_json(text: &str) -> Result<Vec<Finding>, FindingsError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| FindingsError::Json {
        line: e.line(),
        column: e.column(),
    })?;
    let list = match &value {
        serde_json::Value::Array(items) => items.clone(),
        serde_json::Value::Object(map) => map
            .get("findings")
            .and_then(|f| f.as_array())
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let title = item["title"]
            .as_str()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let title = title.ok_or(FindingsError::NoTitle(i + 1))?;
        let mut description = ["description", "body", "details"]
            .iter()
            .find_map(|k| item[*k].as_str())
            .unwrap_or_default()
            .trim()
            .to_owned();
        // Whatever else the tool gave (severity, CWE, location) stays with the finding.
        if let Some(map) = item.as_object() {
            for (k, v) in map {
                if !matches!(k.as_str(), "title" | "description" | "body" | "details") {
                    let v = v
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string());
                    description.push_str(&format!("\n{k}: {v}"));
                }
            }
        }
        out.push(Finding {
            title: title.to_owned(),
            description: description.trim().to_owned(),
        });
    }
    Ok(out)
}

fn from_markdown(text: &str) -> Vec<Finding> {
    let level = if text.lines().any(|l| l.starts_with("## ")) {
        "## "
    } else {
        "# "
    };
    let mut out: Vec<Finding> = Vec::new();
    for line in text.lines() {
        if let Some(title) = line.strip_prefix(level) {
            out.push(Finding {
                title: title.trim().to_owned(),
                description: String::new(),
            });
        } else if let Some(current) = out.last_mut() {
            current.description.push_str(line);
            current.description.push('\n');
        }
    }
    for f in &mut out {
        f.description = f.description.trim().to_owned();
    }
    out.retain(|f| !f.title.is_empty());
    out
}

/// Reads a findings file.
pub fn parse(text: &str) -> Result<Vec<Finding>, FindingsError> {
    let trimmed = text.trim_start();
    let found = if trimmed.starts_with('[') || trimmed.starts_with('{') {
        from_json(text)?
    } else {
        from_markdown(text)
    };
    if found.is_empty() {
        return Err(FindingsError::Empty);
    }
    Ok(found)
}

/// A text's word counts, for similarity.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    counts: HashMap<String, f64>,
    norm: f64,
}

const STOP: [&str; 24] = [
    "the", "and", "for", "with", "that", "this", "from", "are", "was", "can", "not", "but", "has",
    "have", "you", "your", "our", "when", "which", "will", "into", "its", "any", "all",
];

impl Profile {
    /// The profile of a case or finding; the title counts twice.
    pub fn new(title: &str, description: &str) -> Profile {
        let mut counts: HashMap<String, f64> = HashMap::new();
        let mut add = |text: &str, weight: f64| {
            for word in text
                .split(|c: char| !c.is_alphanumeric())
                .map(str::to_lowercase)
                .filter(|w| w.chars().count() >= 3 && !STOP.contains(&w.as_str()))
            {
                *counts.entry(word).or_default() += weight;
            }
        };
        add(title, 2.0);
        add(description, 1.0);
        let norm = counts.values().map(|v| v * v).sum::<f64>().sqrt();
        Profile { counts, norm }
    }

    /// Cosine similarity, from 0 (nothing shared) to 1 (the same words).
    pub fn similarity(&self, other: &Profile) -> f64 {
        if self.norm == 0.0 || other.norm == 0.0 {
            return 0.0;
        }
        let dot: f64 = self
            .counts
            .iter()
            .filter_map(|(w, a)| other.counts.get(w).map(|b| a * b))
            .sum();
        dot / (self.norm * other.norm)
    }
}

/// Scores below this are not proposed.
pub const DUPLICATE_THRESHOLD: f64 = 0.35;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_json_findings() {
        let md = "# Review\n\nintro\n\n## SQL injection in listUsers\nThe name parameter is concatenated.\n\n## XSS in console\nNames are not escaped.\n";
        let found = parse(md).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].title, "SQL injection in listUsers");
        assert_eq!(found[1].description, "Names are not escaped.");
        let json = r#"{"findings": [{"title": "Weak hash", "details": "MD5 for passwords", "cwe": "CWE-328", "severity": "high"}]}"#;
        let found = parse(json).unwrap();
        assert!(
            found[0].description.contains("MD5") && found[0].description.contains("cwe: CWE-328")
        );
        assert_eq!(parse("[{\"body\": \"x\"}]"), Err(FindingsError::NoTitle(1)));
        assert!(matches!(
            parse("[{\"title\": }]"),
            Err(FindingsError::Json { .. })
        ));
        assert_eq!(parse("just prose"), Err(FindingsError::Empty));
    }

    #[test]
    fn similar_reports_score_high() {
        let a = Profile::new(
            "SQL injection in listUsers",
            "The name parameter of listUsers is concatenated into SQL.",
        );
        let b = Profile::new(
            "listUsers SQL injection",
            "Injection through the name parameter in listUsers.",
        );
        let c = Profile::new(
            "Open redirect on login",
            "The next parameter is not checked.",
        );
        assert!(
            a.similarity(&b) > DUPLICATE_THRESHOLD,
            "{}",
            a.similarity(&b)
        );
        assert!(
            a.similarity(&c) < DUPLICATE_THRESHOLD,
            "{}",
            a.similarity(&c)
        );
        assert!((a.similarity(&a) - 1.0).abs() < 1e-9);
    }
}
