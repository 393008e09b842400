//! The store at scale, for `bench/scale` (not a test): `load N` files N cases straight
//! through the store into the database `EMBARGO_DATA` / `EMBARGO_DATABASE_URL` names,
//! with notes on one in five, spread over `EMBARGO_BENCH_PROJECTS` projects of one
//! organisation; `measure` times the queue's first page, text searches, a case read and
//! a year's metrics of the organisation against the database's own round trip (what
//! `/healthz` does), and prints a table.
//!
//! Usage: `cargo run --release --example scale -- load 200000` then `… measure`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use embargo_core::access::Viewer;
use embargo_core::case::{Channel, Reporter};
use embargo_core::reference::ProjectKey;
use embargo_store::{CaseFilter, Database, KeySource, NewReport, Store};

const EMAIL: &str = "bench@example.org";

fn database(dir: &std::path::Path) -> Database {
    match std::env::var("EMBARGO_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Database::Postgres(url),
        _ => Database::Sqlite(embargo_store::sqlite_path(dir)),
    }
}

/// The projects the cases are filed into: `BENCH`, then `BENCH2` and on, as many as
/// `EMBARGO_BENCH_PROJECTS` says (1 unless set). A case number is handed out under a lock
/// on its project's row, so one project takes its filings one at a time; a foundation's
/// many projects take theirs side by side.
fn projects() -> Result<Vec<ProjectKey>, String> {
    let n: usize = match std::env::var("EMBARGO_BENCH_PROJECTS") {
        Ok(n) => n
            .parse()
            .map_err(|_| format!("EMBARGO_BENCH_PROJECTS={n}"))?,
        Err(_) => 1,
    };
    (0..n.max(1))
        .map(|i| {
            let key = if i == 0 {
                "BENCH".to_owned()
            } else {
                format!("BENCH{}", i + 1)
            };
            key.parse().map_err(|_| format!("{key}: project key"))
        })
        .collect()
}

async fn open() -> Result<(Store, Viewer), String> {
    let dir = PathBuf::from(std::env::var("EMBARGO_DATA").map_err(|_| "set EMBARGO_DATA")?);
    let store = Store::open(&database(&dir), &KeySource::File(dir.join("master.key")))
        .await
        .map_err(|e| e.to_string())?;
    let err = |e: embargo_store::StoreError| e.to_string();
    // The administrator `init` made reads the cases as a team member of every project
    // would, and the organisation's figures as its foundation team.
    for project in projects()? {
        if store.project(&project).await.is_err() {
            store
                .create_project("Bench", &project, project.as_str(), &[])
                .await
                .map_err(err)?;
        }
        if !store
            .committee(&project)
            .await
            .map_err(err)?
            .iter()
            .any(|m| m == EMAIL)
        {
            store
                .add_committee_members(&project, &[EMAIL.to_owned()])
                .await
                .map_err(err)?;
            store
                .add_project_member(&project, EMAIL)
                .await
                .map_err(err)?;
        }
    }
    let user = store.user_by_email(EMAIL).await.map_err(err)?;
    if store
        .viewer(user.id)
        .await
        .map_err(err)?
        .foundation_orgs
        .is_empty()
    {
        store
            .add_foundation_member("Bench", EMAIL)
            .await
            .map_err(err)?;
    }
    let viewer = store.viewer(user.id).await.map_err(err)?;
    Ok((store, viewer))
}

async fn load(total: usize) -> Result<(), String> {
    let (store, viewer) = open().await?;
    let projects = projects()?;
    // On SQLite the writers queue for the one write connection; more of them keep it busy
    // while others seal the next case. Each files into one project.
    let workers = 8.max(projects.len());
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let (store, viewer) = (store.clone(), viewer.clone());
        let project = projects[w % projects.len()].clone();
        tasks.spawn(async move {
            for n in (w..total).step_by(workers) {
                let title = format!(
                    "Heap overflow in module{:02} word{:02} case{n}",
                    n % 37,
                    n % 100
                );
                let description = format!(
                    "Reported by a researcher. The parser of module{:02} overflows a heap buffer \
                     when a request carries a long header; a remote attacker can crash the \
                     server or run code. Steps to reproduce follow. {}",
                    n % 37,
                    "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(12)
                );
                let case = store
                    .create_case(
                        &viewer,
                        NewReport {
                            project: project.clone(),
                            title,
                            description,
                            reporter: Reporter {
                                name: Some(format!("Researcher {n}")),
                                email: Some(format!("r{n}@example.net")),
                            },
                            channel: Channel::Api,
                        },
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                if n % 5 == 0 {
                    store
                        .add_note(
                            &viewer,
                            &case.reference,
                            "Reproduced on the release branch; the fix needs a backport.",
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                }
                if n % 10_000 == 0 && n > 0 {
                    eprintln!(
                        "scale: {n} of {total} cases, {:.0} s",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            Ok::<(), String>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    eprintln!(
        "scale: loaded {total} cases in {:.0} s ({:.0} a second)",
        started.elapsed().as_secs_f64(),
        total as f64 / started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn timed<F, Fut>(runs: usize, mut f: F) -> Result<Vec<Duration>, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut all = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f().await?;
        all.push(started.elapsed());
    }
    all.sort();
    Ok(all)
}

async fn measure() -> Result<(), String> {
    let (store, viewer) = open().await?;
    let cases = store
        .page_cases(
            &viewer,
            &CaseFilter {
                limit: Some(1),
                ..CaseFilter::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let newest = cases
        .cases
        .first()
        .map(|c| c.reference.clone())
        .ok_or("no cases: run `load` first")?;
    let page = |text: Option<&'static str>| {
        let (store, viewer) = (&store, &viewer);
        move || async move {
            let filter = CaseFilter {
                limit: Some(50),
                text: text.map(str::to_owned),
                ..CaseFilter::default()
            };
            store
                .page_cases(viewer, &filter)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    };
    let year_ago = time::OffsetDateTime::now_utc() - time::Duration::days(365);
    let year_of_metrics = || {
        let (store, viewer) = (&store, &viewer);
        async move {
            store
                .metrics(
                    viewer,
                    &embargo_store::Scope::Organisation("Bench".into()),
                    Some(year_ago),
                    None,
                )
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    };
    let rows: Vec<(&str, Vec<Duration>)> = vec![
        (
            "database round trip (/healthz)",
            timed(200, || async {
                store.ping().await.map_err(|e| e.to_string())
            })
            .await?,
        ),
        ("queue, first page of 50", timed(50, page(None)).await?),
        (
            "search, a word in 1% of titles",
            timed(50, page(Some("word42"))).await?,
        ),
        (
            "search, a word in one title",
            timed(50, page(Some("case777"))).await?,
        ),
        (
            "search, a word in every report",
            timed(50, page(Some("researcher"))).await?,
        ),
        (
            "case read",
            timed(100, || async {
                store
                    .case(&viewer, &newest)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .await?,
        ),
        (
            "a year's metrics, blocks made",
            timed(1, year_of_metrics).await?,
        ),
        (
            "a year's metrics, blocks kept",
            timed(5, year_of_metrics).await?,
        ),
        ("a year's metrics, after a day", {
            // A day's work: notes on the 500 newest cases, whose blocks are made again.
            for number in (newest.number - 499).max(1)..=newest.number {
                let case = embargo_core::reference::CaseRef {
                    project: newest.project.clone(),
                    number,
                };
                store
                    .add_note(&viewer, &case, "Triaged with the others of the day.")
                    .await
                    .map_err(|e| e.to_string())?;
            }
            timed(3, year_of_metrics).await?
        }),
    ];
    let base = quantile(&rows[0].1, 0.5);
    println!(
        "| {:<32} | {:>5} | {:>9} | {:>9} | {:>16} |",
        "operation", "runs", "p50 ms", "p99 ms", "p50 / round trip"
    );
    println!(
        "|{:-<34}|{:-<7}|{:-<11}|{:-<11}|{:-<18}|",
        "", "", "", "", ""
    );
    for (name, times) in &rows {
        let p50 = quantile(times, 0.5);
        println!(
            "| {:<32} | {:>5} | {:>9.2} | {:>9.2} | {:>16.1} |",
            name,
            times.len(),
            p50,
            quantile(times, 0.99),
            p50 / base
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["load", n] => match n.parse() {
            Ok(n) => load(n).await,
            Err(_) => Err(format!("{n}: not a number of cases")),
        },
        ["measure"] => measure().await,
        _ => Err("usage: scale load N | scale measure".into()),
    };
    if let Err(e) = outcome {
        eprintln!("scale: {e}");
        std::process::exit(1);
    }
}
