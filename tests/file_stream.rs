//! The FileStream sink end to end through the real broker and worker:
//! delivery, pause/resume, stop + offset changes, restart, delete.

mod support;

use std::time::Duration;

use serde_json::json;
use support::kafka::{self, Rec};
use support::worker::lines;
use support::{Broker, Worker, eventually};

fn file_connector(topic: &str, file: &std::path::Path, tasks: u32) -> serde_json::Value {
    json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": tasks.to_string(),
        "topics": topic,
        "file": file.display().to_string(),
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    })
}

async fn produce_numbered(
    broker: &Broker,
    topic: &str,
    partitions: i32,
    per_partition: usize,
    from: usize,
) {
    let producer = kafka::producer(&broker.bootstrap());
    for p in 0..partitions {
        let records = (from..from + per_partition)
            .map(|i| Rec::value(p, format!("p{p}-{i:05}")))
            .collect();
        kafka::produce(&producer, topic, records).await;
    }
}

/// Lines per partition must be strictly increasing.
fn assert_ordered_per_partition(lines: &[String], partitions: i32) {
    for p in 0..partitions {
        let prefix = format!("p{p}-");
        let seq: Vec<&String> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
        assert!(
            seq.windows(2).all(|w| w[0] < w[1]),
            "partition {p} out of order or duplicated"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_records_over_four_partitions_land_exactly_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "orders", 4).await;
    produce_numbered(&broker, "orders", 4, 2_500, 0).await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");

    let (code, body) = worker
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": "orders-file", "config": file_connector("orders", &out, 2)})),
        )
        .await;
    assert_eq!(code, 201, "{body}");

    eventually(Duration::from_secs(120), "10,000 lines", || async {
        (lines(&out).len() >= 10_000).then_some(())
    })
    .await;
    // Committed offsets reach the end of every partition.
    eventually(
        Duration::from_secs(30),
        "offsets committed to the end",
        || async {
            let c = kafka::committed(&broker.bootstrap(), "connect-orders-file", "orders", 4);
            (c.len() == 4 && c.values().all(|o| *o == 2_500)).then_some(())
        },
    )
    .await;
    let written = lines(&out);
    assert_eq!(
        written.len(),
        10_000,
        "exactly once: no duplicates, none missing"
    );
    let unique: std::collections::BTreeSet<_> = written.iter().collect();
    assert_eq!(unique.len(), 10_000);
    assert_ordered_per_partition(&written, 4);

    let (_, offsets) = worker.get("/connectors/orders-file/offsets").await;
    let offsets = offsets["offsets"].as_array().unwrap().clone();
    assert_eq!(offsets.len(), 4);
    assert!(
        offsets
            .iter()
            .all(|o| o["offset"]["kafka_offset"] == 2_500
                && o["partition"]["kafka_topic"] == "orders")
    );
    let (_, topics) = worker.get("/connectors/orders-file/topics").await;
    assert_eq!(topics, json!({"orders-file": {"topics": ["orders"]}}));
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_stops_writes_and_resume_delivers_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "clicks", 2).await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");
    let (code, _) = worker
        .call(
            "PUT",
            "/connectors/clicks-file/config",
            Some(&file_connector("clicks", &out, 1)),
        )
        .await;
    assert_eq!(code, 201);
    produce_numbered(&broker, "clicks", 2, 50, 0).await;
    eventually(Duration::from_secs(60), "100 lines", || async {
        (lines(&out).len() == 100).then_some(())
    })
    .await;

    let (code, _) = worker
        .call("PUT", "/connectors/clicks-file/pause", None)
        .await;
    assert_eq!(code, 202);
    worker.wait_state("clicks-file", "PAUSED", 1).await;
    produce_numbered(&broker, "clicks", 2, 50, 50).await;
    // The control: a second connector on the topic reads all 200 records
    // meanwhile, so the paused one had them to read and did not.
    let control = out.with_extension("control");
    let (code, _) = worker
        .call(
            "PUT",
            "/connectors/clicks-control/config",
            Some(&file_connector("clicks", &control, 1)),
        )
        .await;
    assert_eq!(code, 201);
    eventually(Duration::from_secs(60), "200 control lines", || async {
        (lines(&control).len() == 200).then_some(())
    })
    .await;
    assert_eq!(
        lines(&out).len(),
        100,
        "nothing may be written while paused"
    );

    let (code, _) = worker
        .call("PUT", "/connectors/clicks-file/resume", None)
        .await;
    assert_eq!(code, 202);
    worker.wait_state("clicks-file", "RUNNING", 1).await;
    eventually(
        Duration::from_secs(60),
        "200 lines after resume",
        || async { (lines(&out).len() == 200).then_some(()) },
    )
    .await;
    assert_ordered_per_partition(&lines(&out), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_then_offset_reset_and_alter_rewind_the_connector() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "views", 1).await;
    produce_numbered(&broker, "views", 1, 200, 0).await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");
    let body = json!({"name": "views-file", "config": file_connector("views", &out, 1)});
    assert_eq!(worker.call("POST", "/connectors", Some(&body)).await.0, 201);
    eventually(Duration::from_secs(60), "200 lines", || async {
        (lines(&out).len() == 200).then_some(())
    })
    .await;
    eventually(Duration::from_secs(30), "offset 200 committed", || async {
        let (_, o) = worker.get("/connectors/views-file/offsets").await;
        (o["offsets"][0]["offset"]["kafka_offset"] == 200).then_some(())
    })
    .await;

    // Offsets can only change when stopped.
    let patch = json!({"offsets": [{"partition": {"kafka_topic": "views", "kafka_partition": 0}, "offset": {"kafka_offset": 150}}]});
    let (code, err) = worker
        .call("PATCH", "/connectors/views-file/offsets", Some(&patch))
        .await;
    assert_eq!(code, 400);
    assert_eq!(err["error_code"], 400);
    assert!(
        err["message"].as_str().unwrap().contains("STOPPED"),
        "{err}"
    );
    let (code, _) = worker
        .call("DELETE", "/connectors/views-file/offsets", None)
        .await;
    assert_eq!(code, 400);

    assert_eq!(
        worker
            .call("PUT", "/connectors/views-file/stop", None)
            .await
            .0,
        204
    );
    let (_, status) = worker.get("/connectors/views-file/status").await;
    assert_eq!(status["connector"]["state"], "STOPPED");
    assert_eq!(status["tasks"], json!([]));
    let (_, tasks) = worker.get("/connectors/views-file/tasks").await;
    assert_eq!(tasks, json!([]));

    // DELETE: back to the beginning (auto.offset.reset=earliest).
    let (code, msg) = worker
        .call("DELETE", "/connectors/views-file/offsets", None)
        .await;
    assert_eq!(code, 200, "{msg}");
    assert_eq!(
        msg["message"],
        "The offsets for this connector have been reset successfully"
    );
    std::fs::write(&out, "").unwrap();
    assert_eq!(
        worker
            .call("PUT", "/connectors/views-file/resume", None)
            .await
            .0,
        202
    );
    eventually(
        Duration::from_secs(60),
        "all 200 re-read after reset",
        || async { (lines(&out).len() == 200).then_some(()) },
    )
    .await;
    assert_eq!(lines(&out)[0], "p0-00000");

    // PATCH: to offset 150, so exactly the last 50 are read again.
    eventually(
        Duration::from_secs(30),
        "offset 200 committed again",
        || async {
            let (_, o) = worker.get("/connectors/views-file/offsets").await;
            (o["offsets"][0]["offset"]["kafka_offset"] == 200).then_some(())
        },
    )
    .await;
    assert_eq!(
        worker
            .call("PUT", "/connectors/views-file/stop", None)
            .await
            .0,
        204
    );
    let (code, msg) = worker
        .call("PATCH", "/connectors/views-file/offsets", Some(&patch))
        .await;
    assert_eq!(code, 200, "{msg}");
    assert_eq!(
        msg["message"],
        "The offsets for this connector have been altered successfully"
    );
    let (_, o) = worker.get("/connectors/views-file/offsets").await;
    assert_eq!(o["offsets"][0]["offset"]["kafka_offset"], 150);
    std::fs::write(&out, "").unwrap();
    assert_eq!(
        worker
            .call("PUT", "/connectors/views-file/resume", None)
            .await
            .0,
        202
    );
    // A marker produced after the 50: once it is written, anything read
    // before it has been written too, so the count is exact.
    produce_numbered(&broker, "views", 1, 1, 200).await;
    eventually(
        Duration::from_secs(60),
        "the marker after offset 199",
        || async { lines(&out).contains(&"p0-00200".to_string()).then_some(()) },
    )
    .await;
    let again = lines(&out);
    assert_eq!(again.len(), 51, "{again:?}");
    assert_eq!(again[0], "p0-00150");
    assert_eq!(again[49], "p0-00199");
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_variants_restart_what_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "carts", 2).await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");
    // One task, restarted only once records flow: tansu never reassigns a
    // group after a member leaves mid-join or two members leave (measured).
    let body = json!({"name": "carts-file", "config": file_connector("carts", &out, 1)});
    assert_eq!(worker.call("POST", "/connectors", Some(&body)).await.0, 201);
    let mut produced = 0;
    let mut flows = || {
        produced += 10;
        let expected = produced * 2;
        let (broker, out) = (&broker, &out);
        async move {
            produce_numbered(broker, "carts", 2, 10, expected / 2 - 10).await;
            eventually(
                Duration::from_secs(60),
                &format!("{expected} lines"),
                || async { (lines(out).len() >= expected).then_some(()) },
            )
            .await;
        }
    };
    flows().await;

    // Plain restart: 204, no body.
    let (code, body) = worker
        .call("POST", "/connectors/carts-file/restart", None)
        .await;
    assert_eq!((code, body), (204, serde_json::Value::Null));
    // includeTasks: 202 with everything marked RESTARTING.
    let (code, body) = worker
        .call(
            "POST",
            "/connectors/carts-file/restart?includeTasks=true",
            None,
        )
        .await;
    assert_eq!(code, 202);
    assert_eq!(body["connector"]["state"], "RESTARTING");
    assert_eq!(body["tasks"][0]["state"], "RESTARTING", "{body}");
    worker.wait_state("carts-file", "RUNNING", 1).await;
    flows().await;
    // onlyFailed with nothing failed: nothing restarts.
    let (code, body) = worker
        .call(
            "POST",
            "/connectors/carts-file/restart?includeTasks=true&onlyFailed=true",
            None,
        )
        .await;
    assert_eq!(code, 202);
    assert_eq!(body["connector"]["state"], "RUNNING");
    assert_eq!(body["tasks"][0]["state"], "RUNNING", "{body}");
    assert_eq!(
        worker
            .call("POST", "/connectors/carts-file/tasks/0/restart", None)
            .await
            .0,
        204
    );
    assert_eq!(
        worker
            .call("POST", "/connectors/carts-file/tasks/7/restart", None)
            .await
            .0,
        404
    );
    flows().await;
    let written = lines(&out);
    let unique: std::collections::BTreeSet<_> = written.iter().collect();
    assert_eq!(unique.len(), 60, "every record once at least");

    // A task that fails (its file cannot be created) is restarted by onlyFailed.
    let bad = dir.path().join("missing-dir/out.txt");
    let body = json!({"name": "broken-file", "config": file_connector("carts", &bad, 1)});
    assert_eq!(worker.call("POST", "/connectors", Some(&body)).await.0, 201);
    let failed = eventually(Duration::from_secs(30), "task FAILED", || async {
        let (_, s) = worker.get("/connectors/broken-file/tasks/0/status").await;
        (s["state"] == "FAILED").then_some(s)
    })
    .await;
    assert!(
        failed["trace"].as_str().unwrap().contains("missing-dir"),
        "{failed}"
    );
    std::fs::create_dir_all(dir.path().join("missing-dir")).unwrap();
    let (code, body) = worker
        .call(
            "POST",
            "/connectors/broken-file/restart?includeTasks=true&onlyFailed=true",
            None,
        )
        .await;
    assert_eq!(code, 202);
    assert_eq!(body["connector"]["state"], "RUNNING");
    assert_eq!(body["tasks"][0]["state"], "RESTARTING");
    worker.wait_state("broken-file", "RUNNING", 1).await;
    eventually(
        Duration::from_secs(60),
        "the restarted task writes",
        || async { (lines(&bad).len() == 60).then_some(()) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_stops_the_tasks_and_frees_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "carts", 2).await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");
    let body = json!({"name": "carts-file", "config": file_connector("carts", &out, 1)});
    assert_eq!(worker.call("POST", "/connectors", Some(&body)).await.0, 201);
    produce_numbered(&broker, "carts", 2, 10, 0).await;
    eventually(Duration::from_secs(60), "20 lines", || async {
        (lines(&out).len() == 20).then_some(())
    })
    .await;

    assert_eq!(
        worker
            .call("DELETE", "/connectors/carts-file", None)
            .await
            .0,
        204
    );
    assert_eq!(worker.get("/connectors/carts-file").await.0, 404);
    assert_eq!(worker.get("/connectors").await.1, json!([]));
    produce_numbered(&broker, "carts", 2, 10, 10).await;
    // The control: a new connector (its own group) reads all 40 records,
    // so the deleted one had them to read.
    let control = out.with_extension("control");
    let body = json!({"name": "carts-control", "config": file_connector("carts", &control, 1)});
    assert_eq!(worker.call("POST", "/connectors", Some(&body)).await.0, 201);
    eventually(Duration::from_secs(60), "40 control lines", || async {
        (lines(&control).len() == 40).then_some(())
    })
    .await;
    assert_eq!(lines(&out).len(), 20, "a deleted connector writes nothing");
    let bootstrap = broker.bootstrap();
    let assigned = tokio::task::spawn_blocking(move || {
        use rdkafka::consumer::{BaseConsumer, Consumer};
        let c: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", "connect-carts-file")
            .set("session.timeout.ms", "6000")
            .create()
            .unwrap();
        c.subscribe(&["carts"]).unwrap();
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            let _ = c.poll(Duration::from_millis(200));
            if c.assignment().unwrap().count() == 2 {
                return true;
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(
        assigned,
        "a new member of connect-carts-file gets every partition: the group is free"
    );
}
