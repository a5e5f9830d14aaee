//! One error mechanism for every stage, end to end: poison records to the
//! dead-letter queue with Connect's headers, tolerance none failing the task
//! without committing past the bad record, retriable sink errors redelivered.

mod support;

use std::time::Duration;

use rdkafka::Message;
use serde_json::json;
use support::kafka::{self, Rec, header, payload_str};
use support::worker::lines;
use support::{Broker, Worker, eventually};

fn json_file_connector(topic: &str, file: &std::path::Path) -> serde_json::Value {
    json!({
        "connector.class": "FileStreamSink",
        "topics": topic,
        "file": file.display().to_string(),
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    })
}

fn with(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn dlq_settings(topic: &str) -> serde_json::Value {
    json!({
        "errors.tolerance": "all",
        "errors.log.enable": "true",
        "errors.log.include.messages": "true",
        "errors.deadletterqueue.topic.name": topic,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_goes_to_the_dlq_with_original_bytes_and_connect_headers() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "events", 2).await;
    let producer = kafka::producer(&broker.bootstrap());
    // 100 per partition; every 10th is not JSON.
    for p in 0..2 {
        let records = (0..100)
            .map(|i| {
                let value = if i % 10 == 7 {
                    format!("{{broken json p{p} #{i}")
                } else {
                    json!({"p": p, "i": i}).to_string()
                };
                Rec {
                    partition: p,
                    key: Some(format!("key-{p}-{i}").into_bytes()),
                    value: Some(value.into_bytes()),
                    headers: vec![("trace-id".into(), format!("t{p}-{i}").into_bytes())],
                }
            })
            .collect();
        kafka::produce(&producer, "events", records).await;
    }
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");
    let config = with(
        json_file_connector("events", &out),
        dlq_settings("events-dlq"),
    );
    assert_eq!(
        worker
            .call(
                "POST",
                "/connectors",
                Some(&json!({"name": "events-file", "config": config}))
            )
            .await
            .0,
        201
    );

    eventually(Duration::from_secs(60), "180 valid records", || async {
        (lines(&out).len() >= 180).then_some(())
    })
    .await;
    let written = lines(&out);
    assert_eq!(written.len(), 180);
    assert!(
        written
            .iter()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );

    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "events-dlq",
        1,
        20,
        Duration::from_secs(30),
    );
    assert_eq!(dlq.len(), 20, "every malformed record once in the DLQ");
    for m in &dlq {
        let (p, i) = {
            let v = payload_str(m);
            let rest = v
                .strip_prefix("{broken json p")
                .expect("original bytes unchanged");
            let (p, i) = rest.split_once(" #").unwrap();
            (p.parse::<i32>().unwrap(), i.parse::<i64>().unwrap())
        };
        assert_eq!(
            m.key(),
            Some(format!("key-{p}-{i}").as_bytes()),
            "original key"
        );
        assert_eq!(
            header(m, "trace-id"),
            Some(format!("t{p}-{i}").as_str()),
            "original headers kept"
        );
        assert_eq!(header(m, "__connect.errors.topic"), Some("events"));
        assert_eq!(
            header(m, "__connect.errors.partition"),
            Some(p.to_string().as_str())
        );
        assert_eq!(
            header(m, "__connect.errors.offset"),
            Some(i.to_string().as_str())
        );
        assert_eq!(
            header(m, "__connect.errors.connector.name"),
            Some("events-file")
        );
        assert_eq!(header(m, "__connect.errors.task.id"), Some("0"));
        assert_eq!(header(m, "__connect.errors.stage"), Some("VALUE_CONVERTER"));
        assert_eq!(
            header(m, "__connect.errors.class.name"),
            Some("org.apache.kafka.connect.json.JsonConverter")
        );
        assert_eq!(
            header(m, "__connect.errors.exception.class.name"),
            Some("org.apache.kafka.connect.errors.DataException")
        );
        assert!(
            header(m, "__connect.errors.exception.message")
                .unwrap()
                .contains("serialization error")
        );
        assert!(
            header(m, "__connect.errors.exception.stacktrace")
                .unwrap()
                .contains("VALUE_CONVERTER")
        );
    }
    // Everything, poison included, is committed.
    eventually(Duration::from_secs(30), "offsets committed", || async {
        let c = kafka::committed(&broker.bootstrap(), "connect-events-file", "events", 2);
        (c.get(&0) == Some(&100) && c.get(&1) == Some(&100)).then_some(())
    })
    .await;
    assert!(
        worker
            .log()
            .contains("Error encountered in task events-file-0"),
        "errors.log.enable logs each error"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn records_the_sink_reports_as_errant_reach_the_dlq_from_the_put_stage() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "reviews", 1).await;
    let producer = kafka::producer(&broker.bootstrap());
    let records = (0..30)
        .map(|i| {
            Rec::value(
                0,
                if i % 3 == 0 {
                    format!("BAD-{i}")
                } else {
                    format!("ok-{i}")
                },
            )
        })
        .collect();
    kafka::produce(&producer, "reviews", records).await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");
    let config = with(
        json!({"connector.class": "FlakySink", "topics": "reviews", "file": out.display().to_string(), "errant.marker": "BAD",
               "value.converter": "org.apache.kafka.connect.storage.StringConverter"}),
        dlq_settings("reviews-dlq"),
    );
    assert_eq!(
        worker
            .call(
                "POST",
                "/connectors",
                Some(&json!({"name": "reviews-sink", "config": config}))
            )
            .await
            .0,
        201
    );
    eventually(Duration::from_secs(60), "20 accepted records", || async {
        (lines(&out).len() >= 20).then_some(())
    })
    .await;
    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "reviews-dlq",
        1,
        10,
        Duration::from_secs(30),
    );
    assert_eq!(dlq.len(), 10);
    for m in &dlq {
        assert!(payload_str(m).starts_with("BAD-"));
        assert_eq!(header(m, "__connect.errors.stage"), Some("TASK_PUT"));
        assert_eq!(
            header(m, "__connect.errors.exception.class.name"),
            Some("io.connecthost.test.ErrantRecord")
        );
        assert!(
            header(m, "__connect.errors.exception.message")
                .unwrap()
                .contains("errant marker")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tolerance_none_fails_the_task_and_a_fixed_config_resumes_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "payments", 1).await;
    let producer = kafka::producer(&broker.bootstrap());
    let mut records: Vec<Rec> = (0..20)
        .map(|i| Rec::value(0, json!({"i": i}).to_string()))
        .collect();
    records.push(Rec::value(0, "not json at all"));
    records.extend((21..41).map(|i| Rec::value(0, json!({"i": i}).to_string())));
    kafka::produce(&producer, "payments", records).await;

    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");
    assert_eq!(
        worker
            .call(
                "PUT",
                "/connectors/payments-file/config",
                Some(&json_file_connector("payments", &out))
            )
            .await
            .0,
        201
    );
    let status = eventually(Duration::from_secs(60), "task FAILED", || async {
        let (_, s) = worker.get("/connectors/payments-file/status").await;
        (s["tasks"][0]["state"] == "FAILED").then_some(s)
    })
    .await;
    let trace = status["tasks"][0]["trace"].as_str().unwrap();
    assert!(
        trace.contains("Tolerance exceeded in error handler"),
        "{trace}"
    );
    assert!(
        trace.contains("DataException") && trace.contains("offset=20"),
        "{trace}"
    );
    // FAILED is reported after the task's last commit, so what is
    // committed now is final; the trace above shows the task reached
    // offset 20, so a commit past it would be visible here.
    let committed = kafka::committed(&broker.bootstrap(), "connect-payments-file", "payments", 1);
    let committed_at = committed.get(&0).copied().unwrap_or(0);
    assert!(
        committed_at <= 20,
        "nothing committed at or past the bad record: {committed:?}"
    );
    let written_before_fix = lines(&out).len();
    assert!(written_before_fix <= 20, "{written_before_fix} lines");

    // Fix: tolerate and dead-letter. PUT config restarts the tasks.
    let fixed = with(
        json_file_connector("payments", &out),
        dlq_settings("payments-dlq"),
    );
    assert_eq!(
        worker
            .call("PUT", "/connectors/payments-file/config", Some(&fixed))
            .await
            .0,
        200
    );
    eventually(Duration::from_secs(60), "all 40 valid records", || async {
        let unique: std::collections::BTreeSet<String> = lines(&out).into_iter().collect();
        (unique.len() == 40).then_some(())
    })
    .await;
    worker.wait_state("payments-file", "RUNNING", 1).await;
    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "payments-dlq",
        1,
        1,
        Duration::from_secs(30),
    );
    assert_eq!(dlq.len(), 1);
    assert_eq!(payload_str(&dlq[0]), "not json at all");
    // The control for the check before the fix: commits do reach the end.
    eventually(Duration::from_secs(60), "offset 41 committed", || async {
        let committed =
            kafka::committed(&broker.bootstrap(), "connect-payments-file", "payments", 1);
        (committed.get(&0) == Some(&41)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retriable_sink_errors_redeliver_without_loss_dlq_or_early_commit() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "stock", 1).await;
    let producer = kafka::producer(&broker.bootstrap());
    kafka::produce(
        &producer,
        "stock",
        (0..50)
            .map(|i| Rec::value(0, format!("s-{i:03}")))
            .collect(),
    )
    .await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");
    let attempts = dir.path().join("attempts.txt");
    let config = with(
        json!({"connector.class": "io.connecthost.test.FlakySinkConnector", "topics": "stock", "file": out.display().to_string(),
               "fail.puts": "8", "attempts.file": attempts.display().to_string(), "errors.retry.delay.max.ms": "1000",
               "value.converter": "org.apache.kafka.connect.storage.StringConverter"}),
        dlq_settings("stock-dlq"),
    );
    assert_eq!(
        worker
            .call(
                "POST",
                "/connectors",
                Some(&json!({"name": "stock-sink", "config": config}))
            )
            .await
            .0,
        201
    );

    // While the sink refuses, nothing is written and nothing committed.
    eventually(Duration::from_secs(60), "two failed attempts", || async {
        (lines(&attempts).len() >= 2).then_some(())
    })
    .await;
    assert!(lines(&out).is_empty());
    assert!(
        kafka::committed(&broker.bootstrap(), "connect-stock-sink", "stock", 1).is_empty(),
        "no commit before the sink accepts"
    );
    let (_, status) = worker.get("/connectors/stock-sink/status").await;
    assert_eq!(
        status["tasks"][0]["state"], "RUNNING",
        "retrying is not failing"
    );

    eventually(Duration::from_secs(60), "all 50 written", || async {
        (lines(&out).len() >= 50).then_some(())
    })
    .await;
    let written = lines(&out);
    assert_eq!(
        written,
        (0..50).map(|i| format!("s-{i:03}")).collect::<Vec<_>>(),
        "none lost, none doubled, in order"
    );
    assert!(
        lines(&attempts).len() >= 9,
        "8 refusals then success: {} attempts",
        lines(&attempts).len()
    );
    eventually(
        Duration::from_secs(30),
        "committed after acceptance",
        || async {
            (kafka::committed(&broker.bootstrap(), "connect-stock-sink", "stock", 1).get(&0)
                == Some(&50))
            .then_some(())
        },
    )
    .await;
    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "stock-dlq",
        1,
        1,
        Duration::from_secs(3),
    );
    assert!(dlq.is_empty(), "retriable errors never go to the DLQ");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_put_longer_than_max_poll_interval_keeps_the_group_membership() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "slow", 1).await;
    let producer = kafka::producer(&broker.bootstrap());
    kafka::produce(
        &producer,
        "slow",
        (0..30)
            .map(|i| Rec::value(0, format!("slow-{i:02}")))
            .collect(),
    )
    .await;
    // Puts of 9 s with max.poll.interval.ms 7 s: a consumer not polled
    // during put would be evicted and its partitions handed out again.
    let worker = Worker::start(
        &broker.bootstrap(),
        dir.path(),
        &[("CONNECT_CONSUMER_MAX_POLL_INTERVAL_MS", "7000")],
    )
    .await;
    let out = dir.path().join("out.txt");
    let config = json!({"connector.class": "FlakySink", "topics": "slow", "file": out.display().to_string(), "put.delay.ms": "9000",
                        "consumer.override.max.poll.records": "10", "value.converter": "org.apache.kafka.connect.storage.StringConverter"});
    assert_eq!(
        worker
            .call("PUT", "/connectors/slow-sink/config", Some(&config))
            .await
            .0,
        201
    );
    eventually(Duration::from_secs(120), "all 30 written", || async {
        (lines(&out).len() >= 30).then_some(())
    })
    .await;
    eventually(Duration::from_secs(30), "offset 30 committed", || async {
        (kafka::committed(&broker.bootstrap(), "connect-slow-sink", "slow", 1).get(&0) == Some(&30))
            .then_some(())
    })
    .await;
    assert_eq!(
        lines(&out),
        (0..30).map(|i| format!("slow-{i:02}")).collect::<Vec<_>>(),
        "each record once, in order"
    );
    let log = worker.log();
    assert_eq!(
        log.matches("partitions assigned").count(),
        1,
        "never evicted and reassigned:\n{log}"
    );
    assert!(!log.contains("revoked"), "{log}");
}
