//! The qdrant-embedding sink end to end: the real broker, the real worker
//! process and the Qdrant-protocol server (qdrant-edge), talking through
//! the ordinary qdrant-client code path.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use event_generator::{Generator, Malformation};
use rdkafka::Message;
use serde_json::{Value, json};
use support::kafka::{self, Rec, header};
use support::qdrant::{self, QdrantServer};
use support::{Broker, Worker, cluster_env, eventually};

const TOPIC: &str = "ecommerce-events";

fn connector(server: &QdrantServer, collection: &str, extra: Value) -> Value {
    let mut config = json!({
        "connector.class": "qdrant-embedding",
        "topics": TOPIC,
        "tasks.max": "2",
        "qdrant.url": server.url(),
        "collection.name": collection,
        "embedding.device": "cpu",
        "embedding.text.template": "{product.name}: {product.description}",
        "id.strategy": "field:event_id",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "events-dlq",
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    });
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    config
}

async fn produce_events(broker: &Broker, events: &[event_generator::Event], partitions: i32) {
    let producer = kafka::producer(&broker.bootstrap());
    for chunk in events.chunks(500) {
        let records = chunk
            .iter()
            .enumerate()
            .map(|(i, e)| Rec {
                partition: (i as i32) % partitions,
                key: Some(e.key.clone().into_bytes()),
                value: Some(e.value.clone()),
                headers: vec![],
            })
            .collect();
        kafka::produce(&producer, TOPIC, records).await;
    }
}

/// The query vector for `text`, from `connect-host embed` (same model, same code).
fn embed(text: &str) -> Vec<f32> {
    use std::io::Write;
    let mut child = std::process::Command::new(Worker::bin())
        .args(["embed", "--device", "cpu"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", json!(text)).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn five_thousand_events_become_points_and_poison_goes_to_the_dlq() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), TOPIC, 4).await;
    let server = QdrantServer::start(&dir.path().join("qdrant"));
    let mut generator = Generator::new(42, 300, 0.03);
    let events: Vec<_> = (0..5_000).map(|_| generator.next_event()).collect();
    produce_events(&broker, &events, 4).await;
    let valid: Vec<_> = events.iter().filter(|e| e.malformed.is_none()).collect();
    let malformed: Vec<_> = events.iter().filter(|e| e.malformed.is_some()).collect();
    assert!(malformed.len() > 50);

    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let body =
        json!({"name": "events-to-qdrant", "config": connector(&server, "events", json!({}))});
    let (code, resp) = worker.call("POST", "/connectors", Some(&body)).await;
    assert_eq!(code, 201, "{resp}");

    let client = server.client();
    eventually(
        Duration::from_secs(300),
        "every valid event in Qdrant",
        || async {
            (qdrant::count(&client, "events").await == Some(valid.len() as u64)).then_some(())
        },
    )
    .await;
    let points = qdrant::all_points(&client, "events").await;
    assert_eq!(points.len(), valid.len());
    for e in &valid {
        let payload = points
            .get(&e.event_id)
            .unwrap_or_else(|| panic!("point {} missing", e.event_id));
        let original: Value = serde_json::from_slice(&e.value).unwrap();
        for field in [
            "event_type",
            "user_id",
            "session_id",
            "timestamp",
            "product",
        ] {
            assert_eq!(
                payload[field], original[field],
                "payload field {field} of {}",
                e.event_id
            );
        }
        assert_eq!(payload["_kafka"]["topic"], TOPIC);
    }

    // Semantic search: the phrase finds headphones first.
    let query = embed("wireless noise-cancelling headphones");
    let hits = client
        .query(
            qdrant_client::qdrant::QueryPointsBuilder::new("events")
                .query(query)
                .limit(5)
                .with_payload(true),
        )
        .await
        .unwrap()
        .result;
    let names: Vec<String> = hits
        .iter()
        .map(|h| {
            serde_json::to_value(&h.payload["product"]).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    eprintln!("nearest to 'wireless noise-cancelling headphones': {names:?}");
    assert!(
        names.len() == 5 && names.iter().all(|n| n.contains("Headphones")),
        "{names:?}"
    );

    // Every malformed event is in the DLQ, with a reason.
    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "events-dlq",
        1,
        malformed.len(),
        Duration::from_secs(60),
    );
    assert_eq!(
        dlq.len(),
        malformed.len(),
        "every malformed event once in the DLQ"
    );
    let by_key: HashMap<String, Malformation> = malformed
        .iter()
        .map(|e| (e.key.clone(), e.malformed.unwrap()))
        .collect();
    for m in &dlq {
        let key = String::from_utf8_lossy(m.key().unwrap()).into_owned();
        let reason = header(m, "__connect.errors.exception.message").unwrap_or_default();
        match by_key[&key] {
            Malformation::NotJson => assert_eq!(
                header(m, "__connect.errors.stage"),
                Some("VALUE_CONVERTER"),
                "{reason}"
            ),
            Malformation::MissingText => {
                assert_eq!(header(m, "__connect.errors.stage"), Some("TASK_PUT"));
                assert!(
                    reason.contains("text field") && reason.contains("missing or empty"),
                    "{reason}"
                );
            }
            Malformation::BadId => {
                assert_eq!(header(m, "__connect.errors.stage"), Some("TASK_PUT"));
                assert!(
                    reason.contains("event_id")
                        && reason.contains("neither a UUID nor an unsigned integer"),
                    "{reason}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_qdrant_outage_is_retried_without_loss_dlq_duplicates_or_early_commits() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), TOPIC, 2).await;
    let mut server = QdrantServer::start(&dir.path().join("qdrant"));
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let config = connector(
        &server,
        "events",
        json!({"tasks.max": "1", "errors.retry.delay.max.ms": "8000", "batch.size": "50"}),
    );
    assert_eq!(
        worker
            .call("PUT", "/connectors/outage/config", Some(&config))
            .await
            .0,
        201
    );
    let mut generator = Generator::new(7, 100, 0.0);
    let events: Vec<_> = (0..1_200).map(|_| generator.next_event()).collect();
    produce_events(&broker, &events[..400], 2).await;
    let client = server.client();
    eventually(
        Duration::from_secs(120),
        "the first events written",
        || async { (qdrant::count(&client, "events").await >= Some(400)).then_some(()) },
    )
    .await;

    server.stop();
    produce_events(&broker, &events[400..], 2).await;
    // A second retry logged shows the task kept retrying rather than failing.
    eventually(
        Duration::from_secs(60),
        "the task to retry through the outage",
        || async {
            let log = worker.log();
            (log.contains("sink is unavailable") && log.contains("attempt=2")).then_some(())
        },
    )
    .await;
    let (_, status) = worker.get("/connectors/outage/status").await;
    assert_eq!(
        status["tasks"][0]["state"], "RUNNING",
        "an outage is not a failure"
    );
    let committed = kafka::committed(&broker.bootstrap(), "connect-outage", TOPIC, 2);

    // Back up: everything committed must already be in Qdrant.
    server.start_again();
    let client = server.client();
    let present: HashSet<String> = qdrant::all_points(&client, "events")
        .await
        .into_keys()
        .collect();
    let partition_offsets = offsets_by_partition(&events, 2);
    for (p, upto) in &committed {
        for (offset, e) in partition_offsets[p].iter().enumerate() {
            if (offset as i64) < *upto {
                assert!(
                    present.contains(&e.event_id),
                    "offset {offset} of partition {p} committed before Qdrant held it"
                );
            }
        }
    }
    eventually(
        Duration::from_secs(180),
        "every event after the outage",
        || async {
            (qdrant::count(&client, "events").await == Some(events.len() as u64)).then_some(())
        },
    )
    .await;
    let points = qdrant::all_points(&client, "events").await;
    assert_eq!(
        points.len(),
        events.len(),
        "no duplicates: one point per event"
    );
    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "events-dlq",
        1,
        1,
        Duration::from_secs(3),
    );
    assert!(dlq.is_empty(), "an outage sends nothing to the DLQ");
}

/// Events of each partition in offset order, as `produce_events` spreads them.
fn offsets_by_partition(
    events: &[event_generator::Event],
    partitions: i32,
) -> HashMap<i32, Vec<&event_generator::Event>> {
    let mut out: HashMap<i32, Vec<_>> = HashMap::new();
    for chunk_start in (0..events.len()).step_by(500) {
        let chunk = &events[chunk_start..(chunk_start + 500).min(events.len())];
        for (i, e) in chunk.iter().enumerate() {
            out.entry(i as i32 % partitions).or_default().push(e);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_worker_replays_onto_the_same_points() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), TOPIC, 2).await;
    let server = QdrantServer::start(&dir.path().join("qdrant"));
    // Commits every 4 s and batches of 100, so the kill lands with written
    // but uncommitted points that the restarted worker replays.
    let mut worker = Worker::start(
        &broker.bootstrap(),
        dir.path(),
        &[("CONNECT_OFFSET_FLUSH_INTERVAL_MS", "4000")],
    )
    .await;
    // Kafka-coordinate ids: a replay must overwrite, not duplicate.
    let config = connector(
        &server,
        "replay",
        json!({"tasks.max": "1", "id.strategy": "kafka", "consumer.override.max.poll.records": "100"}),
    );
    assert_eq!(
        worker
            .call("PUT", "/connectors/replay/config", Some(&config))
            .await
            .0,
        201
    );
    let mut generator = Generator::new(9, 100, 0.0);
    let events: Vec<_> = (0..1_500).map(|_| generator.next_event()).collect();
    produce_events(&broker, &events, 2).await;
    let client = server.client();
    let at_kill = eventually(
        Duration::from_secs(120),
        "a commit, then more written",
        || async {
            let committed: i64 = kafka::committed(&broker.bootstrap(), "connect-replay", TOPIC, 2)
                .values()
                .sum();
            let written = qdrant::count(&client, "replay").await.unwrap_or(0) as i64;
            (committed > 0 && written > committed).then_some((committed, written))
        },
    )
    .await;
    worker.kill();
    eprintln!(
        "replay test: killed with {} points written, {} offsets committed",
        at_kill.1, at_kill.0
    );
    worker.start_again().await;
    eventually(Duration::from_secs(180), "every event written", || async {
        (qdrant::count(&client, "replay").await == Some(events.len() as u64)).then_some(())
    })
    .await;
    // Every offset committed: nothing is left to replay, so the count is final.
    eventually(
        Duration::from_secs(60),
        "every offset committed",
        || async {
            let committed: i64 = kafka::committed(&broker.bootstrap(), "connect-replay", TOPIC, 2)
                .values()
                .sum();
            (committed == events.len() as i64).then_some(())
        },
    )
    .await;
    assert_eq!(
        qdrant::count(&client, "replay").await,
        Some(events.len() as u64),
        "replays overwrote the same ids"
    );
    let payloads = qdrant::all_points(&client, "replay").await;
    let ids: HashSet<String> = payloads
        .values()
        .map(|p| p["event_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), events.len(), "no event missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn misconfigurations_are_reported_precisely() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), TOPIC, 1).await;
    let server = QdrantServer::start(&dir.path().join("qdrant"));
    let client = server.client();
    use qdrant_client::qdrant::{CreateCollectionBuilder, Distance, VectorParamsBuilder};
    client
        .create_collection(
            CreateCollectionBuilder::new("small")
                .vectors_config(VectorParamsBuilder::new(128, Distance::Cosine)),
        )
        .await
        .unwrap();
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;

    let create = |name: &str, extra: Value| json!({"name": name, "config": connector(&server, "events", extra)});
    // Dimension mismatch: the connector fails, naming both sizes.
    let (code, body) = worker
        .call(
            "POST",
            "/connectors",
            Some(&create("mismatch", json!({"collection.name": "small"}))),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let status = eventually(Duration::from_secs(30), "connector FAILED", || async {
        let (_, s) = worker.get("/connectors/mismatch/status").await;
        (s["connector"]["state"] == "FAILED").then_some(s)
    })
    .await;
    let trace = status["connector"]["trace"].as_str().unwrap();
    assert!(
        trace.contains("128") && trace.contains("384") && trace.contains("small"),
        "{trace}"
    );

    let cases = [
        (json!({"qdrant.url": "localhost:6334"}), "qdrant.url"),
        (json!({"qdrant.url": "http://"}), "qdrant.url"),
        (
            json!({"embedding.model.dir": dir.path().join("no-model").display().to_string()}),
            "embedding.model.dir",
        ),
        (json!({"embedding.device": "tpu"}), "embedding.device"),
        (
            json!({"embedding.text.template": "", "embedding.text.fields": ""}),
            "embedding.text.fields",
        ),
        (json!({"id.strategy": "random"}), "id.strategy"),
    ];
    for (extra, key) in cases {
        let (code, err) = worker
            .call("POST", "/connectors", Some(&create("bad", extra.clone())))
            .await;
        assert_eq!(code, 400, "{extra} → {err}");
        assert!(
            err["message"].as_str().unwrap().contains(key),
            "{extra}: {err}"
        );
    }

    // The API key is masked everywhere the API shows it, and never logged.
    let (code, body) = worker
        .call(
            "POST",
            "/connectors",
            Some(&create("keyed", json!({"qdrant.api.key": "s3cr3t-key"}))),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let (_, config) = worker.get("/connectors/keyed/config").await;
    assert_eq!(config["qdrant.api.key"], "[hidden]");
    let (_, info) = worker.get("/connectors?expand=info").await;
    assert_eq!(
        info["keyed"]["info"]["config"]["qdrant.api.key"],
        "[hidden]"
    );
    let (_, tasks) = worker.get("/connectors/keyed/tasks").await;
    assert_eq!(tasks[0]["config"]["qdrant.api.key"], "[hidden]");
    let mut to_validate = connector(&server, "events", json!({"qdrant.api.key": "s3cr3t-key"}));
    to_validate["name"] = json!("v");
    let (_, report) = worker
        .call(
            "PUT",
            "/connector-plugins/qdrant-embedding/config/validate",
            Some(&to_validate),
        )
        .await;
    let key = report["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["definition"]["name"] == "qdrant.api.key")
        .unwrap();
    assert_eq!(key["value"]["value"], "[hidden]");
    assert_eq!(key["definition"]["type"], "PASSWORD");
    assert!(
        !worker.log().contains("s3cr3t-key"),
        "the key never reaches the log"
    );

    // A second connector on the same model, device and precision shares the
    // running embedder: other batch settings are refused, naming who set them.
    worker.wait_state("keyed", "RUNNING", 2).await;
    let (code, err) = worker
        .call(
            "POST",
            "/connectors",
            Some(&create(
                "other-cache",
                json!({"embedding.cache.entries": "5"}),
            )),
        )
        .await;
    assert_eq!(code, 400, "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("embedding.cache.entries=5")
            && message.contains("embedding.cache.entries=10000")
            && message.contains("'keyed'"),
        "{message}"
    );
    let (code, body) = worker
        .call(
            "POST",
            "/connectors",
            Some(&create("same-settings", json!({}))),
        )
        .await;
    assert_eq!(code, 201, "the same settings share the model: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn records_in_qdrants_own_format_are_written_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "vectors", 1).await;
    let server = QdrantServer::start(&dir.path().join("qdrant"));
    let client = server.client();
    use qdrant_client::qdrant::{CreateCollectionBuilder, Distance, VectorParamsBuilder};
    client
        .create_collection(
            CreateCollectionBuilder::new("given")
                .vectors_config(VectorParamsBuilder::new(4, Distance::Dot)),
        )
        .await
        .unwrap();
    let producer = kafka::producer(&broker.bootstrap());
    let records = [
        json!({"collection_name": "given", "id": 1, "vector": [0.1, 0.2, 0.3, 0.4], "payload": {"name": "one"}}),
        json!({"collection_name": "given", "id": "5a1d1cd0-4a5b-4a8e-9b3e-3c1f7b0e2a11", "vector": [1.0, 0.0, 0.0, 0.0], "payload": {"name": "two"}}),
        json!({"collection_name": "given", "id": 3, "vector": [1.0, 2.0], "payload": {"name": "wrong size"}}),
        json!({"collection_name": "given", "id": 1, "vector": [0.4, 0.3, 0.2, 0.1], "payload": {"name": "one, updated"}}),
        json!({"collection_name": "nowhere", "id": 4, "vector": [1.0, 0.0, 0.0, 0.0]}),
    ];
    kafka::produce(
        &producer,
        "vectors",
        records
            .iter()
            .map(|r| Rec::value(0, r.to_string()))
            .collect(),
    )
    .await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let config = json!({
        "connector.class": "io.qdrant.kafka.QdrantSinkConnector", "topics": "vectors", "qdrant.grpc.url": server.url(),
        "value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
        "errors.tolerance": "all", "errors.deadletterqueue.topic.name": "vectors-dlq",
        "errors.deadletterqueue.topic.replication.factor": "1", "errors.deadletterqueue.context.headers.enable": "true",
    });
    let (code, body) = worker
        .call("PUT", "/connectors/qdrant-format/config", Some(&config))
        .await;
    assert_eq!(code, 201, "{body}");
    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "vectors-dlq",
        1,
        2,
        Duration::from_secs(60),
    );
    assert_eq!(
        dlq.len(),
        2,
        "the wrong-size vector and the missing collection"
    );
    let reasons: Vec<&str> = dlq
        .iter()
        .map(|m| header(m, "__connect.errors.exception.message").unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("Qdrant rejected the point") && r.contains("dim")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("nowhere")), "{reasons:?}");
    let points = qdrant::all_points(&client, "given").await;
    assert_eq!(points.len(), 2);
    assert_eq!(
        points["1"]["name"], "one, updated",
        "the later record for an id wins"
    );
    assert_eq!(
        points["5a1d1cd0-4a5b-4a8e-9b3e-3c1f7b0e2a11"]["name"],
        "two"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tombstones_delete_points_named_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), TOPIC, 1).await;
    let server = QdrantServer::start(&dir.path().join("qdrant"));
    let producer = kafka::producer(&broker.bootstrap());
    let product = |name: &str| {
        json!({"product": {"name": name, "description": "a product"}})
            .to_string()
            .into_bytes()
    };
    let rec = |key: &str, value: Option<Vec<u8>>| Rec {
        partition: 0,
        key: Some(key.as_bytes().to_vec()),
        value,
        headers: vec![],
    };
    kafka::produce(
        &producer,
        TOPIC,
        vec![
            rec("1", Some(product("kept"))),
            rec("2", Some(product("deleted"))),
            rec("3", Some(product("also kept"))),
        ],
    )
    .await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let config = connector(
        &server,
        "keyed",
        json!({"tasks.max": "1", "id.strategy": "key", "delete.enabled": "true"}),
    );
    assert_eq!(
        worker
            .call("PUT", "/connectors/keyed/config", Some(&config))
            .await
            .0,
        201
    );
    let client = server.client();
    eventually(Duration::from_secs(60), "three points", || async {
        (qdrant::count(&client, "keyed").await == Some(3)).then_some(())
    })
    .await;
    kafka::produce(&producer, TOPIC, vec![rec("2", None)]).await;
    eventually(Duration::from_secs(60), "the tombstone applied", || async {
        (qdrant::count(&client, "keyed").await == Some(2)).then_some(())
    })
    .await;
    let points = qdrant::all_points(&client, "keyed").await;
    assert_eq!(
        points.keys().cloned().collect::<HashSet<_>>(),
        HashSet::from(["1".to_string(), "3".to_string()])
    );
}

#[test]
fn embed_command_keeps_order_and_rejects_bad_lines() {
    use std::io::Write;
    let run = |input: &str| {
        let mut child = std::process::Command::new(Worker::bin())
            .args(["embed", "--device", "cpu"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let texts = [
        "espresso machine",
        "running shoes",
        "Kablosuz kulaklık",
        "espresso machine",
    ];
    let input: String = texts.iter().map(|t| format!("{}\n", json!(t))).collect();
    let out = run(&input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vectors: Vec<Vec<f32>> = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(vectors.len(), 4);
    assert!(vectors.iter().all(|v| v.len() == 384));
    assert_eq!(
        vectors[0], vectors[3],
        "same text, same vector, in input order"
    );
    assert_ne!(vectors[0], vectors[1]);
    let bad = run("\"fine\"\n{not a string}\n");
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("line 2"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// The test server itself: eight clients creating one collection at once
/// (as eight tasks do on first write) get one success and seven "already
/// exists", never an internal error.
#[tokio::test(flavor = "multi_thread")]
async fn the_test_server_creates_a_collection_once_under_concurrent_creates() {
    use qdrant_client::qdrant::{CreateCollectionBuilder, Distance, VectorParamsBuilder};
    let dir = tempfile::tempdir().unwrap();
    let server = QdrantServer::start(&dir.path().join("qdrant"));
    for round in 0..5 {
        let name = format!("raced-{round}");
        let creates = (0..8).map(|_| {
            let client = server.client();
            let name = name.clone();
            async move {
                client
                    .create_collection(
                        CreateCollectionBuilder::new(name)
                            .vectors_config(VectorParamsBuilder::new(4, Distance::Cosine)),
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        });
        let results = futures::future::join_all(creates).await;
        let created = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(created, 1, "round {round}: {results:?}");
        for refused in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                refused.contains("already exists"),
                "round {round}: {refused}"
            );
        }
        assert_eq!(qdrant::count(&server.client(), &name).await, Some(0));
    }
}

/// Three workers in a cluster embed one stream; one is SIGKILLed halfway:
/// every event ends up as exactly one point, none missing.
#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_losing_a_worker_writes_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), TOPIC, 3).await;
    let server = QdrantServer::start(&dir.path().join("qdrant"));
    let mut workers = Vec::new();
    for i in 0..3 {
        let own = dir.path().join(format!("worker-{i}"));
        workers.push(Worker::start(&broker.bootstrap(), &own, &cluster_env()).await);
    }
    let config = connector(&server, "clustered", json!({"tasks.max": "3"}));
    let (code, body) = eventually(Duration::from_secs(60), "the create", || async {
        let (code, body) = workers[0]
            .call("PUT", "/connectors/clustered/config", Some(&config))
            .await;
        (code != 409).then_some((code, body))
    })
    .await;
    assert_eq!(code, 201, "{body}");
    let mut generator = Generator::new(11, 100, 0.0);
    let events: Vec<_> = (0..20_000).map(|_| generator.next_event()).collect();
    produce_events(&broker, &events[..10_000], 3).await;
    let client = server.client();
    eventually(Duration::from_secs(240), "points flowing", || async {
        (qdrant::count(&client, "clustered").await >= Some(2_000)).then_some(())
    })
    .await;
    workers[2].kill();
    produce_events(&broker, &events[10_000..], 3).await;
    eventually(Duration::from_secs(300), "20,000 points", || async {
        (qdrant::count(&client, "clustered").await == Some(events.len() as u64)).then_some(())
    })
    .await;
    let points = qdrant::all_points(&client, "clustered").await;
    let ids: HashSet<String> = points
        .values()
        .map(|p| p["event_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(points.len(), events.len(), "one point per event");
    assert_eq!(ids.len(), events.len(), "no event missing");
}
