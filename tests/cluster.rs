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
use support::{Broker, Worker, cluster_env, eventually};

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

/// The active topics of `carts-file`, as one worker answers.
async fn carts_topics(w: &Worker) -> Value {
    w.get("/connectors/carts-file/topics").await.1["carts-file"]["topics"].clone()
}

/// How many tasks this worker process has stopped so far (from its log).
fn tasks_stopped(w: &Worker) -> usize {
    w.log().matches("task stopped").count()
}

/// One cluster at a time: three workers, a broker and their timers (a
/// 6 s session, 2 s announcements) share this machine's cores, and two
/// clusters at once on 2 cores starve each other's heartbeats.
static ONE_CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn worker_id(w: &Worker) -> String {
    w.url("").trim_start_matches("http://").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_workers_share_six_tasks_survive_a_kill_and_act_on_any_worker() {
    let _one = ONE_CLUSTER.lock().await;
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
    let (code, body) = workers[1]
        .call_through_rebalance(
            "POST",
            "/connectors",
            Some(&json!({"name": "orders-file", "config": config})),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    // Read-your-writes on the worker that took the request, and the
    // cluster's Kafka id from every worker.
    assert_eq!(workers[1].get("/connectors/orders-file").await.0, 200);
    for w in &workers {
        let (_, info) = w.get("/").await;
        assert!(info["kafka_cluster_id"].is_string(), "{info}");
    }

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

    // The killed worker comes back (same address) and gets tasks again;
    // each survivor hands over one task and restarts nothing else.
    let stops_before: Vec<usize> = workers[..2].iter().map(tasks_stopped).collect();
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
    // Handing over stops the old instance after the new one reports.
    let stopped = eventually(
        Duration::from_secs(30),
        "the handed-over tasks stopped",
        || async {
            let stopped: Vec<usize> = workers[..2]
                .iter()
                .zip(&stops_before)
                .map(|(w, before)| tasks_stopped(w) - before)
                .collect();
            stopped.iter().all(|n| *n >= 1).then_some(stopped)
        },
    )
    .await;
    assert_eq!(
        stopped,
        vec![1, 1],
        "each survivor stopped only the task it handed over"
    );

    // Actions sent to any worker are seen by the others.
    let (code, _) = workers[2]
        .call_through_rebalance("PUT", "/connectors/orders-file/pause", None)
        .await;
    assert_eq!(code, 202);
    workers[0].wait_state("orders-file", "PAUSED", 6).await;
    let (code, _) = workers[0]
        .call_through_rebalance("PUT", "/connectors/orders-file/resume", None)
        .await;
    assert_eq!(code, 202);
    workers[1].wait_state("orders-file", "RUNNING", 6).await;
    let (code, body) = workers[1]
        .call_through_rebalance(
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
    // Concurrent writes to one connector through different workers end in
    // one state that every worker shows.
    let writes = (1..=6).map(|n| {
        let w = &workers[n % 3];
        let mut config = config.clone();
        config["tasks.max"] = json!(n.to_string());
        async move {
            w.call("PUT", "/connectors/orders-file/config", Some(&config))
                .await
                .0
        }
    });
    let codes = futures::future::join_all(writes).await;
    assert!(codes.iter().all(|c| *c == 200 || *c == 409), "{codes:?}");
    let settled = eventually(
        Duration::from_secs(30),
        "one final config everywhere",
        || async {
            let mut seen = BTreeSet::new();
            for w in &workers {
                seen.insert(
                    w.get("/connectors/orders-file/config").await.1["tasks.max"].to_string(),
                );
            }
            (seen.len() == 1).then(|| seen.into_iter().next())?
        },
    )
    .await;
    assert!(
        (1..=6).any(|n| settled == format!("\"{n}\"")),
        "final tasks.max {settled}"
    );
    let (code, _) = workers[2]
        .call_through_rebalance("DELETE", "/connectors/orders-file", None)
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

/// Drain, rebalance and a whole-cluster restart. The test workers stop
/// their consumers without LeaveGroup (`internal.leave.group.on.close=false`,
/// see `cluster_env`): tansu never reassigns a forming group whose leader
/// left it (README, "Known limits").
#[tokio::test(flavor = "multi_thread")]
async fn drain_rebalance_and_a_whole_cluster_restart_keep_every_record_and_state() {
    let _one = ONE_CLUSTER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "carts", 3).await;
    kafka::create_topic(&broker.bootstrap(), "views", 3).await;
    let mut workers = start_cluster(&broker.bootstrap(), dir.path()).await;
    let ids: Vec<String> = workers.iter().map(worker_id).collect();
    let file_connector = |topic: &str| {
        json!({
            "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "tasks.max": "3",
            "topics": topic,
            "file": dir.path().join(format!("{topic}.txt")).display().to_string(),
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        })
    };
    for (name, topic) in [("carts-file", "carts"), ("views-file", "views")] {
        let body = json!({"name": name, "config": file_connector(topic)});
        let (code, body) = workers[0]
            .call_through_rebalance("POST", "/connectors", Some(&body))
            .await;
        assert_eq!(code, 201, "{body}");
    }
    workers[0].wait_state("carts-file", "RUNNING", 3).await;
    workers[0].wait_state("views-file", "RUNNING", 3).await;
    let producer = kafka::producer(&broker.bootstrap());
    let produce = |from: usize| {
        let producer = &producer;
        async move {
            let records = (from..from + 300)
                .map(|i| Rec::value((i % 3) as i32, format!("carts-{i:04}")))
                .collect();
            kafka::produce(producer, "carts", records).await;
        }
    };
    let carts =
        || -> BTreeSet<String> { lines(&dir.path().join("carts.txt")).into_iter().collect() };
    produce(0).await;

    // Drain: the worker is emptied quickly and nothing is lost.
    let drained = ids[1].clone();
    let started = Instant::now();
    let (code, body) = workers[2]
        .call("PUT", &format!("/admin/workers/{drained}/drain"), None)
        .await;
    assert_eq!(code, 202, "{body}");
    eventually(
        Duration::from_secs(30),
        "the drained worker emptied",
        || async {
            let mut total = 0;
            for name in ["carts-file", "views-file"] {
                let (_, status) = workers[0].get(&format!("/connectors/{name}/status")).await;
                let by_worker = placement(&status);
                if by_worker.contains_key(&drained) {
                    return None;
                }
                total += by_worker.values().sum::<usize>();
            }
            (total == 6).then_some(())
        },
    )
    .await;
    let took = started.elapsed();
    eprintln!("cluster test: drained in {took:?}");
    assert!(took < Duration::from_secs(15), "drain took {took:?}");
    produce(300).await;
    // Moves re-form the consumer groups: slow on the test broker.
    eventually(Duration::from_secs(120), "600 carts", || async {
        (carts().len() == 600).then_some(())
    })
    .await;

    // The rebalance endpoints answer 202 with the placement.
    let (code, placed) = workers[1].call("POST", "/admin/rebalance", None).await;
    assert_eq!(code, 202, "{placed}");
    assert!(
        placed["workers"]
            .get(&drained)
            .is_none_or(|w| w["tasks"] == json!([])),
        "{placed}"
    );
    let (code, _) = workers[1]
        .call("DELETE", &format!("/admin/workers/{drained}/drain"), None)
        .await;
    assert_eq!(code, 202);
    let (code, placed) = workers[2]
        .call("POST", "/connectors/views-file/tasks/rebalance", None)
        .await;
    assert_eq!(code, 202, "{placed}");
    let views_tasks: usize = placed["workers"]
        .as_object()
        .unwrap()
        .values()
        .map(|w| w["tasks"].as_array().unwrap().len())
        .sum();
    assert_eq!(views_tasks, 3, "{placed}");
    eventually(
        Duration::from_secs(30),
        "the undrained worker to take work",
        || async {
            let mut here = false;
            for name in ["carts-file", "views-file"] {
                let (_, status) = workers[0].get(&format!("/connectors/{name}/status")).await;
                here |= placement(&status).contains_key(&drained);
            }
            here.then_some(())
        },
    )
    .await;

    // Whole cluster down and up: connectors, states and offsets come back.
    let (code, _) = workers[0]
        .call("PUT", "/connectors/views-file/pause", None)
        .await;
    assert_eq!(code, 202);
    workers[2].wait_state("views-file", "PAUSED", 3).await;
    // Lines before the stop: moves above may have redelivered some records
    // (at least once); what matters here is what the restart re-reads.
    let before_stop = lines(&dir.path().join("carts.txt")).len();
    for w in workers.iter_mut() {
        w.stop();
        tokio::time::sleep(Duration::from_secs(8)).await;
    }
    produce(600).await;
    for w in workers.iter_mut() {
        w.start_again().await;
    }
    eventually(Duration::from_secs(60), "both connectors back", || async {
        (workers[1].get("/connectors").await.1 == json!(["carts-file", "views-file"])).then_some(())
    })
    .await;
    workers[1].wait_state("views-file", "PAUSED", 3).await;
    workers[1].wait_state("carts-file", "RUNNING", 3).await;
    eventually(Duration::from_secs(90), "900 carts", || async {
        (carts().len() == 900).then_some(())
    })
    .await;
    // 300 new records; without the committed offsets all 600 old ones
    // would be written again too.
    let reread = lines(&dir.path().join("carts.txt")).len() - before_stop - 300;
    assert!(
        reread < 300,
        "the committed offsets came back: {reread} of 600 old records written again"
    );

    // A config the leader refuses is a 400 from whichever worker took it.
    let mut bad = file_connector("carts");
    bad["tasks.max"] = json!("zero");
    for w in &workers {
        // Right after the restart a leader may not be known yet: 409, retry.
        let (code, body) = w
            .call_through_rebalance("PUT", "/connectors/bad-file/config", Some(&bad))
            .await;
        assert_eq!(code, 400, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("tasks.max"),
            "{body}"
        );
    }

    // Stop, resume and restart, each through another worker.
    let (code, _) = workers[2]
        .call("PUT", "/connectors/views-file/stop", None)
        .await;
    assert_eq!(code, 204);
    eventually(Duration::from_secs(30), "STOPPED with no tasks", || async {
        let (_, status) = workers[0].get("/connectors/views-file/status").await;
        (status["connector"]["state"] == "STOPPED" && status["tasks"] == json!([])).then_some(())
    })
    .await;
    let (code, _) = workers[1]
        .call("PUT", "/connectors/views-file/resume", None)
        .await;
    assert_eq!(code, 202);
    workers[2].wait_state("views-file", "RUNNING", 3).await;
    let (code, body) = workers[0]
        .call(
            "POST",
            "/connectors/carts-file/restart?includeTasks=true",
            None,
        )
        .await;
    assert_eq!(code, 202, "{body}");
    workers[1].wait_state("carts-file", "RUNNING", 3).await;

    // Active topics are the cluster's, from any worker; a reset anywhere
    // clears them everywhere until records arrive again.
    eventually(Duration::from_secs(30), "carts is active", || async {
        (carts_topics(&workers[1]).await == json!(["carts"])).then_some(())
    })
    .await;
    let (code, _) = workers[2]
        .call("PUT", "/connectors/carts-file/topics/reset", None)
        .await;
    assert_eq!(code, 202);
    eventually(
        Duration::from_secs(30),
        "no active topic after the reset",
        || async { (carts_topics(&workers[0]).await == json!([])).then_some(()) },
    )
    .await;
    // Every worker forgets the topic within a tick of reading the reset.
    tokio::time::sleep(Duration::from_secs(2)).await;
    produce(900).await;
    eventually(Duration::from_secs(60), "carts active again", || async {
        (carts_topics(&workers[0]).await == json!(["carts"])).then_some(())
    })
    .await;

    // A worker that restarts within scheduled.rebalance.max.delay.ms keeps
    // its work: nobody else stops or takes over a task.
    let stops_before: Vec<usize> = workers[1..].iter().map(tasks_stopped).collect();
    workers[0].kill();
    workers[0].start_again().await;
    eventually(
        Duration::from_secs(60),
        "the restarted worker runs its tasks again",
        || async {
            // Its new process's own tasks, not the statuses its old one left.
            if workers[0].log().matches("partitions assigned").count() < 2 {
                return None;
            }
            let mut on_first = 0;
            for name in ["carts-file", "views-file"] {
                let (_, status) = workers[1].get(&format!("/connectors/{name}/status")).await;
                let placed = placement(&status);
                if placed.values().sum::<usize>() != 3 {
                    return None;
                }
                on_first += placed.get(&ids[0]).copied().unwrap_or(0);
            }
            (on_first == 2).then_some(())
        },
    )
    .await;
    let stops_after: Vec<usize> = workers[1..].iter().map(tasks_stopped).collect();
    assert_eq!(
        stops_after, stops_before,
        "no task moved for a quick restart"
    );
}

/// Fencing: workers that lose the broker stop their tasks within their
/// session timeout (6 s here), and take their work up again when it is
/// back, losing nothing.
#[tokio::test(flavor = "multi_thread")]
async fn workers_cut_off_from_the_broker_stop_their_tasks_and_resume_after() {
    let _one = ONE_CLUSTER.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "clicks", 2).await;
    let mut workers = Vec::new();
    for i in 0..2 {
        let own = dir.path().join(format!("worker-{i}"));
        workers.push(Worker::start(&broker.bootstrap(), &own, &cluster_env()).await);
    }
    let out = dir.path().join("clicks.txt");
    let body = json!({"name": "clicks-file", "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "2",
        "topics": "clicks",
        "file": out.display().to_string(),
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    }});
    let (code, body) = workers[0]
        .call_through_rebalance("POST", "/connectors", Some(&body))
        .await;
    assert_eq!(code, 201, "{body}");
    workers[1].wait_state("clicks-file", "RUNNING", 2).await;
    let producer = kafka::producer(&broker.bootstrap());
    let records = |from: usize| -> Vec<Rec> {
        (from..from + 200)
            .map(|i| Rec::value((i % 2) as i32, format!("click-{i:04}")))
            .collect()
    };
    kafka::produce(&producer, "clicks", records(0)).await;
    eventually(Duration::from_secs(60), "200 clicks", || async {
        (lines(&out).len() >= 200).then_some(())
    })
    .await;

    broker.freeze();
    let frozen = Instant::now();
    let fenced = eventually(Duration::from_secs(40), "both workers to fence", || async {
        workers
            .iter()
            .all(|w| w.log().contains("lost contact with the cluster"))
            .then(|| frozen.elapsed())
    })
    .await;
    eprintln!("cluster test: fenced {fenced:?} after the broker froze");
    assert!(
        fenced < Duration::from_secs(20),
        "fenced after {fenced:?}, session timeout 6 s"
    );
    broker.thaw();
    eventually(Duration::from_secs(60), "both workers back", || async {
        workers
            .iter()
            .all(|w| w.log().contains("back in contact with the cluster"))
            .then_some(())
    })
    .await;
    kafka::produce(&producer, "clicks", records(200)).await;
    eventually(Duration::from_secs(90), "all 400 clicks", || async {
        let got: BTreeSet<String> = lines(&out).into_iter().collect();
        (got.len() == 400).then_some(())
    })
    .await;
    workers[0].wait_state("clicks-file", "RUNNING", 2).await;
}
