//! The house rules that the compiler does not keep: no module of a crate imports, through
//! others, a module that imports it; and the one list of sealed case fields agrees with the
//! schema and with what a backup covers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::{BACKENDS, Backend, TestDb};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A crate's modules (`api::cases`), each with the modules its code names as `crate::…`;
/// comments are left out, and the crate root (which only declares and re-exports) too.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let name = |file: &Path| {
        let rel = file.strip_prefix(src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        parts.join("::")
    };
    let modules: BTreeMap<String, String> = files
        .iter()
        .map(|f| {
            let code: String = std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            (name(f), code)
        })
        .filter(|(n, _)| !n.is_empty() && n != "lib" && n != "main")
        .collect();
    let mut graph = BTreeMap::new();
    for (module, code) in &modules {
        let mut deps = BTreeSet::new();
        // `crate::a::b::Item` and `use crate::{a, b::c}` both name modules.
        let mut paths = Vec::new();
        for piece in code.split("crate::").skip(1) {
            if let Some(group) = piece.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or_default();
                paths.extend(group.split(',').map(|p| p.trim().to_owned()));
            } else {
                let path: String = piece
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                paths.push(path);
            }
        }
        for path in paths {
            let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            // The longest prefix that is a module of the crate.
            let target = (1..=segments.len())
                .rev()
                .map(|n| segments[..n].join("::"))
                .find(|candidate| modules.contains_key(candidate));
            if let Some(target) = target
                && target != *module
                && !module.starts_with(&format!("{target}::"))
            {
                deps.insert(target);
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// The strongly connected groups of more than one module (Tarjan's algorithm).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a str) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        for next in &w.graph[v] {
            let next = next.as_str();
            if !w.index.contains_key(next) {
                visit(w, next);
                let low = w.low[v].min(w.low[next]);
                w.low.insert(v, low);
            } else if w.stack.contains(&next) {
                let low = w.low[v].min(w.index[next]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut group = Vec::new();
            while let Some(m) = w.stack.pop() {
                group.push(m.to_owned());
                if m == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                w.found.push(group);
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            visit(&mut walk, v);
        }
    }
    walk.found
}

#[test]
fn no_crate_has_an_import_circle() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        let graph = module_graph(&src);
        checked += graph.len();
        for group in circles(&graph) {
            let edges: Vec<String> = group
                .iter()
                .map(|m| {
                    let inside: Vec<&String> =
                        graph[m].iter().filter(|d| group.contains(d)).collect();
                    format!("{m} -> {inside:?}")
                })
                .collect();
            found.push(format!("{}: {edges:?}", src.display()));
        }
    }
    assert!(checked > 80, "only {checked} modules found");
    assert!(found.is_empty(), "import circles: {found:#?}");
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, deps)| (m.to_owned(), deps.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);
}

async fn sealed_fields_agree(backend: Backend) {
    let listed: BTreeSet<&str> = embargo_store::SEALED_CASE_FIELDS
        .iter()
        .map(|(column, _)| *column)
        .collect();
    assert_eq!(
        listed.len(),
        embargo_store::SEALED_CASE_FIELDS.len(),
        "each column once"
    );
    let fields: BTreeSet<&str> = embargo_store::SEALED_CASE_FIELDS
        .iter()
        .map(|(_, field)| *field)
        .collect();
    assert_eq!(fields.len(), listed.len(), "each context field once");
    // The backup covers each of them, and nothing sealed of a case that the list lacks.
    let (_, backed_up) = embargo_store::backup::TABLES
        .iter()
        .find(|(table, _)| *table == "cases")
        .expect("cases are backed up");
    let backed_up: BTreeSet<&str> = backed_up
        .iter()
        .map(|(column, _)| *column)
        .filter(|c| c.ends_with("_sealed"))
        .collect();
    assert_eq!(backed_up, listed, "the backup's sealed columns of cases");
    // The schema has no sealed column of cases beyond the list.
    let db = TestDb::new(backend).await;
    db.store().await.close().await;
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT group_concat(name, ',') FROM pragma_table_info('cases') WHERE name LIKE '%sealed'"
        }
        Backend::Postgres => {
            "SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_name = 'cases' AND column_name LIKE '%sealed'"
        }
    };
    let in_schema = db.query_text(sql).await.unwrap_or_default();
    let in_schema: BTreeSet<&str> = in_schema.split(',').filter(|c| !c.is_empty()).collect();
    assert_eq!(
        in_schema, listed,
        "{backend:?}: the schema's sealed columns of cases"
    );
}

#[tokio::test]
async fn sealed_case_fields_agree_with_the_schema_and_the_backup() {
    for backend in BACKENDS {
        sealed_fields_agree(backend).await;
    }
}
