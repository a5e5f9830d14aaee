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

async fn produce_numbered(broker: &Broker, topic: &str, partitions: i32, per_partition: usize, from: usize) {
    let producer = kafka::producer(&broker.bootstrap());
    for p in 0..partitions {
        let records = (from..from + per_partition).map(|i| Rec::value(p, format!("p{p}-{i:05}"))).collect();
        kafka::produce(&producer, topic, records).await;
    }
}

/// Lines per partition must be strictly increasing.
fn assert_ordered_per_partition(lines: &[String], partitions: i32) {
    for p in 0..partitions {
        let prefix = format!("p{p}-");
        let seq: Vec<&String> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
        assert!(seq.windows(2).all(|w| w[0] < w[1]), "partition {p} out of order or duplicated");
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

    let (code, body) = worker.call("POST", "/connectors", Some(&json!({"name": "orders-file", "config": file_connector("orders", &out, 2)}))).await;
    assert_eq!(code, 201, "{body}");

    eventually(Duration::from_secs(120), "10,000 lines", || async { (lines(&out).len() >= 10_000).then_some(()) }).await;
    // Committed offsets reach the end of every partition.
    eventually(Duration::from_secs(30), "offsets committed to the end", || async {
        let c = kafka::committed(&broker.bootstrap(), "connect-orders-file", "orders", 4);
        (c.len() == 4 && c.values().all(|o| *o == 2_500)).then_some(())
    })
    .await;
    let written = lines(&out);
    assert_eq!(written.len(), 10_000, "exactly once: no duplicates, none missing");
    let unique: std::collections::BTreeSet<_> = written.iter().collect();
    assert_eq!(unique.len(), 10_000);
    assert_ordered_per_partition(&written, 4);

    let (_, offsets) = worker.get("/connectors/orders-file/offsets").await;
    let offsets = offsets["offsets"].as_array().unwrap().clone();
    assert_eq!(offsets.len(), 4);
    assert!(offsets.iter().all(|o| o["offset"]["kafka_offset"] == 2_500 && o["partition"]["kafka_topic"] == "orders"));
    let (_, topics) = worker.get("/connectors/orders-file/topics").await;
    assert_eq!(topics, json!({"orders-file": {"topics": ["orders"]}}));
}
