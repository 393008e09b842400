//! The crash test: 1,000 concurrent report submissions while the server is SIGKILLed at
//! random moments five times and started again. Every submission that got a success
//! answer must be there exactly once; nothing may be there twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::{Mutex, Semaphore};

use crate::support::{Backend, Process, TestDb, seed};

const SUBMISSIONS: usize = 1000;
const KILLS: usize = 5;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One submission: retried only while the server is down (a refused connection means
/// the request never arrived, so a retry cannot file it twice).
async fn submit(http: reqwest::Client, url: String, token: String, n: usize) -> Option<String> {
    for _ in 0..400 {
        let sent = http
            .post(format!("{url}/api/cases"))
            .bearer_auth(&token)
            .json(&json!({ "project": "CLOUDSTACK", "title": format!("crash {n}"), "description": "crash test" }))
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status() == 201 => {
                let body: Value = resp.json().await.ok()?;
                return body["ref"].as_str().map(str::to_owned);
            }
            // Killed mid-request, or any other answer: the outcome is unknown; no retry.
            Ok(_) => return None,
            Err(e) if e.is_connect() => tokio::time::sleep(Duration::from_millis(25)).await,
            Err(_) => return None,
        }
    }
    None
}

async fn crash_test(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    store.close().await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    let start = {
        let db = &db;
        let listen = listen.clone();
        move || Process::start(db.command(&["serve", "--listen", &listen]))
    };
    let server = Arc::new(Mutex::new(start()));

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let gate = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::with_capacity(SUBMISSIONS);
    for n in 0..SUBMISSIONS {
        let (http, url, token, gate) = (
            http.clone(),
            url.clone(),
            people.alice.clone(),
            gate.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            (n, submit(http, url, token, n).await)
        }));
    }

    // Five kills at random moments, each followed by a restart on the same port.
    for kill in 0..KILLS {
        let pause = rand::thread_rng().gen_range(150..700);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let mut guard = server.lock().await;
        guard.kill();
        *guard = tokio::task::block_in_place(&start);
        println!("kill {} after {pause} ms", kill + 1);
    }

    let mut accepted: HashMap<String, String> = HashMap::new();
    for task in tasks {
        let (n, outcome) = task.await.unwrap();
        if let Some(reference) = outcome {
            accepted.insert(format!("crash {n}"), reference);
        }
    }
    println!(
        "{} of {SUBMISSIONS} submissions answered 201",
        accepted.len()
    );
    assert!(
        accepted.len() >= SUBMISSIONS / 2,
        "most submissions should get through five restarts: {}",
        accepted.len()
    );

    // Everything that is there, page by page.
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    let mut offset = 0;
    loop {
        let resp = http
            .get(format!(
                "{url}/api/cases?project=CLOUDSTACK&limit=1000&offset={offset}"
            ))
            .bearer_auth(&people.alice)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let page: Vec<Value> = resp.json().await.unwrap();
        if page.is_empty() {
            break;
        }
        offset += page.len();
        for c in page {
            seen.entry(c["title"].as_str().unwrap().to_owned())
                .or_default()
                .push(c["ref"].as_str().unwrap().to_owned());
        }
    }
    for (title, refs) in &seen {
        assert_eq!(
            refs.len(),
            1,
            "{title} is there {} times: {refs:?}",
            refs.len()
        );
    }
    for (title, reference) in &accepted {
        assert_eq!(
            seen.get(title).map(|r| r[0].as_str()),
            Some(reference.as_str()),
            "{title} was accepted as {reference} but is not there"
        );
    }
    let mut numbers: Vec<&String> = seen.values().map(|r| &r[0]).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(
        numbers.len(),
        seen.len(),
        "every case has its own reference"
    );
    server.lock().await.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reports_survive_five_kills_sqlite() {
    crash_test(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reports_survive_five_kills_postgres() {
    crash_test(Backend::Postgres).await;
}
