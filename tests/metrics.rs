//! `GET /metrics` on a real worker: the counters say exactly what went
//! through, with the connector, task and worker labels, and the embedding
//! sink adds its own series.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use support::kafka::{self, Rec};
use support::qdrant::QdrantServer;
use support::worker::lines;
use support::{Broker, Worker, eventually};

/// One sample of the exposition: name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of Prometheus' text format (our label values hold no
/// quotes or commas).
fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("sample has a value");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (k, v) = l.split_once('=').expect("label=value");
                    (k.to_string(), v.trim_matches('"').to_string())
                })
                .collect();
            Sample {
                name: name.to_string(),
                labels,
                value: value.parse().expect("a number"),
            }
        })
        .collect()
}

/// Create connector `name` on `worker`, or fail the test with the answer.
async fn create(worker: &Worker, name: &str, config: serde_json::Value) {
    let body = json!({"name": name, "config": config});
    let (code, answer) = worker.call("POST", "/connectors", Some(&body)).await;
    assert_eq!(code, 201, "{answer}");
}

/// A broker with `topic` holding `records`, and a worker on it.
async fn stack_with(
    dir: &std::path::Path,
    topic: &str,
    partitions: i32,
    records: Vec<Rec>,
) -> (Broker, Worker) {
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), topic, partitions).await;
    let producer = kafka::producer(&broker.bootstrap());
    kafka::produce(&producer, topic, records).await;
    let worker = Worker::start(&broker.bootstrap(), dir, &[]).await;
    (broker, worker)
}

struct Scrape(Vec<Sample>);

impl Scrape {
    async fn of(worker: &Worker) -> Self {
        let response = reqwest::get(worker.url("/metrics")).await.unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        Self(parse(&response.text().await.unwrap()))
    }

    /// The value of the one series `name` with all of `labels`; `None` if absent.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<&Sample> = self
            .0
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        assert!(
            matching.len() <= 1,
            "{name} {labels:?} names several series: {matching:?}"
        );
        matching.first().map(|s| s.value)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn counters_say_exactly_what_went_through_with_labels() {
    let dir = tempfile::tempdir().unwrap();
    // 1,000 good records and 10 that are not JSON, over two partitions.
    let records: Vec<Rec> = (0..1_010)
        .map(|i| {
            let value = if i % 101 == 100 {
                format!("{{not json #{i}")
            } else {
                json!({"i": i}).to_string()
            };
            Rec::value(i % 2, value)
        })
        .collect();
    let (_broker, worker) = stack_with(dir.path(), "metered", 2, records).await;
    let out = dir.path().join("out.txt");
    let config = json!({
        "connector.class": "FileStreamSink",
        "tasks.max": "1",
        "topics": "metered",
        "file": out.display().to_string(),
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "metered-dlq",
        "errors.deadletterqueue.topic.replication.factor": "1",
    });
    create(&worker, "metered", config).await;
    let status = worker.wait_state("metered", "RUNNING", 1).await;
    let worker_id = status["tasks"][0]["worker_id"]
        .as_str()
        .unwrap()
        .to_string();
    eventually(Duration::from_secs(60), "1,000 records written", || async {
        (lines(&out).len() >= 1_000).then_some(())
    })
    .await;

    let task = [
        ("connector", "metered"),
        ("task", "0"),
        ("worker", worker_id.as_str()),
    ];
    let with = |extra: (&'static str, &'static str)| {
        let mut labels = task.to_vec();
        labels.push(extra);
        labels
    };
    // Commits and lag come asynchronously (commit callbacks, statistics).
    let scrape = eventually(
        Duration::from_secs(30),
        "commits and zero lag reported",
        || async {
            let scrape = Scrape::of(&worker).await;
            let committed = scrape
                .value(
                    "connect_sink_task_offset_commits_total",
                    &with(("result", "success")),
                )
                .unwrap_or(0.0);
            let lag: Vec<Option<f64>> = ["0", "1"]
                .iter()
                .map(|p| {
                    scrape.value(
                        "connect_sink_task_consumer_lag",
                        &[&task[..], &[("topic", "metered"), ("partition", p)]].concat(),
                    )
                })
                .collect();
            (committed >= 1.0 && lag.iter().all(|l| *l == Some(0.0))).then_some(scrape)
        },
    )
    .await;
    let counter = |name: &str| scrape.value(name, &task);
    assert_eq!(
        counter("connect_sink_task_records_read_total"),
        Some(1_010.0)
    );
    assert_eq!(
        counter("connect_sink_task_records_put_total"),
        Some(1_000.0)
    );
    assert_eq!(
        counter("connect_task_error_records_failed_total"),
        Some(10.0)
    );
    assert_eq!(
        counter("connect_task_error_records_skipped_total"),
        Some(10.0)
    );
    assert_eq!(
        counter("connect_task_error_deadletterqueue_produced_total"),
        Some(10.0)
    );
    assert_eq!(
        counter("connect_task_error_deadletterqueue_failures_total"),
        Some(0.0)
    );
    assert_eq!(counter("connect_task_error_retries_total"), Some(0.0));
    assert_eq!(
        counter("connect_sink_task_put_batch_size_sum"),
        Some(1_000.0),
        "every good record in exactly one successful put"
    );
    assert!(counter("connect_sink_task_put_batch_seconds_count").unwrap() >= 1.0);
    assert_eq!(
        scrape.value(
            "connect_sink_task_offset_commits_total",
            &with(("result", "failure"))
        ),
        Some(0.0)
    );
    assert_eq!(
        scrape.value("connect_task_state", &with(("state", "running"))),
        Some(1.0)
    );
    assert_eq!(
        scrape.value("connect_task_state", &with(("state", "failed"))),
        Some(0.0)
    );
    assert!(scrape.value("process_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert!(
        scrape
            .value("connect_worker_uptime_seconds", &[("worker", &worker_id)])
            .unwrap()
            > 0.0
    );
    // Every series carries the worker label.
    assert!(
        scrape
            .0
            .iter()
            .all(|s| s.labels.get("worker") == Some(&worker_id)),
        "a series without worker={worker_id}"
    );

    // The state gauge follows a pause.
    assert_eq!(
        worker
            .call("PUT", "/connectors/metered/pause", None)
            .await
            .0,
        202
    );
    worker.wait_state("metered", "PAUSED", 1).await;
    let paused = eventually(Duration::from_secs(10), "the paused gauge", || async {
        let scrape = Scrape::of(&worker).await;
        (scrape.value("connect_task_state", &with(("state", "paused"))) == Some(1.0))
            .then_some(scrape)
    })
    .await;
    assert_eq!(
        paused.value("connect_task_state", &with(("state", "running"))),
        Some(0.0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let records = (0..20)
        .map(|i| Rec::value(0, json!({"i": i}).to_string()))
        .collect();
    let (_broker, worker) = stack_with(dir.path(), "retried", 1, records).await;
    let out = dir.path().join("out.txt");
    let config = json!({
        "connector.class": "FlakySink",
        "tasks.max": "1",
        "topics": "retried",
        "file": out.display().to_string(),
        "fail.puts": "3",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    });
    create(&worker, "retried", config).await;
    eventually(Duration::from_secs(60), "20 records written", || async {
        (lines(&out).len() >= 20).then_some(())
    })
    .await;
    let scrape = Scrape::of(&worker).await;
    let labels = [("connector", "retried"), ("task", "0")];
    assert_eq!(
        scrape.value("connect_task_error_retries_total", &labels),
        Some(3.0),
        "three failed puts, three retries"
    );
    assert_eq!(
        scrape.value("connect_sink_task_records_put_total", &labels),
        Some(20.0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedding_sink_adds_its_series() {
    let dir = tempfile::tempdir().unwrap();
    let server = QdrantServer::start(&dir.path().join("qdrant"));
    // 40 events over 10 distinct texts: the cache answers the repeats.
    let records = (0..40)
        .map(|i| {
            let value = json!({"id": i, "name": format!("product {}", i % 10)});
            Rec::value(0, value.to_string())
        })
        .collect();
    let (_broker, worker) = stack_with(dir.path(), "products", 1, records).await;
    let config = json!({
        "connector.class": "qdrant-embedding",
        "tasks.max": "1",
        "topics": "products",
        "qdrant.url": server.url(),
        "collection.name": "products",
        "embedding.device": "cpu",
        "embedding.precision": "fp32",
        "embedding.text.template": "{name}",
        "id.strategy": "field:id",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    });
    create(&worker, "embedded", config).await;
    let labels = [("connector", "embedded"), ("task", "0")];
    let scrape = eventually(Duration::from_secs(120), "40 records put", || async {
        let scrape = Scrape::of(&worker).await;
        (scrape.value("connect_sink_task_records_put_total", &labels) == Some(40.0))
            .then_some(scrape)
    })
    .await;
    let lookups = scrape
        .value("connect_embedding_cache_lookups_total", &labels)
        .unwrap();
    let hits = scrape
        .value("connect_embedding_cache_hits_total", &labels)
        .unwrap();
    let embedded = scrape
        .value("connect_embedding_texts_total", &labels)
        .unwrap();
    assert_eq!(lookups, 40.0, "one text per record");
    assert_eq!(hits + embedded, lookups);
    assert!(
        embedded >= 10.0,
        "each distinct text embedded at least once"
    );
    let ratio = scrape
        .value("connect_embedding_cache_hit_ratio", &labels)
        .unwrap();
    assert!((ratio - hits / lookups).abs() < 1e-9, "{ratio}");
    assert_eq!(
        scrape.value(
            "connect_embedding_device_info",
            &[("device", "cpu"), ("precision", "fp32")]
        ),
        Some(1.0)
    );
    let passes = [("device", "cpu"), ("precision", "fp32")];
    assert!(
        scrape
            .value("connect_embedding_batch_seconds_count", &passes)
            .unwrap()
            >= 1.0
    );
    assert!(
        scrape
            .value("connect_embedding_pass_tokens_sum", &passes)
            .unwrap()
            >= embedded,
        "at least a token per embedded text"
    );
    assert!(
        scrape
            .value("connect_qdrant_upsert_seconds_count", &labels)
            .unwrap()
            >= 1.0
    );
    for kind in ["transient", "permanent"] {
        assert_eq!(
            scrape.value(
                "connect_qdrant_upsert_errors_total",
                &[&labels[..], &[("kind", kind)]].concat(),
            ),
            Some(0.0),
            "{kind} upsert errors"
        );
    }
}
