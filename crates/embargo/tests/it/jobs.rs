//! Background jobs: two server processes on one database run each job exactly once.

use std::time::Duration;

use embargo_store::Task;

use crate::support::{BACKENDS, Process, TestDb};

#[tokio::test]
async fn two_servers_run_each_job_exactly_once() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        // Both servers are up and polling before the work arrives, so each must take some.
        let _a = Process::serve(db.command(&[]));
        let _b = Process::serve(db.command(&[]));
        for _ in 0..1000 {
            store.enqueue_job(&Task::Probe).await.unwrap();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
        loop {
            let (pending, done, failed) = store.job_counts().await.unwrap();
            assert_eq!(failed, 0);
            if pending == 0 {
                assert_eq!(done, 1000);
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{backend:?}: {pending} jobs still pending"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let runs = store.probe_runs().await.unwrap();
        assert_eq!(runs.len(), 1000);
        let wrong: Vec<_> = runs.iter().filter(|(_, n)| *n != 1).collect();
        assert!(
            wrong.is_empty(),
            "{backend:?}: jobs not run exactly once: {wrong:?}"
        );
        let runners = store.probe_runners().await.unwrap();
        eprintln!("{backend:?}: probe jobs per runner: {runners:?}");
        assert_eq!(
            runners.len(),
            2,
            "{backend:?}: both servers took work: {runners:?}"
        );
        assert!(runners.iter().all(|(_, n)| *n > 0), "{runners:?}");
        assert_eq!(runners.iter().map(|(_, n)| n).sum::<i64>(), 1000);
        store.close().await;
    }
}
