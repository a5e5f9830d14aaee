//! Distributed mode: three real workers with one group.id share a
//! connector's tasks, survive a SIGKILL, take work back, and act on
//! requests sent to any of them.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::kafka::{self, Rec};
use support::worker::lines;
use support::{Broker, Worker, eventually};

fn cluster_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("CONNECT_GROUP_ID", "connect-cluster"),
        ("CONNECT_CONFIG_STORAGE_TOPIC", "cluster-configs"),
        ("CONNECT_STATUS_STORAGE_TOPIC", "cluster-status"),
        ("CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR", "1"),
        ("CONNECT_STATUS_STORAGE_REPLICATION_FACTOR", "1"),
    ]
}

async fn start_cluster(bootstrap: &str, dir: &Path) -> Vec<Worker> {
    let mut workers = Vec::new();
    for i in 0..3 {
        let own = dir.join(format!("worker-{i}"));
        workers.push(Worker::start(bootstrap, &own, &cluster_env()).await);
    }
    workers
}


/// worker_id → number of RUNNING tasks, from one worker's status answer.
fn placement(status: &Value) -> BTreeMap<String, usize> {
    let mut by_worker = BTreeMap::new();
    for task in status["tasks"].as_array().into_iter().flatten() {
        if task["state"] == "RUNNING" {
            *by_worker
                .entry(task["worker_id"].as_str().unwrap_or_default().to_string())
                .or_insert(0) += 1;
        }
    }
    by_worker
}

fn worker_id(w: &Worker) -> String {
    w.url("").trim_start_matches("http://").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_workers_share_six_tasks_survive_a_kill_and_act_on_any_worker() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "orders", 6).await;
    let mut workers = start_cluster(&broker.bootstrap(), dir.path()).await;
    let ids: Vec<String> = workers.iter().map(worker_id).collect();
    let out = dir.path().join("orders.txt");
    let config = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "6",
        "topics": "orders",
        "file": out.display().to_string(),
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    });
    // Sent to one worker, whichever leads: a follower forwards it.
    let (code, body) = eventually(
        Duration::from_secs(60),
        "the create to be taken",
        || async {
            let (code, body) = workers[1]
                .call(
                    "POST",
                    "/connectors",
                    Some(&json!({"name": "orders-file", "config": config})),
                )
                .await;
            (code != 409).then_some((code, body))
        },
    )
    .await;
    assert_eq!(code, 201, "{body}");

    // Two tasks per worker, seen alike from every worker.
    for w in &workers {
        let seen = eventually(
            Duration::from_secs(90),
            "2 tasks on each worker",
            || async {
                let (_, status) = w.get("/connectors/orders-file/status").await;
                let by_worker = placement(&status);
                (by_worker.len() == 3 && by_worker.values().all(|n| *n == 2)).then_some(by_worker)
            },
        )
        .await;
        assert_eq!(seen.keys().cloned().collect::<Vec<_>>(), {
            let mut sorted = ids.clone();
            sorted.sort();
            sorted
        });
    }

    // 20,000 records stream; one worker is killed in the middle.
    let producer = kafka::producer(&broker.bootstrap());
    let first: Vec<Rec> = (0..10_000)
        .map(|i| Rec::value(i % 6, format!("order-{i:05}")))
        .collect();
    kafka::produce(&producer, "orders", first).await;
    eventually(Duration::from_secs(120), "records flowing", || async {
        (lines(&out).len() >= 2_000).then_some(())
    })
    .await;
    let killed_id = ids[2].clone();
    workers[2].kill();
    let killed_at = Instant::now();
    let rest: Vec<Rec> = (10_000..20_000)
        .map(|i| Rec::value(i % 6, format!("order-{i:05}")))
        .collect();
    kafka::produce(&producer, "orders", rest).await;
    let moved = eventually(
        Duration::from_secs(60),
        "the killed worker's tasks to move",
        || async {
            let (_, status) = workers[0].get("/connectors/orders-file/status").await;
            let by_worker = placement(&status);
            (by_worker.values().sum::<usize>() == 6 && !by_worker.contains_key(&killed_id))
                .then_some(by_worker)
        },
    )
    .await;
    let took = killed_at.elapsed();
    eprintln!("cluster test: tasks moved in {took:?}: {moved:?}");
    assert!(took < Duration::from_secs(30), "tasks moved after {took:?}");
    let all = eventually(Duration::from_secs(180), "all 20,000 records", || async {
        let got: BTreeSet<String> = lines(&out).into_iter().collect();
        (got.len() >= 20_000).then_some(got)
    })
    .await;
    for i in [0, 9_999, 10_000, 19_999] {
        assert!(all.contains(&format!("order-{i:05}")), "order {i} missing");
    }

    // The killed worker comes back (same address) and gets tasks again.
    workers[2].start_again().await;
    eventually(
        Duration::from_secs(90),
        "the returning worker to get tasks",
        || async {
            let (_, status) = workers[1].get("/connectors/orders-file/status").await;
            let by_worker = placement(&status);
            (by_worker.get(&killed_id).copied().unwrap_or(0) == 2 && by_worker.len() == 3)
                .then_some(())
        },
    )
    .await;

    // Actions sent to any worker are seen by the others.
    let (code, _) = workers[2]
        .call("PUT", "/connectors/orders-file/pause", None)
        .await;
    assert_eq!(code, 202);
    workers[0].wait_state("orders-file", "PAUSED", 6).await;
    let (code, _) = workers[0]
        .call("PUT", "/connectors/orders-file/resume", None)
        .await;
    assert_eq!(code, 202);
    workers[1].wait_state("orders-file", "RUNNING", 6).await;
    let (code, body) = workers[1]
        .call(
            "PUT",
            "/connectors/orders-file/config",
            Some(&json!({
                "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                "tasks.max": "3",
                "topics": "orders",
                "file": out.display().to_string(),
                "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            })),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    eventually(
        Duration::from_secs(60),
        "3 tasks, one per worker",
        || async {
            let (_, status) = workers[2].get("/connectors/orders-file/status").await;
            let by_worker = placement(&status);
            (status["tasks"].as_array()?.len() == 3
                && by_worker.values().all(|n| *n == 1)
                && by_worker.len() == 3)
                .then_some(())
        },
    )
    .await;
    let (code, _) = workers[2]
        .call("DELETE", "/connectors/orders-file", None)
        .await;
    assert_eq!(code, 204);
    for w in &workers {
        eventually(
            Duration::from_secs(30),
            "the delete seen everywhere",
            || async { (w.get("/connectors").await.1 == json!([])).then_some(()) },
        )
        .await;
    }
}
